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
#: On PostgreSQL the commands a test runs through the ``run`` fixture connect as non-admin
#: roles wherever the test's action allows it (see :func:`as_member`); ``=0`` runs them all as
#: the owner (an admin) instead.
READER_ENV = "KPICTL_TEST_PG_AS_MEMBER"


def member_mode() -> bool:
    return os.environ.get(READER_ENV, "1").strip().lower() not in ("0", "no", "false", "off")
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
    with _connect(url) as conn:
        _pin(conn, instant)


def _pin(conn, instant: str | None) -> None:
    value = "now()" if instant is None else "'" + instant.replace("'", "") + "'::timestamptz"
    conn.execute("CREATE OR REPLACE FUNCTION kpictl_now() RETURNS timestamptz LANGUAGE sql "
                 f"STABLE SET search_path = pg_catalog AS $$ SELECT {value} $$")


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


#: Commands a member runs on their own KPIs: routed to the owner's own role in member mode
#: (:func:`as_member`).
MEMBER_COMMANDS = {"checkin", "amend", "retract"}
#: The comment that marks the login roles member mode creates (one per handle, named like the
#: handle, as ``people add`` links them by default), so the session's end drops exactly them.
MEMBER_ROLE_MARK = "kpictl test suite: member-mode login role"
MEMBER_PASSWORD = "kpictl-test-member"  # throw-away roles on a test cluster, dropped at the end


def _words(args: list[str]) -> list[str]:
    words, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--tz", "--format", "-f", "--by", "--at", "--note", "--reason", "--value",
                     "--confidence", "--blocker", "--key", "--db"):
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return words


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def as_member(args: list[str]) -> list[str]:
    """In :data:`READER_ENV` mode on PostgreSQL, ``args`` connected as a non-admin role
    wherever the test's action allows it; else unchanged (as the owner, an admin):

    * read commands connect as a role granted only *member* (``READER_DB``);
    * ``checkin KEY V``, ``amend ID``, ``retract ID`` connect as the KPI owner's own login role
      (named like the handle, as ``people add`` links it by default), granted *member*, when
      the acting person (``--by``/``KPICTL_USER``, if any) is that owner;
    * ``assign``, ``close``, ``reopen``, ``feedback`` acting as someone (``--by``/
      ``KPICTL_USER``) whose reporting tree holds the KPI's owner (and ``--to``) connect as
      their role granted *manager*;

    with the server's clock pinned to the test's ``KPICTL_NOW``, as the client's is.
    """
    url = os.environ.get(READER_DB)
    if not url or "--db" in args or any(a.startswith("--db=") for a in args):
        return args
    owner = os.environ.get("KPICTL_DB", "")
    if "://" not in owner or make_url(owner).database != make_url(url).database:
        return args  # the test pointed KPICTL_DB elsewhere (e.g. a SQLite copy of the demo)
    try:
        "".join(args).encode()
    except UnicodeEncodeError:  # undecodable bytes on the command line: no query can name them
        return args
    words = _words(args)
    if tuple(words[:1]) in READ_COMMANDS or tuple(words[:2]) in READ_COMMANDS:
        return ["--db", url, *args]
    if len(words) < 2 or "--file" in args or words[0] not in MEMBER_COMMANDS | MANAGER_COMMANDS:
        return args
    by = (_option(args, "--by") or os.environ.get("KPICTL_USER") or "").strip().lower()
    with _connect(owner) as conn:
        if words[0] in MEMBER_COMMANDS:
            acting, level = _member_of(conn, words[0], words[1], by), 0
        elif by and not any(a.split("=")[0] in MANAGER_SKIP for a in args):
            acting, level = _manager_of(conn, words[1], _option(args, "--to"), by), 1
        else:
            return args
        if acting is None or not _login(conn, acting):
            return args
        groups = group_roles(make_url(owner).database)
        conn.execute(f'REVOKE "{groups[1 - level]}" FROM "{acting}"')  # exactly this level
        conn.execute(f'GRANT "{groups[level]}" TO "{acting}"')
        _pin(conn, os.environ.get("KPICTL_NOW") or None)
    ROUTED.append((words[0], acting, ("member", "manager")[level]))
    log = os.environ.get(ROUTE_LOG)
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{('member', 'manager')[level]} {words[0]}\n")
    return ["--db", make_url(owner).set(username=acting, password=MEMBER_PASSWORD)
            .render_as_string(hide_password=False), *args]


