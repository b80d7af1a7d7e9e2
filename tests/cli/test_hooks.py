"""Hooks receive exactly the committed events (`kpictl.event/1`) from every write path, after
the commit; a failing or hanging hook changes nothing; unsafe hooks are not run."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from kpictl import jsonschemas

from .conftest import dump_db, ok

NAMES = ("on-checkin", "on-assign", "on-close", "on-feedback", "on-status-change")
RECORDER = """#!/bin/sh
# one file of events per hook, and one line per run
cat >> "$HOOK_OUT/$KPICTL_HOOK.jsonl"
echo run >> "$HOOK_OUT/$KPICTL_HOOK.runs"
"""


@pytest.fixture
def hooks(tmp_path, monkeypatch):
    """Every hook installed as a recorder; ``hooks.events(name)`` reads what it got."""
    directory = Path(os.environ["XDG_CONFIG_HOME"]) / "kpictl" / "hooks"
    directory.mkdir(parents=True)
    directory.parent.chmod(0o700)
    directory.chmod(0o700)
    out = tmp_path / "hook-out"
    out.mkdir()
    monkeypatch.setenv("HOOK_OUT", str(out))
    for name in NAMES:
        install(directory / name, RECORDER)

    class Hooks:
        dir = directory

        @staticmethod
        def events(name: str) -> list[dict]:
            path = out / f"{name}.jsonl"
            found = [json.loads(line) for line in path.read_text().splitlines()] \
                if path.exists() else []
            for event in found:
                Draft202012Validator(jsonschemas.load("event")).validate(event)
            return found

        @staticmethod
        def runs(name: str) -> int:
            path = out / f"{name}.runs"
            return len(path.read_text().splitlines()) if path.exists() else 0

        @staticmethod
        def all() -> dict[str, list[dict]]:
            return {n: Hooks.events(n) for n in NAMES if Hooks.events(n)}

    return Hooks


def install(path: Path, text: str, mode: int = 0o700) -> None:
    path.write_text(text)
    path.chmod(mode)


AT = "2026-11-27T12:00:00Z"


def test_checkin_reaches_on_checkin_and_on_status_change(seeded, hooks):
    ok(seeded, "checkin", "sales.arr", "40", "--note", "two deals", "--confidence", "8")
    assert hooks.all() == {
        "on-checkin": [{"schema": "kpictl.event/1", "type": "checkin", "at": AT, "kpi":
                        "sales.arr", "by": "ana", "value": 40.0, "measured_at": AT,
                        "confidence": 8, "note": "two deals", "blocker": None, "source": "cli",
                        "key": None}],
        "on-status-change": [{"schema": "kpictl.event/1", "type": "status_change", "at": AT,
                              "kpi": "sales.arr", "by": "ana", "owner": "ana",
                              "before": {"status": "no_data", "flags": ["stale"]},
                              "after": {"status": "on_track", "flags": []}}],
    }
    # The same status again is no status change; a blocker changes the flags.
    ok(seeded, "checkin", "sales.arr", "41")
    assert len(hooks.events("on-status-change")) == 1
    ok(seeded, "checkin", "sales.arr", "42", "--blocker", "legal review")
    change = hooks.events("on-status-change")[-1]
    assert (change["before"], change["after"]) == (
        {"status": "on_track", "flags": []}, {"status": "at_risk", "flags": ["blocked"]})


def test_a_childs_checkin_announces_its_objectives_status_change(seeded, hooks):
    ok(seeded, "assign", "growth", "--objective", "--to", "maya", "--title", "Grow")
    ok(seeded, "assign", "company", "--objective", "--to", "maya", "--title", "All")
    ok(seeded, "assign", "growth", "--parent", "company")
    ok(seeded, "assign", "sales.arr", "--parent", "growth")
    ok(seeded, "checkin", "sales.arr", "40", "--blocker", "legal review")
    changes = {e["kpi"]: (e["before"]["status"], e["after"]["status"], e["after"]["flags"])
               for e in hooks.events("on-status-change")}
    assert changes == {"sales.arr": ("no_data", "at_risk", ["blocked"]),
                       "growth": ("no_data", "at_risk", ["child_at_risk"]),
                       "company": ("no_data", "at_risk", ["child_at_risk"])}


def test_assign_feedback_and_close_reach_their_hooks(seeded, hooks):
    ok(seeded, "assign", "ops.uptime", "--to", "bob", "--kind", "at-least", "--target", "99.9",
       "--due", "2026-12-31", "--start", "2026-11-01", "--by", "maya")
    ok(seeded, "assign", "sales.arr", "--to", "bob", "--target", "120", "--by", "maya",
       "--note", "Ana moves")
    ok(seeded, "feedback", "sales.arr", "Focus on renewals", "--by", "maya")
    ok(seeded, "close", "ops.uptime", "--outcome", "cancelled", "--note", "merged")
    common = {"schema": "kpictl.event/1", "at": AT}
    assert hooks.events("on-assign") == [
        {**common, "type": "assign", "kpi": "ops.uptime", "by": "maya", "to": "bob",
         "previous": None, "created": True, "changes": [], "note": None},
        {**common, "type": "assign", "kpi": "sales.arr", "by": "maya", "to": "bob",
         "previous": "ana", "created": False, "changes": ["target", "owner"],
         "note": "Ana moves"}]
    assert hooks.events("on-feedback") == [
        {**common, "type": "feedback", "kpi": "sales.arr", "by": "maya",
         "text": "Focus on renewals"}]
    assert hooks.events("on-close") == [
        {**common, "type": "close", "kpi": "ops.uptime", "by": None, "outcome": "cancelled",
         "closed_at": AT, "note": "merged"}]
    assert [(e["kpi"], e["before"]["status"], e["after"]["status"])
            for e in hooks.events("on-status-change")] == [("ops.uptime", "no_data",
                                                            "cancelled")]
    assert hooks.events("on-checkin") == []


def test_a_bulk_file_is_one_run_with_one_line_per_event(seeded, hooks):
    ok(seeded, "assign", "ops.tickets", "--to", "bob", "--target", "10", "--due", "2026-12-31",
       "--start", "2026-11-01")
    rows = "".join(json.dumps(r) + "\n" for r in (
        {"kpi": "sales.arr", "value": 10, "at": "2026-11-20T09:00:00Z", "key": "w47"},
        {"kpi": "ops.tickets", "value": 3, "by": "ana"},
        {"kpi": "sales.arr", "value": 30, "key": "w48"}))
    ok(seeded, "checkin", "--file", "-", input=rows)
    assert hooks.runs("on-checkin") == 1
    assert [(e["kpi"], e["value"], e["by"], e["measured_at"], e["source"], e["key"])
            for e in hooks.events("on-checkin")] == [
        ("sales.arr", 10.0, "ana", "2026-11-20T09:00:00Z", "file", "w47"),
        ("ops.tickets", 3.0, "ana", AT, "file", None),
        ("sales.arr", 30.0, "ana", AT, "file", "w48")]
    assert hooks.runs("on-status-change") == 1
    assert sorted(e["kpi"] for e in hooks.events("on-status-change")) == ["ops.tickets",
                                                                         "sales.arr"]
    # Re-sent: the rows already recorded are skipped, and nothing is announced for them.
    ok(seeded, "checkin", "--file", "-", input=rows.split("\n")[0] + "\n")
    assert hooks.runs("on-checkin") == 1
    kpis = "key,to,target,start,due\nops.a,bob,5,2026-11-01,2026-12-31\n" \
           "ops.b,ana,7,2026-11-01,2026-12-31\n"
    ok(seeded, "assign", "--file", "-", "--input-format", "csv", input=kpis)
    assert hooks.runs("on-assign") == 2  # ops.tickets above, then this file once
    assert [(e["kpi"], e["to"], e["created"]) for e in hooks.events("on-assign")[1:]] == [
        ("ops.a", "bob", True), ("ops.b", "ana", True)]


def test_pull_announces_what_it_recorded_and_new_failures(seeded, hooks, tmp_path,
                                                          monkeypatch):
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nkpi = "sales.arr"\ncommand = ["echo", "55"]\n')
    sources.chmod(0o600)
    monkeypatch.setenv("KPICTL_SOURCES", str(sources))
    ok(seeded, "pull")
    ok(seeded, "pull")  # unchanged: nothing new to announce
    (event,) = hooks.events("on-checkin")
    assert (event["kpi"], event["value"], event["source"]) == ("sales.arr", 55.0,
                                                              "pull:sales.arr")
    assert event["key"].startswith("pull:")
    sources.write_text('[[source]]\nkpi = "sales.arr"\ncommand = ["false"]\n')
    assert seeded("pull").exit_code == 1
    change = hooks.events("on-status-change")[-1]
    assert change["after"]["flags"] == ["source_failed"]
    assert "source_failed" not in change["before"]["flags"]
    assert hooks.runs("on-checkin") == 1


def test_a_rolled_back_write_fires_nothing(seeded, hooks):
    ok(seeded, "close", "sales.arr", "--outcome", "missed")
    assert seeded("checkin", "sales.arr", "5").exit_code == 4
    bad = '{"kpi": "sales.arr", "value": 5}\n{"kpi": "nope", "value": 1}\n'
    assert seeded("checkin", "--file", "-", input=bad).exit_code == 2
    assert hooks.events("on-checkin") == []
    assert hooks.runs("on-close") == 1


def test_hooks_run_after_the_commit(seeded, hooks):
    """The hook itself reads the database: the check-in it is told about is already there."""
    install(hooks.dir / "on-checkin", f"""#!/bin/sh
