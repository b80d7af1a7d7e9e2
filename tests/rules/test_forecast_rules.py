"""Forecasts in the report (issue 14, item 6), through the CLI on both backends: the plan's
deviation with milestones, recomputation of ill-conditioned sums, full precision in JSON/CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import statsmodels.api as sm

from tests.cli.conftest import ok


def kpi(run, key):
    return next(r for r in ok(run, "report", "--json").json()["kpis"] if r["key"] == key)


@pytest.fixture
def owner(run):
    ok(run, "people", "add", "ana", "--name", "Ana")
    return run


def test_back_loaded_plan_ahead_is_not_a_forecast_miss(owner):
    ok(owner, "assign", "g.backloaded", "--to", "ana", "--target", "100", "--start",
       "2026-10-01", "--due", "2027-01-31", "--milestone", "2026-12-31=20")
    for day, value in (("2026-10-10", 8), ("2026-10-24", 16), ("2026-11-07", 22),
                       ("2026-11-21", 30)):
        ok(owner, "checkin", "g.backloaded", str(value), "--at", day)
    row = kpi(owner, "g.backloaded")
    assert row["forecast"]["method"] == "ols-plan"
    assert row["forecast"]["probability"] > 0.5
    assert "forecast_miss" not in row["flags"]


def test_values_near_1e14_get_statsmodels_interval(owner):
    ok(owner, "assign", "big.sum", "--to", "ana", "--target", "100000000000088",
       "--baseline", "0", "--start", "2026-10-01", "--due", "2026-12-30")
    points = [(0, 1e14 + 3.0), (7, 1e14 + 10.0), (14, 1e14 + 13.0), (21, 1e14 + 24.0),
              (28, 1e14 + 27.0)]
    for x, value in points:
        day = np.datetime64("2026-10-01") + np.timedelta64(x, "D")
        ok(owner, "checkin", "big.sum", repr(value), "--at", str(day))
    f = kpi(owner, "big.sum")["forecast"]
    xs = np.array([x for x, _ in points], dtype=float)
    model = sm.OLS(np.array([v for _, v in points]), sm.add_constant(xs)).fit()
    x_due = 91.0 - 1 / 86400  # due: Dec 30, 23:59:59
    frame = model.get_prediction(np.array([[1.0, x_due]])).summary_frame(alpha=0.2)
    lo, hi = float(frame["obs_ci_lower"].iloc[0]), float(frame["obs_ci_upper"].iloc[0])
    assert f["high"] - f["low"] == pytest.approx(hi - lo, rel=0.01)
    assert abs(f["low"] - lo) <= 0.01 * (hi - lo)
    assert 0.05 < f["probability"] < 0.95


def test_machine_outputs_keep_full_precision(owner):
    ok(owner, "assign", "web.conv", "--to", "ana", "--target", "0.01", "--baseline", "0",
       "--start", "2026-10-01", "--due", "2026-12-30", "--cadence", "weekly")
    for day, value in (("2026-10-01", 0.0010000), ("2026-10-08", 0.0011229),
                       ("2026-10-15", 0.0012458), ("2026-10-22", 0.0013687)):
        ok(owner, "checkin", "web.conv", str(value), "--at", day)
    f = kpi(owner, "web.conv")["forecast"]
    assert f["rate"] == pytest.approx(0.0001229, rel=1e-9)  # not 0.0001
    record = next(csv.DictReader(io.StringIO(ok(owner, "report", "-f", "csv").stdout)))
    assert float(record["forecast_rate"]) == f["rate"]
