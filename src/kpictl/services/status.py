"""Progress, pace, staleness and status of one KPI at one instant (PRODUCT §3).

Pure functions over plain values: no database, no clock. ``evaluate`` is the only entry point
the report needs; the smaller functions are exposed for tests and for the forecast.

Note that for ``increase`` and ``decrease`` the two formulas of §3, ``(v−b)/(t−b)`` and
``(b−v)/(b−t)``, are the same number; the kinds differ in what a valid target is (above or
below the baseline), which ``assign`` enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kpictl.domain import DEFAULTS, Flag, Kind, Status, Thresholds


@dataclass(slots=True)  # one per KPI of a portfolio: slots, not frozen, to build cheaply
class KpiFacts:
    """Everything the rules need about one KPI at the instant ``as_of``."""

    kind: Kind
    baseline: float | None
    target: float | None
    low: float | None
    high: float | None
    start: datetime
    due: datetime
    closed_outcome: str | None  # the outcome if the KPI was closed at or before as_of
    latest_value: float | None
    latest_at: datetime | None
    latest_confidence: int | None
    latest_blocker: str | None
    window_checkins: int = 0  # check-ins measured in [start, min(due, as_of)]
    window_met: int = 0  # … of which met the threshold (maintain kinds)
    milestones: tuple[tuple[datetime, float], ...] = ()
    next_checkin_due: datetime | None = None
    stale_after: datetime | None = None  # next_checkin_due + grace
    forecast_probability: float | None = None


@dataclass(slots=True)
class Evaluation:
    progress: float | None
    progress_raw: float | None
    expected_progress: float | None
    status: Status
    flags: list[Flag] = field(default_factory=list)
    suggested_outcome: str | None = None


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, x))


def raw_progress(baseline: float, target: float, value: float) -> float:
    """Share of the way from baseline to target; negative when worse than the baseline."""
    return (value - baseline) / (target - baseline)


def meets_threshold(kind: Kind, value: float, *, target, low, high) -> bool:
    if kind is Kind.AT_LEAST:
        return value >= target
    if kind is Kind.AT_MOST:
        return value <= target
    if kind is Kind.RANGE:
        return low <= value <= high
    raise ValueError(f"{kind} has no threshold")


def elapsed_share(start: datetime, due: datetime, as_of: datetime) -> float:
    span = (due - start).total_seconds()
    if span <= 0:
        return 1.0
    return clamp((as_of - start).total_seconds() / span)


def expected_value(facts: KpiFacts, as_of: datetime) -> float:
    """Benchmark value at ``as_of``: piecewise-linear through start, milestones and due."""
    points = [(facts.start, facts.baseline)]
    points += [(at, v) for at, v in sorted(facts.milestones) if facts.start < at < facts.due]
    points.append((facts.due, facts.target))
    if as_of <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in zip(points, points[1:]):
        if as_of <= t1:
            share = (as_of - t0).total_seconds() / (t1 - t0).total_seconds()
            return v0 + (v1 - v0) * share
    return points[-1][1]


def expected_progress(facts: KpiFacts, as_of: datetime) -> float | None:
    """The plan's share at ``as_of``; None for the maintain kinds, which have no pace."""
    if facts.kind.is_maintain:
        return None
    if not facts.milestones:
        return elapsed_share(facts.start, facts.due, as_of)
    return clamp(raw_progress(facts.baseline, facts.target, expected_value(facts, as_of)))


def target_reached(facts: KpiFacts) -> bool:
    """An ``increase``/``decrease`` KPI whose latest value reached the target: done work."""
    if facts.kind.is_maintain or facts.latest_value is None:
        return False
    return raw_progress(facts.baseline, facts.target, facts.latest_value) >= 1.0


