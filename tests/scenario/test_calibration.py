"""Confidence calibration per owner: Brier score and a plain-words label on closed KPIs."""

from __future__ import annotations

import pytest

from kpictl.services.calibration import label_for


def _kpi(run, key, owner, outcome, confidences):
    assert run("assign", key, "--to", owner, "--target", "10", "--start", "2026-10-01",
               "--due", "2026-11-20").exit_code == 0
    for i, conf in enumerate(confidences):
        assert run("checkin", key, str(i + 1), "--at", f"2026-10-{10 + i * 7:02d}",
                   "--confidence", str(conf), "--by", owner).exit_code == 0
    assert run("close", key, "--outcome", outcome, "--at", "2026-11-21").exit_code == 0


@pytest.fixture
def history(run):
    for handle in ("ana", "bob", "cy", "dee"):
        assert run("people", "add", handle, "--name", handle.title()).exit_code == 0
    _kpi(run, "a.one", "ana", "missed", [9, 9])  # sure of success, missed twice
    _kpi(run, "a.two", "ana", "missed", [8, 9])
    _kpi(run, "b.one", "bob", "achieved", [2, 3])  # doubted, then delivered
    _kpi(run, "b.two", "bob", "achieved", [2, 2])
    _kpi(run, "c.one", "cy", "achieved", [8, 9])
    _kpi(run, "c.two", "cy", "missed", [2, 1])
    _kpi(run, "d.one", "dee", "cancelled", [9, 9, 9])  # cancelled KPIs predict nothing
    return run


def test_calibration_brier_scores_and_labels(history):
    owners = {o["handle"]: o for o in history("report", "--by", "owner", "--json").json()["owners"]}
    ana, bob, cy, dee = (owners[h] for h in ("ana", "bob", "cy", "dee"))
    # ana: p = .9 .9 .8 .9, all missed → Brier (3·.81 + .64)/4 = 0.7675, bias +0.875
    assert (ana["confidence_predictions"], ana["confidence_brier"], ana["confidence_bias"]) == (
        4, 0.7675, 0.875)
    assert ana["calibration"] == "over-confident"
    # bob: p = .2 .3 .2 .2, all achieved → Brier (.64·3 + .49)/4 = 0.6025, bias −0.775
    assert (bob["confidence_brier"], bob["calibration"]) == (0.6025, "under-confident")
    # cy: .8 .9 achieved, .2 .1 missed → Brier (.04 + .01 + .04 + .01)/4 = 0.025
    assert (cy["confidence_brier"], cy["calibration"]) == (0.025, "well calibrated")
    assert (dee["confidence_predictions"], dee["calibration"]) == (0, "not enough data")


def test_people_show_reports_calibration(history):
    doc = history("people", "show", "ana", "--json").json()
    assert doc["calibration"] == {"predictions": 4, "brier": 0.7675, "bias": 0.875,
                                  "label": "over-confident"}
    text = history("people", "show", "ana").stdout
    assert "confidence: over-confident (Brier 0.77 over 4 check-ins)" in text


@pytest.mark.parametrize(("n", "bias", "label"), [
    (2, 0.9, "not enough data"), (3, 0.16, "over-confident"), (3, 0.15, "well calibrated"),
    (3, -0.15, "well calibrated"), (3, -0.2, "under-confident"),
])
def test_calibration_labels(n, bias, label):
    assert label_for(n, bias) == label
