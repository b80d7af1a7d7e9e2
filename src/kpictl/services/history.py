"""A KPI as it was defined at an instant: the current row, rewound through ``kpi_change``.

Reports are pure functions of (data, instant). Check-ins, assignments and closes carry their
own effective times; a KPI's *definition* (target, due, tags, …) changes in place and is logged
in ``kpi_change`` with old and new values. To report ``--as-of`` a past instant, every change
made after it is undone, newest first. Values are logged losslessly (``repr`` of floats,
ISO-8601 times), so the rewind is exact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.models import Kpi, KpiChange

FLOAT_FIELDS = ("baseline", "target", "low", "high")
TIME_FIELDS = ("start", "due")
TEXT_FIELDS = ("title", "outcome", "unit", "kind", "cadence", "grace", "zone")
#: A close logs ``state`` and ``closed_at``, a reopen undoes both: what was known at an instant
#: rewinds them too (the hindsight view, ``--revised``, keeps the current lifecycle).
LIFECYCLE_FIELDS = ("state", "closed_at")


@dataclass(slots=True)  # one per KPI of a portfolio: slots, not frozen, to build cheaply
class KpiAt:
    """The fields of a KPI that reports read, as they were at some instant."""

    id: int
    key: str
    title: str
    outcome: str | None
    unit: str | None
    kind: str
    baseline: float | None
    target: float | None
    low: float | None
    high: float | None
    start: datetime
    due: datetime
    cadence: str
    grace: str
    state: str
    closed_at: datetime | None
    zone: str = "UTC"
    tags: tuple[str, ...] = ()
    milestones: tuple[tuple[datetime, float], ...] = ()


def snapshot(kpi: Kpi, tags=(), milestones=()) -> KpiAt:
    return KpiAt(id=kpi.id, key=kpi.key, title=kpi.title, outcome=kpi.outcome, unit=kpi.unit,
                 kind=kpi.kind, baseline=kpi.baseline, target=kpi.target, low=kpi.low,
                 high=kpi.high, start=kpi.start, due=kpi.due, cadence=kpi.cadence,
                 grace=kpi.grace, state=kpi.state, closed_at=kpi.closed_at, zone=kpi.zone,
                 tags=tuple(tags),
                 milestones=tuple(sorted(milestones)))


def encode(value) -> str | None:
    """The text logged for a field value; :func:`decode` gives the value back exactly."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def encode_milestones(milestones) -> str:
    return ";".join(f"{encode(at)}={encode(float(v))}" for at, v in sorted(milestones))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _decode(field: str, text: str | None):
    if text is None or text == "":
        return () if field in ("tags", "milestones") else None
    if field in FLOAT_FIELDS:
        return float(text)
    if field in TIME_FIELDS or field == "closed_at":
        return _time(text)
    if field == "tags":
        return tuple(t for t in text.split(";") if t)
    if field == "milestones":
        pairs = [item.rpartition("=") for item in text.split(";") if item]
        return tuple(sorted((_time(at), float(v)) for at, _, v in pairs))
    return text


def changes_after(session: Session, instant: datetime, ids=None, *,
                  lifecycle: bool = False) -> dict[int, list[KpiChange]]:
    """Definition changes made after ``instant``, newest first, per KPI; with ``lifecycle``
    also closes and reopens."""
    fields = FLOAT_FIELDS + TIME_FIELDS + TEXT_FIELDS + ("tags", "milestones")
    if lifecycle:
        fields += LIFECYCLE_FIELDS
    stmt = select(KpiChange).where(KpiChange.at > instant, KpiChange.field.in_(fields))
    if ids is not None:
        stmt = stmt.where(KpiChange.kpi_id.in_(ids))
    result: dict[int, list[KpiChange]] = defaultdict(list)
    for change in session.execute(stmt.order_by(KpiChange.at.desc(),
                                                KpiChange.id.desc())).scalars():
        result[change.kpi_id].append(change)
    return dict(result)


def rewind(kpi: KpiAt, changes: list[KpiChange]) -> KpiAt:
    """Undo ``changes`` (newest first) to get the definition before the oldest of them."""
    for change in changes:
        kpi = replace(kpi, **{change.field: _decode(change.field, change.old_value)})
    return kpi


def definitions_at(session: Session, instant: datetime, *, known: bool) -> list[KpiAt]:
    """Every KPI as defined at ``instant`` (tags and milestones left out); ``known``: only the
    KPIs created by then, with the closes and reopens recorded after it undone too."""
    stmt = select(Kpi).order_by(Kpi.id)
    if known:
        stmt = stmt.where(Kpi.created_at <= instant)
    later = changes_after(session, instant, lifecycle=known)
    return [rewind(snapshot(k), later[k.id]) if k.id in later else snapshot(k)
            for k in session.execute(stmt).scalars()]
