"""A team on the real PostgreSQL server, each person connecting as their own LOGIN role.

The login roles are cluster-wide, so their names carry this run's pid and a random suffix and
they are dropped at the end of the session; the per-database group roles that `db grant`
creates go with each test's database (tests/backends.py). Every test here is marked
``postgres_only``: without ``KPICTL_TEST_PG_URL`` it skips, saying why.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.backends import SKIP_REASON, pin_server_clock

#: ana reports to max; carl reports to bob (another team); adm is an admin; eve's role is
#: linked to nobody.
HANDLES = ("ana", "max", "bob", "carl", "adm", "eve")


@dataclass
class Logins:
    roles: dict[str, str]
    password: str


@pytest.fixture(scope="session")
def logins(pg):
    if pg is None:  # the backend fixture has skipped already; this keeps the reason if not
        pytest.skip(SKIP_REASON)
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    roles = {handle: f"kpictl_r{suffix}_{handle}" for handle in HANDLES}
    password = uuid.uuid4().hex
    with pg.admin.connect() as conn:
        for role in roles.values():
            conn.exec_driver_sql(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
    yield Logins(roles, password)
    with pg.admin.connect() as conn:
        for role in roles.values():
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')


@dataclass
class Team:
    owner: str  # the URL of the role that created the schema (the suite's own role)
    roles: dict[str, str]
    password: str

    def url(self, handle: str) -> str:
        return make_url(self.owner).set(username=self.roles[handle], password=self.password) \
            .render_as_string(hide_password=False)

    def sql(self, handle: str | None = None) -> psycopg.Connection:
        """A raw psycopg connection as that person's role (None: the owner), autocommit."""
        url = make_url(self.url(handle) if handle else self.owner).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    def one(self, query: str, *params):
        with self.sql() as conn:
            return conn.execute(query, params).fetchone()

    def id_of(self, handle: str) -> int:
        return self.one("SELECT id FROM person WHERE handle = %s", handle)[0]


def _ok(result) -> None:
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def team(run, logins, backend):
    """People linked to their roles and granted access by the owner; sales.arr is ana's
    (delegated by max), ops.up is carl's (delegated by bob)."""
    owner = os.environ["KPICTL_DB"]
    roles = logins.roles
    for args in (("adm", "--name", "Adam Admin"), ("max", "--name", "Max Manager"),
                 ("ana", "--name", "Ana Member", "--manager", "max"),
                 ("bob", "--name", "Bob Other", "--manager", "adm"),
                 ("carl", "--name", "Carl Report", "--manager", "bob"),
                 ("eve", "--name", "Eve Unlinked")):
        _ok(run("people", "add", *args, "--db-role", roles[args[0]]))
    for handle, level in (("ana", "member"), ("max", "manager"), ("bob", "manager"),
                          ("adm", "admin"), ("eve", "member"), ("carl", "member")):
        _ok(run("db", "grant", handle, "--as", level))
    _ok(run("people", "edit", "eve", "--db-role", ""))  # eve's role keeps a grant, no person
    for key, to, by in (("sales.arr", "ana", "max"), ("ops.up", "carl", "bob")):
        _ok(run("assign", key, "--to", to, "--by", by, "--title", key, "--baseline", "0",
                "--target", "100", "--start", "2026-11-01", "--due", "2026-12-31"))
    # The server's clock reads the suite's pinned instant, as every client's does: what a
    # member records is stamped at the same instant the owner's reports look from.
    pin_server_clock(owner, os.environ["KPICTL_NOW"])
    return Team(owner, roles, logins.password)
