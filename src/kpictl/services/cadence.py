"""Cadence slots: was each expected check-in on time, late, or missed? Is the KPI stale?

A KPI with cadence ``p`` and grace ``g`` expects one check-in per slot ``[s_k, s_k+1)`` where
``s_k = start + k·p`` (calendar arithmetic in the user's zone). A check-in belongs to the slot
in which it was *measured*; the slot's check-in may be *recorded* until ``s_k+1 + g``. A slot
is judged once that deadline has passed (and only while the KPI is open):

* **on time** — a check-in measured in the slot and recorded by the deadline;
* **late** — one measured in the slot but recorded after the deadline (back-filled);
* **missed** — none measured in the slot.

The same slots decide staleness (PRODUCT §3: "no check-in since the last cadence slot plus
grace"): after a check-in in slot ``j`` the next one is due by the end of slot ``j+1``
(``next_checkin_due``), and the KPI is stale once that plus grace has passed — exactly when
the report `--by owner` starts counting slot ``j+1`` as missed.
"""

from __future__ import annotations

from bisect import bisect_left
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
    #: When the check-in that decided the outcome was recorded (None for a missed slot):
    #: the owner at that instant gets the credit, the owner at the deadline a miss.
    recorded_at: datetime | None = None


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
        hi = bisect_left(measured, slot_end)
        first = min(recorded[lo:hi], default=None)
        if first is None:
            outcome = "missed"
        elif first <= deadline:
            outcome = "on_time"
        else:
            outcome = "late"
        yield Slot(slot_start, slot_end, deadline, outcome, first)
        slot_start = slot_end


def owner_at(assignments: Sequence[tuple[datetime, datetime | None, str]], instant: datetime):
    """Handle whose assignment ``(valid_from, valid_until, handle)`` covers ``instant``."""
    for valid_from, valid_until, handle in reversed(assignments):
        if valid_from <= instant and (valid_until is None or instant < valid_until):
            return handle
    return assignments[0][2] if assignments else None


def slot_index(start: datetime, instant: datetime, cadence: Period, tz) -> int:
    """``k`` such that ``s_k <= instant < s_k+1`` (−1 before the start)."""
    if instant < start:
        return -1
    step = cadence.fixed_length(tz)
    if step:  # every slot is equally long: plain division
        return (instant - start) // step
    k = int((instant - start).total_seconds() / 86400 / cadence.approx_days())
    while k > 0 and cadence.add(start, k, tz=tz) > instant:
        k -= 1
    while cadence.add(start, k + 1, tz=tz) <= instant:
        k += 1
    return k


def next_checkin_due(start: datetime, latest: datetime | None, cadence: Period, tz) -> datetime:
    """End of the slot after the one holding the latest check-in (the first slot if none)."""
    j = slot_index(start, latest, cadence, tz) if latest is not None else -1
    step = cadence.fixed_length(tz)
    if step:
        return start + (j + 2) * step
    return cadence.add(start, j + 2, tz=tz)
