"""`kpictl pull`: run the sources concurrently, then record what they gave.

The sources run first, in a bounded thread pool (``--jobs``, default 4; a command source
waits on its process, a query on its database), each within its own timeout, while no
database lock is held. Their results are then written in one short transaction, each in its
own savepoint, so one bad result never undoes the others.

Idempotent per cadence slot: a pulled value is a check-in with ``source = "pull:<kpi>"`` and
the idempotency key ``pull:<slot start>``, so an hourly cron on a weekly KPI records once a
week. A *different* value later in the same slot is a correction of that slot's value (see
:func:`record_changed_value`). A failure is logged in ``source_run`` (the report's
``source_failed`` flag and the digest read it); the first success after failures closes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.errors import KpictlError
from kpictl.models import CheckinCorrection, Checkin, Kpi, SourceRun

if TYPE_CHECKING:  # the report reads failures from here without paying for running sources
    from kpictl.services.fetch import Reading
    from kpictl.services.sources import Source

DEFAULT_JOBS = 4
MAX_JOBS = 64


@dataclass
class Fetched:
    source: Source
    reading: Reading | None
    error: str | None
    seconds: float


@dataclass
class PullResult:
    """One line of ``kpictl.pull/1``'s ``results``."""

    kpi: str
    ok: bool
    value: float | None
    at: datetime | None
    action: str  # recorded | unchanged | changed | failed (with --dry-run: what it would do)
    error: str | None
    seconds: float


@dataclass
class PullReport:
    generated_at: datetime
    sources_file: str
    dry_run: bool
    results: list[PullResult]

    @property
    def failed(self) -> list[PullResult]:
        return [r for r in self.results if not r.ok]


def fetch_all(sources: list[Source], *, jobs: int, now: datetime, tz) -> list[Fetched]:
    """Every source's reading or error, in the file's order; at most ``jobs`` at a time.

    Interrupted (Ctrl-C), it stops every command still running before it gives up: they run
    in their own sessions, out of the terminal's reach."""
    from concurrent.futures import ThreadPoolExecutor

    from kpictl.services.fetch import SourceError, read_source, stop_all

    def one(source: Source) -> Fetched:
        started = time.monotonic()
        try:
            reading = read_source(source, now=now, tz=tz)
            return Fetched(source, reading, None, time.monotonic() - started)
        except SourceError as exc:
            return Fetched(source, None, exc.message, time.monotonic() - started)
        except Exception as exc:  # a driver's surprise must not take the other sources down
            return Fetched(source, None, f"failed: {type(exc).__name__}",
                           time.monotonic() - started)

    if not sources:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, MAX_JOBS, len(sources)))) as pool:
        try:
            return list(pool.map(one, sources))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            stop_all()
            raise


def record_pulls(*, session: Session, now: datetime, tz, fetched: list[Fetched],
                 dry_run: bool = False) -> list[PullResult]:
    """Write each fetched value (or failure); with ``dry_run``, say what would be written."""
    results = []
    for item in fetched:
        seconds = round(item.seconds, 3)
        value = item.reading.value if item.reading else None
        at = item.reading.at if item.reading else None
        kpi = session.execute(select(Kpi).where(Kpi.key == item.source.kpi)).scalar_one_or_none()
        error = item.error
        action = "failed"
        if kpi is None:
            error = error or f"no KPI '{item.source.kpi}' (see `kpictl report`)"
        elif error is None:
            try:
                with session.begin_nested():
                    action = record_pulled(session=session, now=now, tz=tz, kpi=kpi,
                                           source=item.source, reading=item.reading,
                                           dry_run=dry_run)
                    if not dry_run:
                        _close_failures(session, kpi, now, item.seconds)
            except KpictlError as exc:
                error = exc.message
                action = "failed"
        if error is not None and kpi is not None and not dry_run:
            record_failure(session=session, now=now, kpi=kpi, error=error,
                           seconds=item.seconds)
        results.append(PullResult(kpi=item.source.kpi, ok=error is None, value=value,
                                  at=at, action=action, error=error, seconds=seconds))
    return results


def slot_key(kpi: Kpi, instant: datetime, tz=None) -> str:
    """The idempotency key of the cadence slot holding ``instant``: ``pull:<slot start>``.

    The slot is the one :mod:`kpictl.services.cadence` judges check-ins by, in the KPI's own
    zone (a measurement before the KPI's start belongs to the first slot)."""
    from kpictl.textforms import iso
    from kpictl.services.cadence import Slots
    from kpictl.timeparse import parse_cadence

    slots = Slots(kpi.start, kpi.due, parse_cadence(kpi.cadence), kpi.zone)
    return f"pull:{iso(slots.begin(max(0, slots.index(instant))))}"


