"""The pure rules of PRODUCT §3 in services/status.py: progress, expected pace, thresholds,
status precedence and flags. No database: every case is a ``KpiFacts`` built by hand.

The KPI window used throughout is ten days, so the elapsed share is easy to read:
``at(4.5)`` is 45 % of the way from start to due.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kpictl.domain import DEFAULTS, Flag, Kind, Status
from kpictl.services.status import (
    KpiFacts,
    clamp,
    elapsed_share,
    evaluate,
    expected_progress,
    meets_threshold,
    raw_progress,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
DUE = START + timedelta(days=10)


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def facts(kind: Kind = Kind.INCREASE, **overrides) -> KpiFacts:
    """An active KPI 0 → 100 over ten days; overrides set the latest check-in and the rest."""
    base = {
        "kind": kind,
        "baseline": 0.0 if not kind.is_maintain else None,
        "target": 100.0 if kind is not Kind.RANGE else None,
        "low": None,
        "high": None,
        "start": START,
        "due": DUE,
        "closed_outcome": None,
        "latest_value": None,
        "latest_at": None,
        "latest_confidence": None,
        "latest_blocker": None,
    }
    base.update(overrides)
    if base["latest_value"] is not None and base["latest_at"] is None:
        base["latest_at"] = at(1)
    return KpiFacts(**base)


# --------------------------------------------------------------------------- raw progress


@pytest.mark.parametrize(
    ("baseline", "target", "value", "expected"),
    [
        (0, 100, 40, 0.4),  # increase
        (20, 120, 70, 0.5),  # increase from a non-zero baseline
        (240, 60, 150, 0.5),  # decrease: lower is better
        (240, 60, 60, 1.0),  # decrease: exactly at target
        (-10, -50, -30, 0.5),  # decrease entirely in negative values
        (-20, 20, 0, 0.5),  # increase crossing zero
        (5, -3, 1, 0.5),  # decrease crossing zero
        (5, -3, -3, 1.0),
        (5, -3, -7, 1.5),  # beyond the target
        (5, -3, 9, -0.5),  # worse than the baseline
        (0, 100, 150, 1.5),
        (0, 100, -25, -0.25),
    ],
)
def test_raw_progress_is_share_from_baseline_to_target(baseline, target, value, expected):
    assert raw_progress(baseline, target, value) == pytest.approx(expected, abs=1e-12)


def test_raw_progress_of_decrease_equals_both_formulas():
    b, t, v = 5.0, -3.0, 1.0
    assert raw_progress(b, t, v) == pytest.approx((b - v) / (b - t))
    assert raw_progress(b, t, v) == pytest.approx((v - b) / (t - b))


@pytest.mark.parametrize(("x", "expected"), [(-0.5, 0.0), (0.0, 0.0), (0.4, 0.4), (1.0, 1.0),
                                             (1.5, 1.0)])
def test_clamp_limits_to_zero_one(x, expected):
    assert clamp(x) == expected


def test_evaluate_reports_raw_above_one_and_clamps_progress():
    ev = evaluate(facts(latest_value=150.0), at(5))
    assert ev.progress_raw == pytest.approx(1.5)
    assert ev.progress == 1.0


def test_evaluate_reports_raw_below_zero_and_clamps_progress():
    ev = evaluate(facts(latest_value=-25.0), at(5))
    assert ev.progress_raw == pytest.approx(-0.25)
    assert ev.progress == 0.0
    assert ev.status is Status.OFF_TRACK


def test_evaluate_decrease_crossing_zero():
    ev = evaluate(facts(Kind.DECREASE, baseline=5.0, target=-3.0, latest_value=1.0), at(5))
    assert ev.progress_raw == pytest.approx(0.5)
    assert ev.progress == pytest.approx(0.5)
    assert ev.expected_progress == pytest.approx(0.5)
    assert ev.status is Status.ON_TRACK


def test_evaluate_decrease_worse_than_baseline_is_negative():
    ev = evaluate(facts(Kind.DECREASE, baseline=5.0, target=-3.0, latest_value=9.0), at(5))
    assert ev.progress_raw == pytest.approx(-0.5)
    assert ev.progress == 0.0
    assert ev.status is Status.OFF_TRACK


# --------------------------------------------------------------------------- thresholds


@pytest.mark.parametrize(
    ("kind", "value", "target", "low", "high", "met"),
    [
        (Kind.AT_LEAST, 25.0, 25.0, None, None, True),  # boundary counts
        (Kind.AT_LEAST, 24.99, 25.0, None, None, False),
        (Kind.AT_LEAST, 30.0, 25.0, None, None, True),
        (Kind.AT_LEAST, -4.0, -5.0, None, None, True),  # negative threshold
        (Kind.AT_MOST, 300.0, 300.0, None, None, True),
        (Kind.AT_MOST, 300.5, 300.0, None, None, False),
        (Kind.AT_MOST, -6.0, -5.0, None, None, True),
        (Kind.RANGE, 99.9, None, 99.9, 100.0, True),  # both bounds inclusive
        (Kind.RANGE, 100.0, None, 99.9, 100.0, True),
        (Kind.RANGE, 99.89, None, 99.9, 100.0, False),
        (Kind.RANGE, 100.01, None, 99.9, 100.0, False),
        (Kind.RANGE, 0.0, None, -1.0, 1.0, True),
    ],
)
def test_meets_threshold_for_maintain_kinds(kind, value, target, low, high, met):
    assert meets_threshold(kind, value, target=target, low=low, high=high) is met


@pytest.mark.parametrize("kind", [Kind.INCREASE, Kind.DECREASE])
def test_meets_threshold_refuses_progress_kinds(kind):
    with pytest.raises(ValueError):
        meets_threshold(kind, 1.0, target=2.0, low=None, high=None)


# --------------------------------------------------------------------------- expected progress


@pytest.mark.parametrize(("as_of", "share"), [(at(-1), 0.0), (at(0), 0.0), (at(2.5), 0.25),
                                               (at(10), 1.0), (at(12), 1.0)])
def test_elapsed_share_is_clamped(as_of, share):
    assert elapsed_share(START, DUE, as_of) == pytest.approx(share)


def test_expected_progress_without_milestones_is_elapsed_share():
    assert expected_progress(facts(), at(4.5)) == pytest.approx(0.45)


def test_expected_progress_with_milestone_is_piecewise_linear():
    # (start, 0) → (day 5, 80) → (due, 100)
    f = facts(milestones=((at(5), 80.0),))
    assert expected_progress(f, at(2.5)) == pytest.approx(0.40)
    assert expected_progress(f, at(5)) == pytest.approx(0.80)
    assert expected_progress(f, at(7.5)) == pytest.approx(0.90)
    assert expected_progress(f, at(10)) == pytest.approx(1.0)
    assert expected_progress(f, at(-1)) == 0.0
    assert expected_progress(f, at(11)) == 1.0


def test_expected_progress_with_unsorted_milestones():
    f = facts(milestones=((at(8), 90.0), (at(2), 50.0)))
    assert expected_progress(f, at(1)) == pytest.approx(0.25)  # halfway to 50 at day 2
    assert expected_progress(f, at(5)) == pytest.approx(0.70)  # halfway 50 → 90
    assert expected_progress(f, at(9)) == pytest.approx(0.95)  # halfway 90 → 100


def test_expected_progress_with_milestone_for_decrease():
    # 240 → 60; milestone day 5 at 96 (80 % of the way)
    f = facts(Kind.DECREASE, baseline=240.0, target=60.0, milestones=((at(5), 96.0),))
    assert expected_progress(f, at(5)) == pytest.approx(0.80)
    assert expected_progress(f, at(2.5)) == pytest.approx(0.40)


def test_expected_progress_with_milestone_decrease_crossing_zero():
    f = facts(Kind.DECREASE, baseline=5.0, target=-3.0, milestones=((at(5), -1.0),))
    assert expected_progress(f, at(5)) == pytest.approx(0.75)


def test_expected_progress_ignores_milestones_outside_the_window():
    f = facts(milestones=((at(-3), 90.0), (at(15), 10.0)))
    assert expected_progress(f, at(5)) == pytest.approx(0.5)


@pytest.mark.parametrize("kind", [Kind.AT_LEAST, Kind.AT_MOST, Kind.RANGE])
def test_expected_progress_is_none_for_maintain_kinds(kind):
    # A share of time compared with a share of check-ins means nothing: no pace at all.
    f = facts(kind, target=None if kind is Kind.RANGE else 25.0,
              low=10.0 if kind is Kind.RANGE else None, high=20.0 if kind is Kind.RANGE else None,
              latest_value=15.0, window_checkins=4, window_met=2)
    assert expected_progress(f, at(3)) is None
    assert evaluate(f, at(3)).expected_progress is None


def test_milestone_changes_status_against_pace():
    # Progress 0.5 at day 5: on track by elapsed share, 30 points behind the milestone 80.
    plain = evaluate(facts(latest_value=50.0), at(5))
    bench = evaluate(facts(latest_value=50.0, milestones=((at(5), 80.0),)), at(5))
    assert plain.status is Status.ON_TRACK
    assert bench.expected_progress == pytest.approx(0.8)
    assert bench.status is Status.OFF_TRACK


# --------------------------------------------------------------------------- status precedence


@pytest.mark.parametrize("outcome", ["achieved", "missed", "cancelled"])
def test_evaluate_closed_kpi_takes_its_outcome(outcome):
    # Everything else would say something different: target met, past due, stale, blocked.
    f = facts(closed_outcome=outcome, latest_value=150.0, latest_confidence=1,
              latest_blocker="legal", stale_after=at(2), forecast_probability=0.1)
    ev = evaluate(f, at(12))
    assert ev.status is Status(outcome)
    assert ev.flags == []


def test_evaluate_closed_without_data_is_outcome_not_no_data():
    ev = evaluate(facts(closed_outcome="cancelled"), at(3))
    assert ev.status is Status.CANCELLED
    assert ev.flags == []


def test_evaluate_no_checkin_is_no_data():
    ev = evaluate(facts(), at(5))
    assert ev.status is Status.NO_DATA
    assert ev.progress is None
    assert ev.progress_raw is None
    assert ev.expected_progress == pytest.approx(0.5)
    assert ev.flags == []


def test_evaluate_no_data_beats_overdue_but_keeps_flags():
    ev = evaluate(facts(stale_after=at(3)), at(11))
    assert ev.status is Status.NO_DATA
    assert ev.flags == [Flag.STALE, Flag.OVERDUE, Flag.NEEDS_CLOSE]


def test_evaluate_increase_reaching_target_is_achieved():
    ev = evaluate(facts(latest_value=100.0), at(3))
    assert ev.status is Status.ACHIEVED
    assert ev.progress == 1.0


def test_evaluate_decrease_reaching_target_is_achieved():
    ev = evaluate(facts(Kind.DECREASE, baseline=240.0, target=60.0, latest_value=55.0), at(3))
    assert ev.status is Status.ACHIEVED
    assert ev.progress_raw == pytest.approx(185 / 180)


def test_evaluate_achieved_beats_overdue_and_has_no_overdue_flag():
    ev = evaluate(facts(latest_value=101.0), at(12))
    assert ev.status is Status.ACHIEVED
    assert Flag.OVERDUE not in ev.flags


def test_evaluate_achieved_is_not_downgraded_by_warnings():
    ev = evaluate(facts(latest_value=120.0, latest_blocker="x", latest_confidence=1,
                        stale_after=at(2)), at(5))
    assert ev.status is Status.ACHIEVED
    assert ev.flags == [Flag.STALE, Flag.BLOCKED, Flag.LOW_CONFIDENCE]


@pytest.mark.parametrize(
    ("kind", "kw", "value"),
    [
        (Kind.AT_LEAST, {"target": 25.0}, 25.0),
        (Kind.AT_MOST, {"target": 300.0}, 280.0),
        (Kind.RANGE, {"target": None, "low": 30.0, "high": 45.0}, 45.0),
    ],
)
def test_evaluate_maintain_kind_meeting_threshold_is_on_track(kind, kw, value):
    ev = evaluate(facts(kind, latest_value=value, window_checkins=1, window_met=1, **kw), at(5))
    assert ev.status is Status.ON_TRACK
    assert ev.progress == 1.0


@pytest.mark.parametrize(
    ("kind", "kw", "value"),
    [
        (Kind.AT_LEAST, {"target": 25.0}, 24.0),
        (Kind.AT_MOST, {"target": 300.0}, 301.0),
        (Kind.RANGE, {"target": None, "low": 30.0, "high": 45.0}, 29.0),
    ],
)
def test_evaluate_maintain_kind_missing_threshold_is_off_track(kind, kw, value):
    # 9 of 10 check-ins met it, expected pace is 0.1: the latest miss still means off_track.
    ev = evaluate(facts(kind, latest_value=value, window_checkins=10, window_met=9, **kw), at(1))
    assert ev.status is Status.OFF_TRACK
    assert ev.progress == pytest.approx(0.9)


def test_evaluate_maintain_kind_met_after_due_is_on_track_not_overdue():
    ev = evaluate(facts(Kind.AT_LEAST, target=25.0, latest_value=30.0, window_checkins=2,
                        window_met=2), at(12))
    assert ev.status is Status.ON_TRACK
    assert Flag.OVERDUE not in ev.flags


def test_evaluate_maintain_kind_missed_after_due_is_overdue():
    ev = evaluate(facts(Kind.AT_MOST, target=4.0, latest_value=5.0, window_checkins=2,
                        window_met=1), at(12))
    assert ev.status is Status.OVERDUE
    assert ev.flags == [Flag.OVERDUE, Flag.NEEDS_CLOSE]


def test_evaluate_maintain_progress_is_share_of_window_checkins_meeting_threshold():
    ev = evaluate(facts(Kind.RANGE, target=None, low=30.0, high=45.0, latest_value=40.0,
                        window_checkins=4, window_met=3), at(5))
    assert ev.progress == pytest.approx(0.75)
    assert ev.progress_raw == pytest.approx(0.75)


def test_evaluate_maintain_progress_is_null_without_window_checkins():
    ev = evaluate(facts(Kind.AT_LEAST, target=25.0, latest_value=30.0), at(5))
    assert ev.progress is None
    assert ev.progress_raw is None
    assert ev.status is Status.ON_TRACK


def test_evaluate_past_due_not_reached_is_overdue():
    ev = evaluate(facts(latest_value=99.0), at(10.01))
    assert ev.status is Status.OVERDUE
    assert ev.flags == [Flag.OVERDUE, Flag.NEEDS_CLOSE]
    assert ev.expected_progress == 1.0


def test_evaluate_exactly_at_due_is_not_overdue():
    ev = evaluate(facts(latest_value=95.0), DUE)
    assert ev.status is Status.ON_TRACK
    assert ev.flags == []


# The pace gap: expected 0.45 at day 4.5 (the 0.10 and 0.25 boundaries count as the better
# status even though 0.45 − 0.35 is 0.10000000000000003 in binary floating point).
@pytest.mark.parametrize(
    ("value", "status"),
    [
        (55.0, Status.ON_TRACK),  # ahead of pace
        (45.0, Status.ON_TRACK),  # exactly on pace
        (35.0, Status.ON_TRACK),  # gap 0.10
        (34.0, Status.AT_RISK),  # gap 0.11
        (20.0, Status.AT_RISK),  # gap 0.25
        (19.0, Status.OFF_TRACK),  # gap 0.26
        (0.0, Status.OFF_TRACK),
    ],
)
def test_evaluate_pace_gap_boundaries(value, status):
    ev = evaluate(facts(latest_value=value), at(4.5))
    assert ev.expected_progress == pytest.approx(0.45)
    assert ev.status is status
    assert ev.flags == []


def test_evaluate_pace_gap_boundaries_with_offset_baseline():
    # baseline 10, target 110: value 45 is progress 0.35; expected 0.45.
    assert evaluate(facts(baseline=10.0, target=110.0, latest_value=45.0),
                    at(4.5)).status is Status.ON_TRACK
    # expected 0.55, progress 0.30: gap 0.25 (0.25000000000000006 in floating point).
    assert evaluate(facts(latest_value=30.0), at(5.5)).status is Status.AT_RISK


def test_evaluate_pace_gap_uses_given_thresholds():
    strict = replace(DEFAULTS, on_track_gap=0.05, at_risk_gap=0.08)
    ev = evaluate(facts(latest_value=38.0), at(4.5), strict)  # gap 0.07
    assert ev.status is Status.AT_RISK
    ev = evaluate(facts(latest_value=36.0), at(4.5), strict)  # gap 0.09
    assert ev.status is Status.OFF_TRACK


# --------------------------------------------------------------------------- rule 6


@pytest.mark.parametrize(
    ("kw", "flags"),
    [
        ({"stale_after": at(4)}, [Flag.STALE]),
        ({"latest_blocker": "waiting for legal"}, [Flag.BLOCKED]),
        ({"latest_confidence": 3}, [Flag.LOW_CONFIDENCE]),
        ({"latest_confidence": 0}, [Flag.LOW_CONFIDENCE]),
        ({"forecast_probability": 0.49}, [Flag.FORECAST_MISS]),
    ],
)
def test_evaluate_on_track_with_warning_becomes_at_risk(kw, flags):
    ev = evaluate(facts(latest_value=50.0, **kw), at(5))
    assert ev.status is Status.AT_RISK
    assert ev.flags == flags


@pytest.mark.parametrize(
    "kw",
    [
        {"latest_confidence": 4},
        {"latest_confidence": 10},
        {"forecast_probability": 0.5},
        {"latest_blocker": ""},
        {"stale_after": at(5)},  # exactly at the stale instant is not yet stale
    ],
)
def test_evaluate_on_track_without_warning_stays_on_track(kw):
    ev = evaluate(facts(latest_value=50.0, **kw), at(5))
    assert ev.status is Status.ON_TRACK
    assert ev.flags == []


def test_evaluate_maintain_on_track_blocked_becomes_at_risk():
    ev = evaluate(facts(Kind.AT_LEAST, target=25.0, latest_value=30.0, window_checkins=1,
                        window_met=1, latest_blocker="vendor outage"), at(5))
    assert ev.status is Status.AT_RISK
    assert ev.flags == [Flag.BLOCKED]


def test_evaluate_off_track_with_warning_stays_off_track():
    ev = evaluate(facts(latest_value=10.0, latest_blocker="x", latest_confidence=1), at(5))
    assert ev.status is Status.OFF_TRACK
    assert ev.flags == [Flag.BLOCKED, Flag.LOW_CONFIDENCE]


# --------------------------------------------------------------------------- flags


def test_evaluate_all_flags_in_order():
    f = facts(latest_value=50.0, latest_blocker="legal", latest_confidence=2,
              stale_after=at(4), forecast_probability=0.2)
    before_due = evaluate(f, at(5))
    assert before_due.status is Status.AT_RISK
    assert before_due.flags == [Flag.STALE, Flag.BLOCKED, Flag.LOW_CONFIDENCE,
                                Flag.FORECAST_MISS]
    # Once the due date has passed, `overdue` says it all: the forecast no longer warns.
    after_due = evaluate(f, at(11))
    assert after_due.status is Status.OVERDUE
    assert after_due.flags == [Flag.STALE, Flag.OVERDUE, Flag.BLOCKED, Flag.LOW_CONFIDENCE,
                               Flag.NEEDS_CLOSE]


def test_evaluate_forecast_miss_is_not_raised_once_the_target_is_met():
    ev = evaluate(facts(latest_value=100.0, forecast_probability=0.1), at(5))
    assert ev.status is Status.ACHIEVED
    assert ev.flags == []


def test_evaluate_no_confidence_is_not_low_confidence():
    ev = evaluate(facts(latest_value=50.0, latest_confidence=None), at(5))
    assert Flag.LOW_CONFIDENCE not in ev.flags


def test_evaluate_low_confidence_threshold_is_a_setting():
    ev = evaluate(facts(latest_value=50.0, latest_confidence=5), at(5),
                  replace(DEFAULTS, low_confidence=5))
    assert ev.flags == [Flag.LOW_CONFIDENCE]
    assert ev.status is Status.AT_RISK


def test_evaluate_stale_only_after_stale_instant():
    assert evaluate(facts(latest_value=50.0, stale_after=at(5)), at(5)).flags == []
    later = at(5) + timedelta(seconds=1)
    assert evaluate(facts(latest_value=50.0, stale_after=at(5)), later).flags == [Flag.STALE]


def test_evaluate_no_stale_instant_means_not_stale():
    assert evaluate(facts(latest_value=50.0, stale_after=None), at(9)).flags == []


def test_evaluate_blocker_and_confidence_flags_need_a_checkin():
    ev = evaluate(facts(latest_blocker="x", latest_confidence=1), at(5))
    assert ev.flags == []
    assert ev.status is Status.NO_DATA


@pytest.mark.parametrize("outcome", ["achieved", "missed", "cancelled"])
def test_evaluate_closed_kpi_carries_no_flags_even_past_due_and_stale(outcome):
    f = facts(closed_outcome=outcome, latest_value=10.0, latest_blocker="still blocked",
              latest_confidence=0, stale_after=at(1), forecast_probability=0.0)
    assert evaluate(f, at(30)).flags == []


def test_evaluate_compares_the_rounded_numbers_it_reports():
    # A due time of 23:59:59 makes the elapsed share 0.5000002 at "half-way": the report
    # shows 50 % expected and 40 % done, a gap of exactly 10 points, which is on track.
    f = facts(latest_value=40.0, due=START + timedelta(days=10, seconds=-1))
    ev = evaluate(f, START + timedelta(seconds=(10 * 86400 - 1) / 2 + 0.2))
    assert ev.expected_progress > 0.5
    assert round(ev.expected_progress, 4) == 0.5
    assert ev.status is Status.ON_TRACK


pytestmark = pytest.mark.backend_free
