"""Corrections: a wrong check-in is amended or retracted, and history stays append-only.

A ``checkin`` row is never changed after it was recorded. An amendment or a retraction is a
``checkin_correction`` row holding the check-in's fields as they are *after* it, with who, when
(recorded) and why. The version of a check-in at an instant is therefore the newest correction
recorded by then, or the original: a report ``--as-of`` before a correction shows the original
exactly, every report after it the corrected value, and ``--revised`` every correction.

How the reports stay exact and fast: the per-KPI aggregates (:mod:`kpictl.services.stats`)
keep counting check-ins as they were recorded; a KPI with a correction in the view is replayed
from its history here instead (:func:`history`), as a KPI redefined after the instant is.
Corrections are rare, so the "now" report still reads the aggregates for almost every KPI
(the README's benchmark measures it with corrections in the history).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.errors import Conflict, InvalidInput, NotFound
from kpictl.models import Checkin, CheckinCorrection, Kpi
from kpictl.results import WriteResult
from kpictl.services import events
from kpictl.services.lookups import clean_text, get_person

#: The fields a correction can change, in the order they are shown.
FIELDS = ("value", "measured_at", "confidence", "note", "blocker")
#: ``amend``'s "leave this field as it is".
KEEP = object()
_CHUNK = 10_000


@dataclass(slots=True)  # a replayed history builds thousands: slots, not frozen, to be cheap
class Effective:
    """A check-in as it stood at some instant: its fields with the corrections known then."""

    id: int
    kpi_id: int
    value: float
    measured_at: datetime
    recorded_at: datetime
    author_id: int | None
    confidence: int | None
    note: str | None
    blocker: str | None
    source: str
    idem_key: str | None
    status: str  # current | amended | retracted
    corrections: tuple = ()  # CheckinCorrection rows applied, oldest first
    original: tuple = ()  # the FIELDS as recorded, when corrected


def kpis_with_corrections(session: Session, *, as_of: datetime | None, known: bool,
                          ids=None) -> set[int]:
    """KPIs that have a correction in the view (recorded by ``as_of`` when ``known``)."""
    stmt = select(CheckinCorrection.kpi_id).distinct()
    if known and as_of is not None:
        stmt = stmt.where(CheckinCorrection.recorded_at <= as_of)
    if ids is not None:
        stmt = stmt.where(CheckinCorrection.kpi_id.in_(
            ids if hasattr(ids, "subquery") else list(ids)))
    return set(session.execute(stmt).scalars())


def history(session: Session, kpi_ids, *, as_of: datetime | None, known: bool,
            retracted: bool = False) -> dict[int, list[Effective]]:
    """The check-ins of ``kpi_ids`` at ``as_of`` with their corrections applied, per KPI,
    by (measured_at, id): those measured by then (after correction) and, when ``known``, also
    recorded by then, with the corrections recorded by then. ``as_of`` None: everything.
    Retracted check-ins are left out unless ``retracted``."""
    ids = list(kpi_ids)
    result: dict[int, list[Effective]] = {i: [] for i in ids}
    limit = as_of if known else None
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        fixes: dict[int, list] = defaultdict(list)
        stmt = select(CheckinCorrection).where(CheckinCorrection.kpi_id.in_(chunk))
        if limit is not None:
            stmt = stmt.where(CheckinCorrection.recorded_at <= limit)
        for fix in session.execute(stmt.order_by(CheckinCorrection.id)).scalars():
            fixes[fix.checkin_id].append(fix)
        stmt = select(*Checkin.__table__.c).where(Checkin.kpi_id.in_(chunk))
        if limit is not None:
            stmt = stmt.where(Checkin.recorded_at <= limit)
        if not fixes and as_of is not None:
            stmt = stmt.where(Checkin.measured_at <= as_of)
        for row in session.execute(stmt):
            item = effective(row, fixes.get(row.id, ()))
            if (as_of is not None and item.measured_at > as_of) or (
                    item.status == "retracted" and not retracted):
                continue
            result[item.kpi_id].append(item)
    for items in result.values():
        items.sort(key=lambda c: (c.measured_at, c.id))
    return result


def points(session: Session, kpi_ids, *, as_of: datetime, known: bool) -> dict[int, list]:
    """What a portfolio row needs of the corrected histories of ``kpi_ids`` at ``as_of``: per
    KPI, ``(measured_at, id, value, confidence, blocker)`` of each check-in in the view of
    :func:`history` (the same check-ins, corrections applied, retracted ones left out), in
    its order. Plain tuples of five columns: a portfolio replays a hundred KPIs' histories
    (~10,000 check-ins) and needs neither the other fields nor the corrections' records."""
    ids = list(kpi_ids)
    result: dict[int, list] = {i: [] for i in ids}
    limit = as_of if known else None
    c, f = Checkin.__table__.c, CheckinCorrection.__table__.c
    connection = session.connection()  # Core rows: no ORM machinery for plain columns
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        fixes: dict[int, tuple] = {}  # the newest correction of each check-in wins
        stmt = select(f.checkin_id, f.kind, f.measured_at, f.value, f.confidence, f.blocker) \
            .where(f.kpi_id.in_(chunk))
        if limit is not None:
            stmt = stmt.where(f.recorded_at <= limit)
        for checkin_id, *fix in connection.execute(stmt.order_by(f.id)).fetchall():
            fixes[checkin_id] = fix
        stmt = select(c.kpi_id, c.measured_at, c.id, c.value, c.confidence, c.blocker) \
            .where(c.kpi_id.in_(chunk))
        if limit is not None:
            stmt = stmt.where(c.recorded_at <= limit)
        if not fixes:
            stmt = stmt.where(c.measured_at <= as_of)
        resort = set()
        for kpi_id, measured, checkin_id, value, confidence, blocker in connection.execute(
                stmt.order_by(c.kpi_id, c.measured_at, c.id)).fetchall():
            fix = fixes.get(checkin_id)
            if fix is not None:
                kind, fixed_at, value, confidence, blocker = fix
                if kind == "retract":
                    continue
                if fixed_at != measured:
                    measured = fixed_at
                    resort.add(kpi_id)
            if measured <= as_of:
                result[kpi_id].append((measured, checkin_id, value, confidence, blocker))
        for kpi_id in resort:  # a correction moved a check-in in time
            result[kpi_id].sort()
    return result


