"""`assign --objective`, `--parent`, `--weight`: the write side of roll-ups (issue 21)."""

from __future__ import annotations

import re

import pytest

from .conftest import assert_error, dump_db, ok


@pytest.fixture
def objectives(seeded):
    """The seeded team (sales.arr: 0 → 100, ana) plus an objective ``growth`` (maya) with
    sales.arr under it, and a second KPI ``sales.leads`` on its own."""
    ok(seeded, "assign", "growth", "--objective", "--to", "maya", "--title", "Grow")
    ok(seeded, "assign", "sales.arr", "--parent", "growth", "--weight", "2")
    ok(seeded, "assign", "sales.leads", "--to", "bob", "--target", "50", "--due", "2026-12-31")
    return seeded


def test_objective_is_created_without_target_and_due_at_the_end_of_the_quarter(objectives):
    row = ok(objectives, "report", "growth", "--json").json()["kpi"]
    assert (row["kind"], row["title"], row["owner"]) == ("objective", "Grow", "maya")
    assert (row["baseline"], row["target"], row["current"]) == (None, None, None)
    assert row["due"] == "2026-12-31T23:59:59Z"  # now is 2026-11-27: Q4 ends Dec 31
    assert row["children"] == ["sales.arr"]
    child = ok(objectives, "report", "sales.arr", "--json").json()["kpi"]
    assert (child["parent"], child["weight"]) == ("growth", 2.0)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["sales.leads", "--parent", "sales.arr"], 4,
     "'sales.arr' is not an objective, so nothing can sit under it; create one with "
     "`kpictl assign OBJ --objective --to H --title T`"),
    (["sales.leads", "--parent", "nope"], 3, None),
    (["sales.leads", "--parent", "growth", "--weight", "0"], 2,
     "--weight 0 must be a number above 0 (e.g. 1, 2, 0.5)"),
    (["sales.leads", "--parent", "growth", "--weight", "-1"], 2,
     "--weight -1 must be a number above 0 (e.g. 1, 2, 0.5)"),
    (["sales.leads", "--parent", "growth", "--weight", "abc"], 2, None),
    (["sales.leads", "--weight", "2"], 2,
     "--weight is a KPI's weight under its parent, and 'sales.leads' has none: add "
     "--parent OBJ"),
    (["growth", "--target", "10"], 2,
     "'growth' is an objective: it has no --target of its own (its progress is its "
     "children's, weighted); link KPIs under it with `kpictl assign CHILD --parent growth`"),
    (["sales.leads", "--objective"], 4,
     "'sales.leads' is a KPI, not an objective: an existing KPI cannot become one (create the "
     "objective under a new key and link sales.leads under it with --parent)"),
    (["growth", "--parent", "growth"], 4,
     "'growth' cannot sit under 'growth': that is itself (the tree of objectives has no "
     "cycles)"),
    (["new.obj", "--objective", "--to", "ana", "--kind", "increase"], 2, None),
])
def test_bad_links_are_refused_and_change_nothing(objectives, args, code, message):
    before = dump_db()
    assert_error(objectives("assign", *args), code, message)
    assert dump_db() == before


def test_a_cycle_through_objectives_is_refused(objectives):
    ok(objectives, "assign", "team", "--objective", "--to", "ana", "--parent", "growth")
    before = dump_db()
    assert_error(objectives("assign", "growth", "--parent", "team"), 4,
                 "'growth' cannot sit under 'team': 'team' already sits under 'growth' (the "
                 "tree of objectives has no cycles)")
    assert dump_db() == before


