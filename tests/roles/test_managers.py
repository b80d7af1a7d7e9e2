"""Managers on a shared server: their reporting tree's KPIs (assign, reassign, change, close,
reopen, feedback, targets), delegating only inside that tree — and nothing outside it."""

from __future__ import annotations

import psycopg
import pytest

from tests.backends import table_rows

pytestmark = pytest.mark.postgres_only


def test_manager_manages_their_reports_kpis(run, team):
    max_ = ("--db", team.url("max"))
    steps = [
        (("assign", "sales.arr", "--target", "120"), "updated sales.arr: target\n"),
        (("feedback", "sales.arr", "Focus on renewals"), "feedback recorded on sales.arr\n"),
        (("assign", "sales.new", "--to", "ana", "--title", "New", "--target", "5",
          "--baseline", "0", "--start", "2026-11-01", "--due", "2026-12-31", "--tag", "q4"),
         None),
        (("assign", "sales.mine", "--to", "max", "--title", "Own", "--target", "5",
          "--baseline", "0", "--start", "2026-11-01", "--due", "2026-12-31"), None),
        (("close", "sales.arr", "--outcome", "cancelled"), None),
        (("reopen", "sales.arr", "--reason", "closed by mistake"), None),
    ]
    for args, stderr in steps:
        result = run(*max_, *args)
        assert result.exit_code == 0, (args, result.stderr)
        if stderr is not None:
            assert result.stderr == stderr
    max_id = team.id_of("max")
    # Every row they wrote names them, whatever the client sent.
    assert team.one("SELECT author_id FROM feedback") == (max_id,)
    assert team.one("SELECT count(*) FROM kpi_change WHERE by_id IS DISTINCT FROM %s",
                    max_id) == (0,)
    assert team.one("SELECT assigned_by_id, delegated_by_id FROM assignment JOIN kpi ON "
                    "kpi.id = assignment.kpi_id WHERE key = 'sales.new'") == (max_id, max_id)


def test_manager_of_another_team_is_refused(run, team):
    bob = ("--db", team.url("bob"))
    before = table_rows(team.owner)
    expected = {
        ("assign", "sales.arr", "--target", "1"):
            "only a manager of ana (the owner of sales.arr) or an admin may change it: ana is "
            "not in your reporting tree",
        ("close", "sales.arr", "--outcome", "missed"):
            "only a manager of ana (the owner of sales.arr) or an admin may change it: ana is "
            "not in your reporting tree",
        ("feedback", "sales.arr", "meh"):
            "only a manager of ana (the owner of sales.arr) or an admin may change it: ana is "
            "not in your reporting tree",
        # Delegating outside one's tree: reassigning carl's KPI to ana, or a new one to ana.
        ("assign", "ops.up", "--to", "ana"):
            "you may delegate only to people in your reporting tree: ana is not (an admin may "
            "delegate to anyone)",
        ("assign", "ops.new", "--to", "ana", "--title", "New", "--target", "5",
         "--due", "2026-12-31"):
            "you may delegate only to people in your reporting tree: ana is not (an admin may "
            "delegate to anyone)",
    }
    for args, message in expected.items():
        result = run(*bob, *args)
        assert (result.exit_code, result.stderr) == (
            6, f"kpictl: error: not allowed: {message}\n"), args
    assert table_rows(team.owner) == before
    # The same through psql as bob.
    with team.sql("bob") as conn:
        for statement in (
                "UPDATE kpi SET owner_id = (SELECT id FROM person WHERE handle = 'bob') "
                "WHERE key = 'sales.arr'",
                "UPDATE kpi SET owner_id = (SELECT id FROM person WHERE handle = 'ana') "
                "WHERE key = 'ops.up'",
                "UPDATE kpi SET state = 'missed' WHERE key = 'sales.arr'",
                "INSERT INTO assignment (kpi_id, person_id, valid_from, recorded_at) SELECT "
                "k.id, p.id, now(), now() FROM kpi k, person p WHERE k.key = 'ops.up' AND "
                "p.handle = 'ana'",
                "INSERT INTO feedback (kpi_id, at, text) SELECT id, now(), 'x' FROM kpi "
                "WHERE key = 'sales.arr'"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # Forging the delegator on a KPI of one's own tree.
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="you are bob: you may not delegate as adm"):
            conn.execute("UPDATE kpi SET delegated_by_id = (SELECT id FROM person WHERE "
                         "handle = 'adm') WHERE key = 'ops.up'")
    assert table_rows(team.owner) == before


