"""The forecast of PRODUCT §3: ordinary least squares with an 80 % prediction interval.

Pure math, no I/O. With ``n`` points ``(x, y)``, ``x`` = days since the KPI's start and ``y`` =
value: ``b = Sxy/Sxx``, ``a = ȳ − b·x̄``, ``s² = SSE/(n−2)``; at the due date ``x_d`` the value
is ``a + b·x_d`` and its 80 % prediction interval is ``± t(0.90, n−2)·s·√(1 + 1/n +
(x_d−x̄)²/Sxx)``. ``probability`` is P(value at due meets the target) under that Student-t. The
t distribution is computed here (regularized incomplete beta) rather than pulling SciPy into
every install; the tests compare every number with SciPy and statsmodels.

*Numbers that can be trusted.* Every fit — from the per-KPI aggregates the database keeps (so
history is never loaded row by row) or from a KPI's points — is made from exact sums
(:class:`Moments`): centring one-pass floating-point sums (``Sxx = Σx² − (Σx)²/n``…) would
cancel digits, and values near 1e14 with small noise would leave nothing but rounding error in
SSE. Exact integer sums cancel nothing; each centred moment is rounded once, so the interval
is as good as a double can hold, and the same on every backend and in every order.

*Exact fits.* Where the residuals are pure rounding noise (a perfect line), Student's t over a
zero standard error would turn that noise into a probability of 0, ½ or 1. Such a fit is
decided exactly instead: the point forecast meets the target, within a relative tolerance, or
it does not.

*The plan.* With milestones the fit is made of the deviation from the plan, ``y − plan(x)``,
and added back to the plan at due (``method: "ols-plan"``): an owner ahead of a back-loaded
plan is forecast by how far ahead they are, not by a straight line through a curve.
"""

from __future__ import annotations

import math
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, NamedTuple

from kpictl.services.t90 import T90

if TYPE_CHECKING:  # imported where a forecast is made: a check-in needs Sums, not the schemas
    from kpictl.schemas import Forecast

METHOD = "ols"
METHOD_PLAN = "ols-plan"
#: Central share of the prediction interval (80 %: t at 0.90).
INTERVAL = 0.80
#: Residual standard deviation at or below this share of the values' magnitude is rounding
#: noise, not scatter: the fit is exact. 32 ulps: a double carries ~16 digits, and values
#: near 1e14 that scatter by a few units (~200 ulps) are data, not noise.
EXACT_FIT = 32 * 2.220446049250313e-16
_LATEST_ETA = datetime(2999, 12, 31, tzinfo=timezone.utc)


