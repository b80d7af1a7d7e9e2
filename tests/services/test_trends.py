"""services/trends.py: the last check-in values per KPI behind the sparklines."""

from __future__ import annotations

import pytest

from kpictl.services.checkins import record_checkin
from kpictl.services.trends import recent_values

from .conftest import utc


def checkin(svc, key, value, at):
    return svc.call(record_checkin, key=key, value=value, at=at)


def values(svc, keys, as_of, **kw):
    with svc.db.session() as s:
        return recent_values(session=s, keys=keys, as_of=as_of, **kw)


def test_recent_values_are_the_last_points_in_time_order(team):
    team.kpi("sales.arr")
    team.kpi("ops.backlog")
    team.kpi("eng.silent")
    # Recorded out of order: the measured time decides.
    for day, value in [(5, 50.0), (2, 20.0), (9, 90.0), (3, 30.0), (7, 70.0)]:
        checkin(team, "sales.arr", value, utc(2026, 11, day))
    checkin(team, "ops.backlog", 4.0, utc(2026, 11, 4))
    got = values(team, ["sales.arr", "ops.backlog", "eng.silent"], utc(2026, 11, 27), points=3)
    assert got == {"sales.arr": [50.0, 70.0, 90.0], "ops.backlog": [4.0]}


def test_recent_values_respect_as_of_and_the_shown_keys(team):
    team.kpi("sales.arr")
    team.kpi("ops.backlog")
    for day in range(1, 16):
        checkin(team, "sales.arr", float(day), utc(2026, 11, day))
        checkin(team, "ops.backlog", -float(day), utc(2026, 11, day))
    got = values(team, ["sales.arr"], utc(2026, 11, 10))
    assert got == {"sales.arr": [float(d) for d in range(1, 11)]}
    got = values(team, ["sales.arr"], utc(2026, 11, 15))
    assert got == {"sales.arr": [float(d) for d in range(4, 16)]}  # 12 points by default
    assert values(team, [], utc(2026, 11, 15)) == {}


def test_recent_values_refuses_zero_points(team):
    with pytest.raises(ValueError):
        values(team, ["x"], utc(2026, 11, 1), points=0)
