"""Tests for kpictl.timeparse: the date grammar, periods, ISO weeks and numbers.

Expected instants are written as literal UTC strings wherever the offset matters; tables of
calendar days compute the expected bounds with the stdlib ``zoneinfo`` (independent of the
code under test) on dates away from DST changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpictl import timeparse
from kpictl.errors import InvalidInput
from kpictl.timeparse import (
    Period,
    iso_week_label,
    parse_cadence,
    parse_grace,
    parse_number,
    parse_when,
    resolve_zone,
    week_window,
)

UTC = timezone.utc
# Friday 2026-11-27 15:00 UTC: 16:00 in Berlin (CET), 10:00 in New York (EST).
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "UTC"]


def utc(text: str) -> datetime:
    """'2026-11-27T15:00:00' -> aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def day_start(d: date, zone: str) -> datetime:
    return datetime.combine(d, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def day_end(d: date, zone: str) -> datetime:
    return datetime.combine(d, time(23, 59, 59), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def assert_plain_utc(value: datetime) -> None:
    assert type(value) is datetime
    assert value.tzinfo is UTC


def invalid(excinfo: pytest.ExceptionInfo[InvalidInput], *fragments: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and "\r" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# --------------------------------------------------------------------------- calendar words

DAY_FORMS = [
    ("today", date(2026, 11, 27)),
    ("tomorrow", date(2026, 11, 28)),
    ("yesterday", date(2026, 11, 26)),
    # bare weekday: on or after today (today is Friday)
    ("friday", date(2026, 11, 27)),
    ("fri", date(2026, 11, 27)),
    ("saturday", date(2026, 11, 28)),
    ("sun", date(2026, 11, 29)),
    ("monday", date(2026, 11, 30)),
    ("tue", date(2026, 12, 1)),
    ("wednesday", date(2026, 12, 2)),
    ("thu", date(2026, 12, 3)),
    # next: strictly after today; last: strictly before today
    ("next friday", date(2026, 12, 4)),
    ("next fri", date(2026, 12, 4)),
    ("next saturday", date(2026, 11, 28)),
    ("next mon", date(2026, 11, 30)),
    ("next thursday", date(2026, 12, 3)),
    ("last friday", date(2026, 11, 20)),
    ("last fri", date(2026, 11, 20)),
    ("last thursday", date(2026, 11, 26)),
    ("last sat", date(2026, 11, 21)),
    ("last monday", date(2026, 11, 23)),
    # anchors (ISO week Monday..Sunday, month, quarter, year)
    ("sow", date(2026, 11, 23)),
    ("eow", date(2026, 11, 29)),
    ("som", date(2026, 11, 1)),
    ("eom", date(2026, 11, 30)),
    ("soq", date(2026, 10, 1)),
    ("eoq", date(2026, 12, 31)),
    ("soy", date(2026, 1, 1)),
    ("eoy", date(2026, 12, 31)),
    # relative calendar offsets
    ("+3d", date(2026, 11, 30)),
    ("3d", date(2026, 11, 30)),
    ("+0d", date(2026, 11, 27)),
    ("-2d", date(2026, 11, 25)),
    ("+2w", date(2026, 12, 11)),
    ("-2w", date(2026, 11, 13)),
    ("1w", date(2026, 12, 4)),
    ("+1m", date(2026, 12, 27)),
    ("-1m", date(2026, 10, 27)),
    ("+3m", date(2027, 2, 27)),
    ("+1y", date(2027, 11, 27)),
    ("-1y", date(2025, 11, 27)),
    ("+40d", date(2027, 1, 6)),
    # ISO dates
    ("2026-12-31", date(2026, 12, 31)),
    ("2028-02-29", date(2028, 2, 29)),
    ("1900-01-01", date(1900, 1, 1)),
    ("2999-12-31", date(2999, 12, 31)),
]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("text", "day"), DAY_FORMS)
def test_calendar_day_forms_start_and_end(text: str, day: date, zone: str) -> None:
    start = parse_when(text, now=NOW, tz=zone)
    end = parse_when(text, now=NOW, tz=zone, bound="end")
    assert start == day_start(day, zone)
    assert end == day_end(day, zone)
    assert start.microsecond == end.microsecond == 0
    assert_plain_utc(start)
    assert_plain_utc(end)


@pytest.mark.parametrize(
    ("text", "zone", "bound", "expected"),
    [
        ("today", "Europe/Berlin", "start", "2026-11-26T23:00:00"),
        ("today", "Europe/Berlin", "end", "2026-11-27T22:59:59"),
        ("today", "America/New_York", "start", "2026-11-27T05:00:00"),
        ("today", "America/New_York", "end", "2026-11-28T04:59:59"),
        ("today", "UTC", "start", "2026-11-27T00:00:00"),
        ("today", "UTC", "end", "2026-11-27T23:59:59"),
        ("sow", "Europe/Berlin", "start", "2026-11-22T23:00:00"),
        ("eow", "Europe/Berlin", "end", "2026-11-29T22:59:59"),
        ("eow", "America/New_York", "end", "2026-11-30T04:59:59"),
        ("soq", "America/New_York", "start", "2026-10-01T04:00:00"),  # EDT in October
        ("-1m", "America/New_York", "start", "2026-10-27T04:00:00"),  # across fall-back
        ("-1m", "Europe/Berlin", "start", "2026-10-26T23:00:00"),
        ("2026-12-31", "Europe/Berlin", "start", "2026-12-30T23:00:00"),
        ("2026-12-31", "Europe/Berlin", "end", "2026-12-31T22:59:59"),
        ("eoy", "America/New_York", "end", "2027-01-01T04:59:59"),
    ],
)
def test_calendar_day_literal_instants(text: str, zone: str, bound: str, expected: str) -> None:
    assert parse_when(text, now=NOW, tz=zone, bound=bound) == utc(expected)  # type: ignore[arg-type]


def test_default_bound_is_start() -> None:
    assert parse_when("today", now=NOW, tz="UTC") == utc("2026-11-27T00:00:00")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("soq", date(2027, 1, 1)),
        ("eoq", date(2027, 3, 31)),
        ("som", date(2027, 2, 1)),
        ("eom", date(2027, 2, 28)),
        ("sow", date(2027, 2, 15)),
        ("eow", date(2027, 2, 21)),
        ("soy", date(2027, 1, 1)),
        ("eoy", date(2027, 12, 31)),
    ],
)
def test_anchors_in_another_quarter(text: str, day: date) -> None:
    now = utc("2027-02-17T12:00:00")  # a Wednesday in Q1
    assert parse_when(text, now=now, tz="UTC") == day_start(day, "UTC")