def record_pulled(*, session: Session, now: datetime, tz, kpi: Kpi, source: Source,
                  reading: Reading, dry_run: bool = False) -> str:
    """``recorded`` (first value of its slot), ``unchanged`` (the slot has this value), or
    ``changed`` (the slot had another value: its check-in is amended, with the reason)."""
    from kpictl.services import corrections
    from kpictl.services.checkins import record_checkin

    from kpictl.services.objectives import refuse_checkin

    refuse_checkin(session, kpi)  # an objective's progress is its children's, even dry
    measured = reading.at or now
    key = slot_key(kpi, measured)
    latest = session.execute(
        select(Checkin).where(Checkin.kpi_id == kpi.id, Checkin.idem_key.startswith(key))
        .order_by(Checkin.id.desc()).limit(1)
    ).scalar_one_or_none()
    current = None
    if latest is not None:
        fixes = list(session.execute(
            select(CheckinCorrection).where(CheckinCorrection.checkin_id == latest.id)
            .order_by(CheckinCorrection.recorded_at, CheckinCorrection.id)).scalars())
        current = corrections.effective(latest, fixes)
        if current.status == "retracted" or current.value == reading.value:
            return "unchanged"  # a retraction is a person's decision: a pull does not undo it
    if kpi.state != "active":
        from kpictl.errors import Conflict

        raise Conflict(f"KPI '{kpi.key}' is closed ({kpi.state}); it takes no more check-ins")
    if dry_run:
        return "changed" if latest is not None else "recorded"
    if latest is not None:
        record_changed_value(session=session, now=now, kpi=kpi, source=source,
                             reading=reading, previous=current)
        return "changed"
    record_checkin(session=session, now=now, key=kpi.key, value=reading.value,
                   at=reading.at, by=source.by, confidence=reading.confidence,
                   note=reading.note, idem_key=key, source=f"pull:{kpi.key}")
    return "recorded"


def record_changed_value(*, session: Session, now: datetime, kpi: Kpi, source: Source,
                         reading: Reading, previous) -> None:
    """A slot's pulled value changed: amend the slot's check-in (``kpictl amend``'s own
    correction, so the original stays in its history and the log says why)."""
    from kpictl.services.corrections import KEEP, amend_checkin
    from kpictl.services.lookups import handles_by_id

    by = source.by or handles_by_id(session).get(kpi.owner_id)
    amend_checkin(session=session, now=now, checkin_id=previous.id, by=by,
                  reason=f"pulled value changed from {previous.value:.15g} to "
                         f"{reading.value:.15g}",
                  value=reading.value,
                  at=reading.at if reading.at and reading.at != previous.measured_at else KEEP,
                  confidence=reading.confidence if reading.confidence is not None else KEEP,
                  note=reading.note if reading.note is not None else KEEP)


def _latest_run(session: Session, kpi_id: int) -> SourceRun | None:
    return session.execute(select(SourceRun).where(SourceRun.kpi_id == kpi_id)
                           .order_by(SourceRun.id.desc()).limit(1)).scalar_one_or_none()


def record_failure(*, session: Session, now: datetime, kpi: Kpi, error: str,
                   seconds: float | None) -> None:
    from kpictl.services import events

    events.touch(session, [kpi])  # a new source_failed flag is a status change
    session.add(SourceRun(kpi_id=kpi.id, at=now, ok=False, error=error[:2000],
                          seconds=round(seconds, 3) if seconds is not None else None))
    session.flush()


def _close_failures(session: Session, kpi: Kpi, now: datetime, seconds: float) -> None:
    latest = _latest_run(session, kpi.id)
    if latest is not None and not latest.ok:
        from kpictl.services import events

        events.touch(session, [kpi])
        session.add(SourceRun(kpi_id=kpi.id, at=now, ok=True, seconds=round(seconds, 3)))
        session.flush()


def failing_kpis(session: Session, as_of: datetime, ids: list[int] | None = None) -> set[int]:
    """KPIs whose latest pull at ``as_of`` had failed (the ``source_failed`` flag)."""
    from sqlalchemy import func

    latest = select(SourceRun.kpi_id, func.max(SourceRun.id).label("id")) \
        .where(SourceRun.at <= as_of).group_by(SourceRun.kpi_id)
    if ids is not None and len(ids) <= 1_000:  # a large portfolio: every KPI's latest run
        latest = latest.where(SourceRun.kpi_id.in_(ids))
    latest = latest.subquery()
    stmt = select(SourceRun.kpi_id).join(latest, latest.c.id == SourceRun.id) \
        .where(SourceRun.ok.is_(False))
    return set(session.execute(stmt).scalars())


def failures_between(session: Session, since: datetime, until: datetime, *,
                     include_until: bool = True) -> list[tuple[int, int, datetime, datetime, str]]:
    """Per KPI, the failed pulls in the window: (kpi id, count, first, last, last error)."""
    stmt = select(SourceRun.kpi_id, SourceRun.at, SourceRun.error).where(
        SourceRun.ok.is_(False), SourceRun.at >= since,
        SourceRun.at <= until if include_until else SourceRun.at < until,
    ).order_by(SourceRun.kpi_id, SourceRun.at, SourceRun.id)
    found: dict[int, list] = {}
    for kpi_id, at, error in session.execute(stmt):
        entry = found.setdefault(kpi_id, [kpi_id, 0, at, at, error])
        entry[1] += 1
        entry[3], entry[4] = at, error
    return [tuple(v) for v in found.values()]
