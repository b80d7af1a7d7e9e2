"""One KPI of each kind and each status, reported --as-of a fixed instant (PRODUCT §3).

The window of every KPI is 2026-10-28T12:00Z → 2026-12-27T12:00Z, so at the pinned clock
(2026-11-27T12:00Z) exactly half of it has elapsed: expected progress is 0.5.
"""

from __future__ import annotations

import csv
import io

import pytest

START, DUE = "2026-10-28T12:00Z", "2026-12-27T12:00Z"
AGO_1D, AGO_20D = "2026-11-26T12:00Z", "2026-11-07T12:00Z"

# Maintain kinds have no pace: their expected_progress is None.
# key: (assign options, check-ins [(value, at, extra options)], expected status, flags,
#       progress, progress_raw, expected_progress)
SCENARIO = {
    "inc.on-track": (["--target", "100"], [(45, AGO_1D, ["--confidence", "8"])],
                     "on_track", [], 0.45, 0.45, 0.5),
    "inc.at-risk": (["--target", "100"], [(30, AGO_1D, [])], "at_risk", [], 0.3, 0.3, 0.5),
    "inc.off-track": (["--target", "100"], [(10, AGO_1D, [])], "off_track", [], 0.1, 0.1, 0.5),
    "inc.achieved": (["--target", "100"], [(120, AGO_1D, [])], "achieved", [], 1.0, 1.2, 0.5),
    "dec.cross-zero": (["--kind", "decrease", "--baseline", "50", "--target", "-10"],
                       [(22, AGO_1D, [])], "on_track", [], 0.4667, 0.4667, 0.5),
    "dec.worse": (["--kind", "decrease", "--baseline", "50", "--target", "-10"],
                  [(60, AGO_1D, [])], "off_track", [], 0.0, -0.1667, 0.5),
    "inc.overdue": (["--target", "100", "--due", "2026-11-20T12:00Z"], [(50, AGO_1D, [])],
                    "overdue", ["overdue", "needs_close"], 0.5, 0.5, 1.0),
    "inc.no-data": (["--target", "100"], [], "no_data", ["stale"], None, None, 0.5),
    "inc.stale": (["--target", "100"], [(48, AGO_20D, [])], "at_risk", ["stale"], 0.48, 0.48,
                  0.5),
    "inc.blocked": (["--target", "100"], [(48, AGO_1D, ["--blocker", "vendor late"])],
                    "at_risk", ["blocked"], 0.48, 0.48, 0.5),
    "inc.low-confidence": (["--target", "100"], [(48, AGO_1D, ["--confidence", "3"])],
                           "at_risk", ["low_confidence"], 0.48, 0.48, 0.5),
    "inc.milestone": (["--target", "100", "--milestone", "2026-11-12T12:00Z=80"],
                      [(70, AGO_1D, [])], "at_risk", [], 0.7, 0.7, 0.8667),
    "atleast.met": (["--kind", "at-least", "--target", "5"],
                    [(6, "2026-11-10T12:00Z", []), (4, "2026-11-17T12:00Z", []),
                     (7, AGO_1D, [])], "on_track", [], 0.6667, 0.6667, None),
    "atmost.missed": (["--kind", "at-most", "--target", "5"],
                      [(4, "2026-11-20T12:00Z", []), (6, AGO_1D, [])], "off_track", [], 0.5,
                      0.5, None),
    "range.inside": (["--kind", "range", "--low", "1", "--high", "3"], [(2, AGO_1D, [])],
                     "on_track", [], 1.0, 1.0, None),
}
CLOSED = {"closed.missed": "missed", "closed.cancelled": "cancelled"}


@pytest.fixture
def scenario(run):
    assert run("people", "add", "ana", "--name", "Ana").exit_code == 0
    assert run("people", "add", "ben", "--name", "Ben").exit_code == 0
    for key, (options, checkins, *_rest) in SCENARIO.items():
        args = ["assign", key, "--to", "ana", "--start", START, *options]
        if "--due" not in options:
            args += ["--due", DUE]
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        for value, at, extra in checkins:
            result = run("checkin", key, str(value), "--at", at, *extra)
            assert result.exit_code == 0, result.stderr
    for key, outcome in CLOSED.items():
        assert run("assign", key, "--to", "ben", "--start", START, "--due", DUE, "--target",
                   "10").exit_code == 0
        assert run("checkin", key, "3", "--at", AGO_20D).exit_code == 0
        assert run("close", key, "--outcome", outcome, "--at", "2026-11-20T12:00Z").exit_code == 0
    return run