@pytest.mark.parametrize(
    ("now", "text", "day"),
    [
        ("2028-01-31T12:00:00", "+1m", date(2028, 2, 29)),  # clamped to month end, leap year
        ("2027-01-31T12:00:00", "+1m", date(2027, 2, 28)),
        ("2028-02-29T12:00:00", "+1y", date(2029, 2, 28)),
        ("2026-03-31T12:00:00", "-1m", date(2026, 2, 28)),
        ("2028-02-10T12:00:00", "eom", date(2028, 2, 29)),
        ("2026-07-15T12:00:00", "soq", date(2026, 7, 1)),
        ("2026-07-15T12:00:00", "eoq", date(2026, 9, 30)),
        ("2026-06-30T12:00:00", "eoq", date(2026, 6, 30)),
        ("2026-11-30T12:00:00", "sow", date(2026, 11, 30)),  # Monday: sow is today
        ("2026-11-29T12:00:00", "eow", date(2026, 11, 29)),  # Sunday: eow is today
        ("2026-11-29T12:00:00", "sow", date(2026, 11, 23)),
    ],
)
def test_month_and_week_edges(now: str, text: str, day: date) -> None:
    assert parse_when(text, now=utc(now), tz="UTC") == day_start(day, "UTC")


# --------------------------------------------------------------------------- instants

@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("bound", ["start", "end"])
def test_now_is_exact_and_ignores_bound(zone: str, bound: str) -> None:
    assert parse_when("now", now=NOW, tz=zone, bound=bound) == NOW  # type: ignore[arg-type]
    assert parse_when("  NOW ", now=NOW, tz=zone) == NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+2h", "2026-11-27T17:00:00"),
        ("2h", "2026-11-27T17:00:00"),
        ("-3h", "2026-11-27T12:00:00"),
        ("+0h", "2026-11-27T15:00:00"),
        ("+48h", "2026-11-29T15:00:00"),
    ],
)
@pytest.mark.parametrize("bound", ["start", "end"])
def test_hours_are_exact_instants(text: str, expected: str, bound: str) -> None:
    for zone in ZONES:
        assert parse_when(text, now=NOW, tz=zone, bound=bound) == utc(expected)  # type: ignore[arg-type]