class Moments:
    """Exact sums of points ``(x, y)``: the aggregates' numbers, and every fit's.

    A double is an integer times a power of two, so ``Σx, Σy, Σx², Σxy, Σy²`` are kept exactly,
    as integers at a common binary scale (``x = sx / 2**kx``…). Nothing cancels: the centred
    moments are computed from them exactly and rounded once (:meth:`fit`), so values near 1e14
    with noise in the last digits keep their spread. Exact sums do not depend on the order the
    points came in: a writer adding a batch, a rebuild, and either backend give the same bits.
    """

    __slots__ = ("n", "kx", "ky", "sx", "sy", "sxx", "sxy", "syy", "scale", "finite")

    def __init__(self) -> None:
        self.n = self.kx = self.ky = self.sx = self.sy = self.sxx = self.sxy = self.syy = 0
        self.scale = 0.0  # the largest |y| added: what "rounding noise" is measured against
        self.finite = True

    @classmethod
    def of(cls, points) -> Moments:
        moments = cls()
        for x, y in points:
            moments.add(x, y)
        return moments

    def add(self, x, y) -> None:
        """Add the point ``(x, y)``; ``x`` an int (seconds) or a float, ``y`` a float."""
        try:
            if type(x) is int:
                nx, kx = x, 0
            else:
                nx, d = x.as_integer_ratio()
                kx = d.bit_length() - 1
            ny, d = float(y).as_integer_ratio()
        except (OverflowError, ValueError):  # ±inf or NaN (data written around kpictl)
            self.n += 1
            self.finite = False
            return
        ky = d.bit_length() - 1
        if kx != self.kx:
            if kx > self.kx:
                self._rescale(kx - self.kx, 0)
            else:
                nx <<= self.kx - kx
        if ky != self.ky:
            if ky > self.ky:
                self._rescale(0, ky - self.ky)
            else:
                ny <<= self.ky - ky
        self.n += 1
        self.sx += nx
        self.sy += ny
        self.sxx += nx * nx
        self.sxy += nx * ny
        self.syy += ny * ny
        a = abs(y)
        if a > self.scale:
            self.scale = float(a)

    def add_seconds(self, nx: int, y: float) -> None:
        """:meth:`add` for a whole-number ``x`` while every ``x`` so far was one (the
        aggregates' seconds since the start): one call per row of a bulk file, so lean."""
        try:
            ny, d = y.as_integer_ratio()
        except (OverflowError, ValueError):
            self.n += 1
            self.finite = False
            return
        ky = d.bit_length() - 1
        if ky != self.ky:
            if ky > self.ky:
                self._rescale(0, ky - self.ky)
            else:
                ny <<= self.ky - ky
        self.n += 1
        self.sx += nx
        self.sy += ny
        self.sxx += nx * nx
        self.sxy += nx * ny
        self.syy += ny * ny
        if y > self.scale or -y > self.scale:
            self.scale = float(abs(y))

    def _rescale(self, dx: int, dy: int) -> None:
        self.kx += dx
        self.ky += dy
        self.sx <<= dx
        self.sy <<= dy
        self.sxx <<= 2 * dx
        self.sxy <<= dx + dy
        self.syy <<= 2 * dy

    def merge(self, other: Moments) -> None:
        """Add ``other``'s points to these (exactly: the result is as if added one by one)."""
        if other.kx > self.kx or other.ky > self.ky:
            self._rescale(max(other.kx - self.kx, 0), max(other.ky - self.ky, 0))
        dx, dy = self.kx - other.kx, self.ky - other.ky
        self.n += other.n
        self.sx += other.sx << dx
        self.sy += other.sy << dy
        self.sxx += other.sxx << 2 * dx
        self.sxy += other.sxy << dx + dy
        self.syy += other.syy << 2 * dy
        self.scale = max(self.scale, other.scale)
        self.finite = self.finite and other.finite

    def encode(self) -> str:
        """Text for the database (``n`` is stored beside it); :meth:`decode` reads it back."""
        if not self.finite:
            return "nonfinite"
        return ":".join((str(self.kx), str(self.ky), *(format(v, "x") for v in (
            self.sx, self.sy, self.sxx, self.sxy, self.syy)), self.scale.hex()))

    @classmethod
    def decode(cls, n: int, text: str | None) -> Moments:
        moments = cls()
        moments.n = n
        if not text:
            return moments
        if text == "nonfinite":
            moments.finite = False
            return moments
        kx, ky, sx, sy, sxx, sxy, syy, scale = text.split(":")
        moments.kx, moments.ky = int(kx), int(ky)
        moments.sx, moments.sy, moments.sxx, moments.sxy, moments.syy = (
            int(v, 16) for v in (sx, sy, sxx, sxy, syy))
        moments.scale = float.fromhex(scale)
        return moments

    def fit(self, distinct_x: int, *, shift: float = 0.0, unit: int = 1,
            scale: float | None = None) -> Fit | None:
        """The centred moments, each computed exactly and rounded once; ``x`` divided by
        ``unit`` (86400: seconds to days), ``y`` less ``shift``; None when there is nothing
        to fit or a moment is beyond a double (values near ±1.7e308)."""
        n = self.n
        if n == 0 or not self.finite:
            return None
        kx, ky = self.kx, self.ky
        a = n * self.sxx - self.sx * self.sx  # n·Sxx · 4^kx
        b = n * self.sxy - self.sx * self.sy  # n·Sxy · 2^(kx+ky)
        c = n * self.syy - self.sy * self.sy  # n·Syy · 4^ky
        try:
            x_mean = self.sx / ((n * unit) << kx)
            if shift:  # sy / (n·2^ky) − p / 2^k, over one denominator: rounded once
                p, q = shift.as_integer_ratio()
                y_mean = (self.sy * q - p * (n << ky)) / ((n * q) << ky)
            else:
                y_mean = self.sy / (n << ky)
            sxx = a / ((n * unit * unit) << 2 * kx)
            sxy = b / ((n * unit) << kx + ky)
            syy = c / (n << 2 * ky)
            sse = (c * a - b * b) / ((n * a) << 2 * ky) if a > 0 else syy
        except OverflowError:
            return None
        if scale is None:
            scale = self.scale
        exact = n > 2 and math.sqrt(sse / (n - 2)) <= EXACT_FIT * max(scale, math.sqrt(syy / n))
        return Fit(n, distinct_x, x_mean, y_mean, sxx, sxy, syy, sse, exact)