#: A file to append a line to for every routed command (how the README's count is measured).
ROUTE_LOG = "KPICTL_TEST_ROUTE_LOG"
#: (command, role, level) of every command :func:`as_member` routed to a person's own role:
#: what tests/test_member_mode.py checks the routing by.
ROUTED: list[tuple[str, str, str]] = []
#: Manager commands acting on a KPI of the tree, routed to the acting manager's role.
MANAGER_COMMANDS = {"assign", "close", "reopen", "feedback"}
#: …unless they touch objectives (whose rules name the objective's owner too).
MANAGER_SKIP = {"--parent", "--objective", "--weight", "--kind"}


def _connect(url: str):
    import psycopg

    return psycopg.connect(make_url(url).set(drivername="postgresql")
                           .render_as_string(hide_password=False), autocommit=True)


def _member_of(conn, command: str, target: str, by: str) -> str | None:
    """The KPI owner's handle when they are ``by`` (or nobody is named), linked by name."""
    if command == "checkin":
        query = ("SELECT p.handle, p.db_role FROM kpi k JOIN person p ON p.id = k.owner_id "
                 "WHERE k.key = %s AND k.kind <> 'objective'")
        param = target.strip().lower()
    else:
        if not target.isdigit():
            return None
        query = ("SELECT p.handle, p.db_role FROM checkin c JOIN kpi k ON k.id = c.kpi_id "
                 "JOIN person p ON p.id = k.owner_id WHERE c.id = %s")
        param = int(target)
    found = conn.execute(query, (param,)).fetchone()
    if found is None or found[1] != found[0] or (by and found[0] != by):
        return None
    return found[0]  # nobody named: the owner records it (the server names them its author)


def _manager_of(conn, key: str, to: str | None, by: str) -> str | None:
    """``by`` when their reporting tree holds the KPI's owner (if it exists) and ``to`` (if
    given), and at least one of them; linked by name."""
    tree = {h for (h,) in conn.execute(
        "WITH RECURSIVE tree(id) AS (SELECT id FROM person WHERE handle = %s AND db_role = "
        "handle UNION SELECT p.id FROM person p JOIN tree t ON p.manager_id = t.id) "
        "SELECT handle FROM person WHERE id IN (SELECT id FROM tree)", (by,)).fetchall()}
    kpi = conn.execute("SELECT p.handle FROM kpi k JOIN person p ON p.id = k.owner_id "
                       "WHERE k.key = %s", (key.strip().lower(),)).fetchone()
    needed = ([kpi[0]] if kpi else []) + ([to.strip().lower()] if to else [])
    if not needed or not set(needed) <= tree:
        return None
    return by


def _login(conn, handle: str) -> bool:
    """Make ``handle``'s login role if missing; False when a role of that name is the
    cluster's own (never borrowed). Made and marked in one transaction, one process at a
    time (an advisory lock): another worker never sees it unmarked."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ROLES_LOCK,))
        mine = conn.execute("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles "
                            "WHERE rolname = %s", (handle,)).fetchone()
        if mine is not None:
            return mine[0] == MEMBER_ROLE_MARK
        conn.execute(f'CREATE ROLE "{handle}" LOGIN PASSWORD \'{MEMBER_PASSWORD}\'')
        conn.execute(f"COMMENT ON ROLE \"{handle}\" IS '{MEMBER_ROLE_MARK}'")
    return True


_ROLES_LOCK = 0x6B7074726F6C  # who makes member-mode roles; a run holds it shared throughout


class RunLock:
    """Held (shared) by a test run from its start to its end, on its own connection: the
    login roles member mode makes are the cluster's, shared by every run on it, so only the
    last run to finish — the one that gets the lock exclusively — drops them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = _connect(url)
        self.conn.execute("SELECT pg_advisory_lock_shared(%s)", (_RUN_LOCK,))

    def release_and_clean(self) -> None:
        try:
            self.conn.execute("SELECT pg_advisory_unlock_shared(%s)", (_RUN_LOCK,))
            if self.conn.execute("SELECT pg_try_advisory_lock(%s)", (_RUN_LOCK,)).fetchone()[0]:
                _drop_member_roles(self.conn)
        finally:
            self.conn.close()


_RUN_LOCK = 0x6B7074727573  # test runs on this cluster (see RunLock)


def _drop_member_roles(conn) -> None:
    """Drop the login roles member mode made (marked :data:`MEMBER_ROLE_MARK`)."""
    for (role,) in conn.execute("SELECT rolname FROM pg_roles WHERE "
                                "shobj_description(oid, 'pg_authid') = %s",
                                (MEMBER_ROLE_MARK,)).fetchall():
        try:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        except Exception:  # still connected somewhere: the next run drops it
            pass


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
