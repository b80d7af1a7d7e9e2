"""`kpictl people tree` and the team of a person as the tree stood at an instant (issue 21)."""

from __future__ import annotations

from datetime import datetime, timezone

from jsonschema import Draft202012Validator

from kpictl import jsonschemas

from .conftest import assert_error, dump_db, ok


def seed(run, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", "2026-11-01T09:00:00+00:00")
    ok(run, "people", "add", "maya", "--name", "Maya Okafor")
    ok(run, "people", "add", "ana", "--name", "Ana Lima", "--manager", "maya", "--capacity", "2")
    ok(run, "people", "add", "bob", "--name", "Bob Carter", "--manager", "maya")
    ok(run, "people", "add", "cy", "--name", "Cy Dunn", "--manager", "ana")
    ok(run, "people", "add", "zed", "--name", "Zed Root")
    ok(run, "assign", "sales.arr", "--to", "ana", "--title", "ARR", "--target", "100",
       "--start", "2026-11-01", "--due", "2026-12-31")


def test_people_tree_json_nests_reports_with_load_and_matches_schema(run, monkeypatch):
    seed(run, monkeypatch)
    doc = ok(run, "people", "tree", "--json").json()
    Draft202012Validator(jsonschemas.load("tree")).validate(doc)
    assert doc["schema"] == "kpictl.tree/1"

    def shape(node):
        return (node["handle"], node["active_kpis"], node["capacity"],
                [shape(r) for r in node["reports"]])

    assert [shape(r) for r in doc["roots"]] == [
        ("maya", 0, 5, [("ana", 1, 2, [("cy", 0, 5, [])]), ("bob", 0, 5, [])]),
        ("zed", 0, 5, []),
    ]
    sub = ok(run, "people", "tree", "ana", "--json").json()
    assert [shape(r) for r in sub["roots"]] == [("ana", 1, 2, [("cy", 0, 5, [])])]


def test_people_tree_text_indents_under_the_manager(run, monkeypatch):
    seed(run, monkeypatch)
    lines = ok(run, "people", "tree").stdout.splitlines()
    assert [line.split("  ")[0] if not line.startswith(" ") else line.strip().split()[1]
            for line in lines] == ["maya", "ana", "cy", "bob", "zed"]
    assert lines[2].startswith("    └ cy")
    assert "1/2" in lines[1]


def test_people_tree_of_an_unknown_person_is_not_found(run, monkeypatch):
    seed(run, monkeypatch)
    assert_error(run("people", "tree", "nobody"), 3)


def test_a_manager_cycle_is_refused_with_exit_4_and_nothing_changes(run, monkeypatch):
    seed(run, monkeypatch)
    before = dump_db()
    assert_error(run("people", "edit", "maya", "--manager", "cy"), 4,
                 "maya cannot report to cy: cy → ana → maya would be a management cycle")
    assert dump_db() == before


def test_team_as_the_tree_stood_at_an_instant(run, monkeypatch, db):
    from kpictl.services.tree import team_of

    seed(run, monkeypatch)
    monkeypatch.setenv("KPICTL_NOW", "2026-11-10T09:00:00+00:00")
    ok(run, "people", "edit", "cy", "--manager", "bob")   # cy moves from ana's team to bob's
    monkeypatch.setenv("KPICTL_NOW", "2026-11-12T09:00:00+00:00")
    ok(run, "people", "add", "dee", "--name", "Dee New", "--manager", "ana")
    before = datetime(2026, 11, 5, tzinfo=timezone.utc)
    after = datetime(2026, 11, 11, tzinfo=timezone.utc)
    with db.session() as s:
        assert team_of(s, "ana", before) == {"ana", "cy"}
        assert team_of(s, "bob", before) == {"bob"}
        assert team_of(s, "ana", after) == {"ana"}
        assert team_of(s, "bob", after) == {"bob", "cy"}
        assert team_of(s, "ana") == {"ana", "dee"}
        assert team_of(s, "maya", before) == {"maya", "ana", "bob", "cy"}
        assert team_of(s, "maya") == {"maya", "ana", "bob", "cy", "dee"}


def test_team_filters_report_owners_digest_suggest_and_nudge_as_of_the_instant(run, monkeypatch):
    seed(run, monkeypatch)
    ok(run, "assign", "ops.cy", "--to", "cy", "--title", "Cy's", "--target", "10",
       "--start", "2026-11-01", "--due", "2026-12-31")
    ok(run, "assign", "ops.bob", "--to", "bob", "--title", "Bob's", "--target", "10",
       "--start", "2026-11-01", "--due", "2026-12-31")
    monkeypatch.setenv("KPICTL_NOW", "2026-11-10T09:00:00+00:00")
    ok(run, "people", "edit", "cy", "--manager", "bob")
    monkeypatch.setenv("KPICTL_NOW", "2026-11-20T09:00:00+00:00")

    def keys(*args):
        doc = ok(run, "report", "--json", *args).json()
        return sorted(r["key"] for r in doc["kpis"]), doc

    now_keys, doc = keys("--team", "ana")
    assert now_keys == ["sales.arr"]
    assert doc["filters"]["team"] == "ana" and doc["summary"]["total"] == 1
    Draft202012Validator(jsonschemas.load("report")).validate(doc)
    assert keys("--team", "ana", "--as-of", "2026-11-05")[0] == ["ops.cy", "sales.arr"]
    assert keys("--team", "bob")[0] == ["ops.bob", "ops.cy"]
    assert keys("--team", "bob", "--as-of", "2026-11-05")[0] == ["ops.bob"]
    assert keys("--team", "maya")[0] == ["ops.bob", "ops.cy", "sales.arr"]
    assert keys("--team", "zed")[0] == []
    assert keys("--team", "ana", "--owner", "cy", "--as-of", "2026-11-05")[0] == ["ops.cy"]

    owners = ok(run, "report", "--by", "owner", "--json", "--team", "bob").json()
    assert sorted(o["handle"] for o in owners["owners"]) <= ["bob", "cy"]
    assert all(o["handle"] in ("bob", "cy") for o in owners["owners"])

    digest = ok(run, "report", "--since", "2026-11-01", "--json", "--team", "bob").json()
    assert sorted(k["key"] for k in digest["new_kpis"]) == ["ops.bob", "ops.cy"]
    assert digest["summary"]["new_kpis"] == 2

    cands = ok(run, "suggest", "--tag", "ops", "--json", "--team", "bob").json()
    assert sorted(c["handle"] for c in cands["candidates"]) == ["bob", "cy"]
    top = ok(run, "suggest", "--tag", "ops", "--json", "--team", "bob", "--top", "1").json()
    assert len(top["candidates"]) == 1

    nudges = ok(run, "nudge", "--json", "--team", "bob").json()
    assert {r["handle"] for r in nudges["recipients"]} <= {"bob", "cy"}
    assert_error(run("report", "--team", "nobody"), 3)
    assert_error(run("report", "sales.arr", "--team", "ana"), 2)
