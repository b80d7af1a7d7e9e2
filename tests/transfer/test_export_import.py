"""`kpictl export` / `kpictl import`: a lossless JSON Lines round trip (PRODUCT §4).

A rich database is built once per backend through the real CLI, with the clock moved between
phases so that timestamps differ and some carry microseconds; each test gets a fresh copy.
Import targets are new databases of the test's backend (SQLite files, or PostgreSQL databases
when the suite runs on PostgreSQL).
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from kpictl.db import SCHEMA_REVISION
from kpictl.services.transfer.exports import same_records
from tests.cli.conftest import (
    Template,
    assert_error,
    dump_db,
    make_runner,
    ok,
    pinned_env,
    use_template,
)
from tests.conftest import NOW

HEADER = {"schema": "kpictl.export/1", "generated_at": "2026-11-27T12:00:00Z",
          "kpictl_version": "0.1.0", "schema_revision": SCHEMA_REVISION}
TYPES = ["person", "kpi", "assignment", "change", "checkin", "correction", "feedback",
         "person_change", "away", "nudge", "period_target"]
#: What the export of an empty database holds: the header and an end record counting nothing.
EMPTY = [HEADER, {"type": "end", "counts": {t: 0 for t in TYPES}}]


def with_end(lines: list[str]) -> list[str]:
    """``lines`` with their end record recounted (for files edited on purpose)."""
    body = [line for line in lines if '"type": "end"' not in line]
    types = [json.loads(line).get("type") for line in body[1:] if line.strip()]
    end = json.dumps({"type": "end", "counts": {t: types.count(t) for t in TYPES}})
    return body + [end + ("\n" if body and body[-1].endswith("\n") else "")]

# (KPICTL_NOW for the phase, commands run at that instant)
PHASES = [
    ("2026-10-01T08:00:00.000001+00:00", [
        ("people", "add", "maya", "--name", "Maya Okafor", "--email", "maya@example.com",
         "--skill", "leadership:5", "--skill", "sales", "--capacity", "8"),
        ("people", "add", "ana", "--name", "Ana Lima ✨", "--skill", "sales:4",
         "--skill", "negotiation:3", "--manager", "maya"),
        ("people", "add", "bob", "--name", "بوب كارتر", "--manager", "maya", "--capacity", "3"),
        ("people", "add", "cy", "--name", "Ünïcödé Çy", "--manager", "ana"),
        ("assign", "sales.arr", "--to", "ana", "--by", "maya", "--title", "New ARR 🚀",
         "--baseline", "0", "--target", "100000", "--unit", "EUR", "--start", "2026-10-01",
         "--due", "2026-12-31", "--cadence", "weekly", "--grace", "3d", "--tag", "sales",
         "--tag", "revenue", "--milestone", "2026-11-15=40000.5", "--outcome",
         "Grow ARR with new logos", "--note", "first owner"),
        ("assign", "support.backlog", "--to", "bob", "--title", "تراكم التذاكر",
         "--kind", "decrease", "--baseline", "300", "--target", "100.5", "--start",
         "2026-10-01", "--due", "2026-12-31", "--tag", "support"),
        ("assign", "ops.uptime", "--to", "bob", "--kind", "range", "--low", "99.5", "--high",
         "100", "--unit", "%", "--start", "2026-10-01", "--due", "2027-03-31", "--cadence",
         "monthly"),
        ("assign", "eng.latency", "--to", "ana", "--kind", "at-most", "--target", "300",
         "--unit", "ms", "--start", "2026-10-01", "--due", "2026-12-31", "--cadence", "10d",
         "--grace", "0"),
        ("assign", "ops.incidents", "--to", "maya", "--kind", "at-least", "--target", "0.1",
         "--start", "2026-10-01", "--due", "2026-12-31"),
        ("assign", "legacy.kpi", "--to", "cy", "--target", "10", "--start", "2026-10-01",
         "--due", "2026-12-31"),
        # an objective, keyed after its children: its record comes later in the file
        ("assign", "team.goals", "--objective", "--to", "maya", "--title", "Q4 goals",
         "--start", "2026-10-01", "--due", "2026-12-31"),
        ("assign", "sales.arr", "--parent", "team.goals", "--weight", "2.5"),
    ]),
    ("2026-11-10T09:30:00.654321+00:00", [
        ("assign", "sales.arr", "--to", "bob", "--by", "maya", "--note", "Ana is on leave",
         "--at", "2026-11-10T09:00:00Z"),
        ("assign", "sales.arr", "--target", "120000", "--by", "maya", "--note",
         "raised after the Q3 review"),
        ("assign", "support.backlog", "--tag", "support", "--tag", "customer", "--milestone",
         "2026-11-30=200"),
        ("checkin", "sales.arr", "30000", "--at", "2026-10-20T00:00:00Z", "--by", "ana",
         "--confidence", "7", "--note", "two deals 🎉", "--key", "k-1"),
        ("checkin", "sales.arr", "30000", "--key", "k-1"),  # a re-send: recorded once
        ("checkin", "support.backlog", "250", "--at", "2026-10-20T00:00:00Z"),  # same instant
        ("assign", "support.backlog", "--parent", "team.goals"),
        ("checkin", "ops.uptime", "99.95", "--at", "2026-10-31"),
        ("checkin", "eng.latency", "280.125", "--at", "2026-11-01T12:00:00.5Z"),
        ("checkin", "legacy.kpi", "-2"),
        ("close", "legacy.kpi", "--outcome", "cancelled", "--note", "replaced by ops.uptime",
         "--by", "maya"),
        ("people", "deactivate", "cy"),
        ("close", "ops.incidents", "--outcome", "missed", "--note", "wrong KPI closed"),
    ]),
    (NOW.isoformat(), [
        ("checkin", "sales.arr", "45000.25", "--at", "2026-11-20T10:11:12.123456Z", "--by",
         "bob", "--confidence", "3", "--blocker", "legal review ⚖️", "--note",
         "line one\nline two", "--key", "k-2"),
        ("checkin", "support.backlog", "180", "--confidence", "10"),
        ("feedback", "sales.arr", "Keep going — שלום 👍", "--by", "maya"),
        ("feedback", "support.backlog", "Backlog is shrinking; thanks."),
        # corrections and a reopen: they must round-trip like the rest
        ("amend", "3", "--value", "99.4", "--note", "the SLA export was off", "--reason",
         "read the wrong month", "--by", "bob"),
        ("retract", "4", "--reason", "measured on staging"),
        ("reopen", "ops.incidents", "--reason", "closed by mistake", "--by", "maya"),
    ]),
]


@pytest.fixture(scope="module")
def rich_template(tmp_path_factory, backend, pg):
    """The rich database, built once per backend through the CLI, for use_template."""
    if backend == "postgresql":
        name = pg.create(template=pg.base)
        target, template = pg.url_of(name), Template(pg_name=name, pg=pg)
    else:
        workdir = tmp_path_factory.mktemp("rich")
        target, template = str(workdir / "live.db"), Template(path=workdir / "template.db")
    with pinned_env(target), pytest.MonkeyPatch.context() as mp:
        runner = make_runner()
        for instant, commands in PHASES:
            mp.setenv("KPICTL_NOW", instant)
            for args in commands:
                ok(runner, *args)
    if template.path is not None:
        src, dst = sqlite3.connect(target), sqlite3.connect(template.path)
        try:
            src.backup(dst)  # includes what is still in the WAL
        finally:
            src.close()
            dst.close()
    return template


@pytest.fixture
def rich(run, rich_template):
    """A fresh copy of the rich database as this test's database."""
    use_template(rich_template)
    return run


