"""CLI helpers: a seeded team, the one-line error contract, and a snapshot of every table (to
prove that a failed command changed nothing)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqlalchemy.engine import make_url

from tests.backends import table_rows
from tests.conftest import NOW, make_runner  # noqa: F401 - re-exported for test modules


def dump_db(target: str | None = None) -> dict[str, list[tuple]] | None:
    """Every row of every table of this test's database (None: no SQLite file yet)."""
    target = target or os.environ["KPICTL_DB"]
    if "://" not in target and not os.path.exists(target):
        return None
    return table_rows(target)


def assert_error(result, code: int, message: str | None = None) -> str:
    """Exit ``code``, nothing on stdout, exactly one stderr line ``kpictl: error: …``."""
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kpictl: error: "), lines[0]
    assert "Traceback" not in result.stderr
    if message is not None:
        assert lines[0] == f"kpictl: error: {message}"
    return lines[0]


def ok(run, *args, input=None):
    result = run(*args, input=input)
    assert result.exit_code == 0, (args, result.exit_code, result.stderr)
    return result


SEED = [
    ("people", "add", "maya", "--name", "Maya Okafor", "--skill", "leadership:5"),
    ("people", "add", "ana", "--name", "Ana Lima", "--skill", "sales:4", "--manager", "maya"),
    ("people", "add", "bob", "--name", "Bob Carter", "--manager", "maya"),
    ("assign", "sales.arr", "--to", "ana", "--by", "maya", "--title", "New ARR", "--target",
     "100", "--unit", "EUR", "--start", "2026-11-01", "--due", "2026-12-31", "--tag", "sales"),
]


@contextmanager
def pinned_env(db_path, **env):
    """The environment of the autouse ``isolated_env`` fixture, for module/session fixtures."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPICTL_DB", str(db_path))
        mp.setenv("KPICTL_TZ", "UTC")
        mp.setenv("KPICTL_NOW", NOW.isoformat())
        for name in ("KPICTL_USER", "KPICTL_FORMAT", "NO_COLOR", "FORCE_COLOR", "COLUMNS"):
            mp.delenv(name, raising=False)
        for name, value in env.items():
            mp.setenv(name, value)
        yield


@dataclass
class Template:
    """A database built once and copied for each test: a SQLite file or a PostgreSQL
    template database."""

    path: Path | None = None
    pg_name: str | None = None
    pg: object = None


def build_template(workdir, commands, *, backend: str = "sqlite", pg=None, **env) -> Template:
    """Run ``commands`` once through the real entry point; return a reusable copy."""
    if backend == "postgresql":
        name = pg.create(template=pg.base)
        with pinned_env(pg.url_of(name), **env):
            runner = make_runner()
            for args in commands:
                ok(runner, *args)
        return Template(pg_name=name, pg=pg)
    live, template = workdir / "live.db", workdir / "template.db"
    with pinned_env(live, **env):
        runner = make_runner()
        for args in commands:
            ok(runner, *args)
    src, dst = sqlite3.connect(live), sqlite3.connect(template)
    try:
        src.backup(dst)  # includes what is still in the WAL
    finally:
        src.close()
        dst.close()
    return Template(path=template)


def use_template(template: Template) -> None:
    """Make a fresh copy of ``template`` this test's database."""
    target = os.environ["KPICTL_DB"]
    if template.pg_name:
        name = make_url(target).database
        template.pg.drop(name)
        template.pg.create(template=template.pg_name, name=name)
        return
    shutil.copyfile(template.path, target)
    os.chmod(target, 0o600)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory, backend, pg):
    return build_template(tmp_path_factory.mktemp("seed"), SEED, backend=backend, pg=pg)


@pytest.fixture
def seeded(run, seeded_template):
    """maya manages ana and bob; sales.arr (0 → 100 EUR, Nov 1 → Dec 31, tag sales) belongs to
    ana, delegated by maya. A fresh copy of the session's template per test."""
    use_template(seeded_template)
    return run
