"""The database layer: schema from migrations equals the models, file modes, UTC round trip,
and concurrent writers that neither lose data nor fail with "database is locked"."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import kpictl.db as kdb
from kpictl.db import SCHEMA_REVISION, current_revision, open_database, redact, resolve_url
from kpictl.errors import InvalidInput
from kpictl.models import Person, metadata


def _script_dir() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(Path(kdb.__file__).parent / "migrations"))
    return ScriptDirectory.from_config(config)


def test_schema_revision_constant_is_the_migrations_head():
    assert _script_dir().get_current_head() == SCHEMA_REVISION


def test_migrated_schema_equals_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []
    assert current_revision(db) == SCHEMA_REVISION


@pytest.mark.sqlite_only("file modes of a SQLite database")
def test_new_database_file_and_directory_are_private(tmp_path):
    target = tmp_path / "new" / "dir" / "k.db"
    db = open_database(str(target))
    with db.session(write=True) as s:
        s.add(Person(handle="ana", name="Ana", created_at=datetime.now(timezone.utc)))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    with db.engine.connect() as conn:  # the -wal/-shm files exist while a connection is open
        conn.exec_driver_sql("SELECT count(*) FROM person").scalar()
        for suffix in ("-wal", "-shm"):
            side = Path(f"{target}{suffix}")
            assert side.exists()
            assert stat.S_IMODE(side.stat().st_mode) == 0o600


@pytest.mark.sqlite_only("SQLite PRAGMAs")
def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(db):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == kdb.BUSY_TIMEOUT_MS


@pytest.mark.sqlite_only("BEGIN IMMEDIATE is SQLite's write lock")
def test_write_sessions_begin_immediate(db):
    statements = []  # as SQLite runs them (the writer's BEGIN is sent on the raw connection)
    sa.event.listen(db.engine, "connect",
                    lambda raw, _record: raw.set_trace_callback(statements.append))
    with db.session(write=True) as s:
        s.execute(sa.text("SELECT 1"))
    with db.session() as s:
        s.execute(sa.text("SELECT 1"))
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]


def test_times_come_back_aware_utc(db):
    berlin = timezone(timedelta(hours=1))
    created = datetime(2026, 3, 29, 1, 30, tzinfo=berlin)
    with db.session(write=True) as s:
        s.add(Person(handle="ana", name="Ana", created_at=created))
    with db.session() as s:
        value = s.execute(sa.select(Person.created_at)).scalar_one()
    assert value == created
    assert value.tzinfo == timezone.utc
    assert value.hour == 0


@pytest.mark.sqlite_only("SQLite stores times as text")
@pytest.mark.parametrize(("text", "expected"), [
    ("2026-05-20 16:04:22.250000", datetime(2026, 5, 20, 16, 4, 22, 250000)),  # as stored
    ("2026-05-20 16:04:22", datetime(2026, 5, 20, 16, 4, 22)),
    # Written around kpictl: read as UTC wall-clock time, as they always were.
    ("2026-05-20T16:04:22", datetime(2026, 5, 20, 16, 4, 22)),
    ("2026-05-20", datetime(2026, 5, 20)),
    ("2026-05-20 16:04:22+02:00", datetime(2026, 5, 20, 16, 4, 22)),
])
def test_stored_time_text_reads_as_aware_utc(db, text, expected):
    with db.session(write=True) as s:
        s.execute(sa.text("INSERT INTO person (handle, name, created_at, capacity, active) "
                          "VALUES ('ana', 'Ana', :at, 1, 1)"), {"at": text})
    with db.session() as s:
        value = s.execute(sa.select(Person.created_at)).scalar_one()
    assert (value, value.tzinfo) == (expected.replace(tzinfo=timezone.utc), timezone.utc)
    assert value.tzinfo is timezone.utc


def test_naive_datetimes_are_refused(db):
    with pytest.raises(sa.exc.StatementError):
        with db.session(write=True) as s:
            s.add(Person(handle="ana", name="Ana", created_at=datetime(2026, 1, 1)))


@pytest.mark.sqlite_only('works on explicit SQLite paths')
def test_url_resolution_and_password_redaction(tmp_path):
    assert resolve_url(str(tmp_path / "x.db")).database == str(tmp_path / "x.db")
    url = resolve_url("postgresql://kpi:s3cret@db.example:5432/kpis")
    assert url.drivername == "postgresql+psycopg"
    assert "s3cret" not in kdb.describe(url)
    assert redact("could not connect to postgresql://kpi:s3cret@host/db") == (
        "could not connect to postgresql://kpi:***@host/db"
    )
    with pytest.raises(InvalidInput):
        resolve_url("mysql://u:p@h/db")


@pytest.mark.sqlite_only('works on explicit SQLite paths')
def test_default_database_lives_in_the_user_data_dir(isolated_env, monkeypatch):
    monkeypatch.delenv("KPICTL_DB")
    expected = isolated_env / "home" / ".local" / "share" / "kpictl" / "kpictl.db"
    assert kdb.default_db_path() == expected


WRITER = r"""
import sys
from kpictl.cli import main
key, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(start, start + count):
    try:
        main(["-q", "checkin", key, str(i), "--key", f"w{i}"])
    except SystemExit as exc:
        if exc.code:
            sys.exit(exc.code)
