"""Calendar periods of an ongoing KPI: ISO weeks, months, quarters and years in the KPI's
zone, their labels, the series from start to due, and a period's aggregate and threshold."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pendulum

from kpictl.domain import Kind
from kpictl.errors import InvalidInput

EVERY = ("week", "month", "quarter", "year")
AGGREGATES = ("last", "sum", "mean", "min", "max")
#: The check-in cadence an ongoing KPI takes when none is given: once per period.
DEFAULT_CADENCE = {"week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "365d"}
#: The due date stored for an open-ended series (no --due): far enough never to be reached.
OPEN_END = datetime(2999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)
_LABEL = {
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}
_EXAMPLE = {"week": "2027-W09", "month": "2027-03", "quarter": "2027-Q2", "year": "2027"}


def check_every(text: str) -> str:
    s = text.strip().lower()
    if s not in EVERY:
        raise InvalidInput(f"invalid --every '{text}': use week, month, quarter or year")
    return s


def check_aggregate(text: str) -> str:
    s = text.strip().lower()
    if s not in AGGREGATES:
        raise InvalidInput(f"invalid --aggregate '{text}': use last, sum, mean, min or max")
    return s


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive (the next period's start)

    @property
    def last_instant(self) -> datetime:
        """The period's last second, as an "end of day" due date is."""
        return self.end - _SECOND


def _utc(dt) -> datetime:
    u = dt.in_timezone("UTC")
    return datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, tzinfo=timezone.utc)


def _local_start(every: str, local) -> pendulum.DateTime:
    if every == "week":
        day = local.date() - timedelta(days=local.weekday())
    elif every == "month":
        day = local.date().replace(day=1)
    elif every == "quarter":
        day = local.date().replace(month=3 * ((local.month - 1) // 3) + 1, day=1)
    else:
        day = local.date().replace(month=1, day=1)
    return pendulum.datetime(day.year, day.month, day.day, tz=local.timezone)


def _advance(every: str, local_start):
    if every == "week":
        return local_start.add(weeks=1)
    if every == "month":
        return local_start.add(months=1)
    if every == "quarter":
        return local_start.add(months=3)
    return local_start.add(years=1)


def _label(every: str, local_start) -> str:
    if every == "week":
        year, week, _ = local_start.date().isocalendar()
        return f"{year}-W{week:02d}"
    if every == "month":
        return f"{local_start.year}-{local_start.month:02d}"
    if every == "quarter":
        return f"{local_start.year}-Q{(local_start.month - 1) // 3 + 1}"
    return f"{local_start.year}"


def _make(every: str, local_start) -> Period:
    return Period(_label(every, local_start), _utc(local_start), _utc(_advance(every, local_start)))


@functools.lru_cache(maxsize=4096)  # a portfolio asks the same few (rhythm, instant, zone)
def period_of(every: str, instant: datetime, zone: str) -> Period:
    """The period of ``every`` holding ``instant`` in ``zone``."""
    local = pendulum.instance(instant).in_timezone(zone)
    return _make(every, _local_start(every, local))


def next_period(every: str, period: Period, zone: str) -> Period:
    local = pendulum.instance(period.end).in_timezone(zone)
    return _make(every, _local_start(every, local))


def parse_label(every: str, text: str, zone: str) -> Period:
    """``2027-03`` / ``2027-Q2`` / ``2027-W09`` / ``2027`` as a period of ``every``."""
    raw = text.strip().upper()
    m = _LABEL[every].match(raw)
    problem = f"period '{text}' is not a {every}: use e.g. {_EXAMPLE[every]}"
    if not m:
        raise InvalidInput(problem)
    year = int(m.group(1))
    try:
        if every == "week":
            day = datetime.fromisocalendar(year, int(m.group(2)), 1)
        elif every == "month":
            day = datetime(year, int(m.group(2)), 1)
        elif every == "quarter":
            day = datetime(year, 3 * (int(m.group(2)) - 1) + 1, 1)
        else:
            day = datetime(year, 1, 1)
    except ValueError:
        raise InvalidInput(problem) from None
    return _make(every, pendulum.datetime(day.year, day.month, day.day, tz=zone))


def series(every: str, start: datetime, due: datetime, zone: str, until: datetime,
           closed_at: datetime | None = None) -> list[Period]:
    """The periods of a series begun by ``until`` (and by ``closed_at``), oldest first."""
    last = min(due, until, closed_at or until)
    result = []
    period = period_of(every, start, zone)
    while period.start <= last:
        result.append(period)
        period = next_period(every, period, zone)
    return result


def latest_period(every: str, start: datetime, due: datetime, zone: str, until: datetime,
                  closed_at: datetime | None = None) -> list[Period]:
    """``series(...)[-1:]`` without walking the series: the period holding its last instant."""
    last = min(due, until, closed_at or until)
    if period_of(every, start, zone).start > last:
        return []
    return [period_of(every, last, zone)]


def aggregate(how: str, values: list[float]) -> float | None:
    if not values:
        return None
    if how == "sum":
        return float(sum(values))
    if how == "mean":
        return sum(values) / len(values)
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    return values[-1]  # last: values in measured order


def meets(kind: Kind, value: float, *, target, low, high) -> bool:
    """A period's value against its target: reached (increase/decrease), held (maintain)."""
    if kind is Kind.INCREASE or kind is Kind.AT_LEAST:
        return value >= target
    if kind is Kind.DECREASE or kind is Kind.AT_MOST:
        return value <= target
    return low <= value <= high


def series_due(every: str, due: datetime | None, zone: str) -> datetime:
    """The stored due date of a series: the last second of the period holding ``due``."""
    if due is None:
        return OPEN_END
    return period_of(every, due, zone).last_instant


def series_start(every: str, start: datetime, zone: str) -> datetime:
    return period_of(every, start, zone).start
