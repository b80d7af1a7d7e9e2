"""`kpictl whoami`, `people add/edit --db-role`, and `db grant` where there is nothing to
grant. The rules a shared server enforces are tested in tests/roles/."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from .conftest import assert_error, dump_db, ok


def db_roles() -> dict[str, str | None]:
    return {handle: role for _, handle, *_, role in
            ((row[0], row[1], row[-1]) for row in dump_db()["person"])}


@pytest.mark.sqlite_only("SQLite's single-user rule; the PostgreSQL side is tested below")
def test_whoami_on_sqlite_names_kpictl_user_and_the_files_rule(run, monkeypatch):
    monkeypatch.setenv("KPICTL_USER", "ana")
    rule = ("SQLite is single-user: whoever may write the database file may do anything (the "
            "file is created 0600); --by and KPICTL_USER only name who you are")
    table = ok(run, "whoami")
    assert table.stdout == ("person:  ana\nrole:    none (SQLite)\n"
                            "access:  the file's permissions\n" f"rule:    {rule}\n")
    document = ok(run, "whoami", "--json").json()
    assert {k: v for k, v in document.items() if k != "generated_at"} == {
        "schema": "kpictl.whoami/1", "backend": "sqlite", "role": None, "person": "ana",
        "access": None, "rule": rule}
    monkeypatch.delenv("KPICTL_USER")
    assert ok(run, "whoami", "--json").json()["person"] is None
    assert dump_db() is None  # a read: no database file was created


@pytest.mark.postgres_only
def test_whoami_on_postgresql_the_schemas_owner_is_admin(run):
    owner = os.environ["KPICTL_DB"]  # (also in KPICTL_TEST_PG_AS_MEMBER mode)
    document = ok(run, "--db", owner, "whoami", "--json").json()
    assert (document["backend"], document["role"], document["person"], document["access"]) == (
        "postgresql", make_url(os.environ["KPICTL_DB"]).username, None, "admin")


def test_people_db_role_defaults_to_the_handle_and_is_one_persons(run):
    ok(run, "people", "add", "ana", "--name", "Ana")
    ok(run, "people", "add", "bob", "--name", "Bob", "--db-role", "Bob.Carter@corp")
    assert db_roles() == {"ana": "ana", "bob": "Bob.Carter@corp"}
    before = dump_db()
    assert_error(run("people", "add", "cy", "--name", "Cy", "--db-role", "ana"), 4,
                 "the database role ana is already ana's: one role is one person")
    assert_error(run("people", "edit", "bob", "--db-role", "ana"), 4,
                 "the database role ana is already ana's: one role is one person")
    for bad in ("pg_monitor", "a b", "-x", "x" * 64, ""):
        assert_error(run("people", "add", "cy", "--name", "Cy", "--db-role", bad), 2,
                     f"invalid --db-role {bad!r}: use 1-63 characters a-z, A-Z, 0-9, '_', '.', "
                     "'@' or '-', starting with a letter, digit or '_' (and not pg_)")
    assert dump_db() == before
    result = ok(run, "people", "edit", "ana", "--db-role", "")
    assert result.stderr == "updated ana: db_role\n"
    ok(run, "people", "edit", "bob", "--db-role", "ana")
    assert db_roles() == {"ana": None, "bob": "ana"}
    log = ok(run, "log", "--json").json()
    assert [(e["person"], e["detail"]["from"], e["detail"]["to"]) for e in log["events"]
            if e["type"] == "person.changed" and e["detail"]["field"] == "db_role"] == [
        ("ana", "ana", None), ("bob", "Bob.Carter@corp", "ana")]


@pytest.mark.sqlite_only("SQLite has no roles to grant; grants are tested in tests/roles")
def test_db_grant_on_sqlite_has_nothing_to_grant(run):
    ok(run, "people", "add", "ana", "--name", "Ana")
    for args in (("grant", "ana", "--as", "member"), ("revoke", "ana")):
        assert_error(run("db", *args), 2,
                     f"nothing to {args[0]}: SQLite is single-user: whoever may write the "
                     "database file may do anything (the file is created 0600); --by and "
                     "KPICTL_USER only name who you are")