"""


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_and_never_lock(run, isolated_env):
    assert run("people", "add", "ana", "--name", "Ana").exit_code == 0
    assert run("assign", "ops.x", "--to", "ana", "--target", "100", "--due", "+30d",
               "--start", "-10d").exit_code == 0
    env = {**os.environ}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, "ops.x", str(n * 100), "15"], env=env,
                         stderr=subprocess.PIPE, text=True)
        for n in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    assert not any("locked" in e for e in errors)
    detail = run("report", "ops.x", "--json").json()
    assert len(detail["checkins"]) == 60


FIRST_RUN = r"""
import sys
from kpictl.db import open_database, ensure_schema
db = open_database(sys.argv[1], migrate=False)
print("migrated" if ensure_schema(db) else "current")
"""


@pytest.mark.slow
def test_racing_first_runs_migrate_exactly_once(tmp_path, backend, pg):
    target = tmp_path / "race.db"
    if backend == "postgresql":  # a brand-new, empty database on the server
        target = pg.url_of(pg.create())
    procs = [
        subprocess.Popen([sys.executable, "-c", FIRST_RUN, str(target)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [e for _, e in outputs]
    assert sorted(o.strip() for o, _ in outputs) == ["current"] * 7 + ["migrated"]


@pytest.mark.sqlite_only('works on explicit SQLite paths')
def test_a_file_that_is_not_a_database_is_a_runtime_error(run, tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("shopping list\n")
    result = run("--db", str(bogus), "report")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"kpictl: error: {bogus} is not a kpictl database (file is not a "
                             "database)\n")
    assert bogus.read_text() == "shopping list\n"


@pytest.mark.sqlite_only('works on explicit SQLite paths')
def test_a_database_from_a_newer_kpictl_is_refused(run, tmp_path):
    target = tmp_path / "future.db"
    assert run("--db", str(target), "db", "upgrade").exit_code == 0
    import sqlite3

    with sqlite3.connect(target) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    result = run("--db", str(target), "report")
    assert result.exit_code == 1
    assert f"has schema '0099', which this kpictl ({SCHEMA_REVISION}) does not know" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.sqlite_only('works on explicit SQLite paths')
def test_db_upgrade_and_path(run, tmp_path):
    target = tmp_path / "sub" / "team.db"
    assert run("--db", str(target), "db", "path").stdout == f"{target}\n"
    assert not target.exists()  # `db path` only tells
    first = run("--db", str(target), "db", "upgrade")
    assert (first.exit_code, first.stderr) == (0, f"upgraded schema {SCHEMA_REVISION}: {target}\n")
    again = run("--db", str(target), "db", "upgrade")
    assert again.stderr == f"already at schema {SCHEMA_REVISION}: {target}\n"
