"""Forecasts inside reports: the SQL-computed sums give the same numbers as the pure math, and
an on-pace KPI whose trend will miss is reported at_risk with forecast_miss (PRODUCT §3 rule 6).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kpictl.services.forecast import Fit, forecast

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
START = NOW - timedelta(days=60)
DUE = NOW + timedelta(days=30)
# Fast at first, then flattening: 62 % done at 67 % of the time (on pace), but the trend
# points below the target.
DECELERATING = [(10, 30.0), (20, 45.0), (30, 53.0), (40, 57.0), (50, 60.0), (59, 62.0)]


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def team(run):
    assert run("people", "add", "ana", "--name", "Ana").exit_code == 0
    ok = run("assign", "k.decel", "--to", "ana", "--baseline", "0", "--target", "100",
             "--start", _iso(START), "--due", _iso(DUE))
    assert ok.exit_code == 0, ok.stderr
    for day, value in DECELERATING:
        assert run("checkin", "k.decel", str(value), "--at",
                   _iso(START + timedelta(days=day))).exit_code == 0
    return run


def test_report_forecast_equals_the_pure_math(team):
    row = team("report", "--json").json()["kpis"][0]
    expected = forecast(Fit.of_points([(float(d), v) for d, v in DECELERATING]), increase=True,
                        target=100.0, start=START, due=DUE, as_of=NOW, latest_value=62.0,
                        period_days=7.0)
    got = row["forecast"]
    assert got["method"] == "ols" and got["points"] == 6
    for field in ("value_at_due", "low", "high", "rate", "required_rate", "probability"):
        # Full precision (PRODUCT §4), to the last bit: the aggregates' moments are exact sums,
        # as the pure math's are, whatever order the check-ins were added in.
        assert got[field] == getattr(expected, field), field
    assert got["eta"] == expected.eta.isoformat().replace("+00:00", "Z")


def test_on_pace_kpi_whose_trend_misses_is_at_risk(team):
    row = team("report", "--json").json()["kpis"][0]
    assert row["progress"] == 0.62
    assert row["expected_progress"] == pytest.approx(0.6667, abs=1e-4)  # gap 0.047: on pace
    assert row["forecast"]["probability"] < 0.5
    assert row["forecast"]["value_at_due"] < 100
    assert row["status"] == "at_risk"
    assert row["flags"] == ["forecast_miss"]


def test_forecast_is_null_with_fewer_than_three_points(team):
    early = team("report", "--json", "--revised", "--as-of", _iso(START + timedelta(days=25))).json()
    row = early["kpis"][0]
    assert row["forecast"] is None
    assert "forecast_miss" not in row["flags"]


def test_forecast_uses_only_checkins_up_to_the_instant(team):
    at_day_45 = START + timedelta(days=45)
    row = team("report", "--json", "--revised", "--as-of", _iso(at_day_45)).json()["kpis"][0]
    expected = forecast(Fit.of_points([(float(d), v) for d, v in DECELERATING if d <= 45]),
                        increase=True, target=100.0, start=START, due=DUE, as_of=at_day_45,
                        latest_value=57.0, period_days=7.0)
    assert row["forecast"]["points"] == 4
    assert row["forecast"]["value_at_due"] == round(expected.value_at_due, 4)


def test_forecast_in_table_csv_and_md(team):
    row = team("report", "--json").json()["kpis"][0]
    f = row["forecast"]
    table = team("report").stdout
    assert f"→ {f['value_at_due']:,.1f}".rstrip("0").rstrip(".") in table
    assert f"({f['probability'] * 100:.0f}%)" in table
    import csv
    import io

    record = next(csv.DictReader(io.StringIO(team("report", "-f", "csv").stdout)))
    assert float(record["forecast_value_at_due"]) == f["value_at_due"]
    assert float(record["forecast_probability"]) == f["probability"]
    assert record["forecast_eta"] == f["eta"]
    md = team("report", "-f", "md").stdout
    assert f"({f['probability'] * 100:.0f}%)" in md


def test_report_key_draws_the_trajectory_chart(team):
    out = team("report", "k.decel").stdout
    assert "\x1b" not in out
    for label in ("actual", "expected pace", "forecast", "80% range"):
        assert label in out
    assert "●" in out and "*" in out  # actual points and the forecast line, told apart
    empty = team("assign", "k.empty", "--to", "ana", "--target", "5", "--due", "+9d")
    assert empty.exit_code == 0
    assert "actual" not in team("report", "k.empty").stdout