"{sys.executable}" -m kpictl report sales.arr --json > "$HOOK_OUT/seen.json"
""")
    ok(seeded, "checkin", "sales.arr", "64")
    seen = json.loads((Path(os.environ["HOOK_OUT"]) / "seen.json").read_text())
    assert seen["kpi"]["current"] == 64


@pytest.mark.parametrize("script, warning", [
    ("#!/bin/sh\necho 'webhook said 500' >&2\nexit 3\n",
     "on-checkin exited with status 3: webhook said 500; the write was kept"),
    ("#!/bin/sh\nsleep 30\n", "on-checkin took longer than 0.5s and was stopped; the write was "
                              "kept"),
    ("#!/no/such/interpreter\n", "on-checkin could not start"),
])
def test_a_failing_or_hanging_hook_changes_nothing(seeded, hooks, monkeypatch, script,
                                                   warning):
    monkeypatch.setenv("KPICTL_HOOK_TIMEOUT", "0.5")
    install(hooks.dir / "on-checkin", script)
    started = time.monotonic()
    result = seeded("checkin", "sales.arr", "33")
    assert time.monotonic() - started < 15
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert lines[-1] == "recorded sales.arr = 33 EUR"
    (line,) = [ln for ln in lines if ln.startswith("kpictl: warning: ")]
    assert line.startswith(f"kpictl: warning: hook {hooks.dir / 'on-checkin'} ")
    assert warning in line
    assert ok(seeded, "report", "sales.arr", "--json").json()["kpi"]["current"] == 33
    assert len(hooks.events("on-status-change")) == 1  # the other hooks still ran


def test_no_hooks_option_and_environment(seeded, hooks, monkeypatch):
    ok(seeded, "--no-hooks", "checkin", "sales.arr", "10")
    monkeypatch.setenv("KPICTL_NO_HOOKS", "1")
    ok(seeded, "checkin", "sales.arr", "11")
    assert hooks.all() == {}
    monkeypatch.delenv("KPICTL_NO_HOOKS")
    ok(seeded, "checkin", "sales.arr", "12")
    assert [e["value"] for e in hooks.events("on-checkin")] == [12]


def test_unsafe_hooks_are_not_run_and_the_write_goes_on(seeded, hooks):
    hooks.dir.chmod(0o777)
    result = ok(seeded, "checkin", "sales.arr", "10")
    assert [ln for ln in result.stderr.splitlines() if "warning" in ln] == [
        f"kpictl: warning: not running hooks: {hooks.dir} is writable by group or others; "
        f"fix: chmod go-w {hooks.dir}"]
    hooks.dir.chmod(0o700)
    (hooks.dir / "on-checkin").chmod(0o727)
    result = ok(seeded, "checkin", "sales.arr", "45")  # off_track → on_track
    assert [ln for ln in result.stderr.splitlines() if "warning" in ln] == [
        f"kpictl: warning: not running hook on-checkin: {hooks.dir / 'on-checkin'} is "
        f"writable by group or others; fix: chmod go-w {hooks.dir / 'on-checkin'}"]
    assert hooks.events("on-checkin") == []
    assert [e["after"]["status"] for e in hooks.events("on-status-change")] == ["on_track"]
    if os.geteuid() == 0:
        (hooks.dir / "on-checkin").chmod(0o700)
        os.chown(hooks.dir / "on-checkin", 4242, -1)
        assert "is owned by uid 4242" in ok(seeded, "checkin", "sales.arr", "12").stderr
        assert hooks.events("on-checkin") == []
    # A file that is not executable is not a hook: ignored without a word.
    (hooks.dir / "on-checkin").unlink()
    (hooks.dir / "on-feedback").chmod(0o600)
    assert ok(seeded, "feedback", "sales.arr", "ok").stderr == "feedback recorded on sales.arr\n"
    assert hooks.events("on-feedback") == []


def test_import_runs_no_hooks(seeded, hooks, tmp_path):
    ok(seeded, "checkin", "sales.arr", "20")
    export = ok(seeded, "--no-hooks", "export").stdout
    before = {n: hooks.runs(n) for n in NAMES}
    target = tmp_path / "restored.db"
    ok(seeded, "--db", str(target), "import", "-", input=export)
    assert {n: hooks.runs(n) for n in NAMES} == before
    assert dump_db(str(target))["checkin"]


def test_amend_retract_and_reopen_reach_their_hooks(seeded, hooks):
    ok(seeded, "checkin", "sales.arr", "40")
    checkin_id = ok(seeded, "report", "sales.arr", "--json").json()["checkins"][-1]["id"]
    ok(seeded, "amend", str(checkin_id), "--value", "4", "--reason", "typo", "--by", "ana")
    ok(seeded, "retract", str(checkin_id), "--reason", "wrong KPI", "--by", "ana")
    amend, retract = hooks.events("on-checkin")[1:]
    assert amend == {"schema": "kpictl.event/1", "type": "amend", "at": AT, "kpi": "sales.arr",
                     "by": "ana", "id": checkin_id, "reason": "typo", "changes": ["value"],
                     "value": 4.0, "measured_at": AT, "confidence": None, "note": None,
                     "blocker": None}
    assert (retract["type"], retract["id"], retract["reason"], retract["value"]) == (
        "retract", checkin_id, "wrong KPI", 4.0)
    # Retracted: the KPI has no data again, and that is a status change too.
    assert hooks.events("on-status-change")[-1]["after"]["status"] == "no_data"
    ok(seeded, "close", "sales.arr", "--outcome", "cancelled")
    ok(seeded, "reopen", "sales.arr", "--reason", "closed by mistake")
    change = hooks.events("on-status-change")[-1]
    assert (change["before"]["status"], change["after"]["status"]) == ("cancelled", "no_data")
