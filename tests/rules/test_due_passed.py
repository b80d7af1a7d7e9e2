"""PRODUCT §3 *Due passed* and *maintain kinds have no pace*, end to end through the CLI:
``needs_close``, ``suggested_outcome`` on every JSON row, ``close KEY`` without --outcome,
reached targets (no forecast, no "closed" in the Due column, free capacity in ``suggest``).

The clock is pinned at 2026-11-27T12:00Z (tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.cli.conftest import assert_error, dump_db, ok


def rows(run, *extra):
    return {r["key"]: r for r in ok(run, "report", "--json", *extra).json()["kpis"]}


@pytest.fixture
def team(run):
    ok(run, "people", "add", "ana", "--name", "Ana", "--capacity", "2")
    ok(run, "people", "add", "ben", "--name", "Ben", "--capacity", "2")
    # Past due: a target reached, one missed, a maintain KPI held and one that did not hold.
    ok(run, "assign", "p.reached", "--to", "ana", "--target", "100", "--start", "2026-10-01",
       "--due", "2026-11-20")
    ok(run, "checkin", "p.reached", "105", "--at", "2026-11-19")
    ok(run, "assign", "p.missed", "--to", "ben", "--target", "100", "--start", "2026-10-01",
       "--due", "2026-11-20")
    ok(run, "checkin", "p.missed", "60", "--at", "2026-11-19")
    ok(run, "assign", "m.held", "--to", "ben", "--kind", "at-least", "--target", "5",
       "--start", "2026-10-01", "--due", "2026-11-20")
    for i, value in enumerate([6, 7, 5, 8, 4]):  # 4 of 5 met: 80 % = HOLD_SHARE
        ok(run, "checkin", "m.held", str(value), "--at", f"2026-11-{10 + i:02d}")
    ok(run, "assign", "m.broke", "--to", "ben", "--kind", "at-most", "--target", "5",
       "--start", "2026-10-01", "--due", "2026-11-20")
    for i, value in enumerate([4, 7, 8, 4]):  # 2 of 4 met, the latest met
        ok(run, "checkin", "m.broke", str(value), "--at", f"2026-11-{10 + i:02d}")
    # Not due yet: a target reached early, with enough check-ins for a forecast.
    ok(run, "assign", "p.early", "--to", "ana", "--target", "100", "--start", "2026-11-01",
       "--due", "2026-12-31")
    for day, value in (("05", 30), ("12", 60), ("19", 90), ("26", 101)):
        ok(run, "checkin", "p.early", str(value), "--at", f"2026-11-{day}")
    return run


def test_every_row_carries_suggested_outcome_and_needs_close(team):
    got = rows(team)
    assert {k: (r["status"], r["suggested_outcome"], "needs_close" in r["flags"])
            for k, r in got.items()} == {
        "p.reached": ("achieved", "achieved", True),
        "p.missed": ("overdue", "missed", True),
        "m.held": ("overdue", "achieved", True),  # latest 4 misses; 4 of 5 held
        # latest meets, 2 of 4 held; no check-in in its last week (16–20 Nov): stale → at risk
        "m.broke": ("at_risk", "missed", True),
        "p.early": ("achieved", None, False),
    }
    assert all(r["expected_progress"] is None for k, r in got.items() if k.startswith("m."))


def test_reached_target_has_no_forecast(team):
    got = rows(team)
    assert got["p.early"]["forecast"] is None
    before = rows(team, "--as-of", "2026-11-20", "--revised")  # 90 of 100 then: a forecast
    assert before["p.early"]["forecast"] is not None


def test_close_without_outcome_applies_the_suggestion(team):
    result = ok(team, "close", "m.held")
    assert result.stderr == "closed m.held as achieved\n"
    ok(team, "close", "p.missed")
    ok(team, "close", "m.broke")
    got = rows(team)
    assert (got["m.held"]["status"], got["p.missed"]["status"], got["m.broke"]["status"]) == (
        "achieved", "missed", "missed")
    assert got["m.held"]["suggested_outcome"] is None  # closed: nothing left to suggest


def test_close_without_outcome_before_due_names_the_choices(team):
    before = dump_db()
    assert_error(team("close", "p.early"), 2,
                 "KPI 'p.early' is not past due yet, so there is no suggested outcome: give "
                 "--outcome achieved, missed or cancelled")
    assert dump_db() == before


def test_due_column_says_closed_only_for_closed_kpis(team):
    out = ok(team, "report").stdout
    reached = next(l for l in out.splitlines() if "p.reached" in l)
    early = next(l for l in out.splitlines() if "p.early" in l)
    assert "closed" not in reached and "ended 6 days ago" in reached
    assert "closed" not in early and "in 1 month" in early
    missed = next(l for l in out.splitlines() if "p.missed" in l)
    assert "6 days late" in missed
    ok(team, "close", "p.reached")
    assert "closed" in next(l for l in ok(team, "report").stdout.splitlines()
                            if "p.reached" in l)


def test_maintain_kinds_show_no_pace_in_any_view(team):
    table = ok(team, "report", "m.held").stdout
    assert "Expected" not in table
    assert "Expected" in ok(team, "report", "p.missed").stdout
    md = ok(team, "report", "-f", "md").stdout
    held = next(l for l in md.splitlines() if "| m.held |" in l).split(" | ")
    assert held[5] == ""  # the Expected column is empty
    html = ok(team, "report", "-f", "html").stdout

    def html_row(key):
        i = html.index(f'data-key="{key}"')
        return html[i:html.index('<tr class="kpi"', i) if html.find('<tr class="kpi"', i) > 0
                    else html.index("</tbody>", i)]

    assert "expected" not in html_row("m.held")
    assert "vs 100% expected" in html_row("p.missed")
    record = next(r for r in csv.DictReader(io.StringIO(ok(team, "report", "-f", "csv").stdout))
                  if r["key"] == "m.held")
    assert record["expected_progress"] == "" and record["suggested_outcome"] == "achieved"
    jsonl = [json.loads(l) for l in ok(team, "report", "-f", "jsonl").stdout.splitlines()[1:]]
    assert {r["key"]: r["expected_progress"] for r in jsonl}["m.broke"] is None


def test_reached_target_frees_capacity_in_suggest(team):
    # ana owns p.reached and p.early (both reached) with capacity 2: both slots free.
    doc = ok(team, "suggest", "p.missed", "--json").json()
    ana = next(c for c in doc["candidates"] if c["handle"] == "ana")
    assert (ana["active_kpis"], ana["overloaded"], ana["components"]["capacity"]) == (0, False,
                                                                                      1.0)
    ben = next(c for c in doc["candidates"] if c["handle"] == "ben")
    assert ben["active_kpis"] == 3 and ben["overloaded"] is True