def suggested_outcome(facts: KpiFacts, as_of: datetime,
                      thresholds: Thresholds = DEFAULTS) -> str | None:
    """PRODUCT §3 *Due passed*: the outcome ``close`` applies to an active KPI past due.

    ``achieved`` when the target was reached (increase/decrease) or the threshold held in at
    least ``hold_share`` of the window's check-ins (maintain kinds), else ``missed``; None
    while the KPI is closed or not yet due.
    """
    if facts.closed_outcome is not None or as_of <= facts.due:
        return None
    if facts.kind.is_maintain:
        held = (facts.window_checkins > 0
                and facts.window_met >= thresholds.hold_share * facts.window_checkins)
        return str(Status.ACHIEVED) if held else str(Status.MISSED)
    return str(Status.ACHIEVED) if target_reached(facts) else str(Status.MISSED)


#: Flags that turn "on track" into "at risk".
_WARNING_FLAGS = frozenset({Flag.STALE, Flag.BLOCKED, Flag.LOW_CONFIDENCE, Flag.FORECAST_MISS})


def evaluate(facts: KpiFacts, as_of: datetime, thresholds: Thresholds = DEFAULTS) -> Evaluation:
    """Status and flags by the precedence of PRODUCT §3 (first match wins)."""
    kind = facts.kind
    expected = expected_progress(facts, as_of)
    progress = progress_raw = None
    target_met = False
    if facts.latest_value is not None:
        if kind.is_maintain:
            target_met = meets_threshold(
                kind, facts.latest_value, target=facts.target, low=facts.low, high=facts.high
            )
            if facts.window_checkins:
                progress = facts.window_met / facts.window_checkins
                progress_raw = progress
        else:
            progress_raw = raw_progress(facts.baseline, facts.target, facts.latest_value)
            progress = clamp(progress_raw)
            target_met = progress_raw >= 1.0

    flags: list[Flag] = []
    outcome = suggested_outcome(facts, as_of, thresholds)
    if facts.closed_outcome is None:
        if facts.stale_after is not None and as_of > facts.stale_after:
            flags.append(Flag.STALE)
        if as_of > facts.due and not target_met:
            flags.append(Flag.OVERDUE)
        if facts.latest_value is not None:
            if facts.latest_blocker:
                flags.append(Flag.BLOCKED)
            conf = facts.latest_confidence
            if conf is not None and conf <= thresholds.low_confidence:
                flags.append(Flag.LOW_CONFIDENCE)
        p = facts.forecast_probability
        if (p is not None and p < thresholds.forecast_miss_probability and not target_met
                and as_of <= facts.due):
            flags.append(Flag.FORECAST_MISS)
        if outcome is not None:
            flags.append(Flag.NEEDS_CLOSE)

    if facts.closed_outcome is not None:
        status = Status(facts.closed_outcome)
    elif facts.latest_value is None:
        status = Status.NO_DATA
    elif target_met:
        status = Status.ON_TRACK if kind.is_maintain else Status.ACHIEVED
    elif as_of > facts.due:
        status = Status.OVERDUE
    elif kind.is_maintain:
        status = Status.OFF_TRACK
    else:
        # The pace gap is taken on the *unclamped* progress: a value that moved the wrong way
        # past the baseline is behind by all of that, not by zero.
        status = _pace(expected, progress_raw, thresholds)
    if status is Status.ON_TRACK and _WARNING_FLAGS.intersection(flags):
        status = Status.AT_RISK
    return Evaluation(progress, progress_raw, expected, status, flags, outcome)


@dataclass(frozen=True)
class ChildFacts:
    """What an objective's roll-up reads of one child (a KPI or objective) at the instant."""

    weight: float
    status: str
    flags: tuple[str, ...]
    progress: float | None  # clamped, 0..1
    expected_progress: float | None  # None: the child has no pace (maintain kinds)


#: A child in one of these states, or with one of these flags, gives its objective the flag
#: ``child_at_risk`` (and an objective with that flag passes it up).
AT_RISK_STATUSES = frozenset({Status.OFF_TRACK, Status.OVERDUE})
AT_RISK_FLAGS = frozenset({Flag.BLOCKED, Flag.OVERDUE, Flag.CHILD_AT_RISK})


