"""Shared fixtures: every test gets its own database file, a pinned clock and zone, and a HOME
of its own (so the platformdirs default never touches the developer's real data)."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from kpictl.cli import main
from kpictl.db import open_database

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # a Friday


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("KPICTL_DB", str(tmp_path / "kpictl.db"))
    monkeypatch.setenv("KPICTL_TZ", "UTC")
    monkeypatch.setenv("KPICTL_NOW", NOW.isoformat())
    for name in ("KPICTL_USER", "KPICTL_FORMAT", "NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


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

    def _run(*args: str, input: str | None = None) -> Result:
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
def db(isolated_env):
    return open_database(str(isolated_env / "kpictl.db"))


@pytest.fixture
def now():
    return NOW
