"""Objectives and roll-ups, the "done when" of issue 21: a three-level tree whose roll-up
progress, expected progress and status are computed by hand below, now and --as-of.

    company (objective, maya)
    ├── sales (objective, ana)  weight 3
    │   ├── k1  increase 0 → 100     weight 2   due Dec 11 (40 days)
    │   ├── k2  decrease 50 → 10     weight 1   due Dec 1  (30 days)
    │   ├── k3  at-least 5           weight 5   (maintain: counts only through the flag)
    │   └── k5  (until Nov 15, weight 2; then moved to ops, weight 3)
    └── ops (objective, bob)    weight 1
        ├── k4  increase 0 → 10      weight 4, from Nov 15 weight 1   due Dec 11
        └── k5  increase 100 → 200   weight 3 (from Nov 15)          due Nov 26 (25 days)

Every KPI starts Nov 1 00:00 UTC, so the expected progress (no milestones) is the elapsed
share of each KPI's own window: on Nov 11 (10 days in) 10/40, 10/30, 10/25; on Nov 21
(20 days in) 20/40, 20/30, 20/25. Monthly cadence: nothing goes stale in these windows.
"""

from __future__ import annotations

import pytest

from tests.cli.conftest import assert_error, ok

NOW = "2026-11-21T00:00:00+00:00"
AS_OF = "2026-11-11T00:00:00Z"


def at(monkeypatch, instant: str) -> None:
    monkeypatch.setenv("KPICTL_NOW", instant)


@pytest.fixture
def tree(run, monkeypatch):
    at(monkeypatch, "2026-11-01T00:00:00+00:00")
    for handle in ("maya", "ana", "bob"):
        ok(run, "people", "add", handle, "--name", handle.title())

    def kpi(key, owner, parent, weight, due, *spec):
        ok(run, "assign", key, "--to", owner, "--parent", parent, "--weight", weight,
           "--due", due, "--cadence", "monthly", *spec)

    ok(run, "assign", "company", "--objective", "--to", "maya", "--title", "Grow",
       "--due", "2026-12-31")
    ok(run, "assign", "sales", "--objective", "--to", "ana", "--title", "Sell more",
       "--parent", "company", "--weight", "3", "--due", "2026-12-31")
    ok(run, "assign", "ops", "--objective", "--to", "bob", "--title", "Run well",
       "--parent", "company", "--due", "2026-12-31")
    kpi("k1", "ana", "sales", "2", "2026-12-11T00:00:00Z", "--target", "100")
    kpi("k2", "ana", "sales", "1", "2026-12-01T00:00:00Z", "--baseline", "50", "--target", "10")
    kpi("k3", "ana", "sales", "5", "2026-12-11T00:00:00Z", "--kind", "at-least",
        "--target", "5")
    kpi("k4", "bob", "ops", "4", "2026-12-11T00:00:00Z", "--target", "10")
    kpi("k5", "bob", "sales", "2", "2026-11-26T00:00:00Z", "--baseline", "100",
        "--target", "200")
    at(monkeypatch, "2026-11-10T12:00:00+00:00")
    for key, value in (("k1", "30"), ("k2", "44"), ("k3", "6"), ("k4", "2"), ("k5", "120")):
        ok(run, "checkin", key, value)
    at(monkeypatch, "2026-11-15T12:00:00+00:00")
    ok(run, "assign", "k5", "--parent", "ops", "--weight", "3")
    ok(run, "assign", "k4", "--weight", "1")
    at(monkeypatch, "2026-11-20T12:00:00+00:00")
    for key, value in (("k1", "60"), ("k2", "30"), ("k3", "4"), ("k4", "3")):
        ok(run, "checkin", key, value)
    ok(run, "checkin", "k5", "150", "--blocker", "vendor late")
    at(monkeypatch, NOW)
    return run


def rows(run, *args):
    return {r["key"]: r for r in ok(run, "report", "--json", *args).json()["kpis"]}


def test_rollup_now_matches_the_arithmetic(tree):
    r = rows(tree)
    # The KPIs, Nov 21 (20 days in):
    # k1 60/100 = 0.6 vs 20/40 = 0.5: on track.  k2 (50-30)/(50-10) = 0.5 vs 20/30: at risk.
    # k3 4 < 5: off track.  k4 3/10 = 0.3 vs 0.5: gap 0.2, at risk.
    # k5 (150-100)/100 = 0.5 vs 20/25 = 0.8: gap 0.3, off track (and blocked).
    assert [r[k]["status"] for k in ("k1", "k2", "k3", "k4", "k5")] == [
        "on_track", "at_risk", "off_track", "at_risk", "off_track"]
    # sales = k1 (w2), k2 (w1); k3 has no pace; k5 left on Nov 15.
    # progress (2·0.6 + 1·0.5)/3 = 1.7/3 = 0.566667; expected (2·0.5 + 1·2/3)/3 = 0.555556
    # gap −0.011 → on track, but k3 is off track → child_at_risk → at risk.
    sales = r["sales"]
    assert sales["progress"] == pytest.approx(1.7 / 3)
    assert sales["expected_progress"] == pytest.approx(5 / 9)
    assert (sales["status"], sales["flags"]) == ("at_risk", ["child_at_risk"])
    # ops = k4 (w1), k5 (w3): progress (0.3 + 3·0.5)/4 = 0.45; expected (0.5 + 3·0.8)/4 = 0.725
    # gap 0.275 > 0.25 → off track; k5 blocked and off track → child_at_risk.
    ops = r["ops"]
    assert ops["progress"] == pytest.approx(0.45)
    assert ops["expected_progress"] == pytest.approx(0.725)
    assert (ops["status"], ops["flags"]) == ("off_track", ["child_at_risk"])
    # company = sales (w3), ops (w1): progress (3·0.566667 + 0.45)/4 = 2.15/4 = 0.5375;
    # expected (3·0.555556 + 0.725)/4 = 2.391667/4 = 0.597917; gap 0.0604 → on track,
    # then child_at_risk (ops off track, sales carries the flag) → at risk.
    company = r["company"]
    assert company["progress"] == pytest.approx(0.5375)
    assert company["expected_progress"] == pytest.approx(2.391666667 / 4)
    assert (company["status"], company["flags"]) == ("at_risk", ["child_at_risk"])
    assert company["kind"] == "objective" and company["current"] is None
    assert (company["parent"], company["weight"], company["children"]) == (
        None, None, ["ops", "sales"])
    assert (r["k5"]["parent"], r["k5"]["weight"]) == ("ops", 3.0)
    assert (r["sales"]["parent"], r["sales"]["weight"]) == ("company", 3.0)
    assert r["sales"]["children"] == ["k1", "k2", "k3"] and r["k1"]["children"] == []


