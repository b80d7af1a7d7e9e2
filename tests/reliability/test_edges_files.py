"""Read-only and foreign database files, and derived data that can be checked and rebuilt
(issue 16)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.cli.conftest import assert_error, dump_db, ok, seeded, seeded_template  # noqa: F401
from tests.reliability.edges import kpictl, one_error_line, read_only


def _execute(sql: str) -> None:
    """SQL written around kpictl, as a user with sqlite3 or psql would."""
    target = os.environ["KPICTL_DB"]
    url = target.replace("postgresql://", "postgresql+psycopg://", 1) if "://" in target \
        else f"sqlite:///{target}"
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


@pytest.fixture
def three(seeded):
    for value, at in (("10", "2026-11-10"), ("20", "2026-11-17"), ("30", "2026-11-24")):
        ok(seeded, "-q", "checkin", "sales.arr", value, "--at", at)
    return seeded


def test_check_names_kpis_whose_aggregates_went_stale_and_rebuild_fixes_them(three):
    run = three
    assert ok(run, "db", "check", "-f", "json").json()["problems"] == []
    _execute("DELETE FROM checkin WHERE value = 30")
    _execute("UPDATE checkin SET value = 15 WHERE value = 10")
    result = run("db", "check", "-f", "json")
    assert result.exit_code == 1
    document = result.json()
    assert document["ok"] is False and document["stale_aggregates"] == ["sales.arr"]
    assert document["problems"] == ["stale aggregates: check-ins of sales.arr were changed "
                                    "outside kpictl; run `kpictl db rebuild`"]
    assert result.stderr.splitlines()[-1] == ("kpictl: error: database check failed: 1 "
                                              "problem(s) found")
    assert "kpictl: stale aggregates: check-ins of sales.arr" in result.stderr
    rebuilt = ok(run, "db", "rebuild")
    assert rebuilt.stderr.startswith("rebuilt the aggregates of 1 KPI(s) with check-ins")
    assert ok(run, "db", "check", "-f", "json").json()["problems"] == []
    report = ok(run, "report", "sales.arr", "-f", "json").json()
    assert report["kpi"]["checkins"] == 2 and report["kpi"]["current"] == 20


def test_check_finds_a_recording_time_or_a_last_digit_changed_by_hand(three):
    """The aggregates count check-ins by when they were recorded, to the last bit: a recording
    time back-dated with SQL, or a value changed in its last digit, leaves them stale."""
    run = three
    _execute("UPDATE checkin SET recorded_at = measured_at WHERE value = 20")
    assert run("db", "check", "-f", "json").json()["stale_aggregates"] == ["sales.arr"]
    ok(run, "db", "rebuild")
    # Known on Nov 20: the check-in recorded on Nov 17 (the others were recorded later).
    past = ok(run, "report", "sales.arr", "-f", "json", "--as-of", "2026-11-20").json()["kpi"]
    assert (past["checkins"], past["current"]) == (1, 20)
    _execute("UPDATE checkin SET value = 30.000000000000004 WHERE value = 30")
    assert run("db", "check", "-f", "json").json()["stale_aggregates"] == ["sales.arr"]
    ok(run, "db", "rebuild")
    assert ok(run, "db", "check", "-f", "json").json()["problems"] == []


def test_rebuild_is_one_transaction(three, monkeypatch):
    """A rebuild that fails half-way leaves the old rows: nothing half-rebuilt."""
    run = three
    from kpictl.services import stats

    before = dump_db()["checkin_stats"]

    def broken(session, kpi_ids=None, _real=stats.rebuild):
        _real(session, kpi_ids)
        raise KeyboardInterrupt

    monkeypatch.setattr(stats, "rebuild", broken)
    assert run("db", "rebuild").exit_code == 130
    assert dump_db()["checkin_stats"] == before


@pytest.mark.sqlite_only("file permissions and mounts of a SQLite file")
def test_a_read_only_database_reads_and_refuses_writes_in_one_line(three, tmp_path):
    data = Path(os.environ["KPICTL_DB"]).parent
    db_name = Path(os.environ["KPICTL_DB"]).name
    before = dump_db()
    with read_only(data) as view:
        env = {"KPICTL_DB": str(view / db_name)}
        report = kpictl("report", "-f", "json", env=env)
        assert report.returncode == 0, report.stderr
        assert json.loads(report.stdout)["kpis"][0]["checkins"] == 3
        exported = kpictl("export", env=env)
        assert exported.returncode == 0 and exported.stdout.count('"type": "checkin"') == 3
        write = kpictl("checkin", "sales.arr", "40", env=env)
        assert write.returncode == 1
        line = one_error_line(write)
        assert line.startswith(f"kpictl: error: cannot write to the database {view / db_name}")
        assert "read-only" in line and ("remount" in line or "chmod" in line)
        check = kpictl("db", "check", "-f", "json", env=env)
        assert check.returncode == 1
        document = json.loads(check.stdout)
        assert document["writable"] is False
        assert [p for p in document["problems"] if p.startswith("read-only: ")]
        assert document["journal_mode"] == "wal"
    assert sorted(p.name for p in data.iterdir() if p.name.startswith(db_name)) == [db_name]
    assert dump_db() == before


@pytest.mark.sqlite_only("files that SQLite opens")
@pytest.mark.parametrize("schema", [
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL); "
    "INSERT INTO alembic_version VALUES ('ae1027a6acf'); CREATE TABLE users (id INTEGER)",
], ids=["other-tables", "foreign-alembic"])
@pytest.mark.parametrize("command", [
    ("people", "add", "ana", "--name", "Ana"), ("report",), ("db", "upgrade"),
    ("db", "check"), ("import", "-"),
], ids=lambda c: c[0] + (c[1] if len(c) > 1 and c[0] == "db" else ""))
def test_a_sqlite_file_that_is_not_kpictl_is_refused_before_any_write(run, tmp_path, schema,
                                                                         command):
    foreign = tmp_path / "app.db"
    conn = sqlite3.connect(foreign)
    conn.executescript(schema)
    conn.close()
    before = foreign.read_bytes()
    result = run("--db", str(foreign), *command, input='{"schema": "kpictl.export/1"}\n')
    line = assert_error(result, 1)
    assert line.startswith(f"kpictl: error: {foreign} is not a kpictl database: ")
    assert foreign.read_bytes() == before  # no tables added, journal mode unchanged
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app")) == ["app.db"]


@pytest.mark.sqlite_only("SQLite's write lock")
def test_a_writer_says_that_it_waits_for_the_lock_and_then_writes(seeded):
    holder = sqlite3.connect(os.environ["KPICTL_DB"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        import subprocess
        import sys

        proc = subprocess.Popen([sys.executable, "-m", "kpictl", "checkin", "sales.arr", "5"],
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "KPICTL_LOCK_TIMEOUT": "60"})
        first = proc.stderr.readline()  # said after a second of waiting, while it waits
        time.sleep(1)
        assert proc.poll() is None  # still waiting, not failed
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, rest
    assert first == ("waiting for another kpictl writer… (up to 60 s; KPICTL_LOCK_TIMEOUT "
                     "sets it)\n")
    assert rest.startswith("recorded")


@pytest.mark.sqlite_only("SQLite's write lock")
def test_a_writer_gives_up_after_the_lock_timeout_naming_the_holder(seeded):
    holder = sqlite3.connect(os.environ["KPICTL_DB"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        proc = kpictl("checkin", "sales.arr", "5", env={"KPICTL_LOCK_TIMEOUT": "2.5"})
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("waiting for another kpictl writer…")
    assert len(lines) == 2 and "Traceback" not in proc.stderr
    assert lines[1].startswith(f"kpictl: error: gave up after 2.5 s waiting for the write "
                               f"lock of {os.environ['KPICTL_DB']} (held by pid {os.getpid()} (")
    assert lines[1].endswith("nothing was written. Wait for it to finish and run this again, "
                             "or raise KPICTL_LOCK_TIMEOUT")
    assert 2.5 <= waited < 30
    assert ok(seeded, "report", "sales.arr", "-f", "json").json()["kpi"]["checkins"] == 0


@pytest.mark.sqlite_only("SQLite's write lock")
def test_an_invalid_lock_timeout_is_exit_2(seeded, monkeypatch):
    monkeypatch.setenv("KPICTL_LOCK_TIMEOUT", "soon")
    assert_error(seeded("checkin", "sales.arr", "5"), 2,
                 "invalid KPICTL_LOCK_TIMEOUT 'soon': give seconds, such as 600 (at most a week)")