@pytest.fixture
def new_db(request, tmp_path):
    """Make an empty database on this test's backend; return its --db value."""
    counter = itertools.count(1)
    on_postgres = "://" in os.environ["KPICTL_DB"]

    def make() -> str:
        if not on_postgres:
            return str(tmp_path / f"new{next(counter)}.db")
        pg = request.getfixturevalue("pg")
        name = pg.create(template=pg.base)
        request.addfinalizer(lambda: pg.drop(name))
        return pg.url_of(name)

    return make


def export_text(run, *db: str) -> str:
    result = ok(run, *(("--db", db[0]) if db else ()), "export")
    assert result.stderr == ""
    return result.stdout


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def write(tmp_path, text: str, name="export.jsonl") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def without_generated_at(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "generated_at"}


def test_export_header_and_records_reference_handles_and_keys(rich):
    docs = records(export_text(rich))
    assert docs[0] == HEADER
    types = [d["type"] for d in docs[1:]]
    order = ["person", "kpi", "assignment", "change", "checkin", "correction", "feedback",
             "person_change", "away", "nudge", "period_target", "end"]
    assert types == sorted(types, key=order.index)
    # nobody away, no nudge sent, no ongoing KPI with a target of its own
    assert set(types) == set(order) - {"away", "nudge", "period_target"}
    assert docs[-1] == {"type": "end", "counts": {t: types.count(t) for t in order[:-1]}}
    people = [d for d in docs if d.get("type") == "person"]
    assert [p["handle"] for p in people] == ["ana", "bob", "cy", "maya"]
    ana = people[0]
    assert ana == {"type": "person", "handle": "ana", "name": "Ana Lima ✨", "email": None,
                   "capacity": 5, "manager": "maya", "active": True,
                   "created_at": "2026-10-01T08:00:00.000001Z", "db_role": "ana",
                   "skills": [{"skill": "negotiation", "level": 3},
                              {"skill": "sales", "level": 4}]}
    assert people[2]["active"] is False
    kpis = {d["key"]: d for d in docs if d.get("type") == "kpi"}
    arr = kpis["sales.arr"]
    assert (arr["title"], arr["owner"], arr["delegated_by"], arr["target"]) == (
        "New ARR 🚀", "bob", "maya", 120000.0)
    assert arr["tags"] == ["revenue", "sales"]
    assert arr["milestones"] == [{"at": "2026-11-15T23:59:59Z", "value": 40000.5}]
    assert kpis["legacy.kpi"]["state"] == "cancelled"
    assert kpis["legacy.kpi"]["close_note"] == "replaced by ops.uptime"
    assignments = [d for d in docs if d.get("type") == "assignment" and d["kpi"] == "sales.arr"]
    assert [(a["to"], a["valid_until"]) for a in assignments] == [
        ("ana", "2026-11-10T09:00:00Z"), ("bob", None)]
    changes = [(d["kpi"], d["field"], d["old"], d["new"]) for d in docs
               if d.get("type") == "change"]
    assert ("sales.arr", "target", "100000.0", "120000.0") in changes
    assert ("sales.arr", "note", None, "raised after the Q3 review") in changes
    assert ("support.backlog", "tags", "support", "customer;support") in changes
    checkins = [d for d in docs if d.get("type") == "checkin"]
    assert [c["measured_at"] for c in checkins] == sorted(c["measured_at"] for c in checkins)
    k2 = next(c for c in checkins if c["key"] == "k-2")
    assert k2 == {"type": "checkin", "id": 6, "kpi": "sales.arr", "value": 45000.25,
                  "measured_at": "2026-11-20T10:11:12.123456Z",
                  "recorded_at": "2026-11-27T12:00:00Z", "by": "bob", "confidence": 3,
                  "note": "line one\nline two", "blocker": "legal review ⚖️", "source": "cli",
                  "key": "k-2"}
    assert sum(c["key"] == "k-1" for c in checkins) == 1
    assert not any(("id" in d and d["type"] != "checkin") or "kpi_id" in d for d in docs)
    fixes = [d for d in docs if d.get("type") == "correction"]
    assert fixes == [
        {"type": "correction", "kpi": "ops.uptime", "checkin": 3, "kind": "amend",
         "at": "2026-11-27T12:00:00Z", "by": "bob", "reason": "read the wrong month",
         "value": 99.4, "measured_at": "2026-10-31T00:00:00Z", "confidence": None,
         "note": "the SLA export was off", "blocker": None},
        {"type": "correction", "kpi": "eng.latency", "checkin": 4, "kind": "retract",
         "at": "2026-11-27T12:00:00Z", "by": None, "reason": "measured on staging",
         "value": 280.125, "measured_at": "2026-11-01T12:00:00.500000Z", "confidence": None,
         "note": None, "blocker": None}]
    assert ("ops.incidents", "state", "missed", "active", "closed by mistake") in [
        (d["kpi"], d["field"], d["old"], d["new"], d["reason"]) for d in docs
        if d.get("type") == "change"]
    assert kpis["ops.incidents"]["state"] == "active"
    # objectives and their children: parent by key (later in the file), weight in full
    assert (kpis["team.goals"]["kind"], kpis["team.goals"]["target"]) == ("objective", None)
    assert [(k, kpis[k]["parent"], kpis[k]["weight"]) for k in sorted(kpis)] == [
        ("eng.latency", None, 1.0), ("legacy.kpi", None, 1.0), ("ops.incidents", None, 1.0),
        ("ops.uptime", None, 1.0), ("sales.arr", "team.goals", 2.5),
        ("support.backlog", "team.goals", 1.0), ("team.goals", None, 1.0)]
    assert ("sales.arr", "weight", "1.0", "2.5") in changes
    assert ("support.backlog", "parent", None, "team.goals") in changes


