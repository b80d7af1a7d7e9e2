"""The audit log (`kpictl log`): one timeline of every change, from the append-only history.

Nothing here is stored twice: each event is read from the table that already keeps it —
people and their ``person_change`` rows, KPIs and ``kpi_change``, the ``assignment`` log,
check-ins and their ``checkin_correction`` rows, feedback. An event's ``at`` is when it was
*recorded* (a back-filled check-in appears when it was entered; its measured time is in the
detail), so the log answers "who changed what, when, and why".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.models import (
    Assignment,
    Checkin,
    CheckinCorrection,
    Feedback,
    Kpi,
    KpiChange,
    Person,
    PersonChange,
)
from kpictl.services import corrections
from kpictl.services.lookups import get_kpi, get_person

#: Event types, in the order events recorded at the same instant are listed.
TYPES = ("person.added", "person.changed", "person.deactivated", "kpi.created", "kpi.assigned",
         "kpi.changed", "kpi.reassigned", "checkin.recorded", "checkin.amended",
         "checkin.retracted", "feedback.added", "kpi.closed", "kpi.reopened")
_RANK = {t: i for i, t in enumerate(TYPES)}
#: kpi_change fields that belong to a close or reopen event, not events of their own.
_LIFECYCLE_PARTS = ("closed_at", "close_note")


@dataclass
class LogEvent:
    at: datetime
    by: str | None
    type: str
    kpi: str | None
    person: str | None
    detail: dict = field(default_factory=dict)


@dataclass
class Log:
    generated_at: datetime
    filters: dict
    events: list[LogEvent]


def build_log(*, session: Session, now: datetime, key: str | None = None,
              since: datetime | None = None, until: datetime | None = None,
              by: str | None = None) -> Log:
    kpi_id = get_kpi(session, key).id if key else None
    by_handle = get_person(session, by).handle if by else None
    handles = dict(session.execute(select(Person.id, Person.handle)).all())
    keys = dict(session.execute(select(Kpi.id, Kpi.key)).all())

    def within(column):
        conditions = []
        if since is not None:
            conditions.append(column >= since)
        if until is not None:
            conditions.append(column <= until)
        return conditions

    def for_kpi(column):
        return [column == kpi_id] if kpi_id is not None else []

    events: list[tuple] = []

    def add(at, by_id, type_, kpi, person, detail, order=0):
        # ties broken by names, then by the history row's id, which an import keeps in order
        events.append((at, _RANK[type_], keys.get(kpi) or person or "", order, LogEvent(
            at=at, by=handles.get(by_id), type=type_, kpi=keys.get(kpi), person=person,
            detail=detail)))

    if kpi_id is None:
        for p in session.execute(select(Person).where(*within(Person.created_at))).scalars():
            add(p.created_at, None, "person.added", None, p.handle,
                {"name": p.name, "capacity": p.capacity}, p.id)
        for c in session.execute(select(PersonChange).where(*within(PersonChange.at))).scalars():
            kind = "person.deactivated" if (c.field, c.new_value) == ("active", "false") \
                else "person.changed"
            add(c.at, c.by_id, kind, None, handles.get(c.person_id),
                {"field": c.field, "from": c.old_value, "to": c.new_value}, c.id)
    for k in session.execute(select(Kpi).where(*within(Kpi.created_at), *for_kpi(Kpi.id))
                             ).scalars():
        add(k.created_at, k.delegated_by_id, "kpi.created", k.id, None,
            {"title": k.title, "kind": k.kind}, k.id)

    previous: dict[int, str] = {}
    for a in session.execute(select(Assignment).where(*for_kpi(Assignment.kpi_id))
                             .order_by(Assignment.kpi_id, Assignment.valid_from,
                                       Assignment.id)).scalars():
        before = previous.get(a.kpi_id)
        previous[a.kpi_id] = handles.get(a.person_id)
        if (since is not None and a.recorded_at < since) or (
                until is not None and a.recorded_at > until):
            continue
        detail = {"effective_at": a.valid_from, "note": a.note}
        if before is None:
            add(a.recorded_at, a.assigned_by_id, "kpi.assigned", a.kpi_id,
                handles.get(a.person_id), detail, a.id)
        else:
            add(a.recorded_at, a.assigned_by_id, "kpi.reassigned", a.kpi_id,
                handles.get(a.person_id), {"from": before, **detail}, a.id)

    parts: dict[tuple, dict] = {}
    changes = list(session.execute(select(KpiChange).where(*within(KpiChange.at),
                                                           *for_kpi(KpiChange.kpi_id))
                                   .order_by(KpiChange.id)).scalars())
    for c in changes:
        if c.field in _LIFECYCLE_PARTS:
            parts.setdefault((c.kpi_id, c.at), {})[c.field] = (c.old_value, c.new_value)
    for c in changes:
        if c.field in _LIFECYCLE_PARTS:
            continue
        if c.field == "state" and c.new_value != "active":
            closed_at = parts.get((c.kpi_id, c.at), {}).get("closed_at", (None, None))[1]
            add(c.at, c.by_id, "kpi.closed", c.kpi_id, None,
                {"outcome": c.new_value, "effective_at": closed_at, "note": c.reason}, c.id)
        elif c.field == "state":
            add(c.at, c.by_id, "kpi.reopened", c.kpi_id, None,
                {"was": c.old_value, "reason": c.reason}, c.id)
        else:
            add(c.at, c.by_id, "kpi.changed", c.kpi_id, None,
                {"field": c.field, "from": c.old_value, "to": c.new_value}, c.id)

    checkin_filter = [*within(Checkin.recorded_at), *for_kpi(Checkin.kpi_id)]
    if by_handle is not None:
        by_id = next(i for i, h in handles.items() if h == by_handle)
        checkin_filter.append(Checkin.author_id == by_id)
    for c in session.execute(select(Checkin.id, Checkin.kpi_id, Checkin.recorded_at,
                                    Checkin.author_id, Checkin.value, Checkin.measured_at,
                                    Checkin.note, Checkin.source).where(*checkin_filter)):
        add(c.recorded_at, c.author_id, "checkin.recorded", c.kpi_id, None,
            {"id": c.id, "value": c.value, "measured_at": c.measured_at, "note": c.note,
             "source": c.source}, c.id)
    fixes = list(session.execute(select(CheckinCorrection)
                                 .where(*within(CheckinCorrection.recorded_at),
                                        *for_kpi(CheckinCorrection.kpi_id))).scalars())
    wanted = {f.id for f in fixes}
    if fixes:
        for item in _corrected(session, {f.checkin_id for f in fixes}):
            for fix, changed in corrections.versions(item):
                if fix.id not in wanted:
                    continue
                add(fix.recorded_at, fix.by_id, f"checkin.{fix.kind}ed",
                    fix.kpi_id, None, {"id": fix.checkin_id, "reason": fix.reason,
                                       "changes": changed}, fix.id)
    for f in session.execute(select(Feedback).where(*within(Feedback.at),
                                                    *for_kpi(Feedback.kpi_id))).scalars():
        add(f.at, f.author_id, "feedback.added", f.kpi_id, None, {"text": f.text}, f.id)

    events.sort(key=lambda e: e[:4])
    shown = [e[4] for e in events if by_handle is None or e[4].by == by_handle]
    filters = {"kpi": keys.get(kpi_id), "since": since, "until": until, "by": by_handle}
    return Log(generated_at=now, filters=filters, events=shown)


def _corrected(session: Session, checkin_ids: set[int]) -> list[corrections.Effective]:
    """The corrected check-ins with all their corrections, to tell what each one changed."""
    ids = sorted(checkin_ids)
    result = []
    for start in range(0, len(ids), 10_000):
        chunk = ids[start:start + 10_000]
        fixes: dict[int, list] = {}
        for fix in session.execute(select(CheckinCorrection)
                                   .where(CheckinCorrection.checkin_id.in_(chunk))
                                   .order_by(CheckinCorrection.id)).scalars():
            fixes.setdefault(fix.checkin_id, []).append(fix)
        for row in session.execute(select(*Checkin.__table__.c).where(Checkin.id.in_(chunk))):
            result.append(corrections.effective(row, fixes.get(row.id, ())))
    return result
