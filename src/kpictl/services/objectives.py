"""Objectives and parents: the write side of roll-ups (issue 21).

An *objective* is a ``kpi`` row of kind ``objective``: a title, an owner, a start and a due
date, and no kind, baseline, target or check-ins of its own. Its progress is the weighted mean
of its children's (:mod:`kpictl.services.rollup`). Any KPI or objective may sit under one
objective (``parent_id``) with a ``weight`` > 0 (default 1); the tree has no depth limit and
no cycles.

A weight belongs to a link: linking under a new parent without ``--weight`` sets weight 1, and
``--parent ''`` detaches (weight back to 1). Parent and weight changes are logged in
``kpi_change`` (fields ``parent``, as the parent's key, and ``weight``) like every other field,
so a report ``--as-of`` an earlier instant rewinds the tree exactly.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.domain import OBJECTIVE
from kpictl.errors import Conflict, InvalidInput
from kpictl.models import Kpi, KpiChange
from kpictl.services.history import encode
from kpictl.services.lookups import get_kpi

#: What an objective does not have: the ``assign`` options refused on one, by KpiSpec field.
NOT_FOR_OBJECTIVES = {
    "kind": "--kind", "baseline": "--baseline", "target": "--target", "low": "--low",
    "high": "--high", "milestones": "--milestone", "every": "--every",
    "aggregate": "--aggregate", "target_for": "--target-for", "cadence": "--cadence",
    "grace": "--grace", "unit": "--unit",
}


def is_objective(kpi) -> bool:
    return kpi.kind == OBJECTIVE


def refuse_kpi_options(spec, key: str) -> None:
    """An objective has no target of its own: refuse the options that would give it one."""
    given = [option for name, option in NOT_FOR_OBJECTIVES.items()
             if getattr(spec, name, None) is not None]
    if given:
        raise InvalidInput(
            f"'{key}' is an objective: it has no {', '.join(given)} of its own (its progress is "
            "its children's, weighted); link KPIs under it with "
            f"`kpictl assign CHILD --parent {key}`")


def values(key, spec, start, zone) -> dict:
    """An objective's row: no kind, baseline or target of its own; without --due it is due at
    the end of the quarter it starts in (in its zone), the usual horizon of an objective."""
    from kpictl.domain import DEFAULTS
    from kpictl.timeparse import parse_cadence, parse_grace, parse_when

    start = spec.start or start
    zone = spec.zone or zone
    due = spec.due or parse_when("eoq", now=start, tz=zone, bound="end")
    return {"title": spec.title or key, "outcome": spec.outcome, "unit": None,
            "kind": OBJECTIVE, "baseline": None, "target": None, "low": None, "high": None,
            "start": start, "due": due,
            "cadence": parse_cadence(DEFAULTS.default_cadence).label,
            "grace": parse_grace(DEFAULTS.default_grace).label, "zone": zone}


def check_weight(weight: float | None) -> float | None:
    if weight is not None and not (math.isfinite(weight) and weight > 0):
        raise InvalidInput(f"--weight {weight:.15g} must be a number above 0 (e.g. 1, 2, 0.5)")
    return weight


def children_keys(session: Session, kpi_id: int) -> list[str]:
    return list(session.execute(select(Kpi.key).where(Kpi.parent_id == kpi_id)
                                .order_by(Kpi.key)).scalars())


def refuse_checkin(session: Session, kpi) -> None:
    """An objective takes no check-ins (every write path calls this): say where they go."""
    if not is_objective(kpi):
        return
    raise Conflict(objective_checkin_message(kpi.key, children_keys(session, kpi.id)))


def objective_checkin_message(key: str, children: list[str]) -> str:
    if children:
        shown = ", ".join(children[:5]) + (f" and {len(children) - 5} more"
                                           if len(children) > 5 else "")
        return (f"'{key}' is an objective: it takes no check-ins; its progress comes from its "
                f"children ({shown}): check in on those")
    return (f"'{key}' is an objective: it takes no check-ins; link KPIs under it with "
            f"`kpictl assign KPI --parent {key}` and check in on those")


def _resolve_parent(session: Session, kpi: Kpi | None, key: str, parent: str) -> Kpi:
    target = get_kpi(session, parent)
    if not is_objective(target):
        raise Conflict(f"'{target.key}' is not an objective, so nothing can sit under it; "
                       f"create one with `kpictl assign OBJ --objective --to H --title T`")
    if target.state != "active":
        raise Conflict(f"objective '{target.key}' is closed ({target.state}); reopen it first "
                       f"with `kpictl reopen {target.key} --reason TEXT`")
    if kpi is not None:
        # A cycle: the new parent is the KPI itself or one of its descendants.
        node, seen = target, set()
        while node is not None and node.id not in seen:
            if node.id == kpi.id:
                raise Conflict(f"'{key}' cannot sit under '{target.key}': "
                               + ("that is itself" if target.id == kpi.id else
                                  f"'{target.key}' already sits under '{key}'")
                               + " (the tree of objectives has no cycles)")
            seen.add(node.id)
            node = session.get(Kpi, node.parent_id) if node.parent_id is not None else None
    return target


def link_new(session: Session, key: str, parent: str | None,
             weight: float | None) -> tuple[int | None, float]:
    """The parent id and weight of a KPI being created (nothing to log: it is new)."""
    check_weight(weight)
    if parent is None or parent.strip() == "":
        if weight is not None and not parent:
            raise InvalidInput("--weight is a KPI's weight under its parent: add --parent OBJ")
        return None, 1.0
    return _resolve_parent(session, None, key, parent).id, weight or 1.0


def relink(session: Session, now: datetime, kpi: Kpi, parent: str | None,
           weight: float | None, by_id: int | None) -> list[str]:
    """Change ``kpi``'s parent and/or weight, logged; the names of the fields changed."""
    check_weight(weight)
    if parent is None and weight is None:
        return []
    old_parent = session.get(Kpi, kpi.parent_id) if kpi.parent_id is not None else None
    new_parent = old_parent
    if parent is not None:
        new_parent = _resolve_parent(session, kpi, kpi.key, parent) if parent.strip() else None
    if new_parent is None and weight is not None:
        raise InvalidInput(f"--weight is a KPI's weight under its parent, and '{kpi.key}' has "
                           "none: add --parent OBJ")
    new_weight = weight if weight is not None else (
        kpi.weight if (new_parent and old_parent and new_parent.id == old_parent.id) else 1.0)
    changes = []
    if (new_parent.id if new_parent else None) != kpi.parent_id:
        session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field="parent",
                              old_value=old_parent.key if old_parent else None,
                              new_value=new_parent.key if new_parent else None))
        kpi.parent_id = new_parent.id if new_parent else None
        changes.append("parent")
    if new_weight != kpi.weight:
        session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field="weight",
                              old_value=encode(float(kpi.weight)),
                              new_value=encode(float(new_weight))))
        kpi.weight = new_weight
        changes.append("weight")
    return changes
