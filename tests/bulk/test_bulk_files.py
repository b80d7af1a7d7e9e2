"""`checkin --file` and `assign --file`: whole-file validation, idempotent re-sends, stdin,
format detection, templates, and all-or-nothing writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest


@pytest.fixture
def team(run):
    for handle in ("ana", "bob"):
        assert run("people", "add", handle, "--name", handle.title()).exit_code == 0
    for key in ("k.a", "k.b"):
        assert run("assign", key, "--to", "ana", "--target", "1000", "--start", "-60d",
                   "--due", "+30d").exit_code == 0
    return run


def checkin_count(run, key):
    return run("report", key, "--json").json()["kpi"]["checkins"]


def snapshot(run):
    return run("report", "--json").json()["kpis"]


def test_thousands_of_rows_from_stdin_are_recorded_once_however_often_sent(team):
    lines = [json.dumps({"kpi": "k.a" if i % 2 else "k.b", "value": i, "key": f"m-{i}",
                         "at": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"})
             for i in range(3000)]
    text = "\n".join(lines) + "\n"
    first = team("checkin", "--file", "-", input=text)
    assert (first.exit_code, first.stdout) == (0, "")
    assert first.stderr == "stdin: 3000 check-ins written, 0 skipped (already recorded), " \
                           "0 invalid\n"
    for _ in range(2):
        again = team("checkin", "--file", "-", input=text)
        assert again.stderr == "stdin: 0 check-ins written, 3000 skipped (already " \
                               "recorded), 0 invalid\n"
    assert checkin_count(team, "k.a") == 1500 and checkin_count(team, "k.b") == 1500


def test_a_bad_row_anywhere_leaves_the_database_untouched(team, tmp_path):
    path = tmp_path / "push.csv"
    good = "".join(f"k.a,{i},2026-11-0{1 + i % 9},r{i}\n" for i in range(500))
    path.write_text("kpi,value,at,key\n" + good + "k.a,12;5,,bad\n" + good.replace("r", "s")
                    + "k.nope,1,,x\nk.b,3,2026-02-30,y\n")
    before = snapshot(team)
    result = team("checkin", "--file", str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "kpictl: line 502: invalid value '12;5': expected a number such as 12.5",
        "kpictl: line 1003: no KPI 'k.nope'",
        "kpictl: line 1004: at: invalid date '2026-02-30': February 2026 has 28 days (use "
        "2026-02-01 to 2026-02-28)",
        f"kpictl: error: 3 invalid row(s) in {path}; nothing written (fix them, or pass "
        "--skip-invalid to write the valid rows)",
    ]
    assert snapshot(team) == before
    skipped = team("checkin", "--file", str(path), "--skip-invalid")
    assert skipped.exit_code == 7  # partly done: the valid rows written, the bad ones not
    assert skipped.stderr.splitlines()[-1] == (
        f"{path}: 1000 check-ins written, 0 skipped (already recorded), 3 invalid")
    assert checkin_count(team, "k.a") == 1000


def test_same_key_with_another_value_is_invalid(team):
    assert team("checkin", "k.a", "5", "--key", "day-1").exit_code == 0
    result = team("checkin", "--file", "-", input='{"kpi": "k.a", "value": 6, "key": "day-1"}\n')
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "kpictl: line 1: key 'day-1' was already used on k.a for value 5")


@pytest.mark.parametrize(("name", "content", "extra"), [
    ("data.csv", "kpi,value\nk.a,7\n", []),
    ("data.jsonl", '{"kpi": "k.a", "value": 7}\n', []),
    ("data.txt", '{"kpi": "k.a", "value": 7}\n', []),  # sniffed as JSON Lines
    ("data.txt", "kpi,value\nk.a,7\n", []),  # sniffed as CSV
    ("data.jsonl", "kpi,value\nk.a,7\n", ["--input-format", "csv"]),  # the option wins
])
def test_format_detection(team, tmp_path, name, content, extra):
    path = tmp_path / name
    path.write_text(content)
    result = team("checkin", "--file", str(path), *extra)
    assert result.exit_code == 0, result.stderr
    assert team("report", "k.a", "--json").json()["kpi"]["current"] == 7


@pytest.mark.parametrize(("content", "message"), [
    ("kpi,valeu\nk.a,1\n", "unknown column(s) 'valeu'; use kpi, value, at, by, confidence"),
    ('{"kpi": "k.a"}\n', "line 1: value is required"),
    ('{"kpi": "k.a", "value": 1}\nnot json\n', "line 2: not valid JSON"),
    ('{"kpi": "k.a", "value": 1, "confidence": 11}\n', "line 1: confidence 11 must be a whole"),
    ('{"kpi": "k.a", "value": 1, "by": "zed"}\n', "line 1: no person 'zed'"),
])
def test_bad_files_name_line_and_reason(team, tmp_path, content, message):
    path = tmp_path / "in.txt"
    path.write_text(content)
    result = team("checkin", "--file", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert checkin_count(team, "k.a") == 0


def test_a_csv_saved_by_excel_with_a_byte_order_mark_is_read(team, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("kpi,value,at\r\nk.a,7,2026-11-20T10:00:00Z\r\n".encode("utf-8-sig"))
    result = team("checkin", "--file", str(path))
    assert (result.exit_code, result.stderr) == (
        0, f"{path}: 1 check-ins written, 0 skipped (already recorded), 0 invalid\n")
    assert checkin_count(team, "k.a") == 1


def test_a_large_file_streams_with_bounded_memory_and_every_row_counts(team, tmp_path):
    """Rows are validated and written in chunks as the file is read: the aggregates the
    report uses must count every chunk (rows of several chunks, in and out of order)."""
    path = tmp_path / "many.csv"
    rows = [f"k.{'a' if i % 3 else 'b'},{i % 97},2026-11-{1 + i % 25:02d}T{i % 24:02d}:00:00Z"
            for i in range(12_345)]
    path.write_text("kpi,value,at\n" + "\n".join(rows) + "\n")
    assert team("-q", "checkin", "--file", str(path)).exit_code == 0
    report = {k["key"]: k for k in team("report", "--json").json()["kpis"]}
    assert (report["k.a"]["checkins"], report["k.b"]["checkins"]) == (8230, 4115)


@pytest.mark.parametrize("count", [3, 600])  # few keys are looked up as pairs, many by KPI
def test_a_resend_with_padded_keys_is_skipped_not_a_conflict(team, count):
    lines = [json.dumps({"kpi": "k.a", "value": i, "key": f"  pad-{i} ",
                         "at": f"2026-11-{1 + i % 20:02d}T{i % 24:02d}:00:00Z"})
             for i in range(count)] + [json.dumps({"kpi": "k.b", "value": 1, "key": True})]
    text = "\n".join(lines) + "\n"
    assert team("-q", "checkin", "--file", "-", input=text).exit_code == 0
    again = team("checkin", "--file", "-", input=text)
    assert (again.exit_code, again.stderr) == (
        0, f"stdin: 0 check-ins written, {count + 1} skipped (already recorded), 0 invalid\n")


def test_checkin_file_usage_errors(team):
    missing = team("checkin", "--file", "/nonexistent/x.csv")
    assert (missing.exit_code, missing.stderr) == (
        2, "kpictl: error: --file: cannot read /nonexistent/x.csv: no such file\n")
    both = team("checkin", "k.a", "5", "--file", "-")
    assert both.exit_code == 2 and "drop KEY, VALUE" in both.stderr
    neither = team("checkin")
    assert neither.exit_code == 2 and "give KEY VALUE" in neither.stderr


def test_assign_file_delegates_a_template_to_many_people(team, tmp_path):
    path = tmp_path / "q1.csv"
    path.write_text("key,to,title,target,baseline,due,tags,kind\n"
                    "sales.{to}.arr,ana,ARR for {to},100,0,+30d,sales;q1,\n"
                    "sales.{to}.arr,bob,ARR for {to},100,0,+30d,sales;q1,\n"
                    "support.{to}.tickets,bob,Tickets,20,100,+30d,,decrease\n")
    result = team("assign", "--file", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"{path}: 3 KPIs written, 0 unchanged, 0 invalid\n"
    rows = {r["key"]: r for r in snapshot(team)}
    assert (rows["sales.bob.arr"]["owner"], rows["sales.bob.arr"]["title"],
            rows["sales.bob.arr"]["tags"]) == ("bob", "ARR for bob", ["q1", "sales"])
    assert rows["support.bob.tickets"]["kind"] == "decrease"
    again = team("assign", "--file", str(path))
    assert again.stderr == f"{path}: 0 KPIs written, 3 unchanged, 0 invalid\n"


def test_assign_file_with_a_bad_row_changes_nothing(team, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"key": "new.one", "to": "ana", "target": 5, "due": "+9d"}\n'
                    '{"key": "k.a", "target": 2000}\n'
                    '{"key": "new.two", "to": "zed", "target": 5, "due": "+9d"}\n')
    before = snapshot(team)
    result = team("assign", "--file", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "kpictl: line 3: no person 'zed'")
    assert snapshot(team) == before  # new.one and the k.a change were rolled back too
    partial = team("assign", "--file", str(path), "--skip-invalid")
    assert partial.exit_code == 7
    keys = {r["key"]: r for r in snapshot(team)}
    assert "new.one" in keys and keys["k.a"]["target"] == 2000 and "new.two" not in keys


def zone_dates(run, key):
    kpi = run("report", key, "--json").json()["kpi"]
    return kpi["zone"], kpi["start"], kpi["due"]


def test_assign_file_reads_dates_in_the_kpis_zone_as_assign_does(team, tmp_path):
    assert team("--tz", "Europe/Berlin", "assign", "k.berlin", "--to", "ana", "--target", "10",
                "--start", "2026-11-02", "--due", "2026-12-31").exit_code == 0
    path = tmp_path / "zones.csv"
    path.write_text("key,to,target,start,due,zone\n"
                    "new.tokyo,ana,10,,2026-12-31,Asia/Tokyo\n"  # the row's zone, start today
                    "k.berlin,,,2026-11-03,2027-01-31,\n"  # the existing KPI's zone
                    "new.viewer,ana,10,2026-11-02,2026-12-31,\n"  # the viewer's (--tz)
                    "k.b,,,,2027-01-31,asia/tokyo\n")  # a new zone for k.b: dates read in it
    result = team("--tz", "America/New_York", "assign", "--file", str(path))
    assert (result.exit_code, result.stderr) == (
        0, f"{path}: 4 KPIs written, 0 unchanged, 0 invalid\n")
    assert zone_dates(team, "new.tokyo") == (
        "Asia/Tokyo", "2026-11-26T15:00:00Z", "2026-12-31T14:59:59Z")
    assert zone_dates(team, "k.berlin") == (
        "Europe/Berlin", "2026-11-02T23:00:00Z", "2027-01-31T22:59:59Z")
    assert zone_dates(team, "new.viewer") == (
        "America/New_York", "2026-11-02T05:00:00Z", "2027-01-01T04:59:59Z")
    assert zone_dates(team, "k.b")[::2] == ("Asia/Tokyo", "2027-01-31T14:59:59Z")


def test_assign_file_without_a_zone_column_reads_an_existing_kpis_dates_in_its_zone(team,
                                                                                   tmp_path):
    assert team("--tz", "Europe/Berlin", "assign", "k.berlin", "--to", "ana", "--target", "10",
                "--start", "2026-11-02", "--due", "2026-12-31").exit_code == 0
    path = tmp_path / "later.csv"
    path.write_text("key,due\nk.berlin,2027-01-31\n")
    assert team("assign", "--file", str(path)).exit_code == 0  # the viewer is in UTC
    assert zone_dates(team, "k.berlin")[::2] == ("Europe/Berlin", "2027-01-31T22:59:59Z")


def test_assign_file_names_an_unknown_zone(team, tmp_path):
    path = tmp_path / "zones.jsonl"
    path.write_text('{"key": "new.one", "to": "ana", "target": 5, "due": "+9d", '
                    '"zone": "Mars/Base"}\n')
    result = team("assign", "--file", str(path))
    assert (result.exit_code, result.stderr.splitlines()[0]) == (
        2, "kpictl: line 1: unknown time zone 'Mars/Base': use an IANA name such as "
           "Europe/Berlin or UTC")
    assert "new.one" not in {r["key"] for r in snapshot(team)}


def test_a_file_number_obeys_the_command_lines_limits(team):
    """One vocabulary for input: a JSON number in a file is refused where the same number
    typed as an option is, in the same words (STYLE habit 12)."""
    huge = "9" * 400
    lines = ('{"kpi": "k.a", "value": 1e300}\n'
             f'{{"kpi": "k.a", "value": {huge}}}\n'
             '{"kpi": "k.a", "value": 2e15}\n')
    result = team("checkin", "--file", "-", input=lines)
    assert (result.exit_code, result.stderr.splitlines()[:3]) == (2, [
        "kpictl: line 1: invalid value '1e+300': expected a number such as 12.5 (at most 1e15 "
        "in magnitude)",
        f"kpictl: line 2: invalid value '{huge[:59]}…': expected a number such as 12.5 (at "
        "most 1e15 in magnitude)",
        "kpictl: line 3: invalid value '2000000000000000.0': expected a number such as 12.5 "
        "(at most 1e15 in magnitude)"])
    typed = team("checkin", "k.a", "1e300")
    assert typed.stderr == ("kpictl: error: invalid VALUE '1e300': expected a number such as "
                            "12.5 (at most 1e15 in magnitude)\n")
    assert checkin_count(team, "k.a") == 0
    kpis = team("assign", "--file", "-",
                input='{"key": "n.a", "to": "ana", "target": 1e300, "due": "+9d"}\n')
    assert (kpis.exit_code, kpis.stderr.splitlines()[0]) == (
        2, "kpictl: line 1: invalid target '1e+300': expected a number such as 12.5 (at most "
           "1e15 in magnitude)")


def test_a_targets_file_reads_numbers_as_the_command_line_does(team):
    assert team("assign", "m.x", "--to", "ana", "--every", "month",
                "--target", "5").exit_code == 0
    result = team("targets", "m.x", "--file", "-", "--input-format", "csv",
                  input="period,target\n2026-12,1e300\n2027-01,1_000\n2027-02,7\n")
    assert (result.exit_code, result.stderr) == (2, (
        "kpictl: line 2: invalid target '1e300': expected a number such as 12.5 (at most 1e15 "
        "in magnitude)\n"
        "kpictl: line 3: invalid target '1_000': expected a number such as 12.5\n"
        "kpictl: error: 2 invalid row(s) in stdin; nothing written\n"))


WRITER = r"""
import sys
from kpictl.cli import main
main(["-q", "checkin", "--file", sys.argv[1]])
"""


@pytest.mark.slow
def test_a_killed_bulk_write_leaves_all_or_nothing(team, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("kpi,value,at\n" + "".join(f"k.a,{i},2026-11-0{1 + i % 9}\n"
                                               for i in range(200_000)))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=os.environ.copy(),
                            stderr=subprocess.PIPE)
    time.sleep(2.0)  # parsing and validating: the insert may or may not have begun
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    count = checkin_count(team, "k.a")
    assert count in (0, 200_000)
    if "://" not in os.environ["KPICTL_DB"]:
        import sqlite3

        with sqlite3.connect(os.environ["KPICTL_DB"]) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
