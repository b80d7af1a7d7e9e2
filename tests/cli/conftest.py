"""CLI helpers: a seeded team, the one-line error contract, and a snapshot of every table (to
prove that a failed command changed nothing)."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import sys
from contextlib import contextmanager

import pytest

from kpictl.cli import main
from tests.conftest import NOW, Result


def dump_db(path: str | None = None) -> dict[str, list[tuple]] | None:
    """Every row of every table of the SQLite file, or None if the file does not exist."""
    path = path or os.environ["KPICTL_DB"]
    if not os.path.exists(path):
        return None
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                for t in tables}
    finally:
        con.close()


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


def build_template(workdir, commands, **env):
    """Run ``commands`` once through the real entry point; return a consistent copy of the
    resulting database file (for ``use_template``)."""
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
    return template


def use_template(template) -> None:
    """Make a fresh copy of ``template`` this test's database."""
    target = os.environ["KPICTL_DB"]
    shutil.copyfile(template, target)
    os.chmod(target, 0o600)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    return build_template(tmp_path_factory.mktemp("seed"), SEED)


def make_runner():
    """The same in-process runner as the `run` fixture, usable outside a test."""

    def _run(*args, input=None):
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr, sys.stdin
        sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO(input or "")
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdout, sys.stderr, sys.stdin = saved
        return Result(code, out.getvalue(), err.getvalue())

    return _run


@pytest.fixture
def seeded(run, seeded_template):
    """maya manages ana and bob; sales.arr (0 → 100 EUR, Nov 1 → Dec 31, tag sales) belongs to
    ana, delegated by maya. A fresh copy of the session's template per test."""
    use_template(seeded_template)
    return run
