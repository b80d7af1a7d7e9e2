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
        self.admin.dispose()


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
