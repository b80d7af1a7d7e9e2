"""Roll-ups: an objective's row in a report is computed from its children's rows (issue 21).

The tree is read as it stood at the report's instant: the current ``parent_id``/``weight`` of
every KPI, with the ``parent`` and ``weight`` changes logged after the instant undone (newest
first, like every other definition change, see :mod:`kpictl.services.history`). A child counts
from its start (a KPI not started yet is not in its objective's roll-up, as it is not in the
portfolio).

An objective's figures never depend on the report's filters: the children a filter left out
(``--owner``, ``--tag``) are still built, once, for the roll-up, and then not shown. The rules
themselves are :func:`kpictl.services.status.evaluate_objective`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.domain import DEFAULTS, OBJECTIVE, Thresholds
from kpictl.models import Kpi, KpiChange
from kpictl.schemas import KpiRow
from kpictl.services.status import ChildFacts, evaluate_objective


def has_objectives(session: Session) -> bool:
    return session.execute(select(Kpi.id).where(Kpi.kind == OBJECTIVE).limit(1)).first() \
        is not None


def tree_at(session: Session, as_of: datetime) -> dict[str, tuple[str | None, float]]:
    """``{key: (parent key or None, weight)}`` of every KPI, as the tree stood at ``as_of``."""
    rows = session.execute(select(Kpi.id, Kpi.key, Kpi.parent_id, Kpi.weight)).all()
    key_of = {kpi_id: key for kpi_id, key, _p, _w in rows}
    tree = {key: (key_of.get(parent_id), float(weight)) for _i, key, parent_id, weight in rows}
    later = session.execute(
        select(KpiChange.kpi_id, KpiChange.field, KpiChange.old_value)
        .where(KpiChange.at > as_of, KpiChange.field.in_(("parent", "weight")))
        .order_by(KpiChange.at.desc(), KpiChange.id.desc()))
    for kpi_id, name, old in later:  # undo, newest first
        key = key_of[kpi_id]
        parent, weight = tree[key]
        if name == "parent":
            tree[key] = (old or None, weight)
        else:
            tree[key] = (parent, float(old) if old else 1.0)
    return tree


def placeholder_row(kpi, owner: str | None, as_of: datetime) -> KpiRow:
    """An objective's row before its roll-up: no value, check-in or forecast of its own."""
    return KpiRow(
        key=kpi.key, title=kpi.title, owner=owner, kind=kpi.kind, unit=None, baseline=None,
        target=None, low=None, high=None, start=kpi.start, due=kpi.due, cadence=kpi.cadence,
        grace=kpi.grace, tags=list(kpi.tags),
        state=kpi.state if kpi.state != "active" and kpi.closed_at <= as_of else "active",
        current=None, last_checkin_at=None, next_checkin_due=None, checkins=0, progress=None,
        progress_raw=None, expected_progress=None, status="no_data", flags=[], confidence=None,
        blocker=None, forecast=None, days_left=round((kpi.due - as_of).total_seconds() / 86400, 1),
        zone=kpi.zone)


def apply(session: Session, rows: list[KpiRow], *, as_of: datetime,
          build: Callable[[list[str]], list[KpiRow]],
          thresholds: Thresholds = DEFAULTS) -> None:
    """Give every row its ``parent``, ``weight`` and ``children``, and every objective row its
    roll-up; ``build(keys)`` makes the rows of children the report's filters left out."""
    if not rows or not has_objectives(session):
        return
    tree = tree_at(session, as_of)
    children: dict[str, list[str]] = {}
    for key, (parent, _w) in tree.items():
        if parent is not None:
            children.setdefault(parent, []).append(key)
    shown = {row.key: row for row in rows}
    wanted: set[str] = set()
    stack = [row.key for row in rows if row.kind == OBJECTIVE]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in wanted:
                wanted.add(child)
                stack.append(child)
    missing = sorted(wanted - shown.keys())
    every = dict(shown)
    if missing:
        every.update((row.key, row) for row in build(missing))
    for row in every.values():
        parent, weight = tree.get(row.key, (None, 1.0))
        row.parent = parent
        row.weight = weight if parent is not None else None
        row.children = sorted(k for k in children.get(row.key, ()) if k in every)
    done: set[str] = set()

    def settle(row: KpiRow, path: frozenset) -> None:
        if row.key in done or row.kind != OBJECTIVE or row.key in path:
            return
        facts = []
        for key in row.children:
            child = every[key]
            settle(child, path | {row.key})
            facts.append(ChildFacts(weight=child.weight or 1.0, status=child.status,
                                    flags=tuple(child.flags), progress=child.progress,
                                    expected_progress=child.expected_progress))
        ev = evaluate_objective(facts, due=row.due, as_of=as_of,
                                closed_outcome=row.state if row.state != "active" else None,
                                thresholds=thresholds)
        row.progress, row.progress_raw = ev.progress, ev.progress_raw
        row.expected_progress, row.status = ev.expected_progress, str(ev.status)
        row.flags = [str(f) for f in ev.flags]
        row.suggested_outcome = ev.suggested_outcome
        done.add(row.key)

    for row in every.values():
        settle(row, frozenset())


def arrange(rows: list[KpiRow]) -> list[KpiRow]:
    """The portfolio's order with each child right under its parent (siblings keep the order
    they had); a row whose parent is not shown stands at the top level."""
    if all(row.parent is None for row in rows):  # no objectives: the order stands
        return rows
    shown = {row.key for row in rows}
    under: dict[str, list[KpiRow]] = {}
    roots = []
    for row in rows:
        if row.parent is not None and row.parent in shown:
            under.setdefault(row.parent, []).append(row)
        else:
            roots.append(row)
    result: list[KpiRow] = []

    def emit(row: KpiRow) -> None:
        result.append(row)
        for child in under.get(row.key, ()):
            emit(child)

    for row in roots:
        emit(row)
    return result


def contributions(row: KpiRow, children: list[KpiRow]) -> list[dict]:
    """``report KEY`` of an objective: each child with its share of the roll-up, weight ×
    progress ÷ Σ weights over the paced children (null for a child without a pace)."""
    from kpictl.services.status import rolled_up

    paced = {id(c) for c in children
             if c.status != "cancelled" and c.expected_progress is not None}
    total = sum(c.weight or 1.0 for c in children if id(c) in paced)
    result = []
    for child in children:
        facts = ChildFacts(weight=child.weight or 1.0, status=child.status, flags=(),
                           progress=child.progress, expected_progress=child.expected_progress)
        counted = id(child) in paced and total > 0
        progress = rolled_up([facts])[0] if counted else None
        result.append({
            "key": child.key, "title": child.title, "owner": child.owner,
            "kind": child.kind, "weight": child.weight, "status": child.status,
            "progress": child.progress, "expected_progress": child.expected_progress,
            "contribution": (child.weight or 1.0) * progress / total if counted else None,
        })
    return result
