"""Engine, sessions and schema for one kpictl database.

Design decisions, each one the answer to a trap we reproduced (see PITFALLS.md):

* SQLite runs in WAL mode with ``foreign_keys=ON`` and a busy timeout on every connection, and
  write sessions start with ``BEGIN IMMEDIATE``: with the driver's deferred ``BEGIN`` two
  processes that read and then write fail at once with "database is locked".
* Times are stored as naive UTC on SQLite and as ``timestamptz`` on PostgreSQL, and always come
  back timezone-aware in UTC (:class:`UTCDateTime`).
* The schema is owned by Alembic and applied on first use. The fast path costs one query; the
  slow path takes a database-wide lock (``BEGIN IMMEDIATE`` / ``pg_advisory_xact_lock``) and
  re-checks the version, so processes racing on a new database migrate exactly once.
* New SQLite files are created ``0600`` (and their directory ``0700``) before SQLite opens them;
  the ``-wal``/``-shm`` files inherit that mode.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from kpictl.errors import Conflict, InvalidInput, RuntimeFailure

#: Alembic revision this code expects; a test checks it equals the migrations' head.
SCHEMA_REVISION = "0013"
BUSY_TIMEOUT_MS = 30_000  # reads and checkpoints; a writer's wait is kpictl.locking's
#: Query parameters of a libpq connection string that carry a secret.
_SECRET_PARAMS = ("password", "sslpassword", "oauth_client_secret")
_SECRET_RE = re.compile(rf"(?i)\b({'|'.join(_SECRET_PARAMS)})(=)('[^']*'|[^&\s]*)")
_PG_MIGRATION_LOCK = 0x6B7069637431  # "kpict1": one advisory-lock key for kpictl migrations


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.DateTime(timezone=True))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database layer; pass an aware time")
        value = value.astimezone(timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite hands back the text this type stored ("2026-11-27 12:00:00.000000", naive
        # UTC); the C parser reads it ten times faster than the dialect's regular expression,
        # which a 10,000-KPI report would otherwise run 50,000 times — read with its offset,
        # which gives the same aware instant (tzinfo timezone.utc) in a tenth of the time of
        # datetime.replace (whose keyword parsing costs more than the parse).
        def process(value, _parse=datetime.fromisoformat, _utc=timezone.utc):
            if value is None:
                return None
            if isinstance(value, str):
                try:
                    instant = _parse(value + "+00:00")
                except ValueError:  # text written around kpictl, e.g. with its own offset
                    instant = _parse(value)
                # A date alone (written around kpictl) reads as naive midnight, offset or not.
                return instant if instant.tzinfo is _utc else instant.replace(tzinfo=_utc)
            return self.process_result_value(value, dialect)

        return process


def default_db_path() -> Path:
    import platformdirs

    return platformdirs.user_data_path("kpictl", appauthor=False) / "kpictl.db"


def resolve_url(target: str | None) -> URL:
    """Turn ``--db``/``KPICTL_DB`` (a path or a URL) into an SQLAlchemy URL."""
    if not target:
        return URL.create("sqlite", database=str(default_db_path()))
    if "://" in target:
        try:
            url = make_url(_quote_userinfo(target))
        except (ArgumentError, ValueError):
            raise InvalidInput(f"invalid --db URL {redact(target)!r}") from None
        if url.drivername == "postgresql" or url.drivername == "postgres":
            url = url.set(drivername="postgresql+psycopg")
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise InvalidInput(
                f"unsupported database {url.get_backend_name()!r}: use a SQLite path or a "
                "postgresql:// URL"
            )
        return url
    return URL.create("sqlite", database=str(Path(target).expanduser().absolute()))


def _quote_userinfo(target: str) -> str:
    """``postgresql://u:se@cret@host/x``: the user info ends at the *last* ``@`` before the
    host (as libpq and browsers read it); quote the others so the URL parser agrees."""
    match = re.match(r"^([A-Za-z][\w+.-]*://)([^/?#]*)(.*)$", target, re.DOTALL)
    if not match or match.group(2).count("@") < 2:
        return target
    scheme, authority, rest = match.groups()
    userinfo, _, host = authority.rpartition("@")
    user, colon, password = userinfo.partition(":")
    return f"{scheme}{user.replace('@', '%40')}{colon}{password.replace('@', '%40')}@{host}{rest}"


def redact(text: str) -> str:
    """Hide the secrets of any database URL or connection string in ``text`` (for messages
    and logs): the password of the user-info part (which may itself hold ``@``), and every
    libpq query parameter that carries a credential (``password``, ``sslpassword``, …)."""
    text = re.sub(r"(://[^:/@\s]*:)[^\s/?#]*@", r"\1***@", text)
    return _SECRET_RE.sub(r"\1\2***", text)


def describe(url: URL) -> str:
    """Where the data is, for humans: a file path, or the URL without its secrets."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return redact(url.render_as_string(hide_password=True))