def test_hours_across_dst_are_real_hours() -> None:
    now = utc("2027-03-27T12:00:00")  # 13:00 CET, the day before spring-forward
    assert parse_when("+24h", now=now, tz="Europe/Berlin") == utc("2027-03-28T12:00:00")
    # "+1d" is the calendar day 2027-03-28 (23 hours long), not now + 24 h
    assert parse_when("+1d", now=now, tz="Europe/Berlin") == utc("2027-03-27T23:00:00")  # CET
    assert parse_when("+1d", now=now, tz="Europe/Berlin", bound="end") == utc(
        "2027-03-28T21:59:59"  # CEST
    )


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-12-31T17:00", "Europe/Berlin", "2026-12-31T16:00:00"),
        ("2026-12-31T17:00", "America/New_York", "2026-12-31T22:00:00"),
        ("2026-12-31T17:00", "UTC", "2026-12-31T17:00:00"),
        ("2026-12-31 17:00", "Europe/Berlin", "2026-12-31T16:00:00"),
        ("2026-12-31t17:00:30", "Europe/Berlin", "2026-12-31T16:00:30"),
        ("2026-07-01T09:15", "Europe/Berlin", "2026-07-01T07:15:00"),  # CEST
        ("2026-07-01T09:15", "America/New_York", "2026-07-01T13:15:00"),  # EDT
        ("2026-12-31T17:00Z", "Europe/Berlin", "2026-12-31T17:00:00"),
        ("2026-12-31t17:00z", "America/New_York", "2026-12-31T17:00:00"),
        ("2026-12-31T17:00+05:30", "UTC", "2026-12-31T11:30:00"),
        ("2026-12-31T17:00+0530", "UTC", "2026-12-31T11:30:00"),
        ("2026-12-31T17:00+05", "UTC", "2026-12-31T12:00:00"),
        ("2026-12-31T17:00-03:00", "Europe/Berlin", "2026-12-31T20:00:00"),
        ("2026-12-31T23:30:00-01:00", "UTC", "2027-01-01T00:30:00"),
        ("2027-03-28T02:30+01:00", "Europe/Berlin", "2027-03-28T01:30:00"),  # offset given: fine
        ("2027-03-28T02:30", "UTC", "2027-03-28T02:30:00"),  # no gap in UTC
    ],
)
def test_iso_datetimes(text: str, zone: str, expected: str) -> None:
    for bound in ("start", "end"):
        result = parse_when(text, now=NOW, tz=zone, bound=bound)  # type: ignore[arg-type]
        assert result == utc(expected)
        assert_plain_utc(result)


def test_iso_fractional_seconds() -> None:
    result = parse_when("2026-12-31T17:00:30.25Z", now=NOW, tz="UTC")
    assert result == datetime(2026, 12, 31, 17, 0, 30, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone", "fragment"),
    [
        ("2027-03-28T02:30", "Europe/Berlin", "2027-03-28T03:30"),
        ("2027-03-28T02:00:00", "Europe/Berlin", "2027-03-28T03:00"),
        ("2027-03-14T02:30", "America/New_York", "2027-03-14T03:30"),
    ],
)
def test_dst_gap_is_rejected(text: str, zone: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_when(text, now=NOW, tz=zone)
    invalid(excinfo, f"'{text}'", f"does not exist in {zone} (clocks jump forward)", fragment)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-10-25T02:30", "Europe/Berlin", "2026-10-25T00:30:00"),  # first (CEST) occurrence
        ("2026-10-25T02:00", "Europe/Berlin", "2026-10-25T00:00:00"),
        ("2026-10-25T03:00", "Europe/Berlin", "2026-10-25T02:00:00"),  # after the fold: CET
        ("2026-11-01T01:30", "America/New_York", "2026-11-01T05:30:00"),  # first (EDT) occurrence
    ],
)
def test_dst_fold_takes_first_occurrence(text: str, zone: str, expected: str) -> None:
    assert parse_when(text, now=NOW, tz=zone) == utc(expected)


