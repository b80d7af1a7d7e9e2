"""The portfolio reads an ongoing KPI's current period without walking its series: that shortcut
must be exactly the last period of the walk, in any zone, for every rhythm and window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from kpictl.services.periods import latest_period, series

ZONES = ["UTC", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns",
         "Australia/Lord_Howe"]
instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31),
                        timezones=st.just(timezone.utc))


@settings(max_examples=300, deadline=None)
@given(every=st.sampled_from(["week", "month", "quarter", "year"]), zone=st.sampled_from(ZONES),
       start=instants, length=st.integers(-30, 2000), until=instants,
       closed=st.one_of(st.none(), instants))
def test_latest_period_is_the_series_last(every, zone, start, length, until, closed):
    due = start + timedelta(days=length)
    assert latest_period(every, start, due, zone, until, closed) == \
        series(every, start, due, zone, until, closed)[-1:]
