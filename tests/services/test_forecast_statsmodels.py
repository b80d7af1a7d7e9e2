"""The forecast against statsmodels (issue 14, item 6): 80 % prediction intervals within 1 % of
``obs_ci`` for values from 1e-12 to 1e15 and relative noise down to 1e-9, or no forecast at
all; exact decisions for zero-residual fits; the plan-relative fit ("ols-plan")."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import statsmodels.api as sm

from kpictl.services.forecast import Fit, Moments, forecast

START = datetime(2027, 1, 1, tzinfo=timezone.utc)
DUE = START + timedelta(days=90)
X_DUE = 90.0


def reference(points, x_due=X_DUE):
    """statsmodels' OLS: the point prediction and the 80 % obs_ci at ``x_due``."""
    xs = np.array([x for x, _ in points])
    ys = np.array([y for _, y in points])
    model = sm.OLS(ys, sm.add_constant(xs)).fit()
    frame = model.get_prediction(np.array([[1.0, x_due]])).summary_frame(alpha=0.2)
    return (float(frame["mean"].iloc[0]), float(frame["obs_ci_lower"].iloc[0]),
            float(frame["obs_ci_upper"].iloc[0]))


def ours(points, *, target, increase=True):
    """What the report does: the aggregates' moments, kept by writers that each add a batch to
    the stored row (exact sums, stored as text) — never recomputed from the points."""
    half = len(points) // 2
    stored = Moments.of(points[:half])
    moments = Moments.decode(stored.n, stored.encode())
    moments.merge(Moments.of(points[half:]))
    fit = moments.fit(len({x for x, _ in points}))
    assert fit == Fit.of_points(points)  # the same bits, whatever the batches
    return forecast(fit, increase=increase, target=target, start=START, due=DUE,
                    as_of=START + timedelta(days=points[-1][0]), latest_value=points[-1][1],
                    period_days=7.0)


def noisy_line(scale, noise, seed, n=8):
    rng = random.Random(seed)
    return [(float(7 * i), scale * (1.0 + 0.01 * i) + scale * noise * rng.gauss(0, 1))
            for i in range(n)]


@pytest.mark.parametrize("scale", [1e-12, 1e-6, 1.0, 1e3, 1e9, 1e13, 1e14, 1e15])
@pytest.mark.parametrize("noise", [1e-2, 1e-5, 1e-9])
def test_interval_matches_statsmodels_obs_ci(scale, noise):
    points = noisy_line(scale, noise, seed=int(math.log10(scale) * 7 + math.log10(noise)))
    mean, lo, hi = reference(points)
    target = scale * 1.12
    got = ours(points, target=target)
    assert got is not None, "a forecast is possible: statsmodels gives one"
    width = hi - lo
    assert width > 0
    assert abs(got.value_at_due - mean) <= 0.01 * width / 2
    assert abs(got.low - lo) <= 0.01 * width / 2
    assert abs(got.high - hi) <= 0.01 * width / 2
    assert (got.high - got.low) == pytest.approx(width, rel=0.01)


def test_values_near_1e14_with_small_noise_keep_their_interval():
    # One-pass sums of these values cancel to nothing: the old code gave a zero-width
    # interval and probability 0 where statsmodels gives a real spread; exact sums keep it.
    points = [(0.0, 1e14 + 3.0), (7.0, 1e14 + 10.0), (14.0, 1e14 + 13.0), (21.0, 1e14 + 24.0),
              (28.0, 1e14 + 27.0)]
    mean, lo, hi = reference(points)
    target = 1e14 + 88.0
    got = ours(points, target=target)
    assert got.high - got.low == pytest.approx(hi - lo, rel=0.01)
    from scipy import stats

    se = (hi - mean) / stats.t.ppf(0.9, len(points) - 2)
    expected = 1.0 - stats.t.cdf((target - mean) / se, len(points) - 2)
    assert 0.1 < expected < 0.5
    assert got.probability == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("seed", range(200))
def test_a_perfect_line_on_target_is_decided_exactly(seed):
    # 200 lines that reach the target exactly at due: none may be called a miss.
    rng = random.Random(seed)
    slope = rng.choice([-1, 1]) * 10 ** rng.uniform(-3, 3)
    target = 10 ** rng.uniform(-6, 12) * rng.choice([-1, 1])
    points = [(x, target + slope * (x - X_DUE)) for x in (3.0, 17.0, 31.0, 45.0)]
    got = ours(points, target=target, increase=slope > 0)
    assert got is not None
    assert got.probability == 1.0
    assert got.low == got.high == got.value_at_due
    mean, lo, hi = reference(points)
    assert got.value_at_due == pytest.approx(mean, rel=1e-9, abs=1e-9 * abs(slope))
    # Just short of the target (by more than the tolerance): exactly 0.
    short = ours(points, target=target + math.copysign(1e-6 * abs(target) + 1e-6 * abs(slope),
                                                       slope), increase=slope > 0)
    assert short.probability == 0.0


@pytest.mark.parametrize("points", [
    [(1.0, 1.0), (2.0, 2.0)],
    [(5.0, 1.0), (5.0, 2.0), (5.0, 3.0)],
    [(5.0, 1e15), (5.0, 2e15), (9.0, 3e15)],
])
def test_degenerate_fits_have_no_forecast(points):
    assert ours(points, target=10.0) is None


def test_tiny_target_keeps_full_precision():
    points = [(0.0, 1e-12), (7.0, 2.1e-12), (14.0, 2.9e-12), (21.0, 4.2e-12)]
    got = ours(points, target=1e-11)
    mean, lo, hi = reference(points)
    assert got.value_at_due == pytest.approx(mean, rel=1e-9)
    assert got.rate == pytest.approx(7 * np.polyfit([p[0] for p in points],
                                                    [p[1] for p in points], 1)[0], rel=1e-9)


def test_plan_relative_fit_matches_statsmodels_on_the_deviation():
    # A back-loaded plan (20 by day 58, 100 by day 90) that the owner is well ahead of.
    plan = ((0.0, 0.0), (58.0, 20.0), (90.0, 100.0))
    actual = [(9.0, 10.0), (19.0, 20.0), (30.0, 30.0), (40.0, 35.0)]

    def plan_at(x):
        return 20.0 * x / 58.0 if x <= 58 else 20.0 + 80.0 * (x - 58.0) / 32.0

    deviation = [(x, y - plan_at(x)) for x, y in actual]
    got = forecast(Fit.of_points(deviation, scale=35.0), increase=True, target=100.0,
                   start=START, due=DUE, as_of=START + timedelta(days=41), latest_value=35.0,
                   period_days=7.0, plan=plan)
    mean, lo, hi = reference(deviation)
    assert got.method == "ols-plan"
    assert got.value_at_due == pytest.approx(100.0 + mean, rel=1e-12)
    assert (got.low, got.high) == (pytest.approx(100.0 + lo, rel=1e-9),
                                   pytest.approx(100.0 + hi, rel=1e-9))
    assert got.probability > 0.5  # ahead of the plan: not a forecast miss
    plain = ours(actual, target=100.0)
    assert plain.method == "ols" and plain.probability < 0.5  # what the old method said
