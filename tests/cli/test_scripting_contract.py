"""The corners of the scripting contract (PRODUCT §4) that scripts and cron lean on: one
format per call, statuses spelled as users type them, exit 7 for partly done bulk writes,
every problem of a bad row at once with suggestions, and kpictl's own wording for bad numbers
and future times."""

from __future__ import annotations

import pytest

from .conftest import assert_error, dump_db, ok


@pytest.mark.parametrize("other", ["csv", "table", "md", "jsonl"])
def test_json_with_another_format_is_a_usage_error(seeded, other):
    before = dump_db()
    assert_error(seeded("report", "--json", "--format", other), 2,
                 f"--json and --format {other} ask for different formats: give one of them")
    assert_error(seeded("people", "list", "-f", other, "--json"), 2)
    assert dump_db() == before


def test_json_with_format_json_or_an_env_format_is_fine(seeded, monkeypatch):
    assert ok(seeded, "report", "--json", "--format", "json").json()["schema"] == \
        "kpictl.report/1"
    monkeypatch.setenv("KPICTL_FORMAT", "csv")  # the environment's default yields to --json
    assert ok(seeded, "report", "--json").json()["schema"] == "kpictl.report/1"


def test_status_accepts_hyphens_as_users_type_them(seeded):
    ok(seeded, "checkin", "sales.arr", "1", "--at", "2026-11-26")  # far behind pace
    by_hyphen = ok(seeded, "report", "--status", "off-track,at-risk", "--json").json()
    by_underscore = ok(seeded, "report", "--status", "off_track,at_risk", "--json").json()
    assert [k["key"] for k in by_hyphen["kpis"]] == ["sales.arr"]
    assert by_hyphen["kpis"] == by_underscore["kpis"]
    result = seeded("report", "--fail-on", "off-track", "--json")
    assert result.exit_code == 5


@pytest.mark.parametrize(("args", "message"), [
    (["checkin", "sales.arr", "5", "--confidence", "7.5"],
     "invalid --confidence '7.5': use a whole number from 0 to 10"),
    (["checkin", "sales.arr", "5", "--confidence", "seven"],
     "invalid --confidence 'seven': use a whole number from 0 to 10"),
    (["checkin", "sales.arr", "5", "--confidence", "11"],
     "invalid --confidence 11: use a whole number from 0 to 10"),
    (["suggest", "sales.arr", "--top", "2.5"],
     "invalid --top '2.5': use a number of people, 1 or more"),
    (["people", "edit", "ana", "--capacity", "x"],
     "invalid --capacity 'x': use a number of KPIs from 0 to 1000"),
])
def test_bad_whole_numbers_get_kpictls_own_message(seeded, args, message):
    before = dump_db()
    line = assert_error(seeded(*args), 2, message)
    assert "Input should" not in line and "valid integer" not in line
    assert dump_db() == before


def test_future_at_is_reported_in_the_users_zone(seeded, monkeypatch):
    monkeypatch.setenv("KPICTL_TZ", "Asia/Tokyo")  # 2026-11-27 12:00 UTC is 21:00 there
    assert_error(seeded("checkin", "sales.arr", "5", "--at", "tomorrow"), 2,
                 "--at 2026-11-28 00:00 Asia/Tokyo is in the future (it is now "
                 "2026-11-27 21:00 Asia/Tokyo)")
    result = seeded("checkin", "--file", "-", input='{"kpi": "sales.arr", "value": 5, '
                                                     '"at": "2026-12-01T00:00:00Z"}\n')
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == \
        "kpictl: line 1: at 2026-12-01 09:00 Asia/Tokyo is in the future"


# --------------------------------------------------------------------------- bulk files


def test_checkin_file_skip_invalid_exits_7_when_rows_were_skipped(seeded, tmp_path):
    path = tmp_path / "week.csv"
    path.write_text("kpi,value,at\nsales.arr,10,2026-11-20\nsales.arr,oops,\n"
                    "sales.arr,12,2026-11-21\n")
    result = seeded("checkin", "--file", str(path), "--skip-invalid")
    assert (result.exit_code, result.stdout) == (7, "")
    assert result.stderr.splitlines() == [
        "kpictl: skipped line 3: invalid value 'oops': expected a number such as 12.5",
        f"{path}: 2 check-ins written, 0 skipped (already recorded), 1 invalid",
    ]
    assert seeded("report", "sales.arr", "--json").json()["kpi"]["checkins"] == 2
    clean = tmp_path / "clean.csv"
    clean.write_text("kpi,value,at\nsales.arr,13,2026-11-22\n")
    assert seeded("checkin", "--file", str(clean), "--skip-invalid").exit_code == 0


def test_assign_file_skip_invalid_exits_7_when_rows_were_skipped(seeded, tmp_path):
    path = tmp_path / "kpis.csv"
    path.write_text("key,to,target,due\nops.calls,ana,50,2026-12-31\nops.mails,zed,5,+2w\n")
    result = seeded("assign", "--file", str(path), "--skip-invalid")
    assert result.exit_code == 7
    assert result.stderr.splitlines()[-1] == f"{path}: 1 KPIs written, 0 unchanged, 1 invalid"
    keys = [k["key"] for k in seeded("report", "--json").json()["kpis"]]
    assert "ops.calls" in keys and "ops.mails" not in keys


def test_a_bad_checkin_row_lists_every_problem_with_suggestions(seeded, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("kpi,value,at,by,confidence\n"
                    "sales.ar,abc,2030-01-01,anaa,7.5\n"
                    ",,,,\n")
    before = dump_db()
    result = seeded("checkin", "--file", str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "kpictl: line 2: no KPI 'sales.ar' (did you mean 'sales.arr'?); invalid value 'abc': "
        "expected a number such as 12.5; at 2030-01-01 00:00 UTC is in the future; no person "
        "'anaa' (did you mean 'ana'?); confidence '7.5' must be a whole number 0-10",
        "kpictl: line 3: kpi is required; value is required",
        f"kpictl: error: 2 invalid row(s) in {path}; nothing written (fix them, or pass "
        "--skip-invalid to write the valid rows)",
    ]
    assert dump_db() == before


def test_a_bad_kpi_row_lists_every_problem_with_suggestions(seeded, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("key,to,target,due,kind,by\n"
                    "ops.one,anaa,abc,blursday,,mayaa\n"
                    ",ana,5,+2w,upwards,\n")
    before = dump_db()
    result = seeded("assign", "--file", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        "kpictl: line 2: no person 'anaa' (did you mean 'ana'?); no person 'mayaa' (did you "
        "mean 'maya'?); invalid target 'abc': expected a number such as 12.5; due: invalid "
        "date 'blursday': ")
    assert lines[1] == ("kpictl: line 3: kind 'upwards': use increase, decrease, at-least, "
                        "at-most, range or objective; key is required")
    assert dump_db() == before