class Fit(NamedTuple):
    """Centred moments of one KPI's points: means, co-moments, SSE, and whether it is exact.

    Immutable and built once per KPI of a portfolio: a named tuple costs a quarter of a
    frozen dataclass to make."""

    n: int
    distinct_x: int
    x_mean: float
    y_mean: float
    sxx: float
    sxy: float
    syy: float
    sse: float
    exact: bool

    @property
    def slope(self) -> float:
        return self.sxy / self.sxx

    @classmethod
    def of_points(cls, points: list[tuple[float, float]], *, scale: float | None = None) -> Fit:
        """The fit of ``points`` from their exact sums (:class:`Moments`).

        ``scale`` is the magnitude of the values as recorded (the points may be shifted by the
        baseline); it decides what counts as rounding noise.
        """
        moments = Moments.of(points)
        fit = moments.fit(len({x for x, _ in points}), scale=scale)
        if fit is None:
            raise OverflowError("the points' moments are beyond a double")
        return fit


# --- Student's t -------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz).

    Written for speed (a portfolio evaluates it once per forecast): comparisons instead of
    ``abs()`` calls, floats instead of ints, ``a + 2m`` once a step, and the same
    floating-point operations in the same order."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if d > tiny or d < -tiny else tiny)
    h = d
    for m, m2 in _STEPS:
        am2 = a + m2
        aa = m * (b - m) * x / ((qam + m2) * am2)
        d = 1.0 + aa * d
        d = 1.0 / (d if d > tiny or d < -tiny else tiny)
        c = 1.0 + aa / c
        if not (c > tiny or c < -tiny):
            c = tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / (am2 * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if d > tiny or d < -tiny else tiny)
        c = 1.0 + aa / c
        if not (c > tiny or c < -tiny):
            c = tiny
        delta = d * c
        h *= delta
        if -1e-15 < delta - 1.0 < 1e-15:
            break
    return h


