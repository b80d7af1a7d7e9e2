"""The databases the suite runs on: a SQLite file per test, and — when ``KPICTL_TEST_PG_URL``
names a PostgreSQL server — a fresh PostgreSQL database per test, copied from a migrated
template (``CREATE DATABASE … TEMPLATE``), so every test starts from the same blank schema
on both backends. Without a server the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

import os
import time
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

PG_ENV = "KPICTL_TEST_PG_URL"
#: Opt-in (=1): on PostgreSQL, the read commands a test runs through the ``run`` fixture
#: connect as a login role granted only *member* in the test's database (see :func:`as_reader`).
READER_ENV = "KPICTL_TEST_PG_AS_MEMBER"
#: Where a test's reads connect in that mode (set per test by conftest's isolated_env).
READER_DB = "KPICTL_TEST_READER_DB"
#: Commands that only read (and print nothing that names the database).
READ_COMMANDS = {("report",), ("suggest",), ("export",), ("log",), ("whoami",), ("schema",),
                 ("people", "list"), ("people", "show"), ("people", "tree")}
SKIP_REASON = (f"no PostgreSQL server configured: set {PG_ENV} (e.g. "
               "postgresql://kpictl:kpictl@localhost/kpictl; .ci/run does)")


class Postgres:
    """Creates and drops throw-away databases on one server."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql+psycopg")
        self.admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"kpictl_t{os.getpid()}_"
        self._created: list[str] = []

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None, name: str | None = None) -> str:
        name = name or f"{self.prefix}{uuid.uuid4().hex[:10]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        # A template briefly held by autovacuum cannot be copied: try again shortly.
        self._execute(f'CREATE DATABASE "{name}"{clause}', "being accessed by other users")
        if name not in self._created:
            self._created.append(name)
        reader = os.environ.get(READER_DB)
        if reader and make_url(reader).database == name:  # a test's database made afresh
            self.reader_url(name)
        return name

    def drop(self, name: str) -> None:
        # WITH (FORCE) may be refused while an autovacuum worker (another role) is connected.
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', "pg_signal_backend")
        if name in self._created:
            self._created.remove(name)
        # Group roles are cluster-wide: `db upgrade`/`db grant` made this database's own.
        for group in group_roles(name):
            self._execute(f'DROP ROLE IF EXISTS "{group}"', "being accessed by other users")

    def _execute(self, sql: str, transient: str, attempts: int = 40) -> None:
        """Run admin ``sql``, retrying while the error message contains ``transient``."""
        for attempt in range(attempts):
            try:
                with self.admin.connect() as conn:
                    conn.exec_driver_sql(sql)
                return
            except sa.exc.DBAPIError as exc:
                if attempt == attempts - 1 or transient not in str(exc):
                    raise
                time.sleep(0.25)

    def drop_all(self) -> None:
        for name in list(self._created):
            self.drop(name)
        if getattr(self, "_reader", None):
            self._execute(f'DROP ROLE IF EXISTS "{self._reader[0]}"', "being accessed")
        self.admin.dispose()

    def reader_url(self, database: str) -> str:
        """A URL for ``database`` as a login role granted only *member* there (the role is
        made once per session; the database's group roles by ``access.set_up``)."""
        from kpictl.db import open_database
        from kpictl.services.access import set_up

        if not getattr(self, "_reader", None):
            self._reader = (f"{self.prefix}reader", uuid.uuid4().hex)
            self._execute(f"CREATE ROLE \"{self._reader[0]}\" LOGIN PASSWORD "
                          f"'{self._reader[1]}'", "being accessed")
        db = open_database(self.url_of(database), migrate=False)
        with db.session(write=True) as session:
            assert set_up(session), "the suite's role needs CREATEROLE (.ci/run grants it)"
        db.engine.dispose()
        member = group_roles(database)[0]
        self._execute(f'GRANT "{member}" TO "{self._reader[0]}"', "being accessed")
        return self.url.set(database=database, username=self._reader[0],
                            password=self._reader[1]).render_as_string(hide_password=False)


def pin_server_clock(url: str, instant: str | None) -> None:
    """Make ``kpictl_now()`` — the clock the server stamps non-admins' rows with (migration
    0013) — return ``instant`` (an ISO-8601 text, e.g. the test's KPICTL_NOW) in the database
    at ``url`` (as its owner), or ``now()`` again when ``instant`` is None."""
    value = "now()" if instant is None else \
        "'" + instant.replace("'", "") + "'::timestamptz"
    engine = sa.create_engine(make_url(url).set(drivername="postgresql+psycopg"),
                              poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION kpictl_now() RETURNS timestamptz LANGUAGE sql "
                f"STABLE SET search_path = pg_catalog AS $$ SELECT {value} $$")
    finally:
        engine.dispose()


def group_roles(database: str) -> list[str]:
    """The names kpictl_group() (migration 0012) gives this database's group roles."""
    import hashlib

    names = []
    for level in ("member", "manager", "admin"):
        name = f"kpictl_{level}_{database}"
        if len(name.encode()) > 63:
            name = f"kpictl_{level}_{hashlib.md5(database.encode()).hexdigest()[:16]}"
        names.append(name)
    return names


def as_reader(args: list[str]) -> list[str]:
    """``args`` connected as the member role of :data:`READER_ENV` mode when they are a read
    command (and name no --db of their own); else unchanged."""
    url = os.environ.get(READER_DB)
    if not url or "--db" in args or any(a.startswith("--db=") for a in args):
        return args
    words, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--tz", "--format", "-f"):
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    if tuple(words[:1]) in READ_COMMANDS or tuple(words[:2]) in READ_COMMANDS:
        return ["--db", url, *args]
    return args


def postgres_or_none() -> Postgres | None:
    url = os.environ.get(PG_ENV)
    return Postgres(url) if url else None


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (sorted), on either backend: proof that nothing changed."""
    if "://" not in url:
        if not os.path.exists(url):
            return {}
        url = f"sqlite:///{url}"
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            names = sorted(sa.inspect(conn).get_table_names())
            return {name: sorted((tuple(r) for r in conn.exec_driver_sql(
                f'SELECT * FROM "{name}"')), key=repr) for name in names}
    finally:
        engine.dispose()
