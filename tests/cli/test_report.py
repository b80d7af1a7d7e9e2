"""`kpictl report`: the portfolio in every format, one KPI in detail, filters, --fail-on."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from .conftest import assert_error, dump_db, ok

REQUIRED_ROW_FIELDS = {
    "key", "title", "owner", "kind", "unit", "baseline", "target", "low", "high", "start", "due",
    "cadence", "current", "last_checkin_at", "next_checkin_due", "progress", "progress_raw",
    "expected_progress", "status", "flags", "confidence", "forecast", "days_left",
}
STATUSES = ["on_track", "at_risk", "off_track", "overdue", "no_data", "achieved", "missed",
            "cancelled"]


@pytest.fixture
def portfolio(seeded):
    """Three KPIs at 2026-11-27 12:00: ops.backlog overdue (bob), eng.uptime off track and
    blocked (bob), sales.arr on track (ana)."""
    run = seeded
    ok(run, "checkin", "sales.arr", "40", "--at", "2026-11-26", "--confidence", "7")
    ok(run, "assign", "ops.backlog", "--to", "bob", "--title", "Backlog", "--baseline", "320",
       "--target", "100", "--start", "2026-10-01", "--due", "2026-11-20")
    ok(run, "checkin", "ops.backlog", "200", "--at", "2026-11-25")
    ok(run, "assign", "eng.uptime", "--to", "bob", "--title", "Uptime", "--low", "99.9",
       "--high", "100", "--unit", "%", "--start", "2026-11-01", "--due", "2026-12-31",
       "--tag", "reliability")
    ok(run, "checkin", "eng.uptime", "99.5", "--at", "2026-11-26", "--blocker", "vendor outage")
    return run


def report_json(run, *args):
    doc = ok(run, "report", "--json", *args).json()
    assert doc["schema"] == "kpictl.report/1"
    return doc


# --------------------------------------------------------------------------- formats


def test_report_table_is_plain_and_complete_when_piped(portfolio):
    out = ok(portfolio, "report").stdout
    assert "\x1b" not in out
    assert "…" not in out
    lines = out.splitlines()
    assert lines[0] == "KPIs as of 2026-11-27 12:00 UTC"
    assert lines[1].split() == ["Status", "KPI", "Owner", "Progress", "Trend", "Exp.", "Current",
                                "Target", "Due", "Forecast", "Last", "check-in", "Flags"]
    rows = [line for line in lines[3:] if line[:1].isalpha()]
    assert [line.split()[:3] for line in rows] == [
        ["overdue", "ops.backlog", "bob"], ["off", "track", "eng.uptime"],
        ["on", "track", "sales.arr"]]
    assert lines[-1] == "3 KPIs: 1 on track, 1 off track, 1 overdue"
    backlog = next(line for line in lines if "ops.backlog" in line)
    assert backlog.endswith("overdue needs close")
    assert "2026-11-20 6 days late" in backlog  # due at the end of that day
    assert " 2 days ago " in backlog  # the last check-in, relative to the report's instant
    uptime = next(line for line in lines if "eng.uptime" in line)
    assert uptime.endswith("blocked")
    assert "99.9..100" in uptime
    assert all(line == line.rstrip() for line in lines)


def test_report_table_empty_database(run):
    result = ok(run, "report")
    assert result.stdout.startswith("No KPIs")
    assert "kpictl assign KEY --to HANDLE" in result.stdout
    assert "\x1b" not in result.stdout


def test_report_table_long_key_is_never_truncated(seeded):
    key = "a" * 40 + "." + "b" * 59  # the longest key allowed (100 characters)
    ok(seeded, "assign", key, "--to", "ana", "--target", "100", "--start", "2026-11-01",
       "--due", "2026-12-31")
    ok(seeded, "checkin", key, "10", "--blocker", "waiting on legal", "--confidence", "2")
    out = ok(seeded, "report").stdout
    assert "\x1b" not in out
    assert key in out
    assert "…" not in out  # no column (header, target, flags) is cut off a TTY
    row = next(line for line in out.splitlines() if key in line)
    assert row.endswith("blocked low confidence")


def test_report_table_long_title_keeps_every_column(seeded):
    title = ("Quarterly net new annual recurring revenue from enterprise customers in the DACH "
             "region, excluding renewals and expansions of existing contracts")  # 146 chars
    ok(seeded, "assign", "sales.arr", "--title", title)
    ok(seeded, "checkin", "sales.arr", "10", "--blocker", "legal")
    out = ok(seeded, "report").stdout
    assert "…" not in out
    lines = out.splitlines()
    assert lines[1].split() == ["Status", "KPI", "Owner", "Progress", "Trend", "Exp.", "Current",
                                "Target", "Due", "Forecast", "Last", "check-in", "Flags"]
    row = next(line for line in lines if "sales.arr" in line)
    assert row.split()[:4] == ["off", "track", "sales.arr", "ana"]
    assert row.endswith("blocked")
    assert title in out


def test_report_table_user_text_is_inert(seeded):
    ok(seeded, "assign", "sales.arr", "--title", "[bold]Big[/] \x1b[31mred\x1b[0m :rocket:")
    out = ok(seeded, "report").stdout
    assert "\x1b" not in out
    assert "[bold]Big[/]" in out
    assert ":rocket:" in out


def test_report_json(portfolio):
    doc = report_json(portfolio)
    assert (doc["generated_at"], doc["as_of"]) == ("2026-11-27T12:00:00Z",
                                                   "2026-11-27T12:00:00Z")
    assert [k["key"] for k in doc["kpis"]] == ["ops.backlog", "eng.uptime", "sales.arr"]
    for row in doc["kpis"]:
        assert REQUIRED_ROW_FIELDS <= set(row)
    arr = doc["kpis"][2]
    assert {k: arr[k] for k in ("owner", "kind", "unit", "baseline", "target", "current",
                                "last_checkin_at", "next_checkin_due", "progress",
                                "progress_raw", "expected_progress", "status", "flags",
                                "confidence", "forecast", "days_left")} == {
        "owner": "ana", "kind": "increase", "unit": "EUR", "baseline": 0, "target": 100,
        "current": 40, "last_checkin_at": "2026-11-26T00:00:00Z",
        "next_checkin_due": "2026-12-06T23:59:59Z", "progress": 0.4, "progress_raw": 0.4,
        "expected_progress": pytest.approx(0.4344, abs=5e-5), "status": "on_track", "flags": [],
        "confidence": 7,
        "forecast": None, "days_left": 34.5}
    backlog, uptime = doc["kpis"][0], doc["kpis"][1]
    assert (backlog["kind"], backlog["status"], backlog["flags"], backlog["progress"]) == (
        "decrease", "overdue", ["overdue", "needs_close"], pytest.approx(0.5455, abs=5e-5))
    assert backlog["suggested_outcome"] == "missed"
    assert (uptime["kind"], uptime["low"], uptime["high"], uptime["status"], uptime["flags"],
            uptime["blocker"]) == ("range", 99.9, 100, "off_track", ["blocked"],
                                   "vendor outage")
    assert doc["summary"] == {"total": 3, "by_status": {
        "on_track": 1, "at_risk": 0, "off_track": 1, "overdue": 1, "no_data": 0, "achieved": 0,
        "missed": 0, "cancelled": 0}}


def test_report_json_has_no_nan_or_infinity(portfolio):
    text = ok(portfolio, "report", "--json").stdout
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def test_report_format_from_environment(portfolio, monkeypatch):
    monkeypatch.setenv("KPICTL_FORMAT", "json")
    assert ok(portfolio, "report").json()["schema"] == "kpictl.report/1"


def test_report_csv(portfolio):
    out = ok(portfolio, "report", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:5] == ["key", "title", "owner", "kind", "unit"]
    assert REQUIRED_ROW_FIELDS - {"forecast"} <= set(rows[0])
    assert [r["key"] for r in rows] == ["ops.backlog", "eng.uptime", "sales.arr"]
    uptime = rows[1]
    assert (uptime["status"], uptime["flags"], uptime["low"], uptime["target"],
            uptime["blocker"]) == ("off_track", "blocked", "99.9", "", "vendor outage")
    assert (rows[2]["progress"], rows[2]["tags"], rows[2]["due"]) == ("0.4", "sales",
                                                                     "2026-12-31T23:59:59Z")


def test_report_csv_neutralises_formulas(seeded):
    ok(seeded, "assign", "sales.arr", "--title", "=HYPERLINK(\"http://x\")")
    [row] = list(csv.DictReader(io.StringIO(ok(seeded, "report", "-f", "csv").stdout)))
    assert row["title"] == "'=HYPERLINK(\"http://x\")"


def test_report_jsonl_is_records_only(portfolio):
    lines = ok(portfolio, "report", "--format", "jsonl").stdout.splitlines()
    records = [json.loads(line) for line in lines]  # no envelope line (PRODUCT §4)
    assert all("schema" not in r for r in records)
    assert [r["key"] for r in records] == ["ops.backlog", "eng.uptime", "sales.arr"]
    assert all(REQUIRED_ROW_FIELDS <= set(r) for r in records)


def test_report_md(portfolio):
    lines = ok(portfolio, "report", "--format", "md").stdout.splitlines()
    assert lines[0] == "# KPI report — 2026-11-27 12:00 (UTC)"
    assert "3 KPIs: 1 on track, 1 off track, 1 overdue" in lines
    assert ("| Status | KPI | Title | Owner | Progress | Expected | Current | Target | Due | "
            "Forecast | Flags |") in lines
    assert ("| on track | sales.arr | New ARR | ana | 40% | 43% | 40 | 100 | 2026-12-31 |  |  |"
            in lines)
    assert ("| overdue | ops.backlog | Backlog | bob | 55% | 100% | 200 | 100 | 2026-11-20 |  | "
            "overdue, needs\\_close |") in lines


# --------------------------------------------------------------------------- one KPI


def test_report_key_json_has_history(portfolio):
    ok(portfolio, "checkin", "sales.arr", "45", "--note", "one more deal", "--by", "maya")
    ok(portfolio, "assign", "sales.arr", "--to", "bob", "--at", "2026-11-27T06:00Z")
    ok(portfolio, "feedback", "sales.arr", "Keep going", "--by", "maya")
    doc = ok(portfolio, "report", "sales.arr", "--json").json()
    assert doc["schema"] == "kpictl.kpi/1"
    assert (doc["generated_at"], doc["as_of"]) == ("2026-11-27T12:00:00Z",
                                                   "2026-11-27T12:00:00Z")
    assert doc["kpi"]["key"] == "sales.arr"
    assert doc["kpi"]["owner"] == "bob"
    assert REQUIRED_ROW_FIELDS <= set(doc["kpi"])
    assert [(c["value"], c["by"], c["note"]) for c in doc["checkins"]] == [
        (40, "ana", None), (45, "maya", "one more deal")]
    assert [(a["to"], a["valid_from"], a["valid_until"]) for a in doc["assignments"]] == [
        ("ana", "2026-11-01T00:00:00Z", "2026-11-27T06:00:00Z"),
        ("bob", "2026-11-27T06:00:00Z", None)]
    assert doc["feedback"] == [{"at": "2026-11-27T12:00:00Z", "by": "maya",
                                "text": "Keep going"}]


def test_report_key_table(portfolio):
    ok(portfolio, "feedback", "sales.arr", "Keep going")
    out = ok(portfolio, "report", "sales.arr").stdout
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[0] == "sales.arr  New ARR"
    assert any(line.split() == ["Status", "on", "track"] for line in lines)
    for title in ("Check-ins", "Delegation", "Feedback"):
        assert title in lines
    assert any(line.split()[:9] == ["1", "2026-11-26", "00:00", "1", "day", "ago", "40", "ana",
                                    "7"] for line in lines)  # its id first, for `amend ID`
    # Relative times are measured from the report's instant (KPICTL_NOW 2026-11-27 12:00).
    assert any(line.split() == ["Window", "2026-11-01", "→", "2026-12-31", "(due", "in", "1",
                                "month)"] for line in lines), out
    assert any(line.split() == ["2026-11-27", "a", "few", "seconds", "ago", "—", "Keep",
                                "going"] for line in lines), out


def test_report_key_csv_lists_checkins(portfolio):
    rows = list(csv.DictReader(io.StringIO(ok(portfolio, "report", "sales.arr", "-f",
                                              "csv").stdout)))
    assert [(r["measured_at"], r["value"], r["by"], r["confidence"]) for r in rows] == [
        ("2026-11-26T00:00:00Z", "40.0", "ana", "7")]


def test_report_key_unknown_is_exit_3(portfolio):
    assert_error(portfolio("report", "sales.ar"), 3,
                 "no KPI 'sales.ar'; did you mean 'sales.arr'? See `kpictl report`.")


# --------------------------------------------------------------------------- filters, as of


def test_report_filter_owner(portfolio):
    assert [k["key"] for k in report_json(portfolio, "--owner", "bob")["kpis"]] == [
        "ops.backlog", "eng.uptime"]


def test_report_filter_tag(portfolio):
    assert [k["key"] for k in report_json(portfolio, "--tag", "reliability")["kpis"]] == [
        "eng.uptime"]


def test_report_filter_status_repeatable(portfolio):
    doc = report_json(portfolio, "--status", "on_track", "--status", "overdue")
    assert [k["key"] for k in doc["kpis"]] == ["ops.backlog", "sales.arr"]
    assert doc["summary"]["total"] == 2


def test_report_as_of_past_day(portfolio):
    # The portfolio was recorded "now" (2026-11-27) with earlier starts: in hindsight.
    doc = report_json(portfolio, "--as-of", "2026-11-25", "--revised")
    assert doc["as_of"] == "2026-11-25T23:59:59Z"
    by_key = {k["key"]: k for k in doc["kpis"]}
    assert by_key["sales.arr"]["status"] == "no_data"
    assert by_key["sales.arr"]["current"] is None
    assert by_key["ops.backlog"]["current"] == 200
    assert report_json(portfolio, "--as-of", "2026-11-25")["kpis"] == []  # nothing known then


def test_report_as_of_before_any_kpi_is_empty(portfolio):
    doc = report_json(portfolio, "--as-of", "2026-09-01")
    assert doc["kpis"] == []
    assert doc["summary"]["total"] == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--as-of", "last blursday"], "--as-of: invalid date 'last blursday'"),
        (["--status", "late"], "invalid --status 'late': use on_track, at_risk"),
        (["--tag", "bad tag"], "invalid tag 'bad tag'"),
        (["--format", "xml"], "invalid --format 'xml' (or KPICTL_FORMAT): use table, json"),
    ],
)
def test_report_invalid_options_are_exit_2(portfolio, args, fragment):
    line = assert_error(portfolio("report", *args), 2)
    assert fragment in line


# --------------------------------------------------------------------------- --fail-on


def test_report_fail_on_matched_prints_report_then_exits_5(portfolio):
    result = portfolio("report", "--json", "--fail-on", "overdue,stale")
    assert result.exit_code == 5
    doc = result.json()
    assert [k["key"] for k in doc["kpis"]] == ["ops.backlog", "eng.uptime", "sales.arr"]
    # A match is what cron asked about, not an error: a notice, not worded as one.
    assert result.stderr == "kpictl: --fail-on matched 1 KPI: ops.backlog (exit 5)\n"


def test_report_fail_on_matches_flags_too(portfolio):
    result = portfolio("report", "-f", "csv", "--fail-on", "blocked, OVERDUE")
    assert result.exit_code == 5
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 3
    assert result.stderr == ("kpictl: --fail-on matched 2 KPIs: ops.backlog, eng.uptime "
                             "(exit 5)\n")


def test_report_fail_on_is_silent_with_quiet(portfolio):
    result = portfolio("-q", "report", "-f", "csv", "--fail-on", "blocked,overdue")
    assert (result.exit_code, result.stderr) == (5, "")
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 3
    quiet_table = portfolio("-q", "report", "--by", "owner", "--fail-on", "overdue")
    assert (quiet_table.exit_code, quiet_table.stderr) == (5, "")


def test_report_fail_on_with_key(portfolio):
    result = portfolio("report", "ops.backlog", "--json", "--fail-on", "overdue")
    assert result.exit_code == 5
    assert result.json()["kpi"]["key"] == "ops.backlog"
    assert ok(portfolio, "report", "sales.arr", "--json", "--fail-on", "overdue").json()


def test_report_fail_on_not_matched_is_exit_0(portfolio):
    result = ok(portfolio, "report", "--json", "--fail-on", "at_risk,stale,missed")
    assert result.stderr == ""
    assert result.json()["summary"]["total"] == 3


def test_report_fail_on_unknown_value_is_exit_2(portfolio):
    before = dump_db()
    line = assert_error(portfolio("report", "--fail-on", "overdue,late"), 2)
    assert line.startswith("kpictl: error: --fail-on: unknown status or flag late; use any of ")
    assert dump_db() == before


def test_report_summary_lists_all_statuses(portfolio):
    assert list(report_json(portfolio)["summary"]["by_status"]) == STATUSES


def test_report_status_accepts_commas_and_json_beats_a_bad_env_format(portfolio, monkeypatch):
    both = ok(portfolio, "report", "--status", "overdue,on_track", "--json").json()
    assert sorted(r["key"] for r in both["kpis"]) == ["ops.backlog", "sales.arr"]
    monkeypatch.setenv("KPICTL_FORMAT", "xml")
    assert ok(portfolio, "report", "--json").json()["schema"] == "kpictl.report/1"
    assert_error(portfolio("report"), 2)


def test_report_fail_on_applies_to_the_digest_and_owner_views(portfolio):
    for view in (["--week", "this"], ["--by", "owner"]):
        result = portfolio("report", *view, "--fail-on", "overdue")
        assert result.exit_code == 5, view
        assert result.stdout  # printed first
        assert result.stderr == "kpictl: --fail-on matched 1 KPI: ops.backlog (exit 5)\n"


def test_report_key_refuses_portfolio_filters(portfolio):
    line = assert_error(portfolio("report", "sales.arr", "--owner", "ana"), 2)
    assert "with a KEY there is one KPI to show" in line


# --------------------------------------------------------------------------- cost

REPORT_AS_PROGRAM = """
import sys
sys.argv = ["kpictl", "report", "--format", "json"]  # as the console script starts
import atexit, gc
young = []  # objects in generation 0 when a collection starts, once the work has begun
gc.callbacks.append(lambda phase, info: young.append(gc.get_count()[0])
                    if phase == "start" and "kpictl.db" in sys.modules else None)
atexit.register(lambda: sys.stderr.write(
    f"largest {max(young, default=0) < 5000}, running {gc.isenabled()}\\n"))
from kpictl.cli import main
main()
"""


def test_the_report_never_has_the_collector_rescan_what_it_built(portfolio):
    """The portfolio's objects (and the mappers and caches its queries set up) are freed by
    reference counting or live to the end: the program's collector stays off while it builds
    and writes them, then runs again without them (README "Performance")."""
    proc = subprocess.run([sys.executable, "-c", REPORT_AS_PROGRAM], capture_output=True,
                          text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stderr) == (0, "largest True, running True\n")
    assert [r["key"] for r in json.loads(proc.stdout)["kpis"]] == [
        "ops.backlog", "eng.uptime", "sales.arr"]