@pytest.mark.parametrize(
    ("text", "bound", "expected"),
    [
        ("2026-10-25", "start", "2026-10-24T22:00:00"),  # 25-hour day
        ("2026-10-25", "end", "2026-10-25T22:59:59"),
        ("2027-03-28", "start", "2027-03-27T23:00:00"),  # 23-hour day
        ("2027-03-28", "end", "2027-03-28T21:59:59"),
    ],
)
def test_day_bounds_on_dst_days(text: str, bound: str, expected: str) -> None:
    assert parse_when(text, now=NOW, tz="Europe/Berlin", bound=bound) == utc(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "bound", "expected"),
    [
        # Chile changes clocks at midnight: 2026-09-06 00:00 does not exist (day starts 01:00),
        ("2026-09-06", "start", "2026-09-06T04:00:00"),
        ("2026-09-05", "end", "2026-09-06T03:59:59"),
        # and 2026-04-04 23:00..23:59 happens twice: the day ends at the later 23:59:59.
        ("2026-04-04", "end", "2026-04-05T03:59:59"),
        ("2026-04-05", "start", "2026-04-05T04:00:00"),
    ],
)
def test_day_bounds_when_midnight_moves(text: str, bound: str, expected: str) -> None:
    assert parse_when(text, now=NOW, tz="America/Santiago", bound=bound) == utc(expected)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- zones and now

@pytest.mark.parametrize(
    ("now", "zone", "text", "bound", "expected"),
    [
        # 23:30 UTC Friday is already Saturday 00:30 in Berlin
        ("2026-11-27T23:30:00", "Europe/Berlin", "today", "start", "2026-11-27T23:00:00"),
        ("2026-11-27T23:30:00", "Europe/Berlin", "today", "end", "2026-11-28T22:59:59"),
        ("2026-11-27T23:30:00", "Europe/Berlin", "yesterday", "start", "2026-11-26T23:00:00"),
        ("2026-11-27T23:30:00", "Europe/Berlin", "fri", "start", "2026-12-03T23:00:00"),
        ("2026-11-27T23:30:00", "Europe/Berlin", "sat", "start", "2026-11-27T23:00:00"),
        ("2026-11-27T23:30:00", "UTC", "today", "start", "2026-11-27T00:00:00"),
        # 03:00 UTC Saturday is still Friday 22:00 in New York
        ("2026-11-28T03:00:00", "America/New_York", "today", "start", "2026-11-27T05:00:00"),
        ("2026-11-28T03:00:00", "America/New_York", "tomorrow", "start", "2026-11-28T05:00:00"),
        ("2026-11-28T03:00:00", "America/New_York", "fri", "end", "2026-11-28T04:59:59"),
        ("2026-11-28T03:00:00", "UTC", "today", "start", "2026-11-28T00:00:00"),
    ],
)
def test_today_near_midnight(now: str, zone: str, text: str, bound: str, expected: str) -> None:
    assert parse_when(text, now=utc(now), tz=zone, bound=bound) == utc(expected)  # type: ignore[arg-type]


def test_now_in_any_zone_and_pendulum_inputs() -> None:
    berlin = resolve_zone("Europe/Berlin")
    now_berlin = NOW.astimezone(ZoneInfo("Europe/Berlin"))
    now_pendulum = pendulum.instance(NOW).in_tz("Asia/Tokyo")
    for now in (NOW, now_berlin, now_pendulum):
        for tz in ("Europe/Berlin", berlin, ZoneInfo("Europe/Berlin")):
            assert parse_when("today", now=now, tz=tz) == utc("2026-11-26T23:00:00")
            result = parse_when("now", now=now, tz=tz)
            assert result == NOW
            assert_plain_utc(result)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_when("today", now=datetime(2026, 11, 27, 15), tz="UTC")


def test_bad_bound_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_when("today", now=NOW, tz="UTC", bound="middle")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TODAY", "today"),
        ("  Tomorrow\t", "tomorrow"),
        ("FRI", "fri"),
        ("Friday", "friday"),
        ("Next Friday", "next friday"),
        ("next   FRIDAY", "next friday"),
        ("LAST Mon", "last mon"),
        ("EOW", "eow"),
        ("SoQ", "soq"),
        ("+1M", "+1m"),
        ("-2W", "-2w"),
        ("3D", "3d"),
        ("+2H", "+2h"),
        ("2026-12-31T17:00Z", "2026-12-31t17:00z"),
    ],
)
def test_case_and_whitespace_insensitive(text: str, expected: str) -> None:
    for zone in ZONES:
        for bound in ("start", "end"):
            got = parse_when(text, now=NOW, tz=zone, bound=bound)  # type: ignore[arg-type]
            assert got == parse_when(expected, now=NOW, tz=zone, bound=bound)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- invalid dates

