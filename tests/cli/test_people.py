"""`kpictl people add|list|show|edit|deactivate`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from .conftest import assert_error, dump_db, ok


def people_json(run, *extra):
    doc = ok(run, "people", "list", "--json", *extra).json()
    assert doc["schema"] == "kpictl.people/1"
    return {p["handle"]: p for p in doc["people"]}


# --------------------------------------------------------------------------- add


def test_people_add_confirms_on_stderr_only(run):
    result = ok(run, "people", "add", "ana", "--name", "Ana Lima", "--skill", "sales:4",
                "--skill", "crm", "--capacity", "3", "--email", "ana@example.com")
    assert result.stdout == ""
    assert result.stderr == "added ana (Ana Lima)\n"
    ana = people_json(run)["ana"]
    assert ana == {"handle": "ana", "name": "Ana Lima", "email": "ana@example.com",
                   "skills": [{"skill": "crm", "level": None}, {"skill": "sales", "level": 4}],
                   "capacity": 3, "manager": None, "active": True, "active_kpis": 0,
                   "created_at": "2026-11-27T12:00:00Z"}


def test_people_add_quiet_prints_nothing(run):
    result = ok(run, "-q", "people", "add", "ana", "--name", "Ana")
    assert (result.stdout, result.stderr) == ("", "")
    assert list(people_json(run)) == ["ana"]


def test_people_add_with_manager(seeded):
    assert people_json(seeded)["ana"]["manager"] == "maya"


def test_people_add_duplicate_handle_is_exit_4(seeded):
    before = dump_db()
    result = seeded("people", "add", "ana", "--name", "Another Ana")
    assert_error(result, 4, "person 'ana' already exists; use `kpictl people edit ana`")
    assert dump_db() == before


def test_people_add_unknown_manager_is_exit_3_with_suggestion(seeded):
    before = dump_db()
    result = seeded("people", "add", "cy", "--name", "Cy", "--manager", "mayaa")
    assert_error(result, 3, "no person 'mayaa'; did you mean 'maya'? See `kpictl people list`.")
    assert dump_db() == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["people", "add", "Ana Lima", "--name", "Ana"], "invalid handle 'Ana Lima'"),
        (["people", "add", "cy", "--name", "Cy", "--skill", "sales:7"], "invalid skill level"),
        (["people", "add", "cy", "--name", "Cy", "--email", "nope"], "invalid --email 'nope'"),
        (["people", "add", "cy", "--name", "Cy", "--capacity", "-2"], "invalid --capacity -2"),
        (["people", "add", "cy", "--name", "Cy", "--capacity", "many"],
         "invalid --capacity 'many': use a number of KPIs from 0 to 1000"),
        (["people", "add", "cy", "--name", "Cy", "--capacity", "2.5"],
         "invalid --capacity '2.5': use a number of KPIs from 0 to 1000"),
        (["people", "add", "cy"], "Missing option '--name'"),
    ],
)
def test_people_add_invalid_input_is_exit_2(seeded, args, fragment):
    before = dump_db()
    line = assert_error(seeded(*args), 2)
    assert fragment in line
    assert dump_db() == before


# --------------------------------------------------------------------------- list


def test_people_list_table_is_plain_when_piped(seeded):
    result = ok(seeded, "people", "list")
    assert "\x1b" not in result.stdout
    assert "…" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Handle", "Name", "Skills", "Load", "Manager", "Active"]
    ana = next(line for line in lines if line.startswith("ana "))
    assert ana.split() == ["ana", "Ana", "Lima", "sales:4", "1/5", "maya", "yes"]
    assert all(line == line.rstrip() for line in lines)


def test_people_list_empty_is_ok(run):
    result = ok(run, "people", "list")
    assert result.stdout.startswith("No people yet.")
    assert people_json(run) == {}


def test_people_list_csv(seeded):
    result = ok(seeded, "people", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["handle", "name", "email", "skills", "capacity", "active_kpis",
                             "manager", "active", "created_at"]
    ana = next(r for r in rows if r["handle"] == "ana")
    assert (ana["skills"], ana["active_kpis"], ana["manager"], ana["active"]) == (
        "sales:4", "1", "maya", "true")


def test_people_list_jsonl(seeded):
    lines = ok(seeded, "people", "list", "-f", "jsonl").stdout.splitlines()
    assert [json.loads(line)["handle"] for line in lines] == ["ana", "bob", "maya"]


def test_people_list_md(seeded):
    lines = ok(seeded, "people", "list", "-f", "md").stdout.splitlines()
    assert lines[0] == "| Handle | Name | Skills | Load | Manager | Active |"
    assert "| ana | Ana Lima | sales:4 | 1/5 | maya | yes |" in lines


def test_people_list_format_from_environment(seeded, monkeypatch):
    monkeypatch.setenv("KPICTL_FORMAT", "json")
    assert ok(seeded, "people", "list").json()["schema"] == "kpictl.people/1"


def test_people_list_unknown_format_is_exit_2(seeded):
    line = assert_error(seeded("people", "list", "--format", "xml"), 2)
    assert line == "kpictl: error: invalid --format 'xml' (or KPICTL_FORMAT): use table, json, jsonl, csv, md"


# --------------------------------------------------------------------------- show


def test_people_show_json_has_person_and_kpis(seeded):
    doc = ok(seeded, "people", "show", "ana", "--json").json()
    assert doc["schema"] == "kpictl.person/1"
    assert doc["person"]["handle"] == "ana"
    assert doc["person"]["active_kpis"] == 1
    assert [k["key"] for k in doc["kpis"]] == ["sales.arr"]
    assert doc["kpis"][0]["status"] == "no_data"


def test_people_show_table(seeded):
    out = ok(seeded, "people", "show", "ana").stdout
    assert out.splitlines()[0] == "ana  Ana Lima"
    assert "skills: sales:4; load 1/5; manager maya; active" in out
    assert "sales.arr" in out
    assert "\x1b" not in out


def test_people_show_unknown_is_exit_3(seeded):
    assert_error(seeded("people", "show", "anna"), 3,
                 "no person 'anna'; did you mean 'ana'? See `kpictl people list`.")


# --------------------------------------------------------------------------- edit


def test_people_edit_changes_fields(seeded):
    result = ok(seeded, "people", "edit", "ana", "--name", "Ana L.", "--capacity", "7",
                "--skill", "sales:5", "--skill", "ops", "--manager", "")
    assert result.stdout == ""
    assert result.stderr == "updated ana: name, capacity, manager, +sales, +ops\n"
    ana = people_json(seeded)["ana"]
    assert (ana["name"], ana["capacity"], ana["manager"]) == ("Ana L.", 7, None)
    assert ana["skills"] == [{"skill": "ops", "level": None}, {"skill": "sales", "level": 5}]


def test_people_edit_remove_skill(seeded):
    ok(seeded, "people", "edit", "ana", "--remove-skill", "sales")
    assert people_json(seeded)["ana"]["skills"] == []


def test_people_edit_inactive_then_active(seeded):
    ok(seeded, "people", "edit", "bob", "--inactive")
    assert "bob" not in people_json(seeded)
    assert people_json(seeded, "--all")["bob"]["active"] is False
    ok(seeded, "people", "edit", "bob", "--active")
    assert people_json(seeded)["bob"]["active"] is True


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["people", "edit", "ana"], 2, "nothing to change"),
        (["people", "edit", "ana", "--manager", "ana"], 2, "cannot be their own manager"),
        (["people", "edit", "ana", "--capacity", "-1"], 2, "invalid --capacity"),
        (["people", "edit", "anna", "--name", "X"], 3, "no person 'anna'; did you mean 'ana'"),
        (["people", "edit", "ana", "--manager", "zed"], 3, "no person 'zed'"),
    ],
)
def test_people_edit_errors_change_nothing(seeded, args, code, fragment):
    before = dump_db()
    line = assert_error(seeded(*args), code)
    assert fragment in line
    assert dump_db() == before


# --------------------------------------------------------------------------- deactivate


def test_people_deactivate_warns_about_owned_kpis(seeded):
    result = ok(seeded, "people", "deactivate", "ana")
    assert result.stdout == ""
    assert result.stderr.startswith("deactivated ana; they still own 1 active KPI(s)")
    assert list(people_json(seeded)) == ["bob", "maya"]
    assert people_json(seeded, "--all")["ana"]["active"] is False


def test_people_deactivate_then_assign_is_exit_4(seeded):
    ok(seeded, "people", "deactivate", "bob")
    before = dump_db()
    result = seeded("assign", "ops.x", "--to", "bob", "--target", "5", "--due", "2026-12-31")
    line = assert_error(result, 4)
    assert "person 'bob' is inactive" in line
    assert dump_db() == before


def test_people_deactivate_unknown_is_exit_3(seeded):
    before = dump_db()
    assert_error(seeded("people", "deactivate", "bobb"), 3,
                 "no person 'bobb'; did you mean 'bob'? See `kpictl people list`.")
    assert dump_db() == before
