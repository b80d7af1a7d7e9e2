"""Shared fixtures: every test gets its own database file, a pinned clock and zone, and a HOME
of its own (so the platformdirs default never touches the developer's real data)."""

from __future__ import annotations

import io
import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from kpictl.cli import main
from kpictl.db import open_database
from tests.backends import (
    READER_DB,
    SKIP_REASON,
    RunLock,
    as_member,
    member_mode,
    postgres_or_none,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # a Friday


def pytest_configure(config):
    config.addinivalue_line("markers", "backend_free: touches no kpictl database; run once")
    config.addinivalue_line("markers", "sqlite_only(reason): checks a SQLite-specific property")
    config.addinivalue_line("markers", "owner_only(reason): on PostgreSQL, every command as "
                            "the owner: the test's premise is the database as the owner left "
                            "it (no group roles yet), which member mode would change")
    config.addinivalue_line("markers", "postgres_only: checks a PostgreSQL server's rules "
                            "(skips, saying why, without KPICTL_TEST_PG_URL)")


def pytest_sessionstart(session):
    """Member mode's login roles are cluster-wide: the controller (or the only process) holds
    the run lock from start to end, and drops them if it is the last run on the cluster."""
    server = postgres_or_none()
    if server is not None and member_mode() and not hasattr(session.config, "workerinput"):
        session.config._kpictl_run_lock = RunLock(server.url_of(server.url.database))


def pytest_sessionfinish(session):
    lock = getattr(session.config, "_kpictl_run_lock", None)
    if lock is not None:
        lock.release_and_clean()


def pytest_generate_tests(metafunc):
    """Every test that can touch the database runs on SQLite and on PostgreSQL."""
    if "backend" in metafunc.fixturenames:
        free = metafunc.definition.get_closest_marker("backend_free")
        server = metafunc.definition.get_closest_marker("postgres_only")
        metafunc.parametrize("backend", ["sqlite"] if free else ["postgresql"] if server
                             else ["sqlite", "postgresql"], scope="session", indirect=True)


@pytest.fixture(scope="session")
def pg():
    server = postgres_or_none()
    if server is None:
        yield None
        return
    server.base = server.create()
    open_database(server.url_of(server.base)).engine.dispose()  # migrate the template once
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def backend(request, pg):
    if request.param == "postgresql" and pg is None:
        pytest.skip(SKIP_REASON)
    return request.param


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch, request, backend, pg):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))  # sources.toml and hooks/
    database = None
    if backend == "postgresql":
        only = request.node.get_closest_marker("sqlite_only")
        if only:
            pytest.skip(f"SQLite only: {only.args[0] if only.args else 'SQLite-specific'}")
        database = pg.create(template=pg.base)
        monkeypatch.setenv("KPICTL_DB", pg.url_of(database))
        if member_mode() and not request.node.get_closest_marker("owner_only"):
            monkeypatch.setenv(READER_DB, pg.reader_url(database))  # see tests/backends.py
    else:
        monkeypatch.setenv("KPICTL_DB", str(tmp_path / "kpictl.db"))
    monkeypatch.setenv("KPICTL_TZ", "UTC")
    monkeypatch.setenv("KPICTL_NOW", NOW.isoformat())
    for name in ("KPICTL_USER", "KPICTL_FORMAT", "NO_COLOR", "FORCE_COLOR", "COLUMNS",
                 "KPICTL_SOURCES", "KPICTL_NO_HOOKS", "KPICTL_HOOK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    if database is not None:
        pg.drop(database)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def run():
    """Run the real console entry point (including its error route) in-process."""
    return make_runner()


def make_runner():
    """The in-process runner behind the `run` fixture, usable outside a test too."""

    def _run(*args: str, input: str | None = None) -> Result:
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr, sys.stdin
        sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO(input or "")
        try:
            main(as_member(list(args)))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdout, sys.stderr, sys.stdin = saved
        return Result(code, out.getvalue(), err.getvalue())

    return _run


@pytest.fixture
def db(isolated_env):
    """This test's database (SQLite file or PostgreSQL database), opened and migrated."""
    import os

    return open_database(os.environ["KPICTL_DB"])


@pytest.fixture
def now():
    return NOW