def test_export_import_export_is_identical(rich, tmp_path, new_db):
    first = export_text(rich)
    path = write(tmp_path, first)
    target = new_db()
    result = ok(rich, "--db", target, "import", path)
    assert result.stdout == ""
    assert result.stderr == (f"imported 4 people, 7 KPIs, 8 assignments, 14 changes, "
                             f"7 check-ins, 2 corrections, 2 feedback notes and 1 person "
                             f"change from {path}\n")
    second = export_text(rich, target)
    assert same_records(records(first), records(second))
    assert first.splitlines()[1:] == second.splitlines()[1:]  # byte-identical records
    assert "✨" in second and "\\u" not in second  # Unicode is written as itself


REPORTS = [
    ("report", "--json"),
    ("report", "--json", "--as-of", "2026-11-05"),  # before the reassignment and the new target
    ("report", "--json", "--as-of", "2026-10-15T12:00:00Z"),
    ("report", "sales.arr", "--json"),
    ("report", "sales.arr", "--json", "--as-of", "2026-11-05"),
    ("report", "support.backlog", "--json", "--as-of", "2026-11-01"),
    ("report", "--by", "owner", "--json"),
    ("report", "--since", "2026-10-01", "--json"),
    ("people", "list", "--all", "--json"),
]


def test_imported_database_reports_the_same_now_and_in_the_past(rich, tmp_path, new_db):
    path = write(tmp_path, export_text(rich))
    target = new_db()
    ok(rich, "--db", target, "import", path)
    for args in REPORTS:
        mine = without_generated_at(ok(rich, *args).json())
        theirs = without_generated_at(ok(rich, "--db", target, *args).json())
        assert mine == theirs, args
    # The past really differs from now, so the history (not just the current rows) survived.
    past = ok(rich, "--db", target, "report", "sales.arr", "--json", "--as-of",
              "2026-11-05").json()["kpi"]
    now = ok(rich, "--db", target, "report", "sales.arr", "--json").json()["kpi"]
    assert (past["owner"], past["target"]) == ("ana", 100000.0)
    assert (now["owner"], now["target"]) == ("bob", 120000.0)


