"""Ctrl-C and kills during a bulk write (PRODUCT §4 exit 130, §5 "a bulk write is
all-or-nothing, also when the process is killed mid-way").

A real `python -m kpictl checkin --file big.csv` of 200,000 rows is interrupted while it
validates the file and again while it writes: it ends with exit 130 and one line on stderr,
never a traceback, and the KPI has either none or all of the check-ins. A SIGKILL mid-write
leaves none or all as well, and the database stays usable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.cli.conftest import ok

ROWS = 200_000


def engine():
    target = os.environ["KPICTL_DB"]
    url = target if "://" in target else f"sqlite:///{target}"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return sa.create_engine(url, poolclass=NullPool)


def checkins_of(key: str) -> int:
    eng = engine()
    try:
        with eng.connect() as conn:
            return conn.execute(sa.text(
                "SELECT count(*) FROM checkin JOIN kpi ON kpi.id = checkin.kpi_id "
                "WHERE kpi.key = :key"), {"key": key}).scalar()
    finally:
        eng.dispose()


def writing_has_started() -> bool:
    """Rows are going into the database (not yet committed)."""
    target = os.environ["KPICTL_DB"]
    if "://" not in target:  # SQLite: the write-ahead log grows page by page
        try:
            return os.path.getsize(f"{target}-wal") > 1_000_000
        except OSError:
            return False
    eng = engine()
    try:
        with eng.connect() as conn:
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state = 'active' "
                "AND query ILIKE 'INSERT INTO checkin%'")).scalar())
    finally:
        eng.dispose()


@pytest.fixture
def big_file(run, tmp_path):
    ok(run, "people", "add", "ana", "--name", "Ana")
    ok(run, "assign", "ops.tickets", "--to", "ana", "--target", "1000000",
       "--start", "2026-01-01", "--due", "2026-12-31")
    first = datetime(2026, 1, 2, tzinfo=UTC)
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("kpi,value,at\n")
        for i in range(ROWS):
            at = (first + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.write(f"ops.tickets,{i},{at}\n")
    return path


def _default_sigint() -> None:
    # pytest-xdist workers ignore SIGINT and children inherit that; a user's shell does not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kpictl", "checkin", "--file", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ}, preexec_fn=_default_sigint)


def startup_seconds() -> float:
    """How long this machine takes to import what a bulk check-in needs (busy CI is slow)."""
    began = time.monotonic()
    subprocess.run([sys.executable, "-c", "import kpictl.cli, kpictl.services.bulk.checkins, kpictl.db"],
                   check=True, env={**os.environ})
    return time.monotonic() - began


def wait_until(condition, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, "kpictl finished before it could be interrupted"
        assert time.monotonic() < deadline, "kpictl never started writing"
        time.sleep(0.02)


def assert_interrupted(proc: subprocess.Popen) -> None:
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, stderr[-2000:])
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr[-2000:]
    assert lines[0].startswith("kpictl: error: ") and "interrupt" in lines[0], lines[0]
    assert stdout == ""


def assert_all_or_nothing(run) -> None:
    assert checkins_of("ops.tickets") in (0, ROWS)
    target = os.environ["KPICTL_DB"]
    if "://" not in target:  # and the file is sound (README: integrity_check stays ok)
        import sqlite3

        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    # Nothing is left locked or half-done: the next write goes through.
    before = checkins_of("ops.tickets")
    ok(run, "checkin", "ops.tickets", "7")
    assert checkins_of("ops.tickets") == before + 1


def test_ctrl_c_while_validating_the_file_exits_130_and_writes_nothing(run, big_file):
    proc = start(big_file)
    # ~1.5 s on a quiet machine: past start-up, inside the reading and validation of the file.
    time.sleep(max(1.5, 1.5 * startup_seconds()))
    assert proc.poll() is None, "kpictl finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    assert_interrupted(proc)
    assert_all_or_nothing(run)


def test_ctrl_c_while_writing_exits_130_with_none_or_all_checkins(run, big_file):
    proc = start(big_file)
    wait_until(writing_has_started, proc)
    proc.send_signal(signal.SIGINT)
    assert_interrupted(proc)
    assert_all_or_nothing(run)


def test_kill_while_writing_leaves_none_or_all_checkins(run, big_file):
    proc = start(big_file)
    wait_until(writing_has_started, proc)
    proc.kill()
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert_all_or_nothing(run)
    report = ok(run, "report", "ops.tickets", "--json").json()
    assert len(report["checkins"]) in (1, ROWS + 1)


pytestmark = pytest.mark.slow
