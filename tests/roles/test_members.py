"""A member on a shared server: check-ins on their own KPIs, as themselves, and nothing else —
refused by the server whether they use kpictl (exit 6) or psql (SQLSTATE 42501)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.backends import table_rows

pytestmark = pytest.mark.postgres_only

INSERT = ("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, author_id, source) "
          "VALUES ((SELECT id FROM kpi WHERE key = %s), %s, kpictl_now(), %s, %s, 'psql') "
          "RETURNING author_id, recorded_at")
NOT_OWNER = ("kpictl: error: not allowed: only carl (the owner of ops.up), whoever covers for "
             "them while they are away, or an admin may record check-ins on it\n")


def test_checkin_member_records_on_their_own_kpi_as_themselves(run, team, monkeypatch, now):
    monkeypatch.setenv("KPICTL_NOW", "2030-01-01T00:00:00Z")  # ana's clock is years ahead
    result = run("--db", team.url("ana"), "checkin", "sales.arr", "10")
    assert (result.exit_code, result.stderr) == (0, "recorded sales.arr = 10\n")
    author, measured, recorded = team.one(
        "SELECT author_id, measured_at, recorded_at FROM checkin")
    assert author == team.id_of("ana")
    # The server stamps recorded-at with its own clock (kpictl_now(), pinned to the suite's
    # NOW by the team fixture), not the client's; and kpictl takes "now" from the server.
    assert recorded == measured == now
    # The aggregates are filed at that same instant: `db check` finds nothing to repair.
    assert team.one("SELECT recorded_at FROM checkin_stats") == (now,)
    monkeypatch.setenv("KPICTL_NOW", now.isoformat())
    check = run("db", "check", "--json")
    assert check.exit_code == 0, check.stdout + check.stderr


@pytest.mark.parametrize("how", ["--by", "KPICTL_USER"])
def test_checkin_member_cannot_claim_to_be_someone_else(run, team, monkeypatch, how):
    args = ["--db", team.url("ana"), "checkin", "sales.arr", "10"]
    if how == "--by":
        args += ["--by", "max"]
    else:
        monkeypatch.setenv("KPICTL_USER", "max")
    before = table_rows(team.owner)
    result = run(*args)
    assert (result.exit_code, result.stderr) == (
        6, f"kpictl: error: not allowed: you are connected as {team.roles['ana']}, who is ana; "
           "only an admin may act as max (--by or KPICTL_USER)\n")
    assert table_rows(team.owner) == before


def test_checkin_member_may_name_themselves(run, team):
    result = run("--db", team.url("ana"), "checkin", "sales.arr", "10", "--by", "ana")
    assert result.exit_code == 0, result.stderr


def test_checkin_on_someone_elses_kpi_is_refused_by_kpictl_and_by_sql(run, team):
    result = run("--db", team.url("ana"), "checkin", "ops.up", "10")
    assert (result.exit_code, result.stderr) == (6, NOT_OWNER)
    with team.sql("ana") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                match="only carl .the owner of ops.up."):
        conn.execute(INSERT, ("ops.up", 10, datetime.now(timezone.utc), None))
    assert team.one("SELECT count(*) FROM checkin") == (0,)


def test_sql_forged_author_is_refused_and_a_missing_one_is_the_role(team):
    with team.sql("ana") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="you are ana: you may not record a check-in as max"):
            conn.execute(INSERT, ("sales.arr", 5, datetime.now(timezone.utc), team.id_of("max")))
        forged_time = datetime(2000, 1, 1, tzinfo=timezone.utc)
        author, recorded = conn.execute(INSERT, ("sales.arr", 5, forged_time, None)).fetchone()
    assert author == team.id_of("ana")
    assert recorded > forged_time + timedelta(days=9000)  # the server's clock, not the claim


APPEND_ONLY = ("UPDATE checkin SET value = 1", "DELETE FROM checkin", "TRUNCATE checkin",
               "UPDATE checkin SET author_id = (SELECT id FROM person WHERE handle = 'max')",
               "UPDATE checkin_correction SET value = 1", "DELETE FROM checkin_correction",
               "UPDATE feedback SET text = 'nice'", "DELETE FROM feedback",
               "DELETE FROM assignment", "UPDATE assignment SET person_id = person_id",
               "UPDATE kpi_change SET new_value = 'x'", "DELETE FROM kpi_change",
               "DELETE FROM kpi", "DELETE FROM person", "UPDATE person SET name = 'x'")


def test_sql_history_is_append_only_for_members_and_managers(run, team):
    assert run("--db", team.url("ana"), "checkin", "sales.arr", "10").exit_code == 0
    assert run("--db", team.url("ana"), "amend", "1", "--value", "11", "--reason", "typo") \
        .exit_code == 0
    assert run("--db", team.url("max"), "feedback", "sales.arr", "keep going").exit_code == 0
    assert run("--db", team.url("max"), "assign", "sales.arr", "--target", "90").exit_code == 0
    before = table_rows(team.owner)
    for handle in ("ana", "max"):
        with team.sql(handle) as conn:
            for statement in APPEND_ONLY:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    assert table_rows(team.owner) == before


def test_amend_and_retract_only_on_ones_own_kpis(run, team):
    assert run("--db", team.url("carl"), "checkin", "ops.up", "10").exit_code == 0
    assert run("--db", team.url("ana"), "checkin", "sales.arr", "10").exit_code == 0
    amend = run("--db", team.url("ana"), "amend", "2", "--value", "12", "--reason", "typo")
    assert (amend.exit_code, amend.stderr) == (
        0, "amended check-in 2 of sales.arr: value 10 → 12\n")
    refused = run("--db", team.url("ana"), "retract", "1", "--reason", "not mine")
    assert (refused.exit_code, refused.stderr) == (6, NOT_OWNER)
    with team.sql("ana") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                match="must name the KPI of the check-in"):
        # A correction of carl's check-in filed under ana's own KPI.
        conn.execute("INSERT INTO checkin_correction (checkin_id, kpi_id, kind, recorded_at, "
                     "reason, value, measured_at) SELECT 1, id, 'retract', now(), 'x', 0, "
                     "now() FROM kpi WHERE key = 'sales.arr'")


def test_member_cannot_manage_kpis(run, team):
    before = table_rows(team.owner)
    for args in (("close", "sales.arr", "--outcome", "missed"),
                 ("assign", "sales.arr", "--target", "50"),
                 ("assign", "new.kpi", "--to", "ana", "--title", "Mine", "--target", "5",
                  "--due", "2026-12-31"),
                 ("feedback", "sales.arr", "great")):
        result = run("--db", team.url("ana"), *args)
        assert result.exit_code == 6, (args, result.stderr)
        assert result.stderr.startswith("kpictl: error: not allowed: "), result.stderr
        assert "only a manager" in result.stderr and "\n" == result.stderr[-1]
    with team.sql("ana") as conn:
        for statement in ("UPDATE kpi SET target = 1", "UPDATE kpi SET updated_at = now()",
                          "INSERT INTO feedback (kpi_id, at, text) SELECT id, now(), 'x' "
                          "FROM kpi"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    assert table_rows(team.owner) == before


def test_cover_may_check_in_while_the_owner_is_away(run, team):
    refused = run("--db", team.url("bob"), "checkin", "sales.arr", "3")
    assert refused.exit_code == 6
    today = datetime.fromisoformat(os.environ["KPICTL_NOW"]).date()  # the server's clock too
    away = run("--db", team.url("ana"), "people", "away", "ana", "--from",
               str(today), "--until", str(today + timedelta(days=1)),
               "--cover", "bob")
    assert away.exit_code == 0, away.stderr
    covered = run("--db", team.url("bob"), "checkin", "sales.arr", "3")
    assert (covered.exit_code, covered.stderr) == (0, "recorded sales.arr = 3\n")
    assert team.one("SELECT author_id FROM checkin") == (team.id_of("bob"),)
    # ana may not say when someone else is away.
    other = run("--db", team.url("ana"), "people", "away", "max", "--until",
                str(today + timedelta(days=3)))
    assert (other.exit_code, other.stderr) == (
        6, "kpictl: error: not allowed: only max, their managers or an admin may set when max "
           "is away\n")


def test_unlinked_and_revoked_roles_may_not_write(run, team):
    unlinked = run("--db", team.url("eve"), "checkin", "sales.arr", "3")
    role = team.roles["eve"]
    assert (unlinked.exit_code, unlinked.stderr) == (
        6, f"kpictl: error: not allowed: role {role} is not linked to a person: an admin links "
           f"it with `kpictl people edit HANDLE --db-role {role}`\n")
    assert run("db", "revoke", "ana").exit_code == 0
    revoked = run("--db", team.url("ana"), "checkin", "sales.arr", "3")
    assert revoked.exit_code == 6
    assert "permission denied for table" in revoked.stderr
    with team.sql("eve") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                match="is not linked to a person"):
        conn.execute(INSERT, ("sales.arr", 5, datetime.now(timezone.utc), None))


def test_a_temporary_table_cannot_stand_in_for_the_real_one(team):
    # Temporary tables come first on a session's search path unless a function says
    # otherwise: a fake kpi table claiming ana owns ops.up must not fool the server.
    with team.sql("ana") as conn:
        conn.execute("CREATE TEMP TABLE kpi AS SELECT k.id, k.key, p.id AS owner_id FROM "
                     "public.kpi k, public.person p WHERE p.handle = 'ana'")
        conn.execute("CREATE TEMP TABLE person AS SELECT id, handle, manager_id, "
                     "db_role FROM public.person")
        conn.execute("UPDATE person SET db_role = current_user WHERE handle = 'carl'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only carl"):
            conn.execute(INSERT.replace("FROM kpi", "FROM public.kpi"),
                         ("ops.up", 10, datetime.now(timezone.utc), None))
