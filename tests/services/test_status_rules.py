"""The corrected rules of issue 14 in services/status.py (PRODUCT §3): the pace gap on the
unclamped progress, and *Due passed* for every kind (``needs_close``, ``suggested_outcome``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kpictl.domain import DEFAULTS, HOLD_SHARE, Flag, Kind, Status
from kpictl.services.status import KpiFacts, evaluate, suggested_outcome

START = datetime(2027, 1, 1, tzinfo=UTC)
DUE = datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC)


def facts(kind=Kind.DECREASE, **overrides) -> KpiFacts:
    base = dict(kind=kind, baseline=240.0, target=60.0, low=None, high=None, start=START,
                due=DUE, closed_outcome=None, latest_value=None, latest_at=None,
                latest_confidence=None, latest_blocker=None)
    base.update(overrides)
    return KpiFacts(**base)


def test_wrong_way_value_is_off_track_at_once():
    # decrease 240 → 60; one check-in of 400 in week 1: clamped progress 0 % against 5 %
    # expected read "on track"; the unclamped −0.89 is far behind.
    f = facts(latest_value=400.0, latest_at=START + timedelta(days=3))
    ev = evaluate(f, START + timedelta(days=5))
    assert ev.progress == 0.0
    assert ev.progress_raw == pytest.approx(-160 / 180)
    assert ev.status is Status.OFF_TRACK


def test_slightly_wrong_way_early_is_at_risk_not_on_track():
    # increase 0 → 100, value −20 at 0 % elapsed: gap 0.2 on the raw progress.
    f = facts(Kind.INCREASE, baseline=0.0, target=100.0, latest_value=-20.0, latest_at=START)
    assert evaluate(f, START).status is Status.AT_RISK


def test_hold_share_is_the_named_default():
    assert HOLD_SHARE == DEFAULTS.hold_share == 0.8


@pytest.mark.parametrize(("met", "outcome"), [(8, "achieved"), (7, "missed"), (10, "achieved")])
def test_maintain_kind_past_due_needs_close_with_hold_share(met, outcome):
    f = facts(Kind.AT_LEAST, baseline=None, target=95.0, latest_value=99.0,
              latest_at=DUE - timedelta(days=1), window_checkins=10, window_met=met)
    after = DUE + timedelta(days=2)
    ev = evaluate(f, after)
    assert Flag.NEEDS_CLOSE in ev.flags
    assert ev.suggested_outcome == outcome
    assert suggested_outcome(f, after) == outcome
    # Before due: no suggestion, no flag.
    before = evaluate(f, DUE - timedelta(hours=1))
    assert before.suggested_outcome is None and Flag.NEEDS_CLOSE not in before.flags


def test_maintain_kind_missing_its_threshold_past_due_is_overdue():
    f = facts(Kind.AT_MOST, baseline=None, target=5.0, latest_value=9.0,
              latest_at=DUE - timedelta(days=1), window_checkins=4, window_met=1)
    ev = evaluate(f, DUE + timedelta(days=1))
    assert ev.status is Status.OVERDUE
    assert set(ev.flags) >= {Flag.OVERDUE, Flag.NEEDS_CLOSE}
    assert ev.suggested_outcome == "missed"


@pytest.mark.parametrize(("value", "outcome", "status"), [(60.0, "achieved", Status.ACHIEVED),
                                                          (50.0, "achieved", Status.ACHIEVED),
                                                          (61.0, "missed", Status.OVERDUE)])
def test_progress_kind_past_due_suggests_by_target(value, outcome, status):
    f = facts(latest_value=value, latest_at=DUE - timedelta(days=3))
    ev = evaluate(f, DUE + timedelta(days=1))
    assert (ev.status, ev.suggested_outcome) == (status, outcome)
    assert Flag.NEEDS_CLOSE in ev.flags


def test_past_due_without_check_ins_suggests_missed():
    ev = evaluate(facts(), DUE + timedelta(days=1))
    assert (ev.status, ev.suggested_outcome) == (Status.NO_DATA, "missed")


def test_closed_kpi_has_no_suggestion():
    f = facts(closed_outcome="missed", latest_value=100.0, latest_at=START)
    ev = evaluate(f, DUE + timedelta(days=1))
    assert ev.suggested_outcome is None and ev.flags == []
