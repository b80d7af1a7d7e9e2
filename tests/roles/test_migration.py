"""Migration 0012 on a server that has data: nothing lost, people linked to the roles named
like their handles, the owner still an admin, and the rules in force from then on."""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.backends import table_rows
from tests.reliability.test_read_only_user import _downgrade, _url

pytestmark = pytest.mark.postgres_only


def test_upgrade_to_0012_keeps_the_data_and_adds_the_rules(run, logins):
    ana = logins.roles["ana"]
    for args in (("people", "add", ana.replace("_", "-"), "--name", "Ana"),  # a handle-like role
                 ("people", "add", "bob", "--name", "Bob"),
                 ("assign", "sales.arr", "--to", "bob", "--title", "ARR", "--target", "100",
                  "--start", "2026-11-01", "--due", "2026-12-31"),
                 ("checkin", "sales.arr", "10"), ("feedback", "sales.arr", "ok", "--by", "bob")):
        assert run(*args).exit_code == 0, args
    _downgrade(_url(), "0011")  # the server as kpictl left it before shared-server rules
    before = table_rows(os.environ["KPICTL_DB"])
    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    after = table_rows(os.environ["KPICTL_DB"])
    # Every row is still there; people gained db_role = handle.
    assert {name: rows for name, rows in after.items() if name not in ("person",
                                                                       "alembic_version")} == \
        {name: rows for name, rows in before.items() if name not in ("person",
                                                                      "alembic_version")}
    assert [row[:-1] for row in after["person"]] == before["person"]
    assert sorted(row[-1] for row in after["person"]) == sorted(row[1] for row in
                                                                before["person"])
    # The owner keeps working without any grant; the rules hold for everyone else.
    assert run("checkin", "sales.arr", "11", "--by", "bob").exit_code == 0
    assert run("people", "edit", ana.replace("_", "-"), "--db-role", ana).exit_code == 0
    assert run("db", "grant", ana.replace("_", "-"), "--as", "member").exit_code == 0
    url = make_url(os.environ["KPICTL_DB"]).set(username=ana, password=logins.password)
    refused = run("--db", url.render_as_string(hide_password=False), "checkin", "sales.arr", "1")
    assert refused.exit_code == 6, refused.stderr
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(
            hide_password=False), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM checkin")


def test_whoami_on_an_older_schema_says_to_upgrade(run):
    _downgrade(_url(), "0011")
    result = run("whoami")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "kpictl: error: this database has no shared-server rules yet (its schema is "
               "older than kpictl's): run `kpictl db upgrade`\n")
