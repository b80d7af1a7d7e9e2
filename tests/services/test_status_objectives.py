"""The roll-up rule of an objective (issue 21), as a pure function of its children's facts:
the edge cases a scenario does not reach. Numbers are worked by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kpictl.domain import Flag, Status
from kpictl.services.status import ChildFacts, evaluate_objective, rolled_up

pytestmark = pytest.mark.backend_free

DUE = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
BEFORE, AFTER = datetime(2026, 11, 27, tzinfo=UTC), datetime(2027, 1, 2, tzinfo=UTC)


def child(status="on_track", progress=0.5, expected=0.5, weight=1.0, flags=()):
    return ChildFacts(weight=weight, status=status, flags=tuple(flags), progress=progress,
                      expected_progress=expected)


def ev(children, as_of=BEFORE, closed=None):
    return evaluate_objective(children, due=DUE, as_of=as_of, closed_outcome=closed)


def test_weighted_means_over_paced_children_only():
    # (3·0.2 + 1·0.6)/4 = 0.3 and (3·0.5 + 1·0.5)/4 = 0.5; the maintain child (no pace,
    # weight 10) does not count.
    result = ev([child(progress=0.2, weight=3), child(progress=0.6),
                 child(progress=1.0, expected=None, weight=10)])
    assert (result.progress, result.expected_progress) == pytest.approx((0.3, 0.5))
    assert (result.status, result.flags) == (Status.AT_RISK, [])  # gap 0.2: 0.1 < 0.2 ≤ 0.25


def test_gap_thresholds_match_the_kpi_rule():
    assert ev([child(progress=0.4, expected=0.5)]).status is Status.ON_TRACK  # gap 0.10
    assert ev([child(progress=0.3, expected=0.5)]).status is Status.AT_RISK  # gap 0.20
    assert ev([child(progress=0.2, expected=0.5)]).status is Status.OFF_TRACK  # gap 0.30


def test_closed_children_achieved_count_as_done_missed_as_reached_cancelled_not_at_all():
    # achieved: (1, 1); missed at 0.4: (0.4, 1); cancelled: left out; open: (0.5, 0.5)
    # progress (1 + 0.4 + 0.5)/3 = 0.633333; expected (1 + 1 + 0.5)/3 = 0.833333
    p, e = rolled_up([child("achieved", 0.9, 0.7), child("missed", 0.4, 1.0),
                      child("cancelled", 0.0, 0.9, weight=50), child()])
    assert (p, e) == pytest.approx((1.9 / 3, 2.5 / 3))


def test_a_paced_child_without_data_counts_as_zero_but_all_without_data_is_no_data():
    # (0 + 0.6)/2 = 0.3 against 0.5
    assert ev([child("no_data", None, 0.5), child(progress=0.6)]).progress == pytest.approx(0.3)
    result = ev([child("no_data", None, 0.5), child("no_data", None, 0.4)])
    assert (result.status, result.progress) == (Status.NO_DATA, None)
    assert result.expected_progress == pytest.approx(0.45)
    assert ev([]).status is Status.NO_DATA


@pytest.mark.parametrize(("kid", "flagged"), [
    (child(flags=["blocked"]), True), (child("off_track"), True), (child("overdue"), True),
    (child(flags=["child_at_risk"]), True), (child(flags=["stale"]), False),
    (child("at_risk"), False), (child(flags=["overdue"]), True),
])
def test_child_at_risk_turns_on_track_into_at_risk(kid, flagged):
    result = ev([kid, child(progress=0.9, expected=0.5)])
    assert (Flag.CHILD_AT_RISK in result.flags) is flagged
    assert result.status is (Status.AT_RISK if flagged else Status.ON_TRACK)


def test_no_paced_children_has_no_progress_and_its_status_from_the_flags():
    ok = ev([child(progress=1.0, expected=None), child(progress=0.8, expected=None)])
    assert (ok.progress, ok.expected_progress, ok.status) == (None, None, Status.ON_TRACK)
    bad = ev([child("off_track", 0.2, None), child(progress=1.0, expected=None)])
    assert (bad.status, bad.flags) == (Status.AT_RISK, [Flag.CHILD_AT_RISK])


def test_due_passed_follows_the_kpi_rule():
    late = ev([child(progress=0.7, expected=1.0)], as_of=AFTER)
    assert late.status is Status.OVERDUE
    assert late.flags == [Flag.OVERDUE, Flag.NEEDS_CLOSE]
    assert late.suggested_outcome == "missed"
    done = ev([child("achieved", 1.0, 1.0)], as_of=AFTER)
    assert (done.status, done.flags, done.suggested_outcome) == (
        Status.ACHIEVED, [Flag.NEEDS_CLOSE], "achieved")


def test_a_closed_objective_shows_its_outcome_and_no_flags():
    result = ev([child(flags=["blocked"])], closed="cancelled")
    assert (result.status, result.flags, result.suggested_outcome) == (
        Status.CANCELLED, [], None)