def child_at_risk(child: ChildFacts) -> bool:
    return child.status in AT_RISK_STATUSES or bool(AT_RISK_FLAGS.intersection(child.flags))


def rolled_up(children: list[ChildFacts]) -> tuple[float | None, float | None]:
    """``(progress, expected_progress)`` of an objective: the weighted means over its children
    that have a pace. A paced child with no check-in yet counts as progress 0 (silence is
    never green); an achieved child counts as done (1, 1); a missed one as its final progress
    against a plan that wanted it done (expected 1). Cancelled children are not counted."""
    total = done = expected = 0.0
    for child in children:
        if child.status == Status.CANCELLED or child.expected_progress is None:
            continue
        if child.status == Status.ACHIEVED:
            p, e = 1.0, 1.0
        elif child.status == Status.MISSED:
            p, e = child.progress or 0.0, 1.0
        else:
            p, e = child.progress or 0.0, child.expected_progress
        total += child.weight
        done += child.weight * p
        expected += child.weight * e
    if total == 0:
        return None, None
    return clamp(done / total), clamp(expected / total)


def evaluate_objective(children: list[ChildFacts], *, due: datetime, as_of: datetime,
                       closed_outcome: str | None,
                       thresholds: Thresholds = DEFAULTS) -> Evaluation:
    """Status and flags of an objective by the KPI rules of PRODUCT §3 applied to its roll-up.

    First match wins: closed → its outcome; no child counted, or none with data → ``no_data``;
    target met (every paced child done: progress 1; with no paced child, every child with data
    on track or achieved and none at risk) → ``achieved`` (``on_track`` without a pace, like
    the maintain kinds); due passed → ``overdue`` (flags ``overdue`` and ``needs_close``, a
    ``suggested_outcome`` as for a KPI); then the pace gap as for a KPI, or ``on_track`` with no
    paced child. ``child_at_risk`` turns ``on_track`` into ``at_risk`` like the other flags.
    """
    progress, expected = rolled_up(children)
    counted = [c for c in children if c.status != Status.CANCELLED]
    risky = any(child_at_risk(c) for c in children)
    if progress is not None:
        met = progress >= 1.0
    else:
        met = not risky and all(c.status in (Status.ON_TRACK, Status.ACHIEVED)
                                for c in counted if c.status != Status.NO_DATA)
    flags: list[Flag] = []
    outcome = None
    if closed_outcome is None:
        if as_of > due:
            outcome = str(Status.ACHIEVED if met else Status.MISSED)
            if not met:
                flags.append(Flag.OVERDUE)
        if risky:
            flags.append(Flag.CHILD_AT_RISK)
        if outcome is not None:
            flags.append(Flag.NEEDS_CLOSE)
    if closed_outcome is not None:
        status = Status(closed_outcome)
    elif not counted or all(c.status == Status.NO_DATA for c in counted):
        status = Status.NO_DATA
        progress = None  # like a KPI with no check-in: nothing measured yet
    elif met:
        status = Status.ACHIEVED if progress is not None else Status.ON_TRACK
    elif as_of > due:
        status = Status.OVERDUE
    elif progress is None:
        status = Status.ON_TRACK
    else:
        status = _pace(expected, progress, thresholds)
    if status is Status.ON_TRACK and risky:
        status = Status.AT_RISK
    return Evaluation(progress, progress, expected, status, flags, outcome)


def _pace(expected: float, progress: float, thresholds: Thresholds) -> Status:
    """The pace rule (PRODUCT §3 rule 5) for a KPI and an objective alike. It compares the
    numbers the table shows (4 decimals), so 40 % against 50 % is "on track" as the README
    says, not a 0.1000002 gap from a 23:59:59 due time."""
    gap = round(round(expected, 4) - round(progress, 4), 9)
    if gap <= thresholds.on_track_gap:
        return Status.ON_TRACK
    if gap <= thresholds.at_risk_gap:
        return Status.AT_RISK
    return Status.OFF_TRACK
