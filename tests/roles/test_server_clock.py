"""What migration 0013 adds to the shared server's rules: one clock (the server's), and row
rules for the aggregates, the nudge record, away windows and the KPI's own stamps — through
kpictl (exit 6) and through psql as the role (SQLSTATE 42501)."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from tests.backends import table_rows

pytestmark = pytest.mark.postgres_only

AHEAD = "2030-01-01T00:00:00Z"  # a client clock years ahead of the server's


def test_a_managers_changes_carry_the_servers_clock(run, team, monkeypatch, now):
    monkeypatch.setenv("KPICTL_NOW", AHEAD)
    result = run("--db", team.url("max"), "assign", "sales.arr", "--target", "120")
    assert (result.exit_code, result.stderr) == (0, "updated sales.arr: target\n")
    assert team.one("SELECT at FROM kpi_change WHERE field = 'target'") == (now,)
    assert team.one("SELECT updated_at FROM kpi WHERE key = 'sales.arr'") == (now,)
    created = run("--db", team.url("max"), "assign", "sales.new", "--to", "ana", "--title",
                  "New", "--target", "5", "--start", "2026-11-01", "--due", "2026-12-31")
    assert created.exit_code == 0, created.stderr
    assert team.one("SELECT created_at, updated_at FROM kpi WHERE key = 'sales.new'") == (
        now, now)
    assert team.one("SELECT a.recorded_at FROM assignment a JOIN kpi k ON k.id = a.kpi_id "
                    "WHERE k.key = 'sales.new'") == (now,)
    assert run("--db", team.url("max"), "feedback", "sales.arr", "Well done").exit_code == 0
    assert team.one("SELECT at FROM feedback") == (now,)
    with team.sql("max") as conn:  # psql: the server stamps, whatever the statement says
        conn.execute("INSERT INTO kpi_change (kpi_id, at, field, old_value, new_value) "
                     "SELECT id, '2001-01-01', 'note', 'a', 'b' FROM kpi WHERE key = 'sales.arr'")
    assert team.one("SELECT at FROM kpi_change WHERE field = 'note'") == (now,)


def test_member_writes_only_their_own_aggregates_and_only_now(run, team):
    assert run("--db", team.url("carl"), "checkin", "ops.up", "4").exit_code == 0
    assert run("--db", team.url("ana"), "checkin", "sales.arr", "10").exit_code == 0
    before = table_rows(team.owner)
    copy = ("INSERT INTO checkin_stats (kpi_id, recorded_at, n, in_window, met, fit_n, "
            "fit_distinct, covered_id) SELECT kpi_id, {at}, 99, 99, 99, 0, 0, covered_id "
            "FROM checkin_stats WHERE kpi_id = (SELECT id FROM kpi WHERE key = '{key}')")
    forged = ("INSERT INTO checkin_stats (kpi_id, recorded_at, n, first_at, last_at, in_window, "
              "met, fit_n, fit_distinct, latest_id, covered_id) SELECT kpi_id, kpictl_now(), n, "
              "first_at, last_at, in_window, met, fit_n, fit_distinct, {latest}, {covered} FROM "
              "checkin_stats WHERE kpi_id = (SELECT id FROM kpi WHERE key = 'sales.arr')")
    carls = "(SELECT id FROM checkin WHERE kpi_id = (SELECT id FROM kpi WHERE key = 'ops.up'))"
    statements = {
        # at her own write's instant, but not what the history says: another KPI's check-in
        # as her current value, a guard that claims check-ins not yet written, a wrong count
        forged.format(latest=carls, covered="covered_id"):
            "the aggregates of sales.arr must be those of its check-ins",
        forged.format(latest="latest_id", covered="2147483647"):
            "the aggregates of sales.arr must be those of its check-ins",
        forged.replace("SELECT kpi_id, kpictl_now(), n,", "SELECT kpi_id, kpictl_now(), n + 1,")
        .format(latest="latest_id", covered="covered_id"):
            "the aggregates of sales.arr must be those of its check-ins",
        # someone else's KPI: forged aggregates would change carl's report
        copy.format(at="kpictl_now() + interval '1 hour'", key="ops.up"):
            "only whoever may record check-ins on ops.up",
        "UPDATE checkin_stats SET n = 99 WHERE kpi_id = (SELECT id FROM kpi WHERE key = "
        "'ops.up')": "only whoever may record check-ins on ops.up",
        # their own KPI, but not at the instant of a write of theirs
        copy.format(at="kpictl_now() + interval '1 hour'", key="sales.arr"):
            "a member files the aggregates of sales.arr only at the instant",
        "DELETE FROM checkin_stats WHERE kpi_id = (SELECT id FROM kpi WHERE key = "
        "'sales.arr')": "a member files the aggregates of sales.arr only",
    }
    with team.sql("ana") as conn:
        for statement, message in statements.items():
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match=message):
                conn.execute(statement)
    assert table_rows(team.owner) == before


def test_member_checkin_after_a_write_around_kpictl_leaves_the_recount_to_an_admin(run, team,
                                                                                    now):
    with team.sql("ana") as conn:  # allowed, but no aggregates kept: "written around kpictl"
        conn.execute("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, source) "
                     "SELECT id, 7, %s, %s, 'psql' FROM kpi WHERE key = 'sales.arr'",
                     (now - timedelta(hours=1), now))
    result = run("--db", team.url("ana"), "checkin", "sales.arr", "10")
    assert (result.exit_code, result.stderr) == (0, "recorded sales.arr = 10\n")
    # ana may not recount carl's aggregates: kpictl left them all alone, and reports read
    # the history until an admin's write recounts it.
    assert team.one("SELECT count(*) FROM checkin_stats") == (0,)
    row = run("report", "--json").json()["kpis"]
    assert {r["key"]: r["checkins"] for r in row}["sales.arr"] == 2
    assert run("checkin", "ops.up", "1", "--by", "carl").exit_code == 0  # the owner: admin
    check = run("db", "check")
    assert check.exit_code == 0, check.stdout + check.stderr
    assert team.one("SELECT count(DISTINCT kpi_id) FROM checkin_stats") == (2,)


def test_only_managers_nudge_and_only_about_their_tree(run, team, monkeypatch):
    monkeypatch.setenv("KPICTL_SMTP_URL", "smtp://127.0.0.1:9")  # refused before connecting
    refused = run("--db", team.url("ana"), "nudge", "--send")
    assert (refused.exit_code, refused.stdout) == (6, "")
    assert refused.stderr == ("kpictl: error: not allowed: only a manager (about their "
                              f"reporting tree) or an admin may send nudges; you are connected "
                              f"as {team.roles['ana']} (member)\n")
    everyone = run("nudge", "--json").json()
    owners = {i["owner"] for r in everyone["recipients"] for i in r["items"]}
    assert owners == {"ana", "carl"}  # both KPIs are due a check-in
    preview = run("--db", team.url("max"), "nudge", "--send", "--dry-run")
    assert preview.exit_code == 0, preview.stderr
    assert "to ana" in preview.stderr and "carl" not in preview.stderr
    with team.sql("ana") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="only a manager of ana .* may send nudges about it"):
            conn.execute("INSERT INTO nudge_sent (recipient_id, type, kpi_id, slot, level, "
                         "sent_at) SELECT owner_id, 'checkin_due', id, 'x', 0, now() FROM kpi "
                         "WHERE key = 'sales.arr'")
    with team.sql("max") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="only a manager of carl"):
            conn.execute("INSERT INTO nudge_sent (recipient_id, type, kpi_id, slot, level, "
                         "sent_at) SELECT owner_id, 'checkin_due', id, 'x', 0, now() FROM kpi "
                         "WHERE key = 'ops.up'")
        conn.execute("INSERT INTO nudge_sent (recipient_id, type, kpi_id, slot, level, sent_at) "
                     "SELECT owner_id, 'checkin_due', id, 'x', 0, '2001-01-01' FROM kpi "
                     "WHERE key = 'sales.arr'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM nudge_sent")
    assert team.one("SELECT sent_at FROM nudge_sent") == (
        team.one("SELECT kpictl_now()")[0],)


def test_away_time_in_the_past_takes_a_manager(run, team, now):
    today = now.date()
    ana = ("--db", team.url("ana"))
    before = table_rows(team.owner)
    back = run(*ana, "people", "away", "ana", "--from", str(today - timedelta(days=3)),
               "--until", str(today + timedelta(days=1)))
    assert (back.exit_code, back.stderr) == (
        6, "kpictl: error: not allowed: you may not set your own away time in the past: a "
           "manager of ana or an admin may\n")
    with team.sql("ana") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="in the past"):
            conn.execute("INSERT INTO away (person_id, starts, ends) SELECT id, "
                         "kpictl_now() - interval '3 days', kpictl_now() FROM person "
                         "WHERE handle = 'ana'")
    assert table_rows(team.owner) == before
    # From today is not the past; her manager may record last week after the fact.
    assert run(*ana, "people", "away", "ana", "--from", str(today), "--until",
               str(today + timedelta(days=1))).exit_code == 0
    late = run("--db", team.url("max"), "people", "away", "ana", "--from",
               str(today - timedelta(days=9)), "--until", str(today - timedelta(days=5)))
    assert late.exit_code == 0, late.stderr
    with team.sql("ana") as conn:  # …and ana may not take that back, nor stretch it
        for statement in ("DELETE FROM away WHERE ends < kpictl_now()",
                          "UPDATE away SET ends = ends + interval '1 day' "
                          "WHERE ends < kpictl_now()",
                          "UPDATE away SET cover_id = (SELECT id FROM person WHERE handle = "
                          "'max') WHERE ends < kpictl_now()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="in the past"):
                conn.execute(statement)
    # Ending today's window early is hers to do.
    cleared = run(*ana, "people", "away", "ana", "--clear")
    assert cleared.exit_code == 0, cleared.stderr


def test_member_checkin_after_rows_filed_later_leaves_the_recount_to_an_admin(run, team,
                                                                              monkeypatch, now):
    monkeypatch.setenv("KPICTL_NOW", AHEAD)  # an admin's write keeps the client's time
    assert run("checkin", "sales.arr", "4", "--by", "ana", "--at", "2026-11-20").exit_code == 0
    monkeypatch.setenv("KPICTL_NOW", now.isoformat())
    # ana's write is stamped before that row: recounting it is not hers; the write stands.
    result = run("--db", team.url("ana"), "checkin", "sales.arr", "10")
    assert (result.exit_code, result.stderr) == (0, "recorded sales.arr = 10\n")
    assert team.one("SELECT count(*) FROM checkin_stats") == (1,)
    assert run("report", "--json").json()["kpis"][0]["checkins"] == 2  # read from history


def test_the_server_stamps_source_runs_and_keeps_away_records(run, team, now):
    with team.sql("ana") as conn:
        conn.execute("INSERT INTO source_run (kpi_id, at, ok) SELECT id, '2001-01-01', true "
                     "FROM kpi WHERE key = 'sales.arr'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="in the future"):
            conn.execute("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, source) "
                         "SELECT id, 1, kpictl_now() + interval '1 hour', kpictl_now(), 'psql' "
                         "FROM kpi WHERE key = 'sales.arr'")
    assert team.one("SELECT at FROM source_run") == (now,)
    assert run("--db", team.url("ana"), "people", "away", "ana", "--from", str(now.date()),
               "--until", str(now.date() + timedelta(days=2))).exit_code == 0
    recorded = team.one("SELECT by_id, recorded_at FROM away")
    assert recorded == (team.id_of("ana"), now)
    with team.sql("ana") as conn:  # who recorded it, and when, are not hers to rewrite
        conn.execute("UPDATE away SET by_id = %s, recorded_at = '2001-01-01'",
                     (team.id_of("max"),))
    assert team.one("SELECT by_id, recorded_at FROM away") == recorded


def test_nudges_go_only_where_they_belong(team):
    row = ("INSERT INTO nudge_sent (recipient_id, type, kpi_id, slot, level, sent_at) SELECT "
           "(SELECT id FROM person WHERE handle = %s), 'escalation', id, 'x', 1, now() FROM kpi "
           "WHERE key = %s")
    with team.sql("max") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="goes to ana \\(its owner\\), whoever covers"):
            conn.execute(row, ("carl", "sales.arr"))
        conn.execute(row, ("max", "sales.arr"))  # max is above ana
    assert run_ok(team, "adm", "assign", "max.own", "--to", "max", "--title", "Own",
                  "--target", "5", "--due", "2026-12-31")
    with team.sql("max") as conn:  # an escalation about his own KPI is not his to record
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="a nudge about your own KPI max.own goes to you only"):
            conn.execute(row, ("adm", "max.own"))


def test_a_transaction_held_open_may_not_stamp_stale_times(team):
    with team.sql() as conn:  # the owner shortens the limit, as tests pin the clock
        conn.execute("CREATE OR REPLACE FUNCTION kpictl_stale_after() RETURNS interval "
                     "LANGUAGE sql IMMUTABLE AS $$ SELECT interval '1 second' $$")
    with team.sql("ana") as conn, conn.transaction():
        conn.execute("SELECT pg_sleep(1.2)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="this transaction began more than 00:00:01 ago"):
            conn.execute("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, "
                         "source) SELECT id, 1, kpictl_now(), kpictl_now(), 'psql' FROM kpi "
                         "WHERE key = 'sales.arr'")


def run_ok(team, handle, *args) -> bool:
    from tests.conftest import make_runner

    result = make_runner()("--db", team.url(handle), *args)
    assert result.exit_code == 0, result.stderr
    return True


def test_a_managers_own_escalations_are_not_his_to_send(run, team, monkeypatch):
    # bob owns a KPI no one checked in on: the nudge of it goes to bob, its escalation to his
    # manager adm (an admin's run would send both).
    assert run("assign", "ops.bob", "--to", "bob", "--by", "adm", "--title", "Bob's",
               "--target", "5", "--start", "2026-11-01", "--due", "2026-12-31").exit_code == 0
    everyone = run("nudge", "--json").json()
    about_bobs = {r["handle"] for r in everyone["recipients"] for i in r["items"]
                  if i["kpi"] == "ops.bob"}
    assert about_bobs == {"bob", "adm"}
    line = "would send {} nudge(s) to {} (no e-mail: would be skipped)"
    admins = run("nudge", "--send", "--dry-run")  # the owner, an admin: everything
    assert admins.stderr.splitlines() == [line.format(n, h) for n, h in (
        (2, "adm"), (1, "ana"), (2, "bob"), (1, "carl"), (1, "max"))]
    # bob: not ana's (max's tree), and to adm only the skip-level escalation about carl —
    # the one about his own ops.bob is not his to record.
    preview = run("--db", team.url("bob"), "nudge", "--send", "--dry-run")
    assert preview.exit_code == 0, preview.stderr
    assert preview.stderr.splitlines() == [line.format(n, h) for n, h in (
        (1, "adm"), (2, "bob"), (1, "carl"))]


def test_only_the_owner_may_set_the_servers_clock(team, now):
    with team.sql("max") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner|"
                           "permission denied"):
            conn.execute("CREATE OR REPLACE FUNCTION kpictl_now() RETURNS timestamptz "
                         "LANGUAGE sql AS $$ SELECT '2001-01-01'::timestamptz $$")
    with team.sql("ana") as conn:  # a temporary function of the same name is never used
        conn.execute("CREATE FUNCTION pg_temp.kpictl_now() RETURNS timestamptz LANGUAGE sql "
                     "AS $$ SELECT '2001-01-01'::timestamptz $$")
        conn.execute("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, source) "
                     "SELECT id, 1, %s, '2001-01-01', 'psql' FROM kpi WHERE key = 'sales.arr'",
                     (now,))
    assert team.one("SELECT recorded_at FROM checkin") == (now,)
