"""Cadence slots: was each expected check-in on time, late, or missed?

A KPI with cadence ``p`` and grace ``g`` expects one check-in per slot ``[s_k, s_k+1)`` where
``s_k = start + k·p`` (calendar arithmetic in the user's zone). The slot's check-in is due by
``s_k+1 + g``. A slot is judged once that deadline has passed (and only while the KPI is open):

* **on time** — a check-in measured in ``[s_k, s_k+1 + g]`` and recorded by the deadline;
* **late** — one measured in that window but recorded after the deadline (back-filled);
* **missed** — none measured in the window.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from kpictl.timeparse import Period

#: Upper bound on judged slots per KPI (a daily KPI over ten years), so bad data cannot hang us.
MAX_SLOTS = 3660


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    deadline: datetime
    outcome: str  # "on_time" | "late" | "missed"


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
) -> Iterator[Slot]:
    """Judge every slot of ``[start, end]`` whose deadline is at or before ``as_of``.

    ``measured`` must be sorted ascending, with ``recorded`` in the same order.
    """
    slot_start = start
    for k in range(1, MAX_SLOTS + 1):
        slot_end = cadence.add(start, k, tz=tz)
        if slot_end > end:
            return
        deadline = grace.add(slot_end, tz=tz)
        if deadline > as_of:
            return
        lo = bisect_left(measured, slot_start)
        hi = bisect_right(measured, deadline)
        if lo == hi:
            outcome = "missed"
        elif any(recorded[i] <= deadline for i in range(lo, hi)):
            outcome = "on_time"
        else:
            outcome = "late"
        yield Slot(slot_start, slot_end, deadline, outcome)
        slot_start = slot_end


def owner_at(assignments: Sequence[tuple[datetime, datetime | None, str]], instant: datetime):
    """Handle whose assignment ``(valid_from, valid_until, handle)`` covers ``instant``."""
    for valid_from, valid_until, handle in reversed(assignments):
        if valid_from <= instant and (valid_until is None or instant < valid_until):
            return handle
    return assignments[0][2] if assignments else None
