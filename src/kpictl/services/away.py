"""Away windows (`people away`): while someone is away they get no nudges, the cadence slots
whose deadline falls in the window are not charged to them as missed, and what would have
been sent to them goes to their cover, else up their reporting line.

A window is ``[starts, ends]`` with ``ends`` inclusive (the end of the `--until` day). Windows
of one person never overlap, so "who covers ana on Tuesday" has one answer; `--clear` ends the
current window now and drops the future ones.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, aliased

from kpictl.errors import Conflict, InvalidInput
from kpictl.models import Away, Person
from kpictl.results import WriteResult
from kpictl.services.lookups import get_person

#: How many windows one person may have at once (bad input must not grow without bound).
MAX_WINDOWS = 500


@dataclass(frozen=True)
class AwayView:
    starts: datetime
    ends: datetime
    cover: str | None


def _shown(instant: datetime, tz) -> str:
    """An instant in the user's zone, as they typed it: "2027-02-01 00:00 Europe/Berlin"."""
    local = instant.astimezone(tz) if tz is not None else instant
    return f"{local:%Y-%m-%d %H:%M} {getattr(tz, 'name', None) or 'UTC'}"


def set_away(*, session: Session, now: datetime, handle: str, starts: datetime, ends: datetime,
             cover: str | None = None, by: str | None = None, tz=None) -> WriteResult:
    person = get_person(session, handle)
    if ends < starts:
        raise InvalidInput("--until must not be before --from")
    cover_row = None
    if cover:
        cover_row = get_person(session, cover)
        if cover_row.id == person.id:
            raise InvalidInput(f"{person.handle} cannot cover for themselves: name someone else "
                               "with --cover, or leave it out (their manager covers)")
        if not cover_row.active:
            raise Conflict(f"{cover_row.handle} is inactive and cannot cover for "
                           f"{person.handle}")
    by_row = get_person(session, by) if by else None
    windows = session.execute(select(Away.starts, Away.ends).where(
        Away.person_id == person.id)).all()
    if len(windows) >= MAX_WINDOWS:
        raise Conflict(f"{person.handle} already has {MAX_WINDOWS} away windows")
    for other_starts, other_ends in windows:
        if other_starts < ends and starts < other_ends:  # touching windows do not overlap
            raise Conflict(f"{person.handle} is already away {_shown(other_starts, tz)} → "
                           f"{_shown(other_ends, tz)}; "
                           f"`kpictl people away {person.handle} --clear` first")
    session.add(Away(person_id=person.id, starts=starts, ends=ends,
                     cover_id=cover_row.id if cover_row else None,
                     by_id=by_row.id if by_row else None, recorded_at=now))
    covered = f", covered by {cover_row.handle}" if cover_row else ""
    return WriteResult("person.away",
                       f"{person.handle} away {_shown(starts, tz)} → {_shown(ends, tz)}"
                       f"{covered}",
                       {"handle": person.handle, "cover": cover_row.handle if cover_row else None})


def clear_away(*, session: Session, now: datetime, handle: str) -> WriteResult:
    """End the current window now and drop the future ones (past windows stay: they explain
    why old slots were not charged)."""
    person = get_person(session, handle)
    dropped = session.execute(delete(Away).where(Away.person_id == person.id,
                                                 Away.starts > now)).rowcount
    back = now - timedelta(microseconds=1)  # `ends` is inclusive: away until just before now
    ended = session.execute(update(Away).where(Away.person_id == person.id, Away.starts <= now,
                                               Away.ends >= now).values(ends=back)).rowcount
    if not dropped and not ended:
        return WriteResult("person.back", f"{person.handle} was not away", {"handle": handle})
    return WriteResult("person.back", f"{person.handle} is back (cleared {dropped + ended} "
                       "away window(s))", {"handle": person.handle})


def away_of(session: Session, person_id: int) -> list[AwayView]:
    cover = aliased(Person)
    rows = session.execute(
        select(Away.starts, Away.ends, cover.handle)
        .outerjoin(cover, cover.id == Away.cover_id)
        .where(Away.person_id == person_id).order_by(Away.starts))
    return [AwayView(starts, ends, handle) for starts, ends, handle in rows]


class AwayCalendar:
    """Every away window, by handle, for questions at many instants."""

    def __init__(self, session: Session) -> None:
        person, cover = aliased(Person), aliased(Person)
        windows: dict[str, list[tuple[datetime, datetime, str | None]]] = defaultdict(list)
        for handle, starts, ends, cover_handle in session.execute(
            select(person.handle, Away.starts, Away.ends, cover.handle)
            .join(person, person.id == Away.person_id)
            .outerjoin(cover, cover.id == Away.cover_id)
            .order_by(person.handle, Away.starts)
        ):
            windows[handle].append((starts, ends, cover_handle))
        self._windows = dict(windows)
        self._starts = {h: [w[0] for w in ws] for h, ws in self._windows.items()}

    def window(self, handle: str | None, instant: datetime):
        """``(starts, ends, cover)`` of ``handle``'s window holding ``instant``, or None."""
        if handle is None or handle not in self._windows:
            return None
        i = bisect_right(self._starts[handle], instant) - 1
        if i >= 0:
            window = self._windows[handle][i]
            if instant <= window[1]:
                return window
        return None

    def is_away(self, handle: str | None, instant: datetime) -> bool:
        return self.window(handle, instant) is not None
