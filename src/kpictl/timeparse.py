"""Dates, times, cadences and numbers as users type them.

Design decision: kpictl accepts a *small, closed grammar* instead of free-form natural
language. Every form below has one meaning and anything else is rejected with a one-line
:class:`~kpictl.errors.InvalidInput` that quotes the bad text and lists what is accepted.
Nothing here reads the wall clock: ``now`` is always an argument (see :mod:`kpictl.clock`).

``parse_when`` grammar (case-insensitive, surrounding whitespace ignored)::

    2026-12-31                    a calendar day in the zone ``tz``
    2026-12-31T17:00[:SS[.f]]     a wall time in ``tz`` ('T' or one space between date and time)
    2026-12-31T17:00Z, ...+01:00  an exact instant (offset Z, +HH, +HHMM or +HH:MM)
    now                           the instant ``now``
    today | tomorrow | yesterday  calendar days in ``tz``
    fri | friday                  the next Friday on or after today (today if it is Friday)
    next fri | last fri           strictly after / strictly before today
    sow eow som eom soq eoq soy eoy   first/last day of this ISO week, month, quarter, year
    [+|-]N(d|w|m|y)               calendar days/weeks/months/years from today ("3d" means +3d)
    [+|-]Nh                       an exact instant N hours from ``now``

Calendar-day forms honour ``bound``: "start" is 00:00:00 local, "end" is 23:59:59 local
(computed as the next day's start minus one second, so it is the day's true last second even
on days with a clock change). Instants (datetimes, ``now``, hours) ignore ``bound``.

Local wall times are resolved strictly: a time skipped by a DST gap is rejected, an ambiguous
time in a DST fold means its first (earlier) occurrence. Years must lie in 1900..2999.
Arithmetic is calendar arithmetic on local dates (via pendulum), never "24 h per day", so a
week that crosses a DST change is 167 or 169 real hours. Everything is returned as a plain
``datetime.datetime`` with ``tzinfo=datetime.timezone.utc``.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Literal

from kpictl.errors import InvalidInput

if TYPE_CHECKING:
    import pendulum

# pendulum (~40 ms to import) is imported inside the functions that use it: a plain
# `kpictl checkin KEY VALUE` parses a number and no date, and should not pay for it.

UTC = timezone.utc
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"})
MIN_YEAR, MAX_YEAR = 1900, 2999
MAX_PERIOD_DAYS = 3650
MAX_NUMBER = 1e15

Bound = Literal["start", "end"]

_WHEN_HELP = (
    "use ISO-8601 (2026-12-31, 2026-12-31T17:00) or today, tomorrow, yesterday, a weekday, "
    "sow/eow/som/eom/soq/eoq/soy/eoy, or +3d/-2w/+1m"
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_INDEX = {name: i for i, day in enumerate(_WEEKDAYS) for name in (day, day[:3])}
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_DAY_WORDS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_ANCHORS = ("sow", "eow", "som", "eom", "soq", "eoq", "soy", "eoy")

_ISO_RE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[t ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"(?P<off>z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)
_RELATIVE_RE = re.compile(r"(?P<sign>[+-]?)(?P<n>\d+)\s*(?P<unit>[a-z]*)", re.ASCII)
_PERIOD_RE = re.compile(r"(?P<n>\d+)\s*(?P<unit>[dw])", re.ASCII)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.ASCII | re.IGNORECASE)
_COMMA_NUMBER_RE = re.compile(r"[+-]?[\d.,]*\d,\d[\d.,]*", re.ASCII)


def _show(text: str, limit: int = 60) -> str:
    """User text made safe for a one-line message: no control characters, bounded length."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# --------------------------------------------------------------------------- zones

def resolve_zone(name: str | None) -> pendulum.Timezone:
    """An IANA zone by name (case-insensitive fallback); None or "" means the system zone."""
    import pendulum

    if name is None or not name.strip():
        return pendulum.local_timezone()
    key = name.strip()
    try:
        return pendulum.timezone(key)
    except (ValueError, OSError):
        pass
    import zoneinfo  # only on the error path: listing zones walks the tz database

    folded = {z.lower(): z for z in zoneinfo.available_timezones()}
    if key.lower() in folded:
        return pendulum.timezone(folded[key.lower()])
    raise InvalidInput(
        f"unknown time zone '{_show(key)}': use an IANA name such as Europe/Berlin or UTC"
    )


def zone_name(tz: str | tzinfo) -> str:
    """The canonical IANA name of a zone given by (any-case) name or object."""
    return _zone_name(_zone(tz))


def _zone(tz: str | tzinfo | None) -> tzinfo:
    return tz if isinstance(tz, tzinfo) else resolve_zone(tz)


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or getattr(zone, "name", None) or str(zone)


