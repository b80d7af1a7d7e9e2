"""The forecast math against an independent reference (NumPy least squares, SciPy's t)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from scipy import stats

from kpictl.services.forecast import Fit, forecast, t_cdf, t_ppf

UTC = timezone.utc
START = datetime(2026, 10, 1, tzinfo=UTC)
DUE = datetime(2026, 12, 30, tzinfo=UTC)  # x_d = 90 days


def reference(points, *, target, increase, as_of_x, latest, period=7.0, x_d=90.0):
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    n = len(x)
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    s = math.sqrt(float(resid @ resid) / (n - 2))
    sxx = float(((x - x.mean()) ** 2).sum())
    value = intercept + slope * x_d
    se = s * math.sqrt(1 + 1 / n + (x_d - x.mean()) ** 2 / sxx)
    q = stats.t.ppf(0.90, n - 2)
    dist = stats.t(df=n - 2, loc=value, scale=se)
    probability = dist.sf(target) if increase else dist.cdf(target)
    remaining = (x_d - as_of_x) / period
    return {"value_at_due": value, "low": value - q * se, "high": value + q * se,
            "probability": probability, "rate": slope * period,
            "required_rate": (target - latest) / remaining,
            "eta_x": (target - intercept) / slope}


DATA_SETS = {
    "increase, noisy": ([(3, 10.0), (10, 19.5), (17, 31.0), (24, 38.2), (31, 52.0),
                         (38, 55.1)], 140.0, True),
    "increase, will miss": ([(7, 5.0), (14, 9.0), (21, 16.0), (28, 18.0), (35, 24.0)],
                            100.0, True),
    "decrease, noisy": ([(2, 240.0), (9, 221.0), (16, 205.0), (23, 170.0), (30, 168.0),
                         (37, 140.0), (44, 131.0)], 60.0, False),
    "decrease through zero": ([(5, 4.0), (12, 2.1), (19, 0.5), (26, -1.2)], -10.0, False),
    "large values": ([(1, 1_200_000.0), (8, 1_260_000.0), (15, 1_290_500.0),
                      (22, 1_371_000.0)], 2_000_000.0, True),
    "three points": ([(10, 1.0), (20, 2.5), (30, 2.9)], 6.0, True),
}


@pytest.mark.parametrize("name", DATA_SETS)
def test_forecast_matches_numpy_and_scipy_within_1_percent(name):
    points, target, increase = DATA_SETS[name]
    as_of_x = points[-1][0] + 1.0
    latest = points[-1][1]
    got = forecast(Fit.of_points(points), increase=increase, target=target, start=START, due=DUE,
                   as_of=START + timedelta(days=as_of_x), latest_value=latest, period_days=7.0)
    ref = reference(points, target=target, increase=increase, as_of_x=as_of_x, latest=latest)
    assert got is not None and got.points == len(points) and got.method == "ols"
    for field in ("value_at_due", "low", "high", "rate", "required_rate"):
        assert getattr(got, field) == pytest.approx(ref[field], rel=1e-6), field
    assert got.probability == pytest.approx(ref["probability"], rel=1e-6, abs=1e-12)
    assert got.eta == START + timedelta(minutes=round(ref["eta_x"] * 1440))


def test_forecast_of_a_perfect_line_is_exact_and_certain():
    points = [(x, 10.0 + 2.0 * x) for x in (0, 7, 14, 21)]
    # Its residuals are rounding noise at most: decided exactly, never a probability made of
    # floating-point noise.
    hit = forecast(Fit.of_points(points), increase=True, target=150.0, start=START, due=DUE,
                   as_of=START + timedelta(days=21), latest_value=52.0, period_days=7.0)
    assert hit.value_at_due == pytest.approx(190.0)
    assert hit.low == pytest.approx(190.0) and hit.high == pytest.approx(190.0)
    assert hit.probability == 1.0
    assert hit.rate == pytest.approx(14.0)
    assert hit.eta == START + timedelta(days=70)
    miss = forecast(Fit.of_points(points), increase=True, target=200.0, start=START, due=DUE,
                    as_of=START + timedelta(days=21), latest_value=52.0, period_days=7.0)
    assert miss.probability == 0.0


@pytest.mark.parametrize("points", [
    [(1, 1.0), (2, 2.0)],  # two points: no residual degree of freedom
    [(5, 1.0), (5, 2.0), (5, 3.0)],  # one instant: no spread in time (Sxx = 0)
    [(5, 1.0), (5, 2.0), (9, 3.0)],  # three check-ins but two distinct times
])
def test_forecast_is_null_when_it_cannot_be_honest(points):
    assert forecast(Fit.of_points(points), increase=True, target=10.0, start=START, due=DUE,
                    as_of=START + timedelta(days=10), latest_value=3.0, period_days=7.0) is None


def test_forecast_eta_is_null_when_the_trend_goes_the_wrong_way():
    points = [(0, 10.0), (7, 9.0), (14, 8.5), (21, 7.0)]
    got = forecast(Fit.of_points(points), increase=True, target=20.0, start=START, due=DUE,
                   as_of=START + timedelta(days=21), latest_value=7.0, period_days=7.0)
    assert got.eta is None
    assert got.probability < 0.01
    after_due = forecast(Fit.of_points(points), increase=True, target=20.0, start=START, due=DUE,
                         as_of=DUE + timedelta(days=1), latest_value=7.0, period_days=7.0)
    assert after_due.required_rate is None


@pytest.mark.parametrize("df", [1, 2, 3, 7, 30, 250])
def test_student_t_matches_scipy(df):
    for p in (0.01, 0.1, 0.5, 0.9, 0.975, 0.999):
        assert t_ppf(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9, abs=1e-12)
    for t in (-40.0, -2.5, -0.1, 0.0, 0.7, 3.0, 12.0):
        assert t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), rel=1e-9, abs=1e-15)


pytestmark = pytest.mark.backend_free


# --- exact moments (the aggregates' numbers) ------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kpictl.services.forecast import Moments  # noqa: E402

_VALUES = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15) | \
    st.sampled_from([1e-12, 3e-300, 1e14 + 3.0, 0.0001229, -0.0])
_POINTS = st.lists(st.tuples(st.integers(min_value=0, max_value=10**9), _VALUES), min_size=1,
                   max_size=40)


@settings(max_examples=200, deadline=None)
@given(points=_POINTS, data=st.data())
def test_moments_are_the_same_bits_in_any_order_and_any_batches(points, data):
    """What lets SQLite and PostgreSQL, a writer and a rebuild store the same row: the
    exact sums do not depend on the order of the points or on how they were batched."""
    whole = Moments.of(points)
    shuffled = data.draw(st.permutations(points))
    cut = data.draw(st.integers(min_value=0, max_value=len(points)))
    first = Moments.of(shuffled[:cut])
    stored = Moments.decode(first.n, first.encode())  # through the database's text
    stored.merge(Moments.of(shuffled[cut:]))
    assert stored.encode() == whole.encode()
    distinct = len({x for x, _ in points})
    assert stored.fit(distinct, shift=7.5, unit=86400) == whole.fit(distinct, shift=7.5,
                                                                    unit=86400)


def test_moments_are_exact_where_float_sums_cancel():
    # Three points near 1e14 one unit apart: one-pass float sums leave Syy = 0 or garbage.
    points = [(0, 1e14), (1, 1e14 + 1.0), (2, 1e14 + 2.0)]
    fit = Moments.of(points).fit(3)
    assert (fit.x_mean, fit.y_mean, fit.sxx, fit.sxy, fit.syy, fit.sse) == \
        (1.0, 1e14 + 1.0, 2.0, 2.0, 2.0, 0.0)
    assert fit.exact  # a perfect line: decided exactly
    assert Moments.of([(0, 1e308), (1, -1e308), (2, 1e308)]).fit(3) is None  # beyond a double


def test_the_t_quantile_table_is_t_ppf_bit_for_bit():
    """services/t90.py spares a portfolio one bisection per number of check-ins; each entry
    must be exactly what t_ppf computes (and close to SciPy's), or forecasts would change."""
    from kpictl.services.forecast import INTERVAL
    from kpictl.services.t90 import T90

    assert len(T90) == 250
    assert list(T90) == [t_ppf.__wrapped__(0.5 + INTERVAL / 2.0, df) for df in range(1, 251)]
    assert T90 == pytest.approx([stats.t.ppf(0.90, df) for df in range(1, 251)], rel=1e-11)
