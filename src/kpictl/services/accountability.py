"""Per-owner accountability (`report --by owner`) and the digest of a window (`--since`).

Both are functions of (data, instant) like every report. Check-in punctuality is judged per
cadence slot (:mod:`kpictl.services.cadence`) and credited to whoever owned the KPI when the
slot's check-in was due; a closed KPI's outcome counts for whoever owned it when it closed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.domain import DEFAULTS, Status, Thresholds
from kpictl.models import Assignment, Checkin, Kpi, Person
from kpictl.schemas import (
    Digest,
    DigestCheckin,
    KpiEvent,
    MissedCheckin,
    OwnerRow,
    OwnersReport,
    StatusChange,
)
from kpictl.services.cadence import judge_slots, owner_at
from kpictl.services.calibration import calibration_by_person, calibration_of
from kpictl.services.reports import build_report
from kpictl.timeparse import parse_cadence, parse_grace


def _assignment_log(session: Session, as_of: datetime) -> dict[int, list]:
    log: dict[int, list] = defaultdict(list)
    rows = session.execute(
        select(Assignment.kpi_id, Assignment.valid_from, Assignment.valid_until, Person.handle)
        .join(Person, Person.id == Assignment.person_id)
        .where(Assignment.valid_from <= as_of)
        .order_by(Assignment.kpi_id, Assignment.valid_from, Assignment.id)
    )
    for kpi_id, valid_from, valid_until, handle in rows:
        log[kpi_id].append((valid_from, valid_until, handle))
    return log


def _checkin_times(session: Session, as_of: datetime) -> dict[int, tuple[list, list]]:
    """(measured, recorded) per KPI, measured-sorted; two columns, not ORM objects."""
    times: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    rows = session.execute(
        select(Checkin.kpi_id, Checkin.measured_at, Checkin.recorded_at)
        .where(Checkin.measured_at <= as_of)
        .order_by(Checkin.kpi_id, Checkin.measured_at)
    )
    for kpi_id, measured, recorded in rows:
        pair = times[kpi_id]
        pair[0].append(measured)
        pair[1].append(recorded)
    return times


def _slots(kpi: Kpi, as_of: datetime, tz, times) -> list:
    end = kpi.due
    if kpi.state != "active" and kpi.closed_at is not None:
        end = min(end, kpi.closed_at)
    measured, recorded = times.get(kpi.id, ([], []))
    return list(judge_slots(start=kpi.start, end=min(end, as_of), as_of=as_of,
                            cadence=parse_cadence(kpi.cadence), grace=parse_grace(kpi.grace),
                            tz=tz, measured=measured, recorded=recorded))


def punctuality_by_person(*, session: Session, as_of: datetime, tz) -> dict[str, dict[str, int]]:
    """Per handle: cadence slots on time, late and missed, credited to the owner when due."""
    log = _assignment_log(session, as_of)
    times = _checkin_times(session, as_of)
    result: dict[str, dict[str, int]] = defaultdict(lambda: {"on_time": 0, "late": 0,
                                                             "missed": 0})
    for kpi in session.execute(select(Kpi).where(Kpi.start <= as_of)).scalars():
        assignments = log.get(kpi.id, [])
        for slot in _slots(kpi, as_of, tz, times):
            handle = owner_at(assignments, min(slot.deadline, as_of))
            if handle:
                result[handle][slot.outcome] += 1
    return dict(result)


def build_owner_report(*, session: Session, as_of: datetime, now: datetime, tz,
                       thresholds: Thresholds = DEFAULTS) -> OwnersReport:
    portfolio = build_report(session=session, as_of=as_of, now=now, tz=tz, thresholds=thresholds)
    log = _assignment_log(session, as_of)
    stats: dict[str, dict] = defaultdict(lambda: {"by_status": {str(s): 0 for s in Status},
                                                  "on_time": 0, "late": 0, "missed": 0,
                                                  "achieved": 0, "missed_kpis": 0, "kpis": 0})
    for row in portfolio.kpis:
        if row.owner:
            stats[row.owner]["by_status"][row.status] += 1
            stats[row.owner]["kpis"] += 1
    for handle, counts in punctuality_by_person(session=session, as_of=as_of, tz=tz).items():
        stats[handle].update(counts)
    kpis = session.execute(select(Kpi).where(Kpi.start <= as_of)).scalars()
    for kpi in kpis:
        if kpi.state in ("achieved", "missed") and kpi.closed_at and kpi.closed_at <= as_of:
            handle = owner_at(log.get(kpi.id, []), kpi.closed_at)
            if handle:
                stats[handle]["achieved" if kpi.state == "achieved" else "missed_kpis"] += 1
    calibrations = calibration_by_person(session=session, as_of=as_of)
    people = session.execute(select(Person).order_by(Person.handle)).scalars()
    owners = []
    for person in people:
        if person.handle not in stats and not person.active:
            continue
        s = stats[person.handle]
        judged = s["on_time"] + s["late"] + s["missed"]
        closed = s["achieved"] + s["missed_kpis"]
        cal = calibration_of(calibrations, person.handle)
        owners.append(OwnerRow(
            handle=person.handle, name=person.name, active=person.active, kpis=s["kpis"],
            by_status=s["by_status"], checkins_on_time=s["on_time"], checkins_late=s["late"],
            checkins_missed=s["missed"],
            on_time_rate=round(s["on_time"] / judged, 4) if judged else None,
            closed_achieved=s["achieved"], closed_missed=s["missed_kpis"],
            hit_rate=round(s["achieved"] / closed, 4) if closed else None,
            confidence_predictions=cal.predictions, confidence_brier=cal.brier,
            confidence_bias=cal.bias, calibration=cal.label,
        ))
    return OwnersReport(as_of=as_of, generated_at=now, owners=owners)


def build_digest(*, session: Session, since: datetime, until: datetime, now: datetime, tz,
                 include_until: bool = True, thresholds: Thresholds = DEFAULTS) -> Digest:
    """What happened from ``since`` to ``until``: check-ins, status changes, misses, moves.

    The window includes ``until`` when it is the report instant (events "as of now" count) and
    excludes it when it is the start of the next period (``--week``), so weeks never overlap.
    """

    def within(t: datetime) -> bool:
        return since <= t and (t <= until if include_until else t < until)

    before = {r.key: r for r in build_report(session=session, as_of=since, now=now, tz=tz,
                                             thresholds=thresholds).kpis}
    after = build_report(session=session, as_of=until, now=now, tz=tz, thresholds=thresholds)
    changes = [StatusChange(key=r.key, owner=r.owner,
                            before=before[r.key].status if r.key in before else None,
                            after=r.status)
               for r in after.kpis if r.key not in before or before[r.key].status != r.status]

    handles = dict(session.execute(select(Person.id, Person.handle)).all())
    kpi_rows = {k.id: k for k in session.execute(select(Kpi)).scalars()}
    checkins = [
        DigestCheckin(key=kpi_rows[c.kpi_id].key, value=c.value, measured_at=c.measured_at,
                      by=handles.get(c.author_id), note=c.note, blocker=c.blocker)
        for c in session.execute(
            select(Checkin).where(Checkin.measured_at >= since,
                                  Checkin.measured_at <= until if include_until
                                  else Checkin.measured_at < until)
            .order_by(Checkin.measured_at, Checkin.id)
        ).scalars()
    ]
    log = _assignment_log(session, until)
    times = _checkin_times(session, until)
    missed, new, reassigned, closed = [], [], [], []
    for kpi in kpi_rows.values():
        assignments = log.get(kpi.id, [])
        if kpi.start > until:
            continue
        for slot in _slots(kpi, until, tz, times):
            if within(slot.deadline) and slot.outcome == "missed":
                missed.append(MissedCheckin(kpi.key, owner_at(assignments, slot.deadline),
                                            slot.deadline))
        if within(kpi.start):
            new.append(KpiEvent(kpi.key, owner_at(assignments, kpi.start), kpi.start, kpi.title))
        for previous, current in zip(assignments, assignments[1:]):
            if within(current[0]):
                reassigned.append(KpiEvent(kpi.key, current[2], current[0],
                                           f"from {previous[2]}"))
        if kpi.state != "active" and kpi.closed_at and within(kpi.closed_at):
            closed.append(KpiEvent(kpi.key, owner_at(assignments, kpi.closed_at), kpi.closed_at,
                                   kpi.state))
    from kpictl.schemas import SourceFailure
    from kpictl.services.pull import failures_between

    failures = [SourceFailure(kpi_rows[kpi_id].key,
                              owner_at(log.get(kpi_id, []), last), n, first, last, error)
                for kpi_id, n, first, last, error in failures_between(
                    session, since, until, include_until=include_until)]
    failures.sort(key=lambda f: f.key)
    by_time = lambda e: (e.at, e.key)  # noqa: E731
    missed.sort(key=lambda m: (m.due_by, m.key))
    summary = {"checkins": len(checkins), "status_changes": len(changes),
               "missed_checkins": len(missed), "new_kpis": len(new),
               "reassigned": len(reassigned), "closed": len(closed),
               "source_failures": len(failures)}
    return Digest(since=since, until=until, generated_at=now, checkins=checkins,
                  status_changes=sorted(changes, key=lambda c: c.key),
                  missed_checkins=missed, new_kpis=sorted(new, key=by_time),
                  reassigned=sorted(reassigned, key=by_time), closed=sorted(closed, key=by_time),
                  summary=summary, source_failures=failures)
