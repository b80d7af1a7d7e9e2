"""`kpictl amend`, `retract`, `reopen` and `log` at the command line: confirmations on stderr,
one-line errors with their exit codes, nothing changed by a refused command."""

from __future__ import annotations

import json

import pytest

from kpictl import jsonschemas

from .conftest import assert_error, dump_db, ok


@pytest.fixture
def tracked(seeded):
    ok(seeded, "checkin", "sales.arr", "10", "--at", "2026-11-05")
    ok(seeded, "checkin", "sales.arr", "-5", "--at", "2026-11-12", "--blocker", "legal")
    return seeded


def test_amend_confirms_on_stderr_and_changes_the_report(tracked):
    result = ok(tracked, "amend", "2", "--value", "25", "--no-blocker", "--reason", "typo",
                "--by", "maya")
    assert (result.stdout, result.stderr) == (
        "", "amended check-in 2 of sales.arr: value -5 → 25, blocker legal → none\n")
    row = tracked("report", "sales.arr", "--json").json()
    assert (row["kpi"]["current"], row["kpi"]["blocker"]) == (25.0, None)
    assert "blocked" not in row["kpi"]["flags"]
    assert ok(tracked, "-q", "amend", "2", "--confidence", "4", "--reason", "x").stderr == ""


def test_report_key_table_shows_ids_and_what_a_correction_changed(tracked, monkeypatch):
    ok(tracked, "amend", "2", "--value", "25", "--reason", "typo")
    ok(tracked, "retract", "1", "--reason", "duplicate")
    monkeypatch.setenv("COLUMNS", "140")
    table = tracked("report", "sales.arr").stdout
    lines = [line for line in table.splitlines() if "2026-11-05" in line or "2026-11-12" in line]
    assert lines[0].split()[0] == "1" and "[retracted: duplicate]" in lines[0]
    assert lines[1].split()[0] == "2" and "[amended: value was -5; typo]" in lines[1]
    csv_lines = tracked("report", "sales.arr", "-f", "csv").stdout.splitlines()
    assert csv_lines[0].startswith("id,status,measured_at,value,")
    assert csv_lines[1].startswith("1,retracted,") and csv_lines[2].startswith("2,amended,")


@pytest.mark.parametrize(("args", "code", "message"), [
    (("amend", "2", "--value", "1"), 2, None),  # --reason is required (Typer's usage error)
    (("amend", "2", "--reason", "why"), 2, "nothing to amend: give --value, --at, "
     "--confidence, --note, --blocker or --no-blocker"),
    (("amend", "2", "--value", "1", "--reason", "  "), 2, "--reason must not be empty"),
    (("amend", "99", "--value", "1", "--reason", "x"), 3, "no check-in 99; `kpictl report KEY` "
     "lists a KPI's check-ins with their ids"),
    (("amend", "2", "--value", "-5", "--reason", "x"), 2, "check-in 2 of sales.arr already has "
     "these values; nothing to amend"),
    (("amend", "2", "--at", "2026-10-01", "--reason", "x"), 2, "--at 2026-10-01 00:00 UTC is "
     "before the start of sales.arr (2026-11-01 00:00 UTC): a KPI has no measurements before "
     "it starts"),
    (("amend", "2", "--blocker", "a", "--no-blocker", "--reason", "x"), 2,
     "--blocker and --no-blocker contradict each other: give one"),
    (("amend", "2", "--value", "1", "--reason", "x", "--by", "zed"), 3,
     "no person 'zed'. See `kpictl people list`."),
    (("retract", "2"), 2, None),
    (("retract", "0", "--reason", "x"), 2, None),
    (("reopen", "sales.arr", "--reason", "x"), 4,
     "KPI 'sales.arr' is not closed; there is nothing to reopen"),
    (("reopen", "sales.arr"), 2, None),
    (("log", "--since", "2026-11-20", "--until", "2026-11-10"), 2,
     "--since must not be after --until"),
    (("log", "nope.kpi"), 3, "no KPI 'nope.kpi'. See `kpictl report`."),
    (("checkin", "sales.arr", "5", "--at", "2026-10-31"), 2, "--at 2026-10-31 00:00 UTC is "
     "before the start of sales.arr (2026-11-01 00:00 UTC): a KPI has no measurements before "
     "it starts"),
    (("report", "--revised"), 2, "--revised looks back at an earlier instant: give --as-of DATE "
     "(or a digest window, --since/--week)"),
])
def test_correction_commands_refuse_bad_input_and_change_nothing(tracked, args, code, message):
    before = dump_db()
    assert_error(tracked(*args), code, message)
    assert dump_db() == before


