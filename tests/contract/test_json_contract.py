"""The JSON contract (PRODUCT §4): real output of every --json document validates against the
schema that `kpictl schema NAME` prints, and the schemas are strict enough to reject a
document that breaks the contract."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator

from kpictl import jsonschemas
from kpictl.schemas import (
    AssignmentView,
    ChangeView,
    CheckinView,
    FeedbackView,
    Forecast,
    KpiRow,
    MilestoneView,
    NudgeItem,
    PersonView,
    SkillView,
)

SCHEMA_NAMES = ["digest", "event", "kpi", "log", "nudge", "owners", "people", "person", "pull",
                "rebalance", "report", "sources", "suggest", "tree", "whoami"]
KEYS = ["sales.arr", "support.backlog", "ops.uptime", "ops.incidents", "eng.latency",
        "ops.legacy"]

# PRODUCT §4: the report-row fields that scripts rely on.
PRODUCT_ROW_FIELDS = [
    "key", "title", "owner", "kind", "unit", "baseline", "target", "low", "high", "start", "due",
    "cadence", "current", "last_checkin_at", "next_checkin_due", "progress", "progress_raw",
    "expected_progress", "status", "flags", "confidence", "forecast", "days_left",
]
PRODUCT_FORECAST_FIELDS = ["method", "points", "value_at_due", "low", "high", "probability",
                           "eta", "rate", "required_rate"]


def _no_constants(token: str):
    raise AssertionError(f"non-finite number {token} in JSON output")


def strict_json(text: str):
    """Parse JSON, failing on NaN/Infinity (which the standard library would accept)."""
    return json.loads(text, parse_constant=_no_constants)


def ok(run, *args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, (args, result.exit_code, result.stderr)
    return result.stdout


def document(run, *args: str):
    return strict_json(ok(run, *args))


def schema_of(run, name: str) -> dict:
    return strict_json(ok(run, "schema", name))


def validator(schema: dict) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(v: Draft202012Validator, doc) -> None:
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)


def row_validator(report_schema: dict) -> Draft202012Validator:
    """The shared KPI row definition on its own (for JSON Lines records)."""
    return validator({"$schema": report_schema["$schema"], "$ref": "#/$defs/kpi_row",
                      "$defs": report_schema["$defs"]})


@pytest.fixture
def team(run):
    """Two owners and KPIs of every kind and life stage, built through the CLI."""
    for args in (
        ["people", "add", "ana", "--name", "Ana Lima", "--email", "ana@example.com",
         "--skill", "sales:4", "--skill", "ops", "--capacity", "6"],
        ["people", "add", "bob", "--name", "Bob Stone", "--manager", "ana"],
        ["people", "add", "cy", "--name", "Cy Old"],
        ["people", "deactivate", "cy"],
        ["assign", "sales.arr", "--to", "ana", "--title", "New ARR €", "--target", "100",
         "--unit", "kEUR", "--due", "+30d", "--start", "-30d", "--tag", "sales",
         "--tag", "q4", "--milestone", "+10d=70"],
        ["assign", "support.backlog", "--to", "bob", "--kind", "decrease", "--baseline", "50",
         "--target", "10", "--due", "+30d", "--start", "-30d"],
        ["assign", "ops.uptime", "--to", "ana", "--kind", "at-least", "--target", "5",
         "--due", "+30d", "--start", "-30d"],
        ["assign", "ops.incidents", "--to", "bob", "--kind", "at-most", "--target", "5",
         "--due", "+30d", "--start", "-30d"],
        ["assign", "eng.latency", "--to", "ana", "--kind", "range", "--low", "1", "--high", "3",
         "--due", "+30d", "--start", "-30d"],
        ["assign", "ops.legacy", "--to", "bob", "--target", "10", "--start", "-60d",
         "--due", "-3d"],
        ["checkin", "sales.arr", "20", "--at", "-20d", "--confidence", "7"],
        ["checkin", "sales.arr", "40", "--at", "-10d", "--note", "two deals", "--key", "imp-1"],
        ["checkin", "sales.arr", "45", "--at", "-1d", "--confidence", "2",
         "--blocker", "waiting on legal"],
        ["checkin", "support.backlog", "40", "--at", "-5d", "--by", "bob"],
        ["checkin", "ops.uptime", "6"],
        ["checkin", "ops.incidents", "9", "--at", "-3d"],
        ["checkin", "ops.legacy", "4", "--at", "-30d"],
        ["assign", "support.backlog", "--to", "ana", "--note", "bob is overloaded"],
        ["feedback", "sales.arr", "Great pipeline; focus on closing", "--by", "bob"],
        ["close", "ops.incidents", "--outcome", "missed", "--note", "two outages"],
    ):
        ok(run, *args)
    return run


# --- the schema command -------------------------------------------------------------------


def test_schema_lists_names(run):
    result = run("schema")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "".join(f"{n}\n" for n in SCHEMA_NAMES), "")
    assert jsonschemas.names() == SCHEMA_NAMES


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_prints_a_valid_draft_2020_12_schema(run, name):
    result = run("schema", name)
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == json.dumps(jsonschemas.load(name), indent=2,
                                       ensure_ascii=False) + "\n"
    schema = strict_json(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == f"kpictl.{name}/1"
    assert schema["properties"]["schema"] == {"const": f"kpictl.{name}/1"}
    assert schema["additionalProperties"] is False
    if name == "event":  # one JSON Lines record whose fields depend on its type: each type's
        # required fields (allOf/if/then) together are every property
        common = set(schema["required"])
        per_type = set().union(*(set(c["then"]["required"]) for c in schema["allOf"]))
        assert common | per_type == set(schema["properties"]) - {"schema"} | {"schema"}
    else:
        assert set(schema["required"]) == set(schema["properties"])


def test_schema_unknown_name_is_not_found(run):
    result = run("schema", "reprot")
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == ("kpictl: error: no schema 'reprot'; did you mean 'report'? "
                             "Choose one of digest, event, kpi, log, nudge, owners, people, "
                             "person, pull, rebalance, report, sources, suggest, tree, whoami\n")


def test_schema_unknown_name_without_a_close_match(run):
    result = run("schema", "zzz")
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == ("kpictl: error: no schema 'zzz'; choose one of digest, event, "
                             "kpi, log, nudge, owners, people, person, pull, rebalance, "
                             "report, sources, suggest, tree, whoami\n")


def test_schema_does_not_import_the_database_layer():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "kpictl", "schema",
                           "report"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    heavy = sorted(m for m in imported
                   if m.split(".")[0] in ("sqlalchemy", "sqlmodel", "alembic", "pendulum"))
    assert heavy == []


# --- the schemas follow the read models and PRODUCT §4 -------------------------------------


@pytest.mark.parametrize(("name", "path", "model"), [
    ("report", ["$defs", "kpi_row"], KpiRow),
    ("report", ["$defs", "forecast"], Forecast),
    ("people", ["$defs", "person"], PersonView),
    ("people", ["$defs", "skill"], SkillView),
    ("kpi", ["properties", "checkins", "items"], CheckinView),
    ("kpi", ["properties", "assignments", "items"], AssignmentView),
    ("kpi", ["properties", "changes", "items"], ChangeView),
    ("kpi", ["properties", "feedback", "items"], FeedbackView),
    ("kpi", ["properties", "milestones", "items"], MilestoneView),
    ("nudge", ["$defs", "nudge_item"], NudgeItem),
])
def test_schema_objects_require_every_read_model_field(name, path, model):
    node = jsonschemas.load(name)
    for step in path:
        node = node[step]
    fields = [f.name for f in dataclasses.fields(model)]
    assert node["required"] == fields
    assert list(node["properties"]) == fields
    assert node["additionalProperties"] is False


def test_schema_requires_the_fields_product_names():
    report = jsonschemas.load("report")
    assert set(PRODUCT_ROW_FIELDS) <= set(report["$defs"]["kpi_row"]["required"])
    assert report["$defs"]["forecast"]["required"] == PRODUCT_FORECAST_FIELDS
    assert {"as_of", "kpis", "summary"} <= set(report["required"])
    assert "by_status" in report["properties"]["summary"]["required"]
    assert {"kpi", "checkins", "assignments", "feedback"} <= set(
        jsonschemas.load("kpi")["required"])


# --- real output validates ------------------------------------------------------------------


def test_report_json_matches_schema(team):
    v = validator(schema_of(team, "report"))
    doc = document(team, "report", "--json")
    assert_valid(v, doc)
    rows = {r["key"]: r for r in doc["kpis"]}
    assert sorted(rows) == sorted(KEYS)
    assert {r["kind"] for r in rows.values()} == {"increase", "decrease", "at-least",
                                                  "at-most", "range"}
    assert rows["ops.incidents"]["state"] == "missed"
    assert rows["sales.arr"]["flags"] and rows["sales.arr"]["blocker"] == "waiting on legal"
    assert rows["ops.legacy"]["status"] == "overdue" and rows["ops.legacy"]["days_left"] < 0
    assert rows["eng.latency"]["current"] is None  # nulls, not omitted fields


def test_report_json_as_of_the_past_matches_schema(team):
    v = validator(schema_of(team, "report"))
    doc = document(team, "report", "--json", "--as-of", "-1w", "--revised")  # recorded later
    assert_valid(v, doc)
    assert doc["as_of"] == "2026-11-20T23:59:59Z"
    assert doc["kpis"]


def test_report_json_with_filters_matches_schema(team):
    v = validator(schema_of(team, "report"))
    doc = document(team, "report", "--json", "--owner", "ana", "--tag", "sales",
                   "--status", "at_risk", "--status", "off_track")
    assert_valid(v, doc)
    assert doc["filters"]["owner"] == "ana"


def test_report_json_of_an_empty_database_matches_schema(run):
    assert_valid(validator(schema_of(run, "report")), document(run, "report", "--json"))


def test_report_kpi_json_matches_schema(team):
    v = validator(schema_of(team, "kpi"))
    docs = {key: document(team, "report", key, "--json") for key in KEYS}
    for key, doc in docs.items():
        assert_valid(v, doc)
        assert doc["kpi"]["key"] == key
    assert [a["to"] for a in docs["support.backlog"]["assignments"]] == ["bob", "ana"]
    arr = docs["sales.arr"]
    assert len(arr["checkins"]) == 3 and len(arr["feedback"]) == 1 and arr["milestones"]
    assert docs["ops.incidents"]["outcome"] == "missed" and docs["ops.incidents"]["changes"]
    assert_valid(v, document(team, "report", "sales.arr", "--json", "--as-of", "-15d"))


def test_people_list_json_matches_schema(team):
    v = validator(schema_of(team, "people"))
    for args in (["people", "list", "--json"], ["people", "list", "--all", "--json"]):
        doc = document(team, *args)
        assert_valid(v, doc)
    assert {p["handle"] for p in doc["people"]} == {"ana", "bob", "cy"}


def test_people_show_json_matches_schema(team):
    v = validator(schema_of(team, "person"))
    for handle in ("ana", "bob", "cy"):
        assert_valid(v, document(team, "people", "show", handle, "--json"))


def test_report_jsonl_is_kpi_rows_only(team):
    rows = row_validator(schema_of(team, "report"))
    records = [strict_json(line) for line in ok(team, "report", "--format", "jsonl").splitlines()]
    for record in records:
        assert "schema" not in record
        assert_valid(rows, record)
    assert sorted(r["key"] for r in records) == sorted(KEYS)


#: Every listing, and the list of its JSON document that its JSON Lines are (PRODUCT §4:
#: "its records, one per line, and nothing else").
LISTINGS = [
    (["report"], "kpis"), (["report", "--by", "owner"], "owners"),
    (["people", "list"], "people"), (["people", "show", "ana"], "kpis"),
    (["suggest", "--tag", "sales"], "candidates"), (["suggest", "--rebalance"], "moves"),
    (["report", KEYS[0]], "checkins"),
]


@pytest.mark.parametrize(("args", "listed"), LISTINGS, ids=[" ".join(a) for a, _ in LISTINGS])
def test_every_listing_jsonl_is_its_records_and_nothing_else(team, args, listed):
    document_ = document(team, *args, "--json")
    lines = ok(team, *args, "--format", "jsonl").splitlines()
    records = [strict_json(line) for line in lines]
    assert len(records) == len(document_[listed])
    assert all("schema" not in r and "generated_at" not in r for r in records)
    for record, item in zip(records, document_[listed]):
        assert {k: v for k, v in record.items() if k != "kpi" or listed != "checkins"} == item


def test_digest_jsonl_is_its_events_only(team):
    doc = document(team, "report", "--week", "this", "--json")
    records = [strict_json(line) for line in
               ok(team, "report", "--week", "this", "-f", "jsonl").splitlines()]
    sections = ("checkins", "status_changes", "missed_checkins", "new_kpis", "reassigned",
                "closed")
    assert len(records) == sum(len(doc[s]) for s in sections)
    assert {r["type"] for r in records} <= set(sections)
    assert all("schema" not in r for r in records)


def test_forecast_object_validates_against_the_row_definition(team):
    # No command emits a forecast object yet; prove the definition accepts the PRODUCT shape
    # and rejects a broken one, so real forecasts will be checked when they appear.
    rows = row_validator(schema_of(team, "report"))
    row = document(team, "report", "--json")["kpis"][0]
    forecast = {"method": "linear", "points": 3, "value_at_due": 120.5, "low": 90.0,
                "high": 150.0, "probability": 0.7, "eta": "2026-12-20T00:00:00Z", "rate": 1.5,
                "required_rate": None}
    assert_valid(rows, {**row, "forecast": forecast})
    assert_valid(rows, {**row, "forecast": {**forecast, "eta": None, "required_rate": 2.0}})
    for broken in ({k: v for k, v in forecast.items() if k != "probability"},
                   {**forecast, "eta": "2026-12-20T00:00:00"},
                   {**forecast, "probability": 1.5},
                   {**forecast, "value_at_due": None},
                   {**forecast, "extra": 1}):
        assert not rows.is_valid({**row, "forecast": broken}), broken


def test_json_output_has_no_nan_or_infinity(team):
    outputs = [ok(team, "report", "--json"), ok(team, "report", "--format", "jsonl"),
               ok(team, "people", "list", "--json"), ok(team, "people", "show", "ana", "--json")]
    outputs += [ok(team, "report", key, "--json") for key in KEYS]
    outputs += [ok(team, "schema", name) for name in SCHEMA_NAMES]
    for text in outputs:
        for line in text.splitlines() if text.startswith("{\"") else [text]:
            strict_json(line)
    with pytest.raises(AssertionError, match="NaN"):
        strict_json('{"progress": NaN}')


@pytest.mark.parametrize("args", [
    ["report"], ["report", "--as-of", "-1w"], ["report", "--as-of", "-1w", "--revised"],
    ["report", "sales.arr"], ["report", "--by", "owner"], ["people", "list"],
])
def test_json_documents_are_the_standard_encoders_own_text(team, args):
    """A document is written in the pieces the C encoder makes (not joined and copied: a
    10,000-KPI portfolio is 10 MB), and is byte for byte json.dumps's text of it: ``", "`` and
    ``": "``, non-ASCII as it is, numbers as repr writes them, one line."""
    text = ok(team, *args, "--json")
    assert text == json.dumps(strict_json(text), ensure_ascii=False) + "\n"
    assert text.count("\n") == 1


# --- the schemas are not vacuous -------------------------------------------------------------


def _first_row(doc):
    return doc["kpis"][0]


def accepted_mutations(v: Draft202012Validator, doc: dict, mutations: dict) -> list[str]:
    """The names of the mutations whose broken copy of ``doc`` the schema still accepts."""
    assert_valid(v, doc)
    accepted = []
    for name, mutate in mutations.items():
        broken = copy.deepcopy(doc)
        mutate(broken)
        if v.is_valid(broken):
            accepted.append(name)
    return accepted


REPORT_MUTATIONS = {
    "unknown status": lambda d: _first_row(d).update(status="green"),
    "unknown flag": lambda d: _first_row(d).update(flags=["late"]),
    "unknown kind": lambda d: _first_row(d).update(kind="grow"),
    "missing kpis": lambda d: d.pop("kpis"),
    "missing row field": lambda d: _first_row(d).pop("days_left"),
    "extra row field": lambda d: _first_row(d).update(colour="red"),
    "extra envelope field": lambda d: d.update(debug=True),
    "naive timestamp": lambda d: d.update(generated_at="2026-11-27T12:00:00"),
    "offset timestamp": lambda d: d.update(as_of="2026-11-27T12:00:00+00:00"),
    "date only": lambda d: _first_row(d).update(due="2026-12-27"),
    "number as string": lambda d: _first_row(d).update(progress="0.45"),
    "null for a non-null number": lambda d: _first_row(d).update(days_left=None),
    "wrong schema name": lambda d: d.update(schema="kpictl.report/2"),
    "confidence out of range": lambda d: _first_row(d).update(confidence=11),
    "missing by_status entry": lambda d: d["summary"]["by_status"].pop("overdue"),
    "unknown by_status entry": lambda d: d["summary"]["by_status"].update(green=1),
    "forecast missing fields": lambda d: _first_row(d).update(forecast={"method": "linear"}),
}


def test_report_schema_rejects_broken_documents(team):
    v = validator(schema_of(team, "report"))
    assert accepted_mutations(v, document(team, "report", "--json"), REPORT_MUTATIONS) == []


KPI_MUTATIONS = {
    "extra checkin field": lambda d: d["checkins"][0].update(colour="red"),
    "missing checkin field": lambda d: d["checkins"][0].pop("recorded_at"),
    "naive checkin time": lambda d: d["checkins"][0].update(measured_at="2026-11-07 00:00:00"),
    "assignment without owner": lambda d: d["assignments"][0].update(to=None),
    "extra assignment field": lambda d: d["assignments"][0].update(active=True),
    "feedback without text": lambda d: d["feedback"][0].pop("text"),
    "unknown outcome": lambda d: d.update(outcome="won"),
    "missing feedback list": lambda d: d.pop("feedback"),
    "row status": lambda d: d["kpi"].update(status="green"),
}


def test_kpi_schema_rejects_broken_documents(team):
    v = validator(schema_of(team, "kpi"))
    doc = document(team, "report", "sales.arr", "--json")
    assert accepted_mutations(v, doc, KPI_MUTATIONS) == []


PEOPLE_MUTATIONS = {
    "missing handle": lambda d: d["people"][0].pop("handle"),
    "extra person field": lambda d: d["people"][0].update(password="x"),
    "active as string": lambda d: d["people"][0].update(active="yes"),
    "skills as strings": lambda d: d["people"][0].update(skills=["sales:4"]),
    "naive created_at": lambda d: d["people"][0].update(created_at="2026-11-27T12:00:00"),
    "wrong schema name": lambda d: d.update(schema="kpictl.person/1"),
}


def test_people_schema_rejects_broken_documents(team):
    v = validator(schema_of(team, "people"))
    doc = document(team, "people", "list", "--json")
    assert accepted_mutations(v, doc, PEOPLE_MUTATIONS) == []


PERSON_MUTATIONS = {
    "missing kpis": lambda d: d.pop("kpis"),
    "row status": lambda d: d["kpis"][0].update(status="green"),
    "missing capacity": lambda d: d["person"].pop("capacity"),
    "skill level out of range": lambda d: d["person"]["skills"][0].update(level=9),
}


def test_person_schema_rejects_broken_documents(team):
    v = validator(schema_of(team, "person"))
    doc = document(team, "people", "show", "ana", "--json")
    assert accepted_mutations(v, doc, PERSON_MUTATIONS) == []


# --- accountability and digest --------------------------------------------------------------


def test_report_by_owner_json_matches_schema(team):
    v = validator(schema_of(team, "owners"))
    for args in ((), ("--as-of", "-1w", "--revised")):
        doc = document(team, "report", "--by", "owner", "--json", *args)
        assert_valid(v, doc)
    assert {o["handle"] for o in doc["owners"]} == {"ana", "bob"}
    broken = {**doc, "owners": [{**doc["owners"][0], "hit_rate": 1.5}]}
    assert not v.is_valid(broken)
    assert not v.is_valid({k: val for k, val in doc.items() if k != "as_of"})


def test_report_digest_json_matches_schema(team):
    v = validator(schema_of(team, "digest"))
    doc = document(team, "report", "--since", "-40d", "--json")
    assert_valid(v, doc)
    # The window holds every kind of event the team fixture made.
    assert doc["checkins"] and doc["status_changes"] and doc["reassigned"] and doc["closed"]
    assert doc["new_kpis"] and doc["missed_checkins"]
    assert_valid(v, document(team, "report", "--week", "last", "--json"))
    broken = {**doc, "status_changes": [{**doc["status_changes"][0], "after": "green"}]}
    assert not v.is_valid(broken)
    assert not v.is_valid({**doc, "since": "2026-11-01T00:00:00"})


def test_suggest_and_rebalance_json_match_schema(team):
    v = validator(schema_of(team, "suggest"))
    for args in (("sales.arr",), ("--tag", "sales", "--unit", "kEUR"), ("sales.arr", "--top", "1")):
        doc = document(team, "suggest", *args, "--json")
        assert_valid(v, doc)
    assert not v.is_valid({**doc, "weights": {"luck": 1}})
    r = validator(schema_of(team, "rebalance"))
    plan = document(team, "suggest", "--rebalance", "--json")
    assert_valid(r, plan)
    fake_move = {"key": "sales.arr", "title": "t", "status": "green", "from_owner": "ana",
                 "to": "bob", "score_from": 0.1, "score_to": 0.2, "gain": 0.1, "reason": "x",
                 "command": "kpictl assign sales.arr --to bob"}
    assert not r.is_valid({**plan, "moves": [fake_move]})
    assert r.is_valid({**plan, "moves": [{**fake_move, "status": "at_risk"}]})


# --- objectives and roll-ups (issue 21) ------------------------------------------------------


@pytest.fixture
def with_objective(team):
    ok(team, "assign", "growth", "--objective", "--to", "ana", "--title", "Grow")
    ok(team, "assign", "sales.arr", "--parent", "growth", "--weight", "2")
    ok(team, "assign", "support.backlog", "--parent", "growth")
    ok(team, "assign", "ops.uptime", "--parent", "growth", "--weight", "0.5")
    return team


def _row(doc: dict, key: str) -> dict:
    return next(r for r in doc["kpis"] if r["key"] == key)


OBJECTIVE_MUTATIONS = {
    "weight zero": lambda d: _row(d, "sales.arr").update(weight=0),
    "parent not a key": lambda d: _row(d, "sales.arr").update(parent="Grow!"),
    "children as text": lambda d: _row(d, "growth").update(children="sales.arr"),
    "missing children": lambda d: _row(d, "growth").pop("children"),
    "unknown kind": lambda d: _row(d, "growth").update(kind="goal"),
}


def test_report_json_of_objectives_matches_schema_and_rejects_broken_rows(with_objective):
    v = validator(schema_of(with_objective, "report"))
    doc = document(with_objective, "report", "--json")
    growth = _row(doc, "growth")
    assert (growth["kind"], growth["parent"], growth["weight"]) == ("objective", None, None)
    assert growth["children"] == ["ops.uptime", "sales.arr", "support.backlog"]
    assert (_row(doc, "ops.uptime")["parent"], _row(doc, "ops.uptime")["weight"]) == (
        "growth", 0.5)
    assert "child_at_risk" in growth["flags"]  # sales.arr is blocked
    assert accepted_mutations(v, doc, OBJECTIVE_MUTATIONS) == []


def test_report_kpi_json_of_an_objective_lists_children_and_matches_schema(with_objective):
    v = validator(schema_of(with_objective, "kpi"))
    doc = document(with_objective, "report", "growth", "--json")
    assert_valid(v, doc)
    assert [c["key"] for c in doc["children"]] == ["ops.uptime", "sales.arr", "support.backlog"]
    assert doc["children"][0]["contribution"] is None  # at-least: no pace
    assert document(with_objective, "report", "sales.arr", "--json")["children"] is None
    broken = copy.deepcopy(doc)
    broken["children"][1]["contribution"] = "45%"
    assert not v.is_valid(broken)