def test_rollup_as_of_rewinds_the_tree_and_the_values(tree):
    r = rows(tree, "--as-of", AS_OF)
    # Nov 11 (10 days in), check-ins of Nov 10; k5 still under sales (w2), k4 weight 4.
    # k1 0.3 vs 0.25 on track; k2 (50-44)/40 = 0.15 vs 1/3 at risk; k3 6 ≥ 5 on track;
    # k4 0.2 vs 0.25 on track; k5 0.2 vs 10/25 = 0.4 at risk.
    assert [r[k]["status"] for k in ("k1", "k2", "k3", "k4", "k5")] == [
        "on_track", "at_risk", "on_track", "on_track", "at_risk"]
    # sales = k1 (w2), k2 (w1), k5 (w2): progress (0.6 + 0.15 + 0.4)/5 = 0.23;
    # expected (2·0.25 + 1/3 + 2·0.4)/5 = 1.633333/5 = 0.326667; gap 0.0967 → on track;
    # no child blocked, off track or overdue → no flag.
    assert r["sales"]["progress"] == pytest.approx(0.23)
    assert r["sales"]["expected_progress"] == pytest.approx(1.6333333333 / 5)
    assert (r["sales"]["status"], r["sales"]["flags"]) == ("on_track", [])
    assert r["sales"]["children"] == ["k1", "k2", "k3", "k5"]
    # ops = k4 (w4) alone: 0.2 vs 0.25 → on track.
    assert (r["ops"]["progress"], r["ops"]["expected_progress"]) == pytest.approx((0.2, 0.25))
    assert r["ops"]["status"] == "on_track" and r["ops"]["children"] == ["k4"]
    # company: progress (3·0.23 + 0.2)/4 = 0.89/4 = 0.2225; expected (3·0.326667 + 0.25)/4
    # = 1.23/4 = 0.3075; gap 0.085 → on track.
    assert r["company"]["progress"] == pytest.approx(0.2225)
    assert r["company"]["expected_progress"] == pytest.approx(0.3075)
    assert (r["company"]["status"], r["company"]["flags"]) == ("on_track", [])
    assert (r["k5"]["parent"], r["k5"]["weight"]) == ("sales", 2.0)
    assert r["k4"]["weight"] == 4.0


def test_report_of_an_objective_lists_each_childs_contribution(tree):
    doc = ok(tree, "report", "company", "--json").json()
    # contribution = weight × progress ÷ Σ weights: sales 3·0.566667/4 = 0.425,
    # ops 1·0.45/4 = 0.1125; together the objective's 0.5375.
    children = {c["key"]: c for c in doc["children"]}
    assert children["sales"]["contribution"] == pytest.approx(0.425)
    assert children["ops"]["contribution"] == pytest.approx(0.1125)
    assert doc["checkins"] == []
    sales = {c["key"]: c for c in ok(tree, "report", "sales", "--json").json()["children"]}
    # k1 2·0.6/3 = 0.4, k2 1·0.5/3 = 0.166667, k3 no pace → null
    assert sales["k1"]["contribution"] == pytest.approx(0.4)
    assert sales["k2"]["contribution"] == pytest.approx(0.5 / 3)
    assert sales["k3"]["contribution"] is None and sales["k3"]["weight"] == 5.0
    past = {c["key"]: c for c in ok(tree, "report", "ops", "--json", "--as-of",
                                     AS_OF).json()["children"]}
    assert list(past) == ["k4"] and past["k4"]["contribution"] == pytest.approx(0.2)


def test_checking_in_on_an_objective_is_refused_naming_its_children(tree):
    assert_error(tree("checkin", "company", "5"), 4,
                 "'company' is an objective: it takes no check-ins; its progress comes from "
                 "its children (ops, sales): check in on those")


def test_filters_keep_the_rollup_and_unindent_orphans(tree):
    # --owner ana: sales and its KPIs; sales' figures still count k2's weight etc. (unchanged)
    doc = ok(tree, "report", "--json", "--owner", "ana").json()
    assert [r["key"] for r in doc["kpis"]] == ["sales", "k3", "k2", "k1"]
    assert doc["kpis"][0]["progress"] == pytest.approx(1.7 / 3)
    # --status off_track: ops and its child k5 under it; k3 whose parent is filtered out
    # stands at the top level of the markdown table.
    md = ok(tree, "report", "--format", "md", "--status", "off_track").stdout
    keys = [line.split(" | ")[1] for line in md.splitlines() if line.startswith("| off")]
    assert keys == ["k3", "ops", "└─ k5"]  # by status, then due (k3 Dec 11, ops Dec 31)