def test_manager_reaches_their_whole_tree_but_not_above(run, team):
    # adm manages bob who manages carl: an admin anyway; bob's own manager is outside bob's
    # tree, and so is a peer.
    result = run("--db", team.url("bob"), "assign", "ops.up", "--to", "bob")
    assert result.exit_code == 0, result.stderr
    up = run("--db", team.url("bob"), "assign", "ops.top", "--to", "adm", "--title", "Up",
             "--target", "5", "--due", "2026-12-31")
    assert (up.exit_code, up.stderr) == (
        6, "kpictl: error: not allowed: you may delegate only to people in your reporting "
           "tree: adm is not (an admin may delegate to anyone)\n")
    # A manager acts as themselves only.
    claim = run("--db", team.url("max"), "feedback", "sales.arr", "x", "--by", "adm")
    assert (claim.exit_code, claim.stderr) == (
        6, f"kpictl: error: not allowed: you are connected as {team.roles['max']}, who is max; "
           "only an admin may act as adm (--by or KPICTL_USER)\n")


def test_manager_may_not_change_people_or_grants(run, team):
    before = table_rows(team.owner)
    for args in (("people", "edit", "ana", "--capacity", "9"),
                 ("people", "add", "zed", "--name", "Zed"),
                 ("people", "edit", "ana", "--manager", "bob")):
        result = run("--db", team.url("max"), *args)
        assert (result.exit_code, result.stderr) == (
            6, "kpictl: error: not allowed: permission denied for table person: only an admin "
               "may change people, grants or the schema\n"), args
    assert table_rows(team.owner) == before


def test_objectives_bind_psql_as_they_bind_kpictl(run, team):
    """An objective takes no check-in, a KPI does not turn into one, and linking under an
    objective is its owner's managers' decision — through psql too (review of the merge: each
    was accepted by the server before)."""
    owner = ("--db", team.owner)
    for args in (("assign", "growth", "--objective", "--to", "ana", "--title", "Growth",
                  "--due", "2026-12-31"),
                 ("assign", "ops.goal", "--objective", "--to", "carl", "--title", "Ops",
                  "--due", "2026-12-31")):
        assert run(*owner, *args).exit_code == 0, args
    with team.sql("ana") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                match="growth is an objective"):
        conn.execute("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, source) "
                     "SELECT id, 1, now(), now(), 'cli' FROM kpi WHERE key = 'growth'")
    with team.sql("max") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                match="only an admin may make sales.arr"):
        conn.execute("UPDATE kpi SET kind = 'objective' WHERE key = 'sales.arr'")
    # max manages ana (sales.arr) but not carl, who owns ops.goal.
    before = table_rows(team.owner)
    refused = run("--db", team.url("max"), "assign", "sales.arr", "--parent", "ops.goal",
                  "--weight", "1000")
    assert refused.exit_code == 6, refused.stderr
    assert refused.stderr == ("kpictl: error: not allowed: only a manager of carl (the owner "
                              "of ops.goal) or an admin may link KPIs under it\n")
    assert table_rows(team.owner) == before
    linked = run("--db", team.url("max"), "assign", "sales.arr", "--parent", "growth")
    assert linked.exit_code == 0, linked.stderr
    assert run("report", "growth", "--json").json()["kpi"]["children"] == ["sales.arr"]