def test_a_retracted_check_in_cannot_be_corrected_again(tracked):
    assert ok(tracked, "retract", "2", "--reason", "wrong KPI").stderr == (
        "retracted check-in 2 of sales.arr (-5 at 2026-11-12 00:00 UTC)\n")
    before = dump_db()
    for args in (("amend", "2", "--value", "3", "--reason", "x"),
                 ("retract", "2", "--reason", "x")):
        assert_error(tracked(*args), 4, "check-in 2 of sales.arr was retracted on 2026-11-27 "
                     "12:00 UTC; record a new check-in instead (kpictl checkin)")
    assert dump_db() == before


def test_bulk_check_ins_before_the_start_or_with_an_amends_column_are_refused(tracked, tmp_path):
    early = tmp_path / "early.csv"
    early.write_text("kpi,value,at\nsales.arr,5,2026-11-20\nsales.arr,6,2026-10-30\n")
    before = dump_db()
    result = tracked("checkin", "--file", str(early))
    assert result.exit_code == 2
    assert ("line 3: at 2026-10-30 00:00 UTC is before the start of sales.arr (2026-11-01 00:00 "
            "UTC)") in result.stderr
    amends = tmp_path / "amends.csv"
    amends.write_text("kpi,value,amends\nsales.arr,5,2\n")
    result = tracked("checkin", "--file", str(amends))
    assert result.exit_code == 2 and "unknown column(s) 'amends'" in result.stderr
    assert dump_db() == before


def test_log_filters_and_formats(tracked, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", "2026-11-28T09:00:00+00:00")
    ok(tracked, "amend", "2", "--value", "25", "--reason", "typo", "--by", "ana")
    ok(tracked, "people", "edit", "bob", "--capacity", "3")
    ok(tracked, "people", "deactivate", "bob")
    doc = tracked("log", "--json").json()
    schema = jsonschemas.load("log")
    import jsonschema

    jsonschema.validate(doc, schema)
    types = [e["type"] for e in doc["events"]]
    assert types[:3] == ["person.added"] * 3
    assert types[-3:] == ["person.changed", "person.deactivated", "checkin.amended"]  # same instant
    assert [(e["type"], e["person"], e["detail"]) for e in doc["events"]
            if e["type"].startswith("person.") and e["type"] != "person.added"] == [
        ("person.changed", "bob", {"field": "capacity", "from": "5", "to": "3"}),
        ("person.deactivated", "bob", {"field": "active", "from": "true", "to": "false"})]
    mine = tracked("log", "--by", "ana", "--since", "2026-11-28", "--json").json()
    assert [(e["type"], e["detail"]["reason"]) for e in mine["events"]] == [
        ("checkin.amended", "typo")]
    assert mine["filters"] == {"kpi": None, "since": "2026-11-28T00:00:00Z", "until": None,
                               "by": "ana"}
    lines = tracked("log", "sales.arr", "-f", "jsonl").stdout.splitlines()
    assert all(json.loads(line)["kpi"] == "sales.arr" for line in lines)
    assert [json.loads(line)["type"] for line in lines] == [
        "kpi.created", "kpi.assigned", "checkin.recorded", "checkin.recorded",
        "checkin.amended"]
    table = tracked("log", "sales.arr").stdout
    assert "#2 value -5 → 25; reason: typo" in table
    assert tracked("log", "sales.arr", "-f", "csv").stdout.startswith(
        "at,by,type,kpi,person,detail\n")
    assert ok(tracked, "schema", "log").stdout.startswith("{")