#: The continued fraction's steps ``(m, 2m)`` as floats: the values an int converts to in
#: each mixed operation, converted once (the same bits, less work per step).
_STEPS = tuple((float(m), float(2 * m)) for m in range(1, 500))


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
    fit: Fit,
    *,
    increase: bool,
    target: float,
    start: datetime,
    due: datetime,
    as_of: datetime,
    latest_value: float,
    period_days: float,
    plan: tuple[tuple[float, float], ...] = (),
) -> Forecast | None:
    """OLS forecast of the value at ``due``; None when it cannot be honest.

    ``fit``: the centred moments of the points (:meth:`Moments.fit`). With ``plan`` — the plan's
    points ``(x, value)`` from the start through each milestone to due — the fit is of the
    deviation from the plan (``method`` "ols-plan").
    """
    n = fit.n
    if n < 3 or fit.distinct_x < 3 or fit.sxx <= 0:
        return None
    slope = fit.sxy / fit.sxx
    intercept = fit.y_mean - slope * fit.x_mean
    # Days as _days counts them, written out: a portfolio makes thousands of forecasts.
    x_due = (due - start).total_seconds() / 86400.0
    plan_at_due = plan_value(plan, x_due) if plan else 0.0
    value = plan_at_due + fit.y_mean + slope * (x_due - fit.x_mean)
    if fit.exact:
        spread = 0.0
        tolerance = _tolerance(target, plan, latest_value)
        meets = value >= target - tolerance if increase else value <= target + tolerance
        probability = 1.0 if meets else 0.0
    else:
        s = math.sqrt(fit.sse / (n - 2))
        se = s * math.sqrt(1.0 + 1.0 / n + (x_due - fit.x_mean) ** 2 / fit.sxx)
        if not se > 0 or not math.isfinite(se):
            return None  # no honest interval: never a made-up zero width
        df = n - 2  # the quantile from the table where it has it: the same bits, at once
        spread = (T90[df - 1] if df <= len(T90) else t_ppf(0.5 + INTERVAL / 2.0, df)) * se
        z = (target - value) / se
        probability = 1.0 - t_cdf(z, n - 2) if increase else t_cdf(z, n - 2)
    eta = _eta(plan, intercept, slope, target, increase, start)
    remaining_periods = (due - as_of).total_seconds() / 86400.0 / period_days
    required = (target - latest_value) / remaining_periods if remaining_periods > 0 else None
    # The fitted change per period: the trend's slope, plus the plan's own where it has one.
    rate = (slope + (_plan_slope(plan, _days(as_of - start)) if plan else 0.0)) * period_days
    return (_Forecast or _forecast_type())(
        method=METHOD_PLAN if plan else METHOD, points=n, value_at_due=value,
        low=value - spread, high=value + spread, probability=probability, eta=eta, rate=rate,
        required_rate=required)


_Forecast = None  # kpictl.schemas.Forecast once imported (a check-in needs Moments only)


def _forecast_type():
    global _Forecast
    from kpictl.schemas import Forecast

    _Forecast = Forecast
    return Forecast


def _tolerance(target: float, plan, latest_value: float) -> float:
    """How close to the target a point forecast must be to meet it, for an exact fit."""
    base = plan[0][1] if plan else 0.0
    return 1e-9 * max(abs(target), abs(target - base), abs(latest_value), 1e-300)


def plan_value(plan, x: float) -> float:
    """The plan, piecewise-linear through its points and flat outside them."""
    if x <= plan[0][0]:
        return plan[0][1]
    for (x0, y0), (x1, y1) in zip(plan, plan[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1
    return plan[-1][1]


def _plan_slope(plan, x: float) -> float:
    for (x0, y0), (x1, y1) in zip(plan, plan[1:]):
        if x0 <= x < x1:
            return (y1 - y0) / (x1 - x0)
    return 0.0


def _eta(plan, intercept: float, slope: float, target: float, increase: bool,
         start: datetime) -> datetime | None:
    """When ``plan(x) + intercept + slope·x`` first reaches the target (None if never)."""
    limit = (_LATEST_ETA - start).total_seconds() / 86400
    if not plan:
        if not ((slope > 0) if increase else (slope < 0)):
            return None
        x_eta = (target - intercept) / slope
        if x_eta < limit:
            # To the minute: finer digits would only echo floating-point noise.
            return start + timedelta(minutes=round(x_eta * 1440))
        return None
    # Segments of the plan (x0, x1, value at x0, slope); past its last point the plan is flat.
    segments = []
    for (x0, y0), (x1, y1) in zip(plan, plan[1:]):
        if x1 > x0:
            segments.append((x0, x1, y0, (y1 - y0) / (x1 - x0)))
    segments.append((plan[-1][0], math.inf, plan[-1][1], 0.0))
    sign = 1.0 if increase else -1.0
    for x0, x1, p0, p_slope in segments:
        level0 = p0 + intercept + slope * x0
        total_slope = p_slope + slope
        if sign * (level0 - target) >= 0:
            x_eta = x0
        elif sign * total_slope > 0:
            x_eta = x0 + (target - level0) / total_slope
            if x_eta > x1:
                continue
        else:
            continue
        if x_eta < limit:
            # To the minute: finer digits would only echo floating-point noise.
            return start + timedelta(minutes=round(x_eta * 1440))
        return None
    return None


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400.0
