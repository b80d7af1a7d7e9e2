"""Cadence slots: was each expected check-in on time, late, or missed? Is the KPI stale?

Slots follow the calendar of the KPI's own zone (``kpi.zone``, PRODUCT §3 *Zones*), so every
viewer sees the same slots whatever their ``--tz``:

* ``daily`` and ``Nd`` — runs of N local days, from the start's day;
* ``weekly``, ``biweekly`` and ``Nw`` — ISO weeks (Monday to Sunday), N at a time, from the
  start's week;
* ``monthly`` and ``quarterly`` — calendar months and quarters.

The first slot runs from the start to the end of its period; no slot runs past the due date
(the last one ends at due). A slot's check-in is due by the *last instant of its last day*
(23:59:59 local, or the due instant for the last slot) and may be recorded until that plus
grace — the slot's deadline. A check-in belongs to the slot in which it was *measured*. A slot
is judged once its deadline has passed (and only while the KPI is open):

* **on time** — a check-in measured in the slot and recorded by the deadline;
* **late** — one measured in the slot but recorded after the deadline (back-filled);
* **missed** — none measured in the slot.

The same slots decide staleness (PRODUCT §3: "no check-in since the last cadence slot plus
grace"): after a check-in in slot ``j`` the next one is due by the end of slot ``j+1``
(``next_checkin_due``; none once ``j`` is the last slot), and the KPI is stale once that plus
grace has passed — exactly when `report --by owner` starts counting slot ``j+1`` as missed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from kpictl.timeparse import _UTC_NAMES, Period, _localize, _zone, _zone_name, parse_grace

#: Upper bound on judged slots per KPI (a daily KPI over ten years), so bad data cannot hang us.
MAX_SLOTS = 3660
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime  # the last instant a check-in is due by (inclusive)
    deadline: datetime  # end + grace
    outcome: str  # "on_time" | "late" | "missed"
    #: When the check-in that decided the outcome was recorded (None for a missed slot):
    #: the owner at that instant gets the credit, the owner at the deadline a miss.
    recorded_at: datetime | None = None


@lru_cache(maxsize=512)
def _zone_of(tz):
    return _zone(tz)


def _local_date(instant: datetime, zone, utc: bool) -> date:
    if utc:
        return instant.astimezone(timezone.utc).date()
    return instant.astimezone(zone).date()


class Slots:
    """The slots of one KPI: ``[start, due]`` cut by its cadence in its zone."""

    def __init__(self, start: datetime, due: datetime, cadence: Period, tz) -> None:
        self.start, self.due = start, due
        #: ``next_checkin_due`` after a check-in in slot k, by k (filled as asked).
        self.next_due: dict[int, datetime | None] = {}
        self.zone = _zone_of(tz)
        self._utc = _zone_name(self.zone) in _UTC_NAMES
        if cadence.months:
            self.unit, self.n = "month", cadence.months
        elif cadence.days % 7 == 0:
            self.unit, self.n = "week", cadence.days // 7
        else:
            self.unit, self.n = "day", max(1, cadence.days)
        first = _local_date(start, self.zone, self._utc)
        if self.unit == "month":
            month0 = first.month - 1
            if 12 % self.n == 0:  # quarters (and months) of the calendar year
                month0 -= month0 % self.n
            self._anchor = date(first.year, month0 + 1, 1)
        elif self.unit == "week":
            self._anchor = first - timedelta(days=first.weekday())  # the ISO week's Monday
        else:
            self._anchor = first

    def _day(self, k: int) -> date:
        """The first local day of period ``k``."""
        if self.unit == "month":
            months = self._anchor.month - 1 + k * self.n
            return date(self._anchor.year + months // 12, months % 12 + 1, 1)
        step = 7 * self.n if self.unit == "week" else self.n
        return self._anchor + timedelta(days=k * step)

    def _boundary(self, k: int) -> datetime:
        """Local midnight starting period ``k``, as UTC."""
        midnight = datetime.combine(self._day(k), time())
        if self._utc:
            return midnight.replace(tzinfo=timezone.utc)
        return _localize(midnight, self.zone)

    def index(self, instant: datetime) -> int:
        """``k`` of the slot holding ``instant`` (−1 before the start)."""
        if instant < self.start:
            return -1
        day = _local_date(instant, self.zone, self._utc)
        if self.unit == "month":
            months = (day.year - self._anchor.year) * 12 + day.month - self._anchor.month
            return months // self.n
        step = 7 * self.n if self.unit == "week" else self.n
        return (day - self._anchor).days // step

    def exists(self, k: int) -> bool:
        return k >= 0 and (k == 0 or self._boundary(k) <= self.due)

    def begin(self, k: int) -> datetime:
        return self.start if k == 0 else self._boundary(k)

    def after(self, k: int) -> datetime:
        """The first instant after slot ``k`` (exclusive bound of its check-ins)."""
        return self._boundary(k + 1)

    def end(self, k: int) -> datetime:
        """The last instant a check-in of slot ``k`` is due by: its last day's 23:59:59 in the
        KPI's zone, or the due instant for the last slot."""
        return min(self._boundary(k + 1) - _SECOND, self.due)