def effective(row, fixes) -> Effective:
    """A ``checkin`` row with ``fixes`` (its corrections, oldest first) applied."""
    if not fixes:  # almost every check-in: as recorded (a replayed history reads thousands)
        return Effective(row.id, row.kpi_id, row.value, row.measured_at, row.recorded_at,
                         row.author_id, row.confidence, row.note, row.blocker, row.source,
                         row.idem_key, "current")
    values = {name: getattr(row, name) for name in FIELDS}
    original = tuple(values.values()) if fixes else ()
    status = "current"
    for fix in fixes:
        values = {name: getattr(fix, name) for name in FIELDS}
        status = "retracted" if fix.kind == "retract" else "amended"
    return Effective(id=row.id, kpi_id=row.kpi_id, recorded_at=row.recorded_at,
                     author_id=row.author_id, source=row.source, idem_key=row.idem_key,
                     status=status, corrections=tuple(fixes), original=original, **values)


def changes(before: dict, fix) -> dict:
    """What ``fix`` changed of ``before`` (the check-in's fields before it): field → from/to."""
    return {name: {"from": before[name], "to": getattr(fix, name)} for name in FIELDS
            if getattr(fix, name) != before[name]}


def versions(item: Effective) -> list[tuple[object, dict]]:
    """Each correction applied to ``item`` with what it changed, oldest first."""
    before = dict(zip(FIELDS, item.original))
    result = []
    for fix in item.corrections:
        result.append((fix, changes(before, fix)))
        before = {name: getattr(fix, name) for name in FIELDS}
    return result


def _target(session: Session, checkin_id: int) -> tuple[Checkin, Kpi, list]:
    row = session.get(Checkin, checkin_id)
    if row is None:
        raise NotFound(f"no check-in {checkin_id}; `kpictl report KEY` lists a KPI's "
                       "check-ins with their ids")
    kpi = session.execute(select(Kpi).where(Kpi.id == row.kpi_id).with_for_update()).scalar_one()
    fixes = list(session.execute(select(CheckinCorrection)
                                 .where(CheckinCorrection.checkin_id == row.id)
                                 .order_by(CheckinCorrection.id)).scalars())
    if fixes and fixes[-1].kind == "retract":
        raise Conflict(f"check-in {checkin_id} of {kpi.key} was retracted on "
                       f"{fixes[-1].recorded_at:%Y-%m-%d %H:%M} UTC; record a new check-in "
                       "instead (kpictl checkin)")
    return row, kpi, fixes


