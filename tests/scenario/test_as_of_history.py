"""--as-of regenerates a past report exactly, even after the KPI was redefined since."""

from __future__ import annotations

import pytest


@pytest.fixture
def history(run, monkeypatch):
    def at(now, *args):
        monkeypatch.setenv("KPICTL_NOW", now)
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        return result

    at("2026-01-01T10:00Z", "people", "add", "ana", "--name", "Ana")
    at("2026-01-01T10:00Z", "assign", "c.t", "--to", "ana", "--target", "100", "--start",
       "2026-01-01", "--due", "2026-03-31", "--tag", "old", "--milestone", "2026-02-01=30")
    at("2026-01-01T10:00Z", "assign", "c.lim", "--to", "ana", "--kind", "at-most", "--target",
       "5", "--start", "2026-01-01", "--due", "2026-03-31")
    for day, value, limit in (("05", 20, 4), ("08", 40, 6), ("10", 50, 3)):
        at(f"2026-01-{day}T10:00Z", "checkin", "c.t", str(value))
        at(f"2026-01-{day}T10:00Z", "checkin", "c.lim", str(limit))
    return at


def test_as_of_survives_redefinition(history):
    before = history("2026-01-15T10:00Z", "report", "--as-of", "2026-01-12", "--json").json()
    history("2026-01-20T10:00Z", "assign", "c.t", "--target", "1234567.89", "--due",
            "2026-02-15", "--start", "2025-12-01", "--tag", "new", "--milestone",
            "2026-01-25=99", "--title", "Renamed", "--note", "bigger ambition")
    history("2026-01-20T10:00Z", "assign", "c.lim", "--target", "2", "--cadence", "daily")
    after = history("2026-01-20T10:00Z", "report", "--as-of", "2026-01-12", "--json").json()
    for old, new in zip(before["kpis"], after["kpis"]):
        assert {k: (old[k], v) for k, v in new.items() if old[k] != v} == {}, old["key"]
    assert after["kpis"] == before["kpis"]
    rows = {r["key"]: r for r in after["kpis"]}
    assert (rows["c.t"]["target"], rows["c.t"]["tags"], rows["c.t"]["title"]) == (100.0, ["old"],
                                                                                   "c.t")
    assert rows["c.lim"]["progress"] == pytest.approx(2 / 3, abs=1e-4)  # 4 and 3 are ≤ 5
    old_tag = history("2026-01-20T10:00Z", "report", "--as-of", "2026-01-12", "--tag", "old",
                      "--json").json()
    assert [r["key"] for r in old_tag["kpis"]] == ["c.t"]
    now = {r["key"]: r for r in history("2026-01-20T10:00Z", "report", "--json").json()["kpis"]}
    assert (now["c.t"]["target"], now["c.t"]["tags"]) == (1234567.89, ["new"])
    assert now["c.lim"]["progress"] == 0.0  # none of 4, 6, 3 is ≤ 2


def test_changes_are_logged_losslessly_with_their_note(history):
    history("2026-01-20T10:00Z", "assign", "c.t", "--target", "1234567.89", "--note", "why")
    changes = history("2026-01-20T10:00Z", "report", "c.t", "--json").json()["changes"]
    assert [(c["field"], c["old"], c["new"]) for c in changes] == [
        ("target", "100.0", "1234567.89"), ("note", None, "why")]


def test_report_unknown_owner_is_not_found(history, run):
    result = run("report", "--owner", "anna")
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == ("kpictl: error: no person 'anna'; did you mean 'ana'? "
                             "See `kpictl people list`.\n")