def test_import_demo_database_round_trip(run, tmp_path, new_db):
    demo = str(tmp_path / "demo.db")  # always SQLite: on PostgreSQL this moves SQLite → PG
    ok(run, "demo", "--path", demo)
    first = export_text(run, demo)
    assert len(first.splitlines()) > 150
    path = write(tmp_path, first)
    target = new_db()
    result = ok(run, "--db", target, "import", path)
    assert result.stderr.startswith("imported 8 people, 23 KPIs, ")
    assert export_text(run, target).splitlines()[1:] == first.splitlines()[1:]
    for args in REPORTS[:3] + [("report", "--by", "owner", "--json"),
                               ("report", "--week", "last", "--json"),
                               ("report", "sales.pipeline", "--json", "--as-of", "-2w"),
                               ("report", "--json", "--as-of", "-2w"),
                               ("report", "--json", "--as-of", "-3w", "--revised")]:
        mine = without_generated_at(ok(run, "--db", demo, *args).json())
        theirs = without_generated_at(ok(run, "--db", target, *args).json())
        # The same report on either backend, byte for byte, forecasts at full precision
        # included: the aggregates are exact sums, the same whatever order the check-ins
        # were added in (SQLite's writers one by one, an import on PostgreSQL in one go).
        assert json.dumps(mine) == json.dumps(theirs), args


