"""Per-owner accountability (`report --by owner`) and the digest of a window (`--since`).

Both are functions of (data, instant) like every report. Check-in punctuality is judged per
cadence slot (:mod:`kpictl.services.cadence`): a punctual or late check-in is credited to
whoever owned the KPI when it was recorded, a missed slot is charged to whoever owned it at the
slot's deadline; a closed KPI's outcome counts for whoever owned it when it closed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from dataclasses import replace

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from kpictl.domain import DEFAULTS, OBJECTIVE, Status, Thresholds
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
from kpictl.services.away import AwayCalendar
from kpictl.services import corrections
from kpictl.services.cadence import judge_slots, owner_at
from kpictl.services.history import definitions_at
from kpictl.services.calibration import calibration_by_person, calibration_of
from kpictl.services.reports import build_report
from kpictl.timeparse import parse_cadence, parse_grace


def _assignment_log(session: Session, as_of: datetime, known: bool = False) -> dict[int, list]:
    """Per KPI, ``(valid_from, valid_until, handle)`` begun by ``as_of``; ``known``: only the
    assignments recorded by then (so the last one known is still open)."""
    log: dict[int, list] = defaultdict(list)
    stmt = (select(Assignment.kpi_id, Assignment.valid_from, Assignment.valid_until,
                   Person.handle)
            .join(Person, Person.id == Assignment.person_id)
            .where(Assignment.valid_from <= as_of)
            .order_by(Assignment.kpi_id, Assignment.valid_from, Assignment.id))
    if known:
        stmt = stmt.where(Assignment.recorded_at <= as_of)
    for kpi_id, valid_from, valid_until, handle in session.execute(stmt):
        log[kpi_id].append((valid_from, valid_until, handle))
    if known:
        for rows in log.values():
            if rows[-1][1] is not None:
                rows[-1] = (rows[-1][0], None, rows[-1][2])
    return log


def _checkin_times(session: Session, as_of: datetime,
                   known: bool = False) -> dict[int, tuple[list, list]]:
    """(measured, recorded) per KPI, measured-sorted; two columns, not ORM objects. KPIs with
    a correction in the view come from their corrected history."""
    times: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    corrected = corrections.kpis_with_corrections(session, as_of=as_of, known=known)
    stmt = (select(Checkin.kpi_id, Checkin.measured_at, Checkin.recorded_at)
            .where(Checkin.measured_at <= as_of)
            .order_by(Checkin.kpi_id, Checkin.measured_at))
    if known:
        stmt = stmt.where(Checkin.recorded_at <= as_of)
    if corrected:
        stmt = stmt.where(Checkin.kpi_id.not_in(corrected))
    for kpi_id, measured, recorded in session.execute(stmt):
        pair = times[kpi_id]
        pair[0].append(measured)
        pair[1].append(recorded)
    for kpi_id, items in corrections.history(session, sorted(corrected), as_of=as_of,
                                             known=known).items():
        if items:
            times[kpi_id] = ([c.measured_at for c in items], [c.recorded_at for c in items])
    return times


def _slots(kpi: Kpi, as_of: datetime, tz, times) -> list:
    end = kpi.due
    if kpi.state != "active" and kpi.closed_at is not None:
        end = min(end, kpi.closed_at)
    measured, recorded = times.get(kpi.id, ([], []))
    return list(judge_slots(start=kpi.start, end=min(end, as_of), as_of=as_of,
                            cadence=parse_cadence(kpi.cadence), grace=parse_grace(kpi.grace),
                            tz=kpi.zone, measured=measured, recorded=recorded, due=kpi.due))


def punctuality_by_person(*, session: Session, as_of: datetime, tz, known: bool = False,
                          kpis=None) -> dict[str, dict[str, int]]:
    """Per handle: cadence slots on time and late (credited to the owner when the check-in was
    recorded) and missed (charged to the owner at the deadline, unless they were away when it
    was due: `people away`)."""
    log = _assignment_log(session, as_of, known)
    times = _checkin_times(session, as_of, known)
    result: dict[str, dict[str, int]] = defaultdict(lambda: {"on_time": 0, "late": 0,
                                                             "missed": 0})
    away = AwayCalendar(session)
    if kpis is None:
        kpis = definitions_at(session, as_of, known=known)
    for kpi in kpis:
        if kpi.start > as_of or kpi.kind == OBJECTIVE:  # an objective has no check-in slots
            continue
        assignments = log.get(kpi.id, [])
        for slot in _slots(kpi, as_of, tz, times):
            when = slot.recorded_at if slot.recorded_at is not None else slot.deadline
            handle = owner_at(assignments, min(when, as_of))
            if slot.outcome == "missed" and away.is_away(handle, slot.end):
                continue  # a slot due while its owner was away is not charged to them
            if handle:
                result[handle][slot.outcome] += 1
    return dict(result)


def build_owner_report(*, session: Session, as_of: datetime, now: datetime, tz,
                       thresholds: Thresholds = DEFAULTS, revised: bool = False) -> OwnersReport:
    portfolio = build_report(session=session, as_of=as_of, now=now, tz=tz, thresholds=thresholds,
                             revised=revised)
    known = not revised and as_of < now
    definitions = definitions_at(session, as_of, known=known)
    log = _assignment_log(session, as_of, known)
    stats: dict[str, dict] = defaultdict(lambda: {"by_status": {str(s): 0 for s in Status},
                                                  "on_time": 0, "late": 0, "missed": 0,
                                                  "achieved": 0, "missed_kpis": 0, "kpis": 0})
    for row in portfolio.kpis:
        if row.owner:
            stats[row.owner]["by_status"][row.status] += 1
            stats[row.owner]["kpis"] += 1
    for handle, counts in punctuality_by_person(session=session, as_of=as_of, tz=tz, known=known,
                                                kpis=definitions).items():
        stats[handle].update(counts)
    from kpictl.services.periods import closed_periods

    # Ongoing KPIs count period by period (no_data is a miss); their series' close does not.
    ongoing, periods = closed_periods(session, as_of=as_of, known=known)
    for _kpi, period in periods:
        if period.owner:
            stats[period.owner]["achieved" if period.outcome == "achieved"
                                else "missed_kpis"] += 1
    for kpi in definitions:
        if kpi.start > as_of or kpi.id in ongoing:
            continue
        if kpi.state in ("achieved", "missed") and kpi.closed_at and kpi.closed_at <= as_of:
            handle = owner_at(log.get(kpi.id, []), kpi.closed_at)
            if handle:
                stats[handle]["achieved" if kpi.state == "achieved" else "missed_kpis"] += 1
    calibrations = calibration_by_person(session=session, as_of=as_of, known=known,
                                         kpis=definitions)
    people = session.execute(select(Person).where(Person.created_at <= as_of if known else true())
                             .order_by(Person.handle)).scalars()
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
                 include_until: bool = True, thresholds: Thresholds = DEFAULTS,
                 revised: bool = False) -> Digest:
    """What happened from ``since`` to ``until``: check-ins, status changes, misses, moves.

    The window includes ``until`` when it is the report instant (events "as of now" count) and
    excludes it when it is the start of the next period (``--week``), so weeks never overlap.
    """

    def within(t: datetime) -> bool:
        return since <= t and (t <= until if include_until else t < until)

    before = {r.key: r for r in build_report(session=session, as_of=since, now=now, tz=tz,
                                             thresholds=thresholds, revised=revised).kpis}
    after = build_report(session=session, as_of=until, now=now, tz=tz, thresholds=thresholds,
                         revised=revised)
    known = not revised and until < now
    changes = [StatusChange(key=r.key, owner=r.owner,
                            before=before[r.key].status if r.key in before else None,
                            after=r.status)
               for r in after.kpis if r.key not in before or before[r.key].status != r.status]

    handles = dict(session.execute(select(Person.id, Person.handle)).all())
    kpi_rows = {k.id: k for k in definitions_at(session, until, known=known)}
    ids = [k for k in kpi_rows]
    checkins = [
        DigestCheckin(key=kpi_rows[c.kpi_id].key, value=c.value, measured_at=c.measured_at,
                      by=handles.get(c.author_id), note=c.note, blocker=c.blocker)
        for c in _window_checkins(session, ids, since, until, include_until, known)
    ]
    log = _assignment_log(session, until, known)
    times = _checkin_times(session, until, known)
    missed, new, reassigned, closed = [], [], [], []
    for kpi in kpi_rows.values():
        assignments = log.get(kpi.id, [])
        if kpi.state != "active" and kpi.closed_at and kpi.closed_at > until:
            kpi = replace(kpi, state="active", closed_at=None)
        if kpi.start > until:
            continue
        for slot in _slots(kpi, until, tz, times) if kpi.kind != OBJECTIVE else ():
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
    from kpictl.services.periods import closed_periods

    ongoing, done = closed_periods(session, as_of=until, known=known)
    periods_closed = sorted((KpiEvent(kpi.key, p.owner, p.end, f"{p.label} {p.outcome}")
                             for kpi, p in done if within(p.end)), key=lambda e: (e.at, e.key))
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
    if ongoing:  # ongoing KPIs (issue 18): the periods that closed in the window
        summary["periods_closed"] = len(periods_closed)
    return Digest(since=since, until=until, generated_at=now, checkins=checkins,
                  status_changes=sorted(changes, key=lambda c: c.key),
                  missed_checkins=missed, new_kpis=sorted(new, key=by_time),
                  reassigned=sorted(reassigned, key=by_time), closed=sorted(closed, key=by_time),
                  summary=summary, source_failures=failures, periods_closed=periods_closed)


def _window_checkins(session: Session, ids, since, until, include_until, known):
    """The check-ins measured in the window (corrected, retracted ones left out), by time."""
    corrected = corrections.kpis_with_corrections(session, as_of=until, known=known)
    upper = Checkin.measured_at <= until if include_until else Checkin.measured_at < until
    stmt = select(Checkin).where(Checkin.measured_at >= since, upper,
                                 Checkin.kpi_id.in_(ids) if len(ids) < 10_000 else true())
    if known:
        stmt = stmt.where(Checkin.recorded_at <= until)
    if corrected:
        stmt = stmt.where(Checkin.kpi_id.not_in(corrected))
    found = list(session.execute(stmt).scalars())
    for items in corrections.history(session, sorted(corrected), as_of=until,
                                     known=known).values():
        found += [c for c in items if since <= c.measured_at and
                  (c.measured_at <= until if include_until else c.measured_at < until)]
    wanted = set(ids)
    return sorted((c for c in found if c.kpi_id in wanted), key=lambda c: (c.measured_at, c.id))