def _prepare_sqlite_file(path: Path) -> bool:
    """Create a missing database file ``0600`` (and its directories ``0700``); True if this
    call created it."""
    if path.exists():
        return False
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for directory in reversed(missing):  # every directory we create is private, not just the last
        try:
            directory.mkdir(mode=0o700)
            os.chmod(directory, 0o700)  # whatever the umask
        except FileExistsError:
            pass
        except OSError as exc:
            raise RuntimeFailure(f"cannot create directory {directory}: {exc.strerror}") from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False  # another process created it first
    except OSError as exc:
        raise RuntimeFailure(f"cannot create database {path}: {exc.strerror}") from None
    os.close(fd)
    return True


def _remove_if_empty(path: Path) -> None:
    """A create that failed (a full disk) leaves no empty database file behind."""
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            if name.stat().st_size == 0:
                name.unlink()
        except OSError:
            pass


def _use_wal(cursor) -> None:
    """Put the database in WAL mode. Switching needs an exclusive lock that SQLite takes
    without consulting the busy handler (pager.c, pagerExclusiveLock), so processes opening a
    brand-new file together get "database is locked" at once instead of waiting: the one that
    wins switches the file, and the others wait, within the busy timeout, until it has."""
    import sqlite3
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _install_sqlite_events(engine: Engine, *, read_only: bool = False,
                           notify: Callable[[str], None] | None = None) -> None:
    from kpictl.locking import begin_immediate

    path = engine.url.database

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from the driver so that BEGIN is ours (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if read_only:  # a read changes nothing, not even the journal mode
            cursor.execute("PRAGMA query_only = ON")
        else:
            _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("kpictl_begin", "DEFERRED")
        if mode == "IMMEDIATE" and not read_only:
            begin_immediate(conn.connection.driver_connection, path=path, notify=notify)
        else:
            conn.exec_driver_sql("BEGIN DEFERRED")


@dataclass
class Database:
    url: URL
    engine: Engine
    #: Opened for reading only (a read command): no file created, nothing migrated.
    read_only: bool = False
    #: A read of a database file that does not exist yet: an empty schema in memory.
    stand_in: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def location(self) -> str:
        return describe(self.url)

    def write_engine(self) -> Engine:
        if self.read_only:
            raise RuntimeFailure(f"{self.location} was opened for reading only")
        return self.engine.execution_options(kpictl_begin="IMMEDIATE")

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        bind = self.write_engine() if write else self.engine
        with Session(bind, expire_on_commit=False) as session:
            try:
                with translate_errors(self.url):
                    yield session
                    if write:
                        session.commit()
            except BaseException:
                session.rollback()
                raise


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Turn driver errors into one-line :class:`RuntimeFailure` messages without secrets."""
    try:
        yield
    except IntegrityError as exc:
        # A constraint that the services check first, lost to a concurrent writer.
        raise Conflict(f"conflicting write: {_first_line(exc)}; try again") from None
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42501":  # the server's access rules
            from kpictl.errors import refused

            raise refused(_first_line(exc)) from None
        if exc.connection_invalidated:
            raise RuntimeFailure(f"lost the connection to {describe(url)}") from None
        if "readonly database" in str(exc.orig):
            raise RuntimeFailure(f"cannot write to the database {describe(url)}: it is "
                                 "read-only for you; give yourself write access to the file "
                                 "and its directory, or point --db elsewhere") from None
        raise RuntimeFailure(f"database error at {describe(url)}: {_first_line(exc)}") from None


def _first_line(exc: DBAPIError) -> str:
    detail = str(exc.orig if exc.orig is not None else exc).strip()
    return redact(detail.splitlines()[0] if detail else type(exc).__name__)


def open_database(target: str | None, *, migrate: bool = True, read: bool = False,
                  notify: Callable[[str], None] | None = None) -> Database:
    """Open the database named by ``--db``: for a write (``read=False``) creating the file if
    needed and bringing its schema up to date; for a read without creating or changing
    anything (see :mod:`kpictl.dbfiles`). ``notify`` hears that a writer waits for the lock."""
    from kpictl import end_of_start_up

    end_of_start_up()  # the work begins: the garbage collector runs again
    url = resolve_url(target)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return _open_sqlite_file(url, migrate=migrate, read=read, notify=notify)
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, poolclass=NullPool)
        _install_sqlite_events(engine, notify=notify)
    else:
        import logging

        # psycopg logs clean-up noise (e.g. after Ctrl-C) through Python's last-resort
        # handler, which would add lines to our one-line errors.
        logging.getLogger("psycopg").addHandler(logging.NullHandler())
        try:
            engine = sa.create_engine(url, poolclass=NullPool,
                                      connect_args={"connect_timeout": 10})
        except ModuleNotFoundError:
            raise RuntimeFailure(
                "PostgreSQL support is not installed: pip install 'kpictl[postgres]'"
            ) from None
    db = Database(url=url, engine=engine)
    if migrate and read:
        _refuse_older_schema(db)
    if migrate:
        ensure_schema(db)
    return db


def _refuse_older_schema(db: Database) -> None:
    """A read never migrates a server's database: an older schema it knows is refused with the
    fix, as for a SQLite file (an empty database still gets its schema on first use)."""
    from kpictl.dbfiles import known_revisions

    with translate_errors(db.url), db.engine.connect() as conn:
        try:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except (OperationalError, sa.exc.ProgrammingError):
            version = None
        conn.rollback()
    if version is not None and version != SCHEMA_REVISION and version in known_revisions():
        raise RuntimeFailure(
            f"the database {db.location} has schema {version}, not {SCHEMA_REVISION}: "
            "run `kpictl db upgrade` (a command that only reads changes nothing)")


def _open_sqlite_file(url: URL, *, migrate: bool, read: bool, notify) -> Database:
    from kpictl.dbfiles import inspect_file

    path = Path(url.database)
    state = inspect_file(path)
    if read and (not state.exists or state.blank):
        # Nothing to read: an empty schema in memory, and the file is left as it is.
        from sqlalchemy.pool import StaticPool

        engine = sa.create_engine("sqlite://", poolclass=StaticPool)
        _install_sqlite_events(engine)
        db = Database(url=url, engine=engine, stand_in=True)
        upgrade(db)
        db.read_only = True
        return db
    if read:
        from kpictl.dbfiles import known_revisions

        if state.revision not in known_revisions():
            raise RuntimeFailure(
                f"the database at {path} has schema {state.revision!r}, which this kpictl "
                f"({SCHEMA_REVISION}) does not know: upgrade kpictl")
        if state.revision != SCHEMA_REVISION and migrate:
            raise RuntimeFailure(
                f"the database {path} has schema {state.revision}, not {SCHEMA_REVISION}: "
                "run `kpictl db upgrade` (a command that only reads changes nothing)")
        uri = f"{path.as_uri()}?mode=ro"
        if not state.writable and not Path(f"{path}-shm").exists():
            uri += "&immutable=1"  # no -shm can be made, so no writer can be at work either
        engine = sa.create_engine("sqlite://", poolclass=NullPool,
                                  creator=lambda: _connect_uri(uri))
        engine.url = url  # for messages: the file, not the URI
        _install_sqlite_events(engine, read_only=True)
        return Database(url=url, engine=engine, read_only=True)
    if state.exists and not state.writable:
        raise RuntimeFailure(f"cannot write to the database {path}: {state.why_readonly}; "
                             f"{state.fix_readonly}")
    if not state.exists and not state.writable:
        raise RuntimeFailure(f"cannot create the database {path}: its directory is not "
                             "writable for you; point --db (KPICTL_DB) at a place you can write")
    created = _prepare_sqlite_file(path)
    # One command is one short process: pooling buys nothing, and closed connections
    # never linger (PostgreSQL cannot copy or drop a database that has sessions).
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
                              poolclass=NullPool)
    _install_sqlite_events(engine, notify=notify)
    db = Database(url=url, engine=engine)
    # The file's revision was read above: a current schema needs no second query (and no
    # second connection); anything else is checked again under the migration lock.
    if migrate and state.revision != SCHEMA_REVISION:
        try:
            ensure_schema(db)
        except BaseException:
            if created:
                engine.dispose()
                _remove_if_empty(path)
            raise
    return db


def _connect_uri(uri: str):
    import sqlite3

    return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=False)


def current_revision(db: Database) -> str | None:
    """The schema revision recorded in the database, or None for a blank database."""
    with translate_errors(db.url), db.engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def ensure_schema(db: Database) -> bool:
    """Apply pending migrations; return True if this call migrated. Costs one query when current."""
    with translate_errors(db.url):
        with db.engine.connect() as conn:
            try:
                version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            except (OperationalError, sa.exc.ProgrammingError):
                version = None
            conn.rollback()
        if version == SCHEMA_REVISION:
            return False
        return upgrade(db)


def upgrade(db: Database) -> bool:
    """Run Alembic to head under a database-wide lock; return True if anything was applied."""
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    with translate_errors(db.url), db.write_engine().connect() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("SELECT 1")  # autobegin: BEGIN IMMEDIATE takes the write lock
        else:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        insp = sa.inspect(conn)
        before = None
        if insp.has_table("alembic_version"):
            before = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        if before == SCHEMA_REVISION:
            conn.rollback()
            return False
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, "head")
        except CommandError:
            raise RuntimeFailure(
                f"the database at {db.location} has schema {before!r}, which this kpictl "
                f"({SCHEMA_REVISION}) does not know: upgrade kpictl"
            ) from None
        conn.commit()
        return True


class least(sa.sql.expression.FunctionElement):  # noqa: N801 - a SQL function
    """The smaller of its arguments: ``LEAST`` (PostgreSQL), scalar ``min(a, b)`` (SQLite)."""

    inherit_cache = True
    name = "least"
    sqlite_name = "min"


class greatest(sa.sql.expression.FunctionElement):  # noqa: N801 - a SQL function
    """The larger of its arguments: ``GREATEST`` (PostgreSQL), scalar ``max(a, b)`` (SQLite)."""

    inherit_cache = True
    name = "greatest"
    sqlite_name = "max"


@compiles(least)
@compiles(greatest)
def _extreme(element, compiler, **kw):
    return f"{element.name.upper()}({compiler.process(element.clauses, **kw)})"


@compiles(least, "sqlite")
@compiles(greatest, "sqlite")
def _extreme_sqlite(element, compiler, **kw):
    return f"{element.sqlite_name}({compiler.process(element.clauses, **kw)})"


class days_between(sa.sql.expression.FunctionElement):  # noqa: N801 - a SQL function
    """``later − earlier`` in days (to the second), in SQL, on every backend we support."""

    type = sa.Float()
    inherit_cache = True
    name = "days_between"


# Both backends — and Python, in services/stats.py — count whole seconds since the epoch,
# each instant cut down to its second, so all three give the same days to the last digit
# (julianday() and strftime('%s') round to milliseconds first, so they are not used as is).
@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)

    def seconds(column) -> str:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff': drop the fraction
        return f"CAST(strftime('%s', substr({compiler.process(column, **kw)}, 1, 19)) AS INTEGER)"

    return f"(({seconds(later)} - {seconds(earlier)}) / 86400.0)"


@compiles(days_between, "postgresql")
def _days_between_pg(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (f"((floor(EXTRACT(EPOCH FROM {compiler.process(later, **kw)})) - "
            f"floor(EXTRACT(EPOCH FROM {compiler.process(earlier, **kw)}))) / 86400.0)")