def test_report_statuses_flags_and_numbers_follow_the_rules(scenario):
    doc = scenario("report", "--json", "--as-of", "2026-11-27T12:00Z").json()
    rows = {r["key"]: r for r in doc["kpis"]}
    assert set(rows) == set(SCENARIO) | set(CLOSED)
    for key, (_o, _c, status, flags, progress, raw, expected) in SCENARIO.items():
        row = rows[key]
        assert (row["status"], row["flags"]) == (status, flags), key
        # The table's 4 decimals; JSON carries them at full precision.
        assert row["progress"] == (None if progress is None
                                   else pytest.approx(progress, abs=5e-5)), key
        assert row["progress_raw"] == (None if raw is None else pytest.approx(raw, abs=5e-5)), key
        assert row["expected_progress"] == (None if expected is None
                                            else pytest.approx(expected, abs=5e-5)), key
    for key, outcome in CLOSED.items():
        assert (rows[key]["status"], rows[key]["flags"]) == (outcome, [])
    assert doc["as_of"] == "2026-11-27T12:00:00Z"
    counts = doc["summary"]["by_status"]
    assert counts == {"on_track": 4, "at_risk": 5, "off_track": 3, "overdue": 1, "no_data": 1,
                      "achieved": 1, "missed": 1, "cancelled": 1}
    assert doc["summary"]["total"] == 17


def test_report_is_a_pure_function_of_the_instant(scenario):
    earlier = scenario("report", "--json", "--revised", "--as-of", "2026-11-10T12:00Z").json()
    rows = {r["key"]: r for r in earlier["kpis"]}
    # Check-ins measured later do not count yet; closed KPIs were still open then.
    assert rows["inc.achieved"]["status"] == "no_data"
    assert rows["atleast.met"]["current"] == 6
    assert rows["closed.missed"]["status"] == "on_track"  # 3/10 done at 13/60 elapsed
    again = scenario("report", "--json", "--revised", "--as-of", "2026-11-10T12:00Z").json()
    assert again["kpis"] == earlier["kpis"]


def test_every_format_carries_the_same_numbers(scenario):
    as_of = ("--as-of", "2026-11-27T12:00Z")
    rows = {r["key"]: r for r in scenario("report", "--json", *as_of).json()["kpis"]}

    jsonl = scenario("report", "--format", "jsonl", *as_of).stdout.splitlines()
    import json

    assert {r["key"]: r for r in map(json.loads, jsonl)} == rows  # records only

    table = list(csv.DictReader(io.StringIO(scenario("report", "-f", "csv", *as_of).stdout)))
    assert {r["key"] for r in table} == set(rows)
    for record in table:
        row = rows[record["key"]]
        assert record["status"] == row["status"]
        assert record["flags"] == ";".join(row["flags"])
        assert (float(record["progress"]) if record["progress"] else None) == row["progress"]
        assert (float(record["expected_progress"]) if record["expected_progress"] else None) \
            == row["expected_progress"]

    md = scenario("report", "-f", "md", *as_of).stdout
    for key, row in rows.items():
        line = next(line for line in md.splitlines() if f"| {key.replace('.', '.')} |" in line)
        assert row["status"].replace("_", " ") in line
        if row["progress"] is not None:
            assert f"{row['progress'] * 100:.0f}%" in line

    text = scenario("report", *as_of).stdout
    assert "\x1b" not in text and "…" not in text
    for key, row in rows.items():
        line = next(line for line in text.splitlines() if key in line.split())
        assert row["status"].replace("_", " ") in line
        if row["progress"] is not None:
            assert f"{row['progress'] * 100:3.0f}%" in line


def test_report_fail_on_exits_5_after_printing(scenario):
    result = scenario("report", "--json", "--fail-on", "overdue,stale")
    assert result.exit_code == 5
    assert result.json()["kpis"]  # the report is printed first
    assert result.stderr.strip() == (
        "kpictl: --fail-on matched 3 KPIs: inc.overdue, inc.stale, inc.no-data (exit 5)"
    )
    clean = scenario("-q", "report", "--owner", "ben", "--fail-on", "overdue,stale")
    assert clean.exit_code == 0
    assert scenario("report", "--fail-on", "green").exit_code == 2


def test_report_filters_by_status_owner_and_tag(scenario):
    at_risk = scenario("report", "--json", "--status", "at_risk").json()
    assert {r["key"] for r in at_risk["kpis"]} == {
        "inc.at-risk", "inc.stale", "inc.blocked", "inc.low-confidence", "inc.milestone"}
    assert at_risk["summary"]["total"] == 5
    ben = scenario("report", "--json", "--owner", "ben").json()
    assert {r["key"] for r in ben["kpis"]} == set(CLOSED)
    assert scenario("report", "--json", "--tag", "nothing").json()["kpis"] == []