def _utc(value: datetime) -> datetime:
    """A plain stdlib datetime in UTC (pendulum DateTime subclasses are flattened)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: kpictl needs timezone-aware instants")
    u = value.astimezone(UTC)
    return datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=UTC)


def _local(instant: datetime, zone: tzinfo) -> datetime:
    """The naive local wall time of an aware instant in ``zone`` (fold kept)."""
    loc = _utc(instant).astimezone(zone)
    return datetime(loc.year, loc.month, loc.day, loc.hour, loc.minute, loc.second,
                    loc.microsecond, fold=loc.fold)


def _exists(naive: datetime, zone: tzinfo) -> bool:
    back = naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == naive.replace(fold=0)


def _localize(naive: datetime, zone: tzinfo, fold: int = 0) -> datetime:
    """Local wall time -> UTC. Fold picks the occurrence; a time in a gap moves forward."""
    if not _exists(naive, zone):
        fold = 0  # fold=0 applies the pre-gap offset, i.e. shifts forward past the gap
    return _utc(naive.replace(tzinfo=zone, fold=fold))


def _day_bound(day: date, zone: tzinfo, bound: Bound) -> datetime:
    if bound == "start":
        return _localize(datetime.combine(day, time()), zone)
    if bound == "end":
        next_start = _localize(datetime.combine(day + timedelta(days=1), time()), zone)
        return next_start - timedelta(seconds=1)
    raise ValueError(f"bound must be 'start' or 'end', not {bound!r}")


def _today(now: datetime, zone: tzinfo) -> date:
    return _local(now, zone).date()


# --------------------------------------------------------------------------- parse_when

def parse_when(
    text: str, *, now: datetime, tz: str | tzinfo | None, bound: Bound = "start"
) -> datetime:
    """Parse a user date/time (grammar in the module docstring) into an aware UTC datetime."""
    zone = _zone(tz)
    raw = text.strip()
    s = raw.lower()
    words = s.split()

    if s == "now":
        return _utc(now)
    if (m := _ISO_RE.fullmatch(s)) is not None:
        return _parse_iso(m, raw, zone, bound)

    today = _today(now, zone)
    day: date | None = None
    if s in _DAY_WORDS:
        day = today + timedelta(days=_DAY_WORDS[s])
    elif s in _WEEKDAY_INDEX:
        day = today + timedelta(days=(_WEEKDAY_INDEX[s] - today.weekday()) % 7)
    elif len(words) == 2 and words[0] in ("next", "last") and words[1] in _WEEKDAY_INDEX:
        diff = (_WEEKDAY_INDEX[words[1]] - today.weekday()) % 7
        if words[0] == "next":
            day = today + timedelta(days=diff or 7)
        else:
            day = today - timedelta(days=(-diff) % 7 or 7)
    elif s in _ANCHORS:
        day = _anchor_day(s, today)
    elif (m := _RELATIVE_RE.fullmatch(s)) is not None and (m["sign"] or m["unit"]):
        return _parse_relative(m, raw, now, today, zone, bound)

    if day is None:
        raise InvalidInput(f"invalid date '{_show(raw)}': {_WHEN_HELP}")
    return _day_bound(day, zone, bound)


def _anchor_day(word: str, today: date) -> date:
    """First (s..) or last (e..) day of today's ISO week, month, quarter or year.

    Computed by hand rather than with pendulum's start_of/end_of, which has no quarter and
    whose week start is a process-wide setting.
    """
    unit, first = word[2], word[0] == "s"
    if unit == "w":
        monday = today - timedelta(days=today.weekday())
        return monday if first else monday + timedelta(days=6)
    if unit == "y":
        return date(today.year, 1 if first else 12, 1 if first else 31)
    months = 1 if unit == "m" else 3
    start_month = (today.month - 1) // months * months + 1
    start = date(today.year, start_month, 1)
    if first:
        return start
    import pendulum

    end = pendulum.Date(start.year, start.month, 1).add(months=months).subtract(days=1)
    return date(end.year, end.month, end.day)


def _out_of_range(raw: str) -> InvalidInput:
    return InvalidInput(
        f"date '{_show(raw)}' is out of range: years {MIN_YEAR} to {MAX_YEAR} are accepted"
    )


def _check_year(year: int, raw: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _out_of_range(raw)


def _parse_iso(m: re.Match[str], raw: str, zone: tzinfo, bound: Bound) -> datetime:
    year, month, day = int(m["y"]), int(m["mo"]), int(m["d"])
    _check_year(year, raw)
    if not 1 <= month <= 12:
        raise InvalidInput(f"invalid date '{_show(raw)}': there is no month {month} (use 01 to 12)")
    try:
        calendar_day = date(year, month, day)
    except ValueError:
        import pendulum

        last = pendulum.Date(year, month, 1).days_in_month
        name = _MONTHS[month - 1]
        raise InvalidInput(
            f"invalid date '{_show(raw)}': {name} {year} has {last} days "
            f"(use {year}-{month:02d}-01 to {year}-{month:02d}-{last})"
        ) from None
    if m["h"] is None:
        return _day_bound(calendar_day, zone, bound)

    micro = int((m["f"] or "0").ljust(6, "0"))
    try:
        clock = time(int(m["h"]), int(m["mi"]), int(m["s"] or 0), micro)
        wall = datetime.combine(calendar_day, clock)
    except ValueError:
        raise InvalidInput(
            f"invalid date '{_show(raw)}': no such time of day (use 00:00 to 23:59:59)"
        ) from None

    off = m["off"]
    if off == "z":
        return _utc(wall.replace(tzinfo=UTC))
    if off:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            raise InvalidInput(
                f"invalid date '{_show(raw)}': bad UTC offset '{off}' (use Z or -23:59 to +23:59)"
            )
        offset = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return _utc(wall.replace(tzinfo=offset))

    if not _exists(wall, zone):
        moved = _localize(wall, zone).astimezone(zone)
        raise InvalidInput(
            f"local time '{_show(raw)}' does not exist in {_zone_name(zone)} (clocks jump "
            f"forward); use a time after the change such as {moved:%Y-%m-%dT%H:%M} or an offset"
        )
    return _localize(wall, zone, fold=0)  # ambiguous -> first occurrence


def _parse_relative(
    m: re.Match[str], raw: str, now: datetime, today: date, zone: tzinfo, bound: Bound
) -> datetime:
    unit = m["unit"] or "d"
    if unit not in ("d", "w", "m", "y", "h"):
        raise InvalidInput(
            f"invalid relative date '{_show(raw)}': unknown unit '{unit}'; use d (days), "
            "w (weeks), m (months), y (years) or h (hours), such as +3d or -2w"
        )
    if len(m["n"]) > 9:
        raise _out_of_range(raw)
    n = int(m["n"]) * (-1 if m["sign"] == "-" else 1)
    try:
        if unit == "h":
            result = _utc(now) + timedelta(hours=n)
            _check_year(result.year, raw)
            return result
        key = {"d": "days", "w": "weeks", "m": "months", "y": "years"}[unit]
        import pendulum

        target = pendulum.Date(today.year, today.month, today.day).add(**{key: n})
    except (OverflowError, ValueError):
        raise _out_of_range(raw) from None
    _check_year(target.year, raw)
    return _day_bound(date(target.year, target.month, target.day), zone, bound)


# --------------------------------------------------------------------------- periods

def _add_months(value: datetime, months: int) -> datetime:
    """``value`` plus whole calendar months, a day past the month's end clamped to it: what
    pendulum's ``add(months=…)`` does (a test compares the two), for the UTC fast path of
    :meth:`Period.add`, which a 10,000-KPI report calls tens of thousands of times."""
    years, month0 = divmod(value.month - 1 + months, 12)
    year, month = value.year + years, month0 + 1
    return value.replace(year=year, month=month,
                         day=min(value.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    """A calendar period (months + days) used for cadences and grace; ``label`` is canonical."""

    months: int = 0
    days: int = 0
    label: str = ""

    def __post_init__(self) -> None:
        if self.months < 0 or self.days < 0:
            raise ValueError("Period months and days must not be negative")
        if not self.label:
            parts = [f"{self.months}mo"] if self.months else []
            if self.days or not self.months:
                weeks = self.days and self.days % 7 == 0
                parts.append(f"{self.days // 7}w" if weeks else f"{self.days}d")
            object.__setattr__(self, "label", "+".join(parts))

    def add(self, instant: datetime, n: int = 1, *, tz: str | tzinfo | None) -> datetime:
        """``instant`` plus ``n`` periods on the local calendar of ``tz``, as aware UTC.

        Months and days are added to the local wall time in one step (n*months, then n*days),
        so Jan 31 + 2 months is Mar 31, not Mar 28; a clamped month end follows pendulum
        (Jan 31 + 1 month = Feb 28/29). The wall-clock time is kept across DST changes; a
        result inside a DST gap moves forward, an ambiguous result keeps the input's fold.
        """
        months, days = n * self.months, n * self.days
        if months == 0 and days == 0:
            return _utc(instant)
        zone = _zone(tz)
        if _zone_name(zone) in _UTC_NAMES:  # cron hosts: the wall clock is the instant
            value = _utc(instant)
            if months:
                value = _add_months(value, months)
            return value + timedelta(days=days)
        wall = _local(instant, zone)
        if months:
            import pendulum

            p = pendulum.naive(wall.year, wall.month, wall.day, wall.hour, wall.minute,
                               wall.second, wall.microsecond).add(months=months, days=days)
            naive = datetime(p.year, p.month, p.day, p.hour, p.minute, p.second, p.microsecond)
        else:  # whole days on the naive wall clock: what pendulum does, without its overhead
            naive = wall.replace(fold=0) + timedelta(days=days)
        return _localize(naive, zone, fold=wall.fold)

    def fixed_length(self, tz) -> timedelta | None:
        """The exact length of every such period in ``tz``, if it has one: whole days in UTC
        (no month lengths, no clock changes). Callers use it to skip calendar arithmetic."""
        if self.months or _zone_name(_zone(tz)) not in _UTC_NAMES:
            return None
        return timedelta(days=self.days)

    def approx_days(self) -> float:
        """Length in days, counting a month as 30.4375 days (for sorting and display)."""
        return self.months * 30.4375 + self.days


_CADENCE_WORDS = {
    "daily": Period(days=1, label="daily"),
    "weekly": Period(days=7, label="weekly"),
    "biweekly": Period(days=14, label="biweekly"),
    "monthly": Period(months=1, label="monthly"),
    "quarterly": Period(months=3, label="quarterly"),
}


def _parse_nd_nw(s: str) -> Period | None:
    m = _PERIOD_RE.fullmatch(s)
    if m is None:
        return None
    n = int(m["n"]) if len(m["n"]) <= 7 else 10**7  # huge values only need to fail the range check
    return Period(days=n * (7 if m["unit"] == "w" else 1), label=f"{n}{m['unit']}")


@lru_cache(maxsize=256)  # a report parses the same few cadences for every KPI
def parse_cadence(text: str) -> Period:
    """``daily weekly biweekly monthly quarterly`` or ``Nd``/``Nw`` (1 day .. 3650 days)."""
    raw = text.strip()
    s = raw.lower()
    if s in _CADENCE_WORDS:
        return _CADENCE_WORDS[s]
    period = _parse_nd_nw(s)
    if period is None or period.days < 1:
        raise InvalidInput(
            f"invalid cadence '{_show(raw)}': use daily, weekly, biweekly, monthly, quarterly, "
            "Nd or Nw"
        )
    if period.days > MAX_PERIOD_DAYS:
        raise InvalidInput(
            f"invalid cadence '{_show(raw)}': at most {MAX_PERIOD_DAYS} days (such as 365d or 52w)"
        )
    return period


@lru_cache(maxsize=256)
def parse_grace(text: str) -> Period:
    """``0``, ``Nd`` or ``Nw`` (0 .. 3650 days)."""
    raw = text.strip()
    s = raw.lower()
    period = Period(days=0, label="0d") if s == "0" else _parse_nd_nw(s)
    if period is None:
        raise InvalidInput(f"invalid grace '{_show(raw)}': use 0, Nd or Nw such as 2d or 1w")
    if period.days > MAX_PERIOD_DAYS:
        raise InvalidInput(f"invalid grace '{_show(raw)}': at most {MAX_PERIOD_DAYS} days")
    return period


# --------------------------------------------------------------------------- ISO weeks

def week_window(
    which: Literal["this", "last"], *, now: datetime, tz: str | tzinfo | None
) -> tuple[datetime, datetime]:
    """[Monday 00:00 local, next Monday 00:00 local) of this or last ISO week, as UTC."""
    if which not in ("this", "last"):
        raise InvalidInput(f"invalid week '{_show(str(which))}': use this or last")
    zone = _zone(tz)
    today = _today(now, zone)
    monday = today - timedelta(days=today.weekday() + (7 if which == "last" else 0))
    return _day_bound(monday, zone, "start"), _day_bound(monday + timedelta(days=7), zone, "start")


def iso_week_label(instant: datetime, tz: str | tzinfo | None) -> str:
    """The ISO week of ``instant`` in ``tz``, such as "2026-W53" (ISO year, not calendar year)."""
    year, week, _ = _local(instant, _zone(tz)).isocalendar()
    return f"{year}-W{week:02d}"


# --------------------------------------------------------------------------- numbers

def parse_number(text: str, *, what: str) -> float:
    """A finite decimal number (``12``, ``-2.5``, ``1e3``) with magnitude at most 1e15."""
    raw = text.strip()
    if _COMMA_NUMBER_RE.fullmatch(raw):
        raise InvalidInput(
            f"invalid {what} '{_show(raw)}': use a dot as decimal separator and no thousands "
            "separators, such as 12.5"
        )
    if not _NUMBER_RE.fullmatch(raw):
        raise InvalidInput(f"invalid {what} '{_show(raw)}': expected a number such as 12.5")
    value = float(raw)
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise InvalidInput(
            f"invalid {what} '{_show(raw)}': expected a number such as 12.5 "
            "(at most 1e15 in magnitude)"
        )
    return value + 0.0  # normalises -0.0 to 0.0
