"""Grants on a shared server: admins do everything and grant access; nobody grants
themselves more, whether with kpictl or psql; a role that may not create roles gets the SQL a
database administrator must run."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.backends import group_roles, table_rows

pytestmark = pytest.mark.postgres_only


def _database(team) -> str:
    return make_url(team.owner).database


def test_whoami_names_the_role_its_person_and_access(run, team):
    for handle, access in (("ana", "member"), ("max", "manager"), ("adm", "admin")):
        result = run("--db", team.url(handle), "whoami", "--json")
        assert result.exit_code == 0, result.stderr
        document = result.json()
        assert {k: document[k] for k in ("backend", "role", "person", "access")} == {
            "backend": "postgresql", "role": team.roles[handle], "person": handle,
            "access": access}
    eve = run("--db", team.url("eve"), "whoami")
    assert eve.stdout.splitlines()[:3] == [
        "person:  none", f"role:    {team.roles['eve']}", "access:  member"]


def test_admin_may_do_everything(run, team):
    adm = ("--db", team.url("adm"))
    for args in (("checkin", "sales.arr", "7", "--by", "ana"),  # on someone's behalf
                 ("people", "add", "zed", "--name", "Zed", "--manager", "bob"),
                 ("assign", "ops.up", "--to", "ana"),
                 ("feedback", "sales.arr", "from the top"),
                 ("db", "grant", "ana", "--as", "manager"),
                 ("db", "revoke", "carl")):
        result = run(*adm, *args)
        assert result.exit_code == 0, (args, result.stderr)
    assert team.one("SELECT author_id FROM checkin") == (team.id_of("ana"),)
    assert run("--db", team.url("ana"), "whoami", "--json").json()["access"] == "manager"
    assert run("--db", team.url("carl"), "whoami", "--json").json()["access"] is None
    with team.sql("adm") as conn:  # history is the admins' to repair
        conn.execute("UPDATE checkin SET note = 'fixed by hand'")
        conn.execute("DELETE FROM feedback")
    assert team.one("SELECT note FROM checkin") == ("fixed by hand",)


def test_nobody_grants_themselves_more(run, team):
    before = table_rows(team.owner)
    for handle, access in (("ana", "member"), ("max", "manager")):
        result = run("--db", team.url(handle), "db", "grant", handle, "--as", "admin")
        assert (result.exit_code, result.stderr) == (
            6, f"kpictl: error: not allowed: only an admin may grant access; you are connected "
               f"as {team.roles[handle]} ({access})\n")
        revoke = run("--db", team.url(handle), "db", "revoke", "ana")
        assert revoke.exit_code == 6
    # An admin grants member and manager, but not admin: that takes the tables' owner.
    up = run("--db", team.url("adm"), "db", "grant", "bob", "--as", "admin")
    admin_group = group_roles(_database(team))[2]
    assert (up.exit_code, up.stderr) == (
        6, f'kpictl: error: not allowed: must have admin option on role "{admin_group}": '
           "granting or revoking admin takes the owner of the database's tables or a role with "
           "CREATEROLE\n")
    assert table_rows(team.owner) == before
    for handle in ("ana", "max", "adm"):
        role = team.roles[handle]
        with team.sql(handle) as conn:
            for statement in (f'GRANT "{admin_group}" TO "{role}"',
                              f'CREATE ROLE "kpictl_x{uuid.uuid4().hex[:8]}"',
                              "ALTER TABLE checkin DISABLE TRIGGER kpictl_guard",
                              "DROP TRIGGER kpictl_guard ON checkin"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    for handle in ("ana", "max"):  # taking over an admin's person
        with team.sql(handle) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"UPDATE person SET db_role = '{team.roles[handle]}' "
                         "WHERE handle = 'adm'")
    assert run("--db", team.url("ana"), "whoami", "--json").json()["access"] == "member"


def test_db_grant_errors(run, team):
    assert run("db", "grant", "nobody", "--as", "member").exit_code == 3
    bad = run("db", "grant", "ana", "--as", "boss")
    assert (bad.exit_code, bad.stderr) == (
        2, "kpictl: error: invalid --as 'boss': use member, manager or admin\n")
    assert run("people", "add", "gus", "--name", "Gus", "--db-role", "kpictl_no_such_role") \
        .exit_code == 0
    missing = run("db", "grant", "gus", "--as", "member")
    assert (missing.exit_code, missing.stderr) == (
        3, "kpictl: error: no PostgreSQL role 'kpictl_no_such_role' (the role of gus): a "
           "database administrator creates it with CREATE ROLE \"kpictl_no_such_role\" LOGIN "
           "PASSWORD '…' (kpictl never stores passwords)\n")
    unlinked = run("db", "grant", "eve", "--as", "member")
    assert (unlinked.exit_code, unlinked.stderr) == (
        2, "kpictl: error: eve has no database role: link one with `kpictl people edit eve "
           "--db-role ROLE`\n")


@pytest.fixture
def owner_without_createrole(pg, logins):
    """A login role that is a member of the owner's role (so admin) but may not create roles."""
    import os

    role = f"kpictl_r{uuid.uuid4().hex[:8]}_own"
    owner = make_url(os.environ["KPICTL_DB"])
    with pg.admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE \"{role}\" LOGIN NOCREATEROLE PASSWORD "
                             f"'{logins.password}'")
        conn.exec_driver_sql(f'GRANT "{owner.username}" TO "{role}"')
    yield owner.set(username=role, password=logins.password) \
        .render_as_string(hide_password=False)
    with pg.admin.connect() as conn:
        conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.owner_only("a database nobody has set up the group roles of yet")
def test_db_grant_prints_the_sql_a_dba_must_run(run, logins, owner_without_createrole):
    import os

    # A server where nobody has set up this database's group roles yet.
    assert run("people", "add", "ana", "--name", "Ana", "--db-role",
               logins.roles["ana"]).exit_code == 0
    assert run("assign", "sales.arr", "--to", "ana", "--title", "ARR", "--target", "5",
               "--due", "2026-12-31").exit_code == 0
    url = owner_without_createrole
    assert run("--db", url, "whoami", "--json").json()["access"] == "admin"
    result = run("--db", url, "db", "grant", "ana", "--as", "member")
    assert result.exit_code == 6
    assert result.stderr == (
        "kpictl: error: not allowed: the group roles of this database do not exist and your "
        "role may not create them (CREATEROLE, and owning the tables): a database "
        "administrator runs the SQL printed above, then `kpictl db grant` works\n")
    groups = group_roles(make_url(os.environ["KPICTL_DB"]).database)
    statements = result.stdout.splitlines()
    assert statements[:3] == [f'CREATE ROLE "{group}" NOLOGIN;' for group in groups]
    assert all(line.endswith(";") for line in statements)
    owner = make_url(os.environ["KPICTL_DB"]).set(drivername="postgresql")
    with psycopg.connect(owner.render_as_string(hide_password=False),
                         autocommit=True) as conn:  # the DBA runs it
        for statement in statements:
            conn.execute(statement)
    assert run("db", "grant", "ana", "--as", "member").exit_code == 0
    ana = make_url(os.environ["KPICTL_DB"]).set(username=logins.roles["ana"],
                                                password=logins.password)
    checkin = run("--db", ana.render_as_string(hide_password=False), "checkin", "sales.arr", "4")
    assert checkin.exit_code == 0, checkin.stderr
