"""Recording progress. Check-ins are append-only; an idempotency key makes a re-send harmless."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.errors import Conflict, InvalidInput
from kpictl.models import Checkin
from kpictl.results import WriteResult
from kpictl.services import events, stats
from kpictl.services.lookups import clean_text, get_kpi, get_person

def before_start(option: str, measured: datetime, key: str, start: datetime) -> str:
    """Why a check-in measured before its KPI's start is refused (every write path says it)."""
    return (f"{option} {measured:%Y-%m-%d %H:%M} UTC is before the start of {key} "
            f"({start:%Y-%m-%d %H:%M} UTC): a KPI has no measurements before it starts")


#: Clock skew tolerated between machines before a measurement counts as "in the future".
FUTURE_SKEW = timedelta(minutes=5)


def in_zone(value: datetime, tz) -> str:
    """``2026-11-29 00:00 Europe/Berlin``: an instant as the user reads it (``tz`` None: UTC)."""
    if tz is None:
        return f"{value.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
    return f"{value.astimezone(tz):%Y-%m-%d %H:%M} {getattr(tz, 'name', None) or tz}"


def record_checkin(
    *,
    session: Session,
    now: datetime,
    key: str,
    value: float,
    at: datetime | None = None,
    by: str | None = None,
    confidence: int | None = None,
    note: str | None = None,
    blocker: str | None = None,
    idem_key: str | None = None,
    source: str = "cli",
    tz=None,
) -> WriteResult:
    kpi = get_kpi(session, key, for_update=True)  # its definition feeds the aggregates
    if kpi.kind == "objective":  # its progress is its children's (services/objectives.py)
        from kpictl.services.objectives import refuse_checkin

        refuse_checkin(session, kpi)
    note = clean_text(note, what="--note")
    blocker = clean_text(blocker, what="--blocker")
    idem_key = clean_text(idem_key, what="--key", limit=200)
    if confidence is not None and not 0 <= confidence <= 10:
        raise InvalidInput(f"invalid --confidence {confidence}: use a whole number from 0 to 10")
    measured_at = at or now
    if measured_at > now + FUTURE_SKEW:
        raise InvalidInput(f"--at {in_zone(measured_at, tz)} is in the future (it is now "
                           f"{in_zone(now, tz)})")
    if measured_at < kpi.start:
        raise InvalidInput(before_start("--at", measured_at, kpi.key, kpi.start))
    author = get_person(session, by) if by else None
    if kpi.state != "active":
        raise Conflict(f"KPI '{kpi.key}' is closed ({kpi.state}); it takes no more check-ins "
                       f"(reopen it with `kpictl reopen {kpi.key} --reason TEXT`)")
    author_id = author.id if author else kpi.owner_id
    if idem_key is not None:
        seen = session.execute(
            select(Checkin).where(Checkin.kpi_id == kpi.id, Checkin.idem_key == idem_key)
        ).scalar_one_or_none()
        if seen is not None:
            if seen.value != value or (at is not None and seen.measured_at != measured_at):
                raise Conflict(
                    f"check-in key '{idem_key}' was already used on {kpi.key} for value "
                    f"{seen.value:.15g}; use a new --key for a new value"
                )
            return WriteResult("checkin.duplicate",
                               f"already recorded: {kpi.key} = {seen.value:.15g} (key {idem_key})",
                               {"key": kpi.key, "written": 0, "skipped": 1})
    events.touch(session, [kpi])
    counted = stats.prepare(session)
    session.add(
        Checkin(
            kpi_id=kpi.id,
            value=value,
            measured_at=measured_at,
            recorded_at=now,
            author_id=author_id,
            confidence=confidence,
            note=note,
            blocker=blocker,
            source=source,
            idem_key=idem_key,
        )
    )
    session.flush()
    delta = stats.Delta(kpi)
    delta.add(measured_at, value)
    if counted:
        stats.add(session, {kpi.id: delta}, now)
    if events.wants(session, "checkin"):
        from kpictl.models import Person

        events.emit(session, "checkin", kpi=kpi.key,
                    by=author.handle if author else session.get(Person, author_id).handle,
                    value=value, measured_at=measured_at, confidence=confidence, note=note,
                    blocker=blocker, source=source, key=idem_key)
    unit = f" {kpi.unit}" if kpi.unit else ""
    return WriteResult("checkin.recorded", f"recorded {kpi.key} = {value:.15g}{unit}",
                       {"key": kpi.key, "written": 1, "skipped": 0})