def test_parent_and_weight_changes_are_logged_and_detach_resets_the_weight(objectives):
    ok(objectives, "assign", "sales.arr", "--weight", "5")
    ok(objectives, "assign", "sales.arr", "--parent", "")
    row = ok(objectives, "report", "sales.arr", "--json").json()["kpi"]
    assert (row["parent"], row["weight"]) == (None, None)
    changes = [(c["field"], c["old"], c["new"])
               for c in ok(objectives, "report", "sales.arr", "--json").json()["changes"]]
    assert changes == [("parent", None, "growth"), ("weight", "1.0", "2.0"),
                       ("weight", "2.0", "5.0"), ("parent", "growth", None),
                       ("weight", "5.0", "1.0")]
    log = ok(objectives, "log", "sales.arr").stdout
    assert "parent: growth → none" in log


def test_an_objective_refuses_check_ins_also_from_a_file(objectives):
    before = dump_db()
    assert_error(objectives("checkin", "growth", "3"), 4,
                 "'growth' is an objective: it takes no check-ins; its progress comes from its "
                 "children (sales.arr): check in on those")
    result = objectives("checkin", "--file", "-", input="kpi,value\ngrowth,3\n")
    assert result.exit_code in (2, 4), result.stderr
    assert "'growth' is an objective" in result.stderr
    assert dump_db() == before


def test_the_portfolio_indents_children_in_table_and_html(objectives):
    table = ok(objectives, "report").stdout.splitlines()
    # rows of two lines (key, then title) after the header and rule; status column 10 wide
    assert [re.split(r"\s{3,}", line)[1] for line in table[3:-1:2]] == [
        "growth", "└ sales.arr", "sales.leads"]
    assert table[6] == " " * 12 + "New ARR"  # the title aligned with its key
    html = ok(objectives, "report", "--format", "html").stdout
    assert ('<td class="child" style="padding-left: 2.0em"><span class="tree">└ </span>'
            '<span class="key">sales.arr</span>') in html


def test_the_objective_detail_shows_contributions(objectives):
    ok(objectives, "checkin", "sales.arr", "40")
    out = ok(objectives, "report", "growth").stdout
    assert "objective: progress is the weighted mean of its 1 child (weights 2)" in out
    assert "Children (contribution = weight × progress ÷ Σ weights)" in out
    csv = ok(objectives, "report", "growth", "--format", "csv").stdout.splitlines()
    assert csv[0] == ("key,title,owner,kind,weight,status,progress,expected_progress,"
                      "contribution")
    assert csv[1].startswith("sales.arr,") and csv[1].endswith(",0.4")


def test_assign_file_creates_objectives_and_links_children(seeded):
    csv = ("key,to,title,kind,target,due,parent,weight\n"
           "team.{to},{to},Goals of {to},objective,,,,\n"
           "leads.{to},{to},Leads,,50,2026-12-31,team.{to},3\n"
           "sales.arr,,,,,,team.ana,0.5\n")
    result = seeded("assign", "--file", "-", "--input-format", "csv",
                    input=csv.replace("{to}", "ana"))
    assert result.exit_code == 0, result.stderr
    rows = {r["key"]: r for r in ok(seeded, "report", "--json").json()["kpis"]}
    assert (rows["team.ana"]["kind"], rows["team.ana"]["children"]) == (
        "objective", ["leads.ana", "sales.arr"])
    assert (rows["leads.ana"]["parent"], rows["leads.ana"]["weight"]) == ("team.ana", 3.0)
    assert (rows["sales.arr"]["parent"], rows["sales.arr"]["weight"]) == ("team.ana", 0.5)


def test_assign_file_refuses_bad_links_listing_each_line(seeded):
    before = dump_db()
    csv = ("key,to,title,kind,target,due,parent,weight\n"
           "leads,ana,Leads,,50,2026-12-31,sales.arr,\n"
           "team,ana,Team,objective,5,,,\n"
           "sales.arr,,,,,,,0\n")
    result = seeded("assign", "--file", "-", "--input-format", "csv", input=csv)
    assert result.exit_code == 2
    assert "line 2: 'sales.arr' is not an objective" in result.stderr
    assert "line 3: 'team' is an objective: it has no --target of its own" in result.stderr
    assert "line 4: --weight 0 must be a number above 0" in result.stderr
    assert dump_db() == before
