"""The forecast of PRODUCT §3: ordinary least squares with an 80 % prediction interval.

Pure math, no I/O: the report hands in per-KPI sums that the database computed (so history is
never loaded row by row) and gets a :class:`~kpictl.schemas.Forecast` back, or None when an
honest forecast is impossible (fewer than 3 distinct times, or no spread in time).

With ``n`` points ``(x, y)``, ``x`` = days since the KPI's start and ``y`` = value:
``b = Sxy/Sxx``, ``a = ȳ − b·x̄``, ``s² = SSE/(n−2)``; at the due date ``x_d`` the value is
``a + b·x_d`` and its 80 % prediction interval is ``± t(0.90, n−2)·s·√(1 + 1/n + (x_d−x̄)²/Sxx)``.
``probability`` is P(value at due meets the target) under that Student-t. The t distribution
is computed here (regularized incomplete beta) rather than pulling SciPy into every install;
the tests compare every number with SciPy.
"""

from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from kpictl.schemas import Forecast

METHOD = "ols"
#: Central share of the prediction interval (80 %: t at 0.90).
INTERVAL = 0.80
_LATEST_ETA = datetime(2999, 12, 31, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Sums:
    """Sufficient statistics of the points ``(x, y)`` of one KPI."""

    n: int
    distinct_x: int
    sx: float
    sy: float
    sxx: float
    sxy: float
    syy: float

    @classmethod
    def of(cls, points: list[tuple[float, float]]) -> Sums:
        xs = [x for x, _ in points]
        ys = [y for _, y in points]
        return cls(n=len(points), distinct_x=len(set(xs)), sx=sum(xs), sy=sum(ys),
                   sxx=sum(x * x for x in xs), sxy=sum(x * y for x, y in points),
                   syy=sum(y * y for y in ys))


# --- Student's t -------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@lru_cache(maxsize=1024)  # reports ask for t(0.90, n−2) once per KPI: n repeats a lot
def t_ppf(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on :func:`t_cdf`; exact to ~1e-12)."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


# --- the forecast --------------------------------------------------------------------------


def forecast(
    sums: Sums,
    *,
    increase: bool,
    target: float,
    start: datetime,
    due: datetime,
    as_of: datetime,
    latest_value: float,
    period_days: float,
) -> Forecast | None:
    """OLS forecast of the value at ``due``; None when it cannot be honest."""
    n = sums.n
    if n < 3 or sums.distinct_x < 3:
        return None
    x_mean, y_mean = sums.sx / n, sums.sy / n
    sxx = sums.sxx - sums.sx * x_mean
    if sxx <= 1e-12 * max(1.0, sums.sxx):
        return None
    sxy = sums.sxy - sums.sx * y_mean
    syy = sums.syy - sums.sy * y_mean
    slope = sxy / sxx
    intercept = y_mean - slope * x_mean
    sse = max(0.0, syy - slope * sxy)
    s = math.sqrt(sse / (n - 2))
    x_due = _days(due - start)
    value = intercept + slope * x_due
    se = s * math.sqrt(1.0 + 1.0 / n + (x_due - x_mean) ** 2 / sxx)
    spread = t_ppf(0.5 + INTERVAL / 2.0, n - 2) * se
    if se > 0:
        z = (target - value) / se
        probability = 1.0 - t_cdf(z, n - 2) if increase else t_cdf(z, n - 2)
    else:
        probability = 1.0 if (value >= target if increase else value <= target) else 0.0
    eta = None
    if (slope > 0) if increase else (slope < 0):
        x_eta = (target - intercept) / slope
        if x_eta < (_LATEST_ETA - start).total_seconds() / 86400:
            # To the minute: finer digits would only echo floating-point noise.
            eta = start + timedelta(minutes=round(x_eta * 1440))
    remaining_periods = _days(due - as_of) / period_days
    required = (target - latest_value) / remaining_periods if remaining_periods > 0 else None
    return Forecast(method=METHOD, points=n, value_at_due=value, low=value - spread,
                    high=value + spread, probability=probability, eta=eta,
                    rate=slope * period_days, required_rate=required)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400.0