@pytest.mark.parametrize(
    "text",
    [
        "foo",
        "",
        "   ",
        "next",
        "last",
        "next week",
        "last month",
        "this friday",
        "next today",
        "fri day",
        "fridays",
        "2026/12/31",
        "31.12.2026",
        "12/31",
        "2026",
        "20261231",
        "2026-1-5",
        "2026-12-31T",
        "2026-12-31T17",
        "2026-12-31T17:00:00Z extra",
        "2026-12-31T17:00 Europe/Berlin",
        "tomorrow!",
        "+",
        "-",
        "+d",
        "d",
        "1.5d",
        "+ 3 d x",
        "friday 17:00",
        "now+1d",
    ],
)
def test_invalid_dates(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_when(text, now=NOW, tz="Europe/Berlin")
    invalid(excinfo, f"invalid date '{text.strip()}'", "use ISO-8601 (2026-12-31, 2026-12-31T17:00)")


def test_invalid_date_message_exact() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_when("foo", now=NOW, tz="UTC")
    assert str(excinfo.value) == (
        "invalid date 'foo': use ISO-8601 (2026-12-31, 2026-12-31T17:00) or today, tomorrow, "
        "yesterday, a weekday, sow/eow/som/eom/soq/eoq/soy/eoy, or +3d/-2w/+1m"
    )
    assert excinfo.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-02-30", "February 2026 has 28 days (use 2026-02-01 to 2026-02-28)"),
        ("2028-02-30", "February 2028 has 29 days"),
        ("2025-02-29", "February 2025 has 28 days"),
        ("2026-04-31", "April 2026 has 30 days"),
        ("2026-12-32", "December 2026 has 31 days"),
        ("2026-12-00", "December 2026 has 31 days"),
        ("2026-13-01", "there is no month 13"),
        ("2026-00-10", "there is no month 0"),
        ("2026-02-30T10:00", "February 2026 has 28 days"),
        ("2026-12-31T24:00", "no such time of day"),
        ("2026-12-31T23:60", "no such time of day"),
        ("2026-12-31T23:59:60", "no such time of day"),
        ("2026-12-31T17:00+25:00", "bad UTC offset"),
        ("2026-12-31T17:00+05:75", "bad UTC offset"),
    ],
)
def test_impossible_dates(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_when(text, now=NOW, tz="UTC")
    invalid(excinfo, f"'{text}'", fragment)


@pytest.mark.parametrize(
    "text",
    ["1899-12-31", "3000-01-01", "0000-01-01", "0001-01-01T00:00Z", "+1000y", "-200y",
     "+400000d", "+99999999999d", "+9999999999999h"],
)
def test_out_of_range(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_when(text, now=NOW, tz="Europe/Berlin")
    invalid(excinfo, f"'{text}'", "out of range", "1900 to 2999")


@pytest.mark.parametrize("text", ["+3x", "+3min", "5s", "+2q", "-1mo", "3days"])
def test_unknown_relative_unit(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_when(text, now=NOW, tz="UTC")
    invalid(excinfo, f"'{text}'", "unknown unit", "d (days), w (weeks), m (months), y (years) or h (hours)")


def test_control_characters_are_escaped_in_messages() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_when("to\nday\x1b[31m", now=NOW, tz="UTC")
    message = invalid(excinfo, "to\\nday\\x1b[31m")
    assert "\x1b" not in message


# --------------------------------------------------------------------------- resolve_zone

def test_resolve_zone_default_is_system_zone() -> None:
    assert resolve_zone(None) == pendulum.local_timezone()
    assert resolve_zone("") == pendulum.local_timezone()
    assert resolve_zone("  ") == pendulum.local_timezone()


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("UTC", "UTC"),
        ("Europe/Berlin", "Europe/Berlin"),
        (" America/New_York ", "America/New_York"),
        ("europe/berlin", "Europe/Berlin"),
        ("ASIA/KOLKATA", "Asia/Kolkata"),
    ],
)
def test_resolve_zone_names(name: str, key: str) -> None:
    zone = resolve_zone(name)
    assert isinstance(zone, pendulum.Timezone)
    assert zone.name == key


@pytest.mark.parametrize(
    "name", ["Mars/Base", "Europe", "../etc/passwd", "/etc/localtime", "Europe/Berlin\x00", "CEST+1"]
)
def test_resolve_zone_unknown(name: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        resolve_zone(name)
    invalid(excinfo, "unknown time zone", "use an IANA name such as Europe/Berlin or UTC")


def test_resolve_zone_unknown_exact_message() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        resolve_zone("Mars/Base")
    assert str(excinfo.value) == (
        "unknown time zone 'Mars/Base': use an IANA name such as Europe/Berlin or UTC"
    )


def test_parse_when_with_unknown_zone() -> None:
    with pytest.raises(InvalidInput, match="unknown time zone 'Mars/Base'"):
        parse_when("today", now=NOW, tz="Mars/Base")


# --------------------------------------------------------------------------- periods

BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(
    ("period", "start", "n", "expected", "hours"),
    [
        # weekly across spring-forward: same 09:00 local wall time, 167 real hours
        (Period(days=7), "2027-03-22T08:00:00", 1, "2027-03-29T07:00:00", 167),
        # weekly across fall-back: 169 real hours
        (Period(days=7), "2026-10-19T07:00:00", 1, "2026-10-26T08:00:00", 169),
        # daily across spring-forward: 23 hours
        (Period(days=1), "2027-03-27T08:00:00", 1, "2027-03-28T07:00:00", 23),
        (Period(days=1), "2026-11-27T15:00:00", 3, "2026-11-30T15:00:00", 72),
        # backwards across spring-forward
        (Period(days=7), "2027-03-29T07:00:00", -1, "2027-03-22T08:00:00", -167),
        # monthly from Jan 31 09:00 local: clamped to Feb 28 (2026) / Feb 29 (2028)
        (Period(months=1), "2026-01-31T08:00:00", 1, "2026-02-28T08:00:00", 28 * 24),
        (Period(months=1), "2028-01-31T08:00:00", 1, "2028-02-29T08:00:00", 29 * 24),
        # n months in one step: Jan 31 + 2 months is Mar 31 (CEST by then), not Mar 28
        (Period(months=1), "2026-01-31T08:00:00", 2, "2026-03-31T07:00:00", 59 * 24 - 1),
        (Period(months=3), "2026-11-30T08:00:00", 1, "2027-02-28T08:00:00", 90 * 24),
        (Period(months=1, days=1), "2026-01-31T08:00:00", 1, "2026-03-01T08:00:00", 29 * 24),
    ],
)
def test_period_add_keeps_local_wall_time(
    period: Period, start: str, n: int, expected: str, hours: int
) -> None:
    result = period.add(utc(start), n, tz=BERLIN)
    assert result == utc(expected)
    assert result - utc(start) == timedelta(hours=hours)
    assert_plain_utc(result)


def test_period_add_nine_oclock_literal() -> None:
    start = datetime(2027, 3, 22, 9, 0, tzinfo=ZoneInfo(BERLIN))
    result = parse_cadence("weekly").add(start, tz=resolve_zone(BERLIN))
    assert result.astimezone(ZoneInfo(BERLIN)).replace(tzinfo=None) == datetime(2027, 3, 29, 9, 0)
    assert (result - start) == timedelta(hours=167)


def test_period_add_zero_returns_same_instant_even_in_fold() -> None:
    second_0230 = utc("2026-10-25T01:30:00")  # the later 02:30 in Berlin
    assert Period(days=0, label="0d").add(second_0230, tz=BERLIN) == second_0230
    assert Period(days=7).add(second_0230, 0, tz=BERLIN) == second_0230


def test_period_add_into_fold_and_gap() -> None:
    # 02:30 CEST the day before fall-back + 1 day lands on an ambiguous 02:30: first occurrence
    assert Period(days=1).add(utc("2026-10-24T00:30:00"), tz=BERLIN) == utc("2026-10-25T00:30:00")
    # the later 02:30 on fall-back day - 1 week: unambiguous 02:30 CEST
    assert Period(days=7).add(utc("2026-10-25T01:30:00"), -1, tz=BERLIN) == utc("2026-10-18T00:30:00")
    # 02:30 CET + 1 day lands in the spring-forward gap: moves forward to 03:30 CEST
    assert Period(days=1).add(utc("2027-03-27T01:30:00"), tz=BERLIN) == utc("2027-03-28T01:30:00")


def test_period_add_accepts_pendulum_and_other_zones() -> None:
    start = pendulum.datetime(2027, 3, 22, 9, tz=BERLIN).in_tz("Asia/Tokyo")
    result = Period(days=7).add(start, tz=BERLIN)
    assert result == utc("2027-03-29T07:00:00")
    assert_plain_utc(result)


def test_period_add_in_utc_is_plain_days() -> None:
    assert Period(days=7).add(utc("2027-03-22T08:00:00"), tz="UTC") == utc("2027-03-29T08:00:00")


@pytest.mark.parametrize(
    ("period", "days"),
    [
        (Period(days=7), 7.0),
        (Period(months=1), 30.4375),
        (Period(months=3), 91.3125),
        (Period(months=1, days=2), 32.4375),
        (Period(), 0.0),
    ],
)
def test_period_approx_days(period: Period, days: float) -> None:
    assert period.approx_days() == days


@pytest.mark.parametrize(
    ("period", "label"),
    [(Period(days=7), "1w"), (Period(days=10), "10d"), (Period(months=1), "1mo"),
     (Period(months=1, days=14), "1mo+2w"), (Period(), "0d")],
)
def test_period_default_label(period: Period, label: str) -> None:
    assert period.label == label


def test_period_rejects_negative_and_is_frozen() -> None:
    with pytest.raises(ValueError):
        Period(days=-1)
    period = Period(days=1, label="daily")
    with pytest.raises(AttributeError):
        period.days = 2  # type: ignore[misc]


# --------------------------------------------------------------------------- cadence and grace

@pytest.mark.parametrize(
    ("text", "months", "days", "label"),
    [
        ("daily", 0, 1, "daily"),
        ("weekly", 0, 7, "weekly"),
        ("biweekly", 0, 14, "biweekly"),
        ("monthly", 1, 0, "monthly"),
        ("quarterly", 3, 0, "quarterly"),
        ("WEEKLY", 0, 7, "weekly"),
        (" Monthly ", 1, 0, "monthly"),
        ("1d", 0, 1, "1d"),
        ("10d", 0, 10, "10d"),
        (" 10D ", 0, 10, "10d"),
        ("010d", 0, 10, "10d"),
        ("3w", 0, 21, "3w"),
        ("3 w", 0, 21, "3w"),
        ("3650d", 0, 3650, "3650d"),
        ("521w", 0, 3647, "521w"),
    ],
)
def test_parse_cadence(text: str, months: int, days: int, label: str) -> None:
    assert parse_cadence(text) == Period(months=months, days=days, label=label)


@pytest.mark.parametrize(
    "text",
    ["", "x", "hourly", "yearly", "3", "0d", "0w", "-3d", "+3d", "3m", "1.5d", "3 weeks", "d",
     "bi-weekly"],
)
def test_parse_cadence_invalid(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_cadence(text)
    invalid(excinfo, f"invalid cadence '{text.strip()}'",
            "use daily, weekly, biweekly, monthly, quarterly, Nd or Nw")


@pytest.mark.parametrize("text", ["3651d", "522w", "99999999999999d"])
def test_parse_cadence_too_long(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_cadence(text)
    invalid(excinfo, f"invalid cadence '{text}'", "at most 3650 days")


@pytest.mark.parametrize(
    ("text", "days", "label"),
    [("0", 0, "0d"), ("0d", 0, "0d"), ("0w", 0, "0w"), ("2d", 2, "2d"), ("1w", 7, "1w"),
     (" 2W ", 14, "2w"), ("3650d", 3650, "3650d")],
)
def test_parse_grace(text: str, days: int, label: str) -> None:
    assert parse_grace(text) == Period(days=days, label=label)


@pytest.mark.parametrize("text", ["", "x", "-1d", "2h", "1m", "1.5d", "weekly", "00x"])
def test_parse_grace_invalid(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_grace(text)
    invalid(excinfo, f"invalid grace '{text.strip()}'", "Nd or Nw")


def test_parse_grace_too_long() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_grace("3651d")
    invalid(excinfo, "invalid grace '3651d'", "at most 3650 days")


# --------------------------------------------------------------------------- ISO weeks

@pytest.mark.parametrize(
    ("now", "zone", "which", "start", "end"),
    [
        # Monday 2026-11-30 00:30 in Berlin (still Sunday 23:30 UTC)
        ("2026-11-29T23:30:00", BERLIN, "this", "2026-11-29T23:00:00", "2026-12-06T23:00:00"),
        ("2026-11-29T23:30:00", BERLIN, "last", "2026-11-22T23:00:00", "2026-11-29T23:00:00"),
        ("2026-11-29T23:30:00", "UTC", "this", "2026-11-23T00:00:00", "2026-11-30T00:00:00"),
        ("2026-11-29T23:30:00", "UTC", "last", "2026-11-16T00:00:00", "2026-11-23T00:00:00"),
        ("2026-11-27T15:00:00", "America/New_York", "this", "2026-11-23T05:00:00",
         "2026-11-30T05:00:00"),
        # week containing spring-forward: 167 hours
        ("2027-03-24T12:00:00", BERLIN, "this", "2027-03-21T23:00:00", "2027-03-28T22:00:00"),
        # last week from the Monday after spring-forward
        ("2027-03-29T06:00:00", BERLIN, "last", "2027-03-21T23:00:00", "2027-03-28T22:00:00"),
        # year boundary
        ("2027-01-01T12:00:00", "UTC", "this", "2026-12-28T00:00:00", "2027-01-04T00:00:00"),
    ],
)
def test_week_window(now: str, zone: str, which: str, start: str, end: str) -> None:
    got = week_window(which, now=utc(now), tz=zone)  # type: ignore[arg-type]
    assert got == (utc(start), utc(end))
    for value in got:
        assert_plain_utc(value)


def test_week_window_invalid() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        week_window("next", now=NOW, tz="UTC")  # type: ignore[arg-type]
    invalid(excinfo, "'next'", "this or last")


@pytest.mark.parametrize(
    ("instant", "zone", "label"),
    [
        ("2027-01-01T12:00:00", "UTC", "2026-W53"),
        ("2026-12-28T12:00:00", "UTC", "2026-W53"),
        ("2021-01-03T12:00:00", "UTC", "2020-W53"),
        ("2024-12-30T12:00:00", "UTC", "2025-W01"),
        ("2026-01-26T12:00:00", "UTC", "2026-W05"),
        ("2026-11-27T15:00:00", "UTC", "2026-W48"),
        # local date decides: Sunday 23:30 UTC is already Monday in Berlin
        ("2027-01-03T23:30:00", BERLIN, "2027-W01"),
        ("2027-01-03T23:30:00", "UTC", "2026-W53"),
        ("2027-01-04T03:00:00", "America/New_York", "2026-W53"),
        ("2026-12-31T23:30:00", BERLIN, "2026-W53"),
    ],
)
def test_iso_week_label(instant: str, zone: str, label: str) -> None:
    assert iso_week_label(utc(instant), zone) == label
    assert iso_week_label(utc(instant), resolve_zone(zone)) == label


# --------------------------------------------------------------------------- numbers

@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12.0),
        ("12.5", 12.5),
        ("-2.5", -2.5),
        ("+3", 3.0),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("2.5e-3", 0.0025),
        (".5", 0.5),
        ("5.", 5.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("007", 7.0),
        ("1e15", 1e15),
        ("-1e15", -1e15),
        ("1000000000000000", 1e15),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    got = parse_number(text, what="value")
    assert got == value
    assert type(got) is float


def test_parse_number_negative_zero_is_zero() -> None:
    assert str(parse_number("-0", what="value")) == "0.0"


@pytest.mark.parametrize(
    "text",
    ["abc", "", "  ", "nan", "NaN", "inf", "-inf", "Infinity", "1_000", "0x10", "١٢", "12abc",
     "1.2.3", "--1", "1e", "e3", ".", "12 5", "1e16", "-1e16", "1e400", "1000000000000001",
     "12%", "$12"],
)
def test_parse_number_invalid(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_number(text, what="target")
    invalid(excinfo, f"invalid target '{text.strip()}'", "expected a number such as 12.5")


def test_parse_number_exact_message() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_number("abc", what="value")
    assert str(excinfo.value) == "invalid value 'abc': expected a number such as 12.5"


@pytest.mark.parametrize("text", ["1,5", "-1,5", "1,000", "1,000.5", "1.000,5"])
def test_parse_number_locale_comma(text: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        parse_number(text, what="value")
    invalid(excinfo, f"invalid value '{text}'", "use a dot as decimal separator")


# --------------------------------------------------------------------------- import cost

def test_import_is_light() -> None:
    code = (
        "import sys, kpictl.timeparse; "
        "heavy = [m for m in ('sqlmodel', 'sqlalchemy', 'typer', 'rich', 'pydantic') "
        "if m in sys.modules]; print(heavy)"
    )
    src = str(Path(timeparse.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"


pytestmark = pytest.mark.backend_free


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2998, 12, 31)),
       st.integers(min_value=0, max_value=120), st.integers(min_value=0, max_value=400))
def test_utc_month_arithmetic_is_pendulums(naive, months, days):
    """Period.add's UTC fast path (no pendulum) gives what the pendulum path gives."""
    start = naive.replace(tzinfo=timezone.utc)
    period = Period(months=months, days=days)
    expected = pendulum.naive(naive.year, naive.month, naive.day, naive.hour, naive.minute,
                              naive.second, naive.microsecond).add(months=months, days=days)
    assert period.add(start, tz="UTC") == datetime(
        expected.year, expected.month, expected.day, expected.hour, expected.minute,
        expected.second, expected.microsecond, tzinfo=timezone.utc)