def judge_slots(
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    cadence: Period,
    grace: Period,
    tz,
    measured: Sequence[datetime],
    recorded: Sequence[datetime],
    due: datetime | None = None,
) -> Iterator[Slot]:
    """Judge every slot ending by ``end`` whose deadline is at or before ``as_of``.

    ``due`` (default ``end``) cuts the last slot; ``measured`` must be sorted ascending, with
    ``recorded`` in the same order.
    """
    slots = Slots(start, due or end, cadence, tz)
    for k in range(MAX_SLOTS):
        if not slots.exists(k):
            return
        slot_end = slots.end(k)
        if slot_end > end:
            return
        deadline = grace.add(slot_end, tz=slots.zone)
        if deadline > as_of:
            return
        lo = bisect_left(measured, slots.begin(k))
        hi = bisect_left(measured, slots.after(k))
        first = min(recorded[lo:hi], default=None)
        if first is None:
            outcome = "missed"
        elif first <= deadline:
            outcome = "on_time"
        else:
            outcome = "late"
        yield Slot(slots.begin(k), slot_end, deadline, outcome, first)


def owner_at(assignments: Sequence[tuple[datetime, datetime | None, str]], instant: datetime):
    """Handle whose assignment ``(valid_from, valid_until, handle)`` covers ``instant``."""
    for valid_from, valid_until, handle in reversed(assignments):
        if valid_from <= instant and (valid_until is None or instant < valid_until):
            return handle
    return assignments[0][2] if assignments else None


def slot_index(start: datetime, instant: datetime, cadence: Period, tz) -> int:
    """``k`` of the slot holding ``instant`` (−1 before the start)."""
    return Slots(start, datetime.max.replace(tzinfo=timezone.utc), cadence, tz).index(instant)


def next_checkin_due(start: datetime, due: datetime, latest: datetime | None, cadence: Period,
                     tz) -> datetime | None:
    """End of the slot after the one holding the latest check-in (the first slot if none);
    None when that slot would start past due."""
    slots = _shared_slots(start, due, cadence, tz)
    j = slots.index(latest) if latest is not None else -1
    known = slots.next_due
    if j not in known:
        known[j] = slots.end(j + 1) if slots.exists(j + 1) else None
    return known[j]


@lru_cache(maxsize=4096)  # slot ends repeat across a portfolio
def stale_after(grace: str, next_due: datetime, tz) -> datetime:
    """When a KPI whose next check-in is due by ``next_due`` turns stale: that plus grace,
    on the calendar of the KPI's zone (``grace`` as stored, e.g. ``2d``)."""
    return parse_grace(grace).add(next_due, tz=tz)


@lru_cache(maxsize=4096)
def _shared_slots(start: datetime, due: datetime, cadence: Period, tz) -> Slots:
    """The slots of a (start, due, cadence, zone): a portfolio's KPIs share a few (quarter
    ends, templates handed to every owner), and so do the slot ends they are due by."""
    return Slots(start, due, cadence, tz)