def test_import_from_stdin(rich, tmp_path, new_db):
    text = export_text(rich)
    target = new_db()
    result = ok(rich, "--db", target, "import", "-", input=text)
    assert result.stderr.startswith("imported 4 people, 7 KPIs, ")
    assert result.stderr.endswith(" from stdin\n")
    assert export_text(rich, target) == text


def test_export_piped_into_import_is_utf8_whatever_the_locale(rich, new_db):
    """A real pipe between two processes whose locale says ASCII: the bytes are UTF-8."""
    target = new_db()
    kpictl = f'"{sys.executable}" -m kpictl'
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f'{kpictl} export | {kpictl} --db "{target}" import -'],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("imported 4 people, 7 KPIs, ")
    assert export_text(rich, target) == export_text(rich)


def test_import_again_into_same_records_is_a_no_op(rich, tmp_path):
    path = write(tmp_path, export_text(rich))
    before = dump_db()
    result = ok(rich, "import", path)
    assert result.stdout == ""
    assert result.stderr == (f"already identical, nothing imported ({path} holds the records "
                             "this database has)\n")
    assert dump_db() == before


def test_import_into_a_database_with_other_records_is_exit_4(rich, tmp_path):
    path = write(tmp_path, export_text(rich))
    ok(rich, "checkin", "sales.arr", "50000")
    before = dump_db()
    result = rich("import", path)
    assert_error(result, 4, f"the database is not empty and differs from {path}; import only "
                 f"into a new database (kpictl --db new.db import {path})")
    assert dump_db() == before


def test_import_into_a_database_with_fewer_records_is_exit_4(rich, tmp_path, new_db):
    text = export_text(rich)
    lines = text.splitlines(keepends=True)
    shorter = write(tmp_path, "".join(with_end([line for line in lines
                                                if '"type": "feedback"' not in line])))
    target = new_db()
    ok(rich, "--db", target, "import", shorter)
    full = write(tmp_path, text, "full.jsonl")
    assert_error(rich("--db", target, "import", full), 4)
    # …and the other way round: the database has more than the file.
    assert_error(rich("import", shorter), 4)


def _first(lines: list[str], type_: str) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line).get("type") == type_)


def _edit(type_: str, edit):
    """A case that edits the first record of ``type_`` (as parsed JSON)."""

    def make(lines: list[str]) -> tuple[list[str], int]:
        index = _first(lines, type_)
        record = json.loads(lines[index])
        edit(record)
        lines[index] = json.dumps(record, ensure_ascii=False)
        return lines, index + 1

    return make


def _set_line(type_: str, text):
    """A case that replaces the first line of ``type_`` with ``text(old_line)``."""

    def make(lines: list[str]) -> tuple[list[str], int]:
        index = _first(lines, type_)
        lines[index] = text(lines[index])
        return lines, index + 1

    return make


def _edit_kpi(key: str, edit):
    """A case that edits the KPI record of ``key``."""

    def make(lines: list[str]) -> tuple[list[str], int]:
        index = next(i for i, line in enumerate(lines)
                     if f'"type": "kpi", "key": "{key}"' in line)
        record = json.loads(lines[index])
        edit(record)
        lines[index] = json.dumps(record, ensure_ascii=False)
        return lines, index + 1

    return make


def _change_after_checkins(lines: list[str]) -> tuple[list[str], int]:
    change = lines.pop(_first(lines, "change"))
    index = _first(lines, "checkin") + 1
    lines.insert(index, change)
    return lines, index + 1