def amend_checkin(*, session: Session, now: datetime, checkin_id: int, reason: str,
                  by: str | None = None, value=KEEP, at=KEEP, confidence=KEEP, note=KEEP,
                  blocker=KEEP) -> WriteResult:
    """Correct fields of a check-in (the original stays in its history)."""
    from kpictl.services.checkins import FUTURE_SKEW, before_start

    reason = clean_text(reason, what="--reason", required=True)
    if all(v is KEEP for v in (value, at, confidence, note, blocker)):
        raise InvalidInput("nothing to amend: give --value, --at, --confidence, --note, "
                           "--blocker or --no-blocker")
    row, kpi, fixes = _target(session, checkin_id)
    author = get_person(session, by) if by else None
    current = effective(row, fixes)
    new = {name: getattr(current, name) for name in FIELDS}
    if value is not KEEP:
        new["value"] = value
    if at is not KEEP:
        if at > now + FUTURE_SKEW:
            raise InvalidInput(f"--at {at:%Y-%m-%d %H:%M} UTC is in the future")
        if at < kpi.start:
            raise InvalidInput(before_start("--at", at, kpi.key, kpi.start))
        new["measured_at"] = at
    if confidence is not KEEP:
        if confidence is not None and not 0 <= confidence <= 10:
            raise InvalidInput(f"invalid --confidence {confidence}: use a whole number from "
                               "0 to 10")
        new["confidence"] = confidence
    if note is not KEEP:
        new["note"] = clean_text(note, what="--note")
    if blocker is not KEEP:
        new["blocker"] = clean_text(blocker, what="--blocker")
    before = {name: getattr(current, name) for name in FIELDS}
    if new == before:
        raise InvalidInput(f"check-in {checkin_id} of {kpi.key} already has these values; "
                           "nothing to amend")
    events.touch(session, [kpi])
    session.add(CheckinCorrection(checkin_id=row.id, kpi_id=kpi.id, kind="amend",
                                  recorded_at=now, by_id=author.id if author else None,
                                  reason=reason, **new))
    changed = [name for name in FIELDS if new[name] != before[name]]
    events.emit(session, "amend", kpi=kpi.key, by=author.handle if author else None,
                id=checkin_id, reason=reason, changes=changed, **new)  # the corrected values
    shown = ", ".join(_describe(name, before[name], new[name]) for name in changed)
    return WriteResult("checkin.amended", f"amended check-in {checkin_id} of {kpi.key}: {shown}",
                       {"id": checkin_id, "key": kpi.key, "changed": changed})


def retract_checkin(*, session: Session, now: datetime, checkin_id: int, reason: str,
                    by: str | None = None) -> WriteResult:
    """Withdraw a check-in from every report from now on (it stays in its history)."""
    reason = clean_text(reason, what="--reason", required=True)
    row, kpi, fixes = _target(session, checkin_id)
    author = get_person(session, by) if by else None
    current = effective(row, fixes)
    events.touch(session, [kpi])
    session.add(CheckinCorrection(checkin_id=row.id, kpi_id=kpi.id, kind="retract",
                                  recorded_at=now, by_id=author.id if author else None,
                                  reason=reason,
                                  **{name: getattr(current, name) for name in FIELDS}))
    events.emit(session, "retract", kpi=kpi.key, by=author.handle if author else None,
                id=checkin_id, reason=reason, value=current.value,
                measured_at=current.measured_at)
    return WriteResult("checkin.retracted",
                       f"retracted check-in {checkin_id} of {kpi.key} "
                       f"({current.value:.15g} at {current.measured_at:%Y-%m-%d %H:%M} UTC)",
                       {"id": checkin_id, "key": kpi.key})


def _describe(name: str, old, new) -> str:
    def show(v):
        if v is None:
            return "none"
        if isinstance(v, float):
            return f"{v:.15g}"
        if isinstance(v, datetime):
            return f"{v:%Y-%m-%d %H:%M} UTC"
        return str(v)

    return f"{name} {show(old)} → {show(new)}"