def _reuse_checkin_key(lines: list[str]) -> tuple[list[str], int]:
    lines, _ = _edit("checkin", lambda r: r.update(key="k-2"))(lines)  # the first check-in
    return lines, next(i for i, line in enumerate(lines) if '"key": "k-2"' in line
                       and '"confidence": 3' in line) + 1


def _second_persons_role_is_the_firsts(lines: list[str]) -> tuple[list[str], int]:
    index = _first(lines, "person") + 1
    record = json.loads(lines[index])
    record["db_role"] = "ana"
    lines[index] = json.dumps(record, ensure_ascii=False)
    return lines, index + 1


# case: (make the bad file from the good lines → (lines, bad line number), reason)
BAD = {
    "bad_json": (lambda lines: (lines[:2] + ['{"type": "person", "handle": '] + lines[3:], 3),
                 "not valid JSON (Expecting value at column 30)"),
    "unknown_type": (_set_line("feedback", lambda _: '{"type": "goal", "kpi": "sales.arr"}'),
                     ('unknown type "goal"; use one of person, kpi, assignment, change, '
                      "checkin, correction, feedback, person_change, away, nudge, period_target")),
    "missing_field": (_edit("kpi", lambda r: r.pop("title")), 'kpi record without "title"'),
    "dangling_kpi": (_edit("checkin", lambda r: r.update(kpi="nope.kpi")),
                     '"kpi" "nope.kpi" is not a KPI of this file'),
    "dangling_person": (_edit("assignment", lambda r: r.update(to="zed")),
                        '"to" "zed" is not a person of this file'),
    "naive_time": (_edit("feedback", lambda r: r.update(at="2026-11-27T12:00:00")),
                   '"at" "2026-11-27T12:00:00" has no time zone (add Z for UTC)'),
    "nan_value": (_set_line("checkin", lambda line: line.replace('"value": 30000.0',
                                                                 '"value": NaN')),
                  "not valid JSON (NaN is not a JSON number)"),
    "bad_kind": (_edit("kpi", lambda r: r.update(kind="grow")),
                 '"kind" "grow" is not one of increase, decrease, at-least, at-most, range, '
                 'objective'),
    "parent_not_objective": (_edit("kpi", lambda r: r.update(parent="sales.arr")),
                             '"parent" "sales.arr" is not an objective'),
    "parent_unknown": (_edit("kpi", lambda r: r.update(parent="nope.kpi")),
                       '"parent" "nope.kpi" is not a KPI of this file'),
    "parent_loop": (_edit_kpi("team.goals", lambda r: r.update(parent="team.goals")),
                    "team.goals sits under itself (a loop of parents)"),
    "weight_zero": (_edit("kpi", lambda r: r.update(weight=0)),
                    'KPI eng.latency: "weight" must be above 0'),
    "checkin_on_objective": (_edit("checkin", lambda r: r.update(kpi="team.goals")),
                             "KPI team.goals is an objective: it takes no check-ins"),
    "bool_as_number": (_edit("checkin", lambda r: r.update(value=True)),
                       '"value" must be a number, not true'),
    "bad_db_role": (_edit("person", lambda r: r.update(db_role="pg_read_all_data")),
                    '"db_role" "pg_read_all_data" is not a valid database role'),
    "shared_db_role": (_second_persons_role_is_the_firsts,
                       '"db_role" "ana" is also ana\'s: one role is one person'),
    "duplicate_key": (_reuse_checkin_key, 'check-in key "k-2" is used twice on KPI sales.arr'),
    "out_of_order": (_change_after_checkins,
                     ("a change record after checkin records; records follow the export "
                      "order person, kpi, assignment, change, checkin, correction, feedback, "
                      "person_change, away, nudge, period_target")),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_import_bad_file_is_exit_2_with_line_number_and_writes_nothing(rich, tmp_path, new_db,
                                                                       case):
    make, reason = BAD[case]
    lines, number = make(export_text(rich).splitlines())
    path = write(tmp_path, "\n".join(lines) + "\n")
    target = new_db()
    message = assert_error(rich("--db", target, "import", path), 2)
    assert message == (f"kpictl: error: 1 invalid record in {path} (line {number}: {reason}); "
                       "nothing was imported")
    assert records(export_text(rich, target)) == EMPTY
    before = dump_db()  # into the non-empty database: exit 2 as well, and nothing changes
    assert_error(rich("import", path), 2)
    assert dump_db() == before


def test_import_keeps_database_roles_and_links_an_older_export_by_handle(rich, tmp_path,
                                                                         new_db):
    ok(rich, "people", "edit", "bob", "--db-role", "")
    ok(rich, "people", "edit", "cy", "--db-role", "Cy.Ng@corp")
    text = export_text(rich)
    roles = {r["handle"]: r["db_role"] for r in records(text) if r.get("type") == "person"}
    assert roles == {"ana": "ana", "bob": None, "cy": "Cy.Ng@corp", "maya": "maya"}
    target = new_db()
    ok(rich, "--db", target, "import", write(tmp_path, text))
    assert export_text(rich, target) == text
    # An export from before database roles: each person gets the role named like the handle.
    older = []
    for line in text.splitlines():
        record = json.loads(line)
        if record.get("type") == "person":
            del record["db_role"]
            line = json.dumps(record, ensure_ascii=False)
        older.append(line)
    target = new_db()
    ok(rich, "--db", target, "import", write(tmp_path, "\n".join(older) + "\n", "old.jsonl"))
    assert {r["handle"]: r["db_role"] for r in records(export_text(rich, target))
            if r.get("type") == "person"} == {"ana": "ana", "bob": "bob", "cy": "cy",
                                              "maya": "maya"}


def test_import_lists_every_bad_line_in_one_message(rich, tmp_path, new_db):
    lines = export_text(rich).splitlines()
    lines[2] = "[1, 2]"
    lines[5] = '{"type": "person"}'
    lines.insert(7, "")  # blank lines are skipped but still counted
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert_error(rich("--db", new_db(), "import", path), 2,
                 f"2 invalid records in {path} (line 3: expected a JSON object; line 6: person "
                 "record without \"handle\"); nothing was imported")


def test_import_wrong_header_schema_is_exit_2(rich, tmp_path, new_db):
    lines = export_text(rich).splitlines()
    lines[0] = json.dumps({"schema": "kpictl.report/1", "generated_at": "2026-11-27T12:00:00Z"})
    path = write(tmp_path, "\n".join(lines) + "\n")
    target = new_db()
    assert_error(rich("--db", target, "import", path), 2,
                 f'line 1 of {path} has schema "kpictl.report/1": not a kpictl export (this '
                 "kpictl reads kpictl.export/1)")
    assert records(export_text(rich, target)) == EMPTY


def test_import_file_without_header_is_exit_2(run, tmp_path):
    path = write(tmp_path, '{"type": "person", "handle": "ana"}\n')
    assert_error(run("import", path), 2,
                 f"line 1 of {path} has no schema: not a kpictl export (this kpictl reads "
                 "kpictl.export/1)")
    empty = write(tmp_path, "\n\n", "empty.jsonl")
    assert_error(run("import", empty), 2)


@pytest.mark.backend_free
def test_import_missing_file_is_exit_2_and_creates_no_database(run, tmp_path):
    target = str(tmp_path / "never.db")
    assert_error(run("--db", target, "import", str(tmp_path / "nope.jsonl")), 2,
                 f"cannot read {tmp_path / 'nope.jsonl'}: No such file or directory")
    assert not os.path.exists(target)


def test_import_non_utf8_file_is_exit_2(run, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(HEADER).encode() + b'\n{"type": "person", "name": "J\xfcrgen"}\n')
    assert_error(run("import", str(path)), 2, f"{path} is not UTF-8 text (line 2)")


def test_import_accepts_byte_order_mark_and_crlf(rich, tmp_path, new_db):
    text = export_text(rich)
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    target = new_db()
    ok(rich, "--db", target, "import", str(path))
    assert export_text(rich, target) == text


def test_export_of_an_empty_database_is_the_header_and_an_empty_end_record(run):
    assert records(export_text(run)) == EMPTY


def test_import_of_an_empty_export_into_an_empty_database(run, tmp_path):
    path = write(tmp_path, "".join(json.dumps(r) + "\n" for r in EMPTY))
    result = ok(run, "import", path)
    assert result.stderr == (f"imported 0 people, 0 KPIs, 0 assignments, 0 changes, "
                             f"0 check-ins, 0 corrections, 0 feedback notes and 0 person "
                             f"changes from {path}\n")


def test_export_to_output_file_is_private(rich, tmp_path):
    path = tmp_path / "backup.jsonl"
    result = ok(rich, "export", "--output", str(path))
    assert result.stdout == ""
    assert result.stderr == (f"exported 4 people, 7 KPIs, 8 assignments, 14 changes, "
                             f"7 check-ins, 2 corrections, 2 feedback notes and 1 person "
                             f"change to {path}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text(encoding="utf-8") == export_text(rich)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_to_missing_directory_is_exit_2(rich, tmp_path):
    assert_error(rich("export", "--output", str(tmp_path / "no" / "x.jsonl")), 2)


@pytest.mark.backend_free
def test_same_records_ignores_generated_at_only():
    a = [HEADER, {"type": "person", "handle": "ana"}]
    b = [{**HEADER, "generated_at": "2030-01-01T00:00:00Z"}, {"type": "person", "handle": "ana"}]
    assert same_records(a, b)
    assert not same_records(a, b[:1])
    assert not same_records(a, [b[0], {"type": "person", "handle": "bob"}])
    assert not same_records(a, [{**b[0], "schema": "kpictl.export/2"}, b[1]])


def test_import_chain_keeps_every_record(rich, tmp_path, new_db):
    """Records do not depend on database ids: export → import → export → import → export."""
    first = export_text(rich)
    middle = new_db()
    ok(rich, "--db", middle, "import", write(tmp_path, first))
    last = new_db()
    ok(rich, "--db", last, "import", write(tmp_path, export_text(rich, middle), "again.jsonl"))
    assert export_text(rich, last) == first


def test_away_windows_and_sent_nudges_round_trip(run, tmp_path, new_db, monkeypatch):
    """An imported database knows who is away and which nudges went out: it sends none
    again."""
    from tests.smtp import smtp_server

    ok(run, "people", "add", "maya", "--name", "Maya", "--email", "maya@example.com")
    ok(run, "people", "add", "ana", "--name", "Ana", "--manager", "maya",
       "--email", "ana@example.com")
    ok(run, "people", "add", "ben", "--name", "Ben", "--email", "ben@example.com")
    ok(run, "assign", "sales.arr", "--to", "ana", "--target", "100", "--start", "2027-01-04",
       "--due", "2027-01-31", "--cadence", "weekly")
    ok(run, "people", "away", "ana", "--from", "2027-01-20", "--until", "2027-01-22",
       "--cover", "ben", "--by", "maya")
    monkeypatch.setenv("KPICTL_NOW", "2027-01-15T09:00:00+00:00")
    with smtp_server() as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        ok(run, "nudge", "--send")
        sent = len(box.messages)
        assert sent == 2  # ana's late notice, maya's escalation
        first = export_text(run)
        docs = records(first)
        away = next(d for d in docs if d.get("type") == "away")
        assert (away["person"], away["cover"], away["by"], away["starts"]) == (
            "ana", "ben", "maya", "2027-01-20T00:00:00Z")
        assert sorted((d["to"], d["nudge"], d["level"]) for d in docs
                      if d.get("type") == "nudge") == [("ana", "checkin_late", 0),
                                                       ("maya", "escalation", 1)]
        target = new_db()
        result = ok(run, "--db", target, "import", write(tmp_path, first))
        assert "1 away window and 2 nudges sent" in result.stderr
        assert first.splitlines()[1:] == export_text(run, target).splitlines()[1:]
        ok(run, "--db", target, "nudge", "--send")
        assert len(box.messages) == sent  # nothing twice
