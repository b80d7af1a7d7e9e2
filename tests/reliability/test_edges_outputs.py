"""Nothing lost at the edges of output: `export -o` never destroys a file, every output is
complete or an error on a full disk, a backup is complete or absent, and "written" is said
only after the commit (issue 16)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cli.conftest import assert_error, build_template, ok, use_template
from tests.reliability.edges import kpictl, one_error_line

pytestmark = pytest.mark.sqlite_only("files, devices and disks of a SQLite database")

KPIS = 250


@pytest.fixture(scope="module")
def portfolio_template(tmp_path_factory):
    """250 KPIs with check-ins: every format of `report` is well over 40 KB."""
    work = tmp_path_factory.mktemp("portfolio")
    rows = ["key,to,title,target,baseline,due,start"] + [
        f"k.{i:03},ana,KPI number {i}{' with a long title' * 5},100,0,2026-12-31,2026-11-01"
        for i in range(KPIS)]
    (work / "kpis.csv").write_text("\n".join(rows) + "\n")
    checkins = ["kpi,value,at"] + [f"k.{i:03},{i % 90},2026-11-{10 + i % 15}"
                                   for i in range(KPIS)]
    (work / "checkins.csv").write_text("\n".join(checkins) + "\n")
    return build_template(work, [("people", "add", "ana", "--name", "Ana"),
                                 ("-q", "assign", "--file", str(work / "kpis.csv")),
                                 ("-q", "checkin", "--file", str(work / "checkins.csv"))])


@pytest.fixture
def portfolio(portfolio_template, isolated_env):
    use_template(portfolio_template)
    return Path(os.environ["KPICTL_DB"])


# --- export -o ----------------------------------------------------------------------------


def test_export_refuses_an_existing_file_without_force(portfolio, run, tmp_path):
    target = tmp_path / "old.jsonl"
    target.write_text("keep me\n")
    os.link(target, tmp_path / "other-name")
    assert_error(run("export", "-o", str(target)), 4,
                 f"--output {target} already exists: pass --force to replace it, or choose "
                 "a new file name")
    assert target.read_text() == "keep me\n"
    ok(run, "-q", "export", "-o", str(target), "--force")
    assert json.loads(target.read_text().splitlines()[0])["schema"] == "kpictl.export/1"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # a new private file, not the old mode
    assert (tmp_path / "other-name").read_text() == "keep me\n"  # the other link is untouched
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_export_never_writes_over_the_database_or_its_files(portfolio, run, suffix):
    before = portfolio.read_bytes()
    target = Path(f"{portfolio}{suffix}")
    target.touch()
    result = run("export", "-o", str(target), "--force")
    assert_error(result, 4, f"--output {target} is the database itself (or one of its "
                            "files): choose another file")
    assert portfolio.read_bytes() == before
    assert ok(run, "db", "check").exit_code == 0


def test_export_through_a_link_to_the_database_is_refused(portfolio, run, tmp_path):
    (tmp_path / "link.jsonl").symlink_to(portfolio)
    os.link(portfolio, tmp_path / "hard.db")
    for name in ("link.jsonl", "hard.db"):
        assert_error(run("export", "-o", str(tmp_path / name), "--force"), 4)
    assert (tmp_path / "link.jsonl").is_symlink()
    assert ok(run, "db", "check").exit_code == 0


def test_export_to_a_fifo_writes_into_it(portfolio, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    proc = kpictl("export", "-o", str(fifo))
    reader.join(30)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO, not a file renamed over it
    lines = received[0].splitlines()
    assert json.loads(lines[0])["schema"] == "kpictl.export/1"
    assert sum(json.loads(line).get("type") == "kpi" for line in lines) == KPIS


def test_export_through_a_symlink_keeps_the_link(portfolio, tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    proc = kpictl("export", "-o", str(link), "--force")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text().startswith('{"schema": "kpictl.export/1"')


def test_export_to_a_character_device_is_written_in_place(portfolio):
    proc = kpictl("export", "-o", "/dev/full")
    assert proc.returncode == 1
    assert one_error_line(proc) == "kpictl: error: cannot write output: No space left on device"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    proc = kpictl("export", "-o", "/dev/stdout")  # the system symlink, to our stdout pipe
    assert proc.returncode == 0, proc.stderr
    assert os.path.islink("/dev/stdout")
    assert proc.stdout.startswith('{"schema": "kpictl.export/1"')


# --- full disks ---------------------------------------------------------------------------

LIMIT = 40_000  # above SQLite's 32 KB -shm of a reader, below every output below


@pytest.mark.parametrize("args", [
    ("report", "-f", "json"), ("report", "-f", "jsonl"), ("report", "-f", "csv"),
    ("report", "-f", "md"), ("report", "-f", "html"), ("export",),
    ("report", "--week", "last", "-f", "html"),
], ids=lambda a: "-".join(a))
def test_a_full_disk_is_an_error_not_a_short_file(portfolio, tmp_path, args):
    whole = kpictl(*args)
    assert whole.returncode == 0, whole.stderr
    assert len(whole.stdout.encode()) > 34_000  # past the reader's own -shm file
    out = tmp_path / "out"
    with out.open("w") as f:
        proc = kpictl(*args, stdout=f, fsize=min(LIMIT, len(whole.stdout.encode()) - 1))
    assert proc.returncode == 1, proc.stderr
    assert one_error_line(proc) == "kpictl: error: cannot write output: File too large"


def test_a_full_device_is_an_error(portfolio):
    with open("/dev/full", "w") as full:
        proc = kpictl("report", "-f", "csv", stdout=full)
    assert proc.returncode == 1
    assert one_error_line(proc) == "kpictl: error: cannot write output: No space left on device"


def test_export_o_on_a_full_disk_leaves_the_old_file(portfolio, tmp_path):
    target = tmp_path / "backup.jsonl"
    target.write_text("the old backup\n")
    proc = kpictl("export", "-o", str(target), "--force", fsize=LIMIT)
    assert proc.returncode == 1
    assert "File too large" in one_error_line(proc)
    assert target.read_text() == "the old backup\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_create_that_fails_on_a_full_disk_leaves_no_file(tmp_path):
    target = tmp_path / "new" / "kpictl.db"
    proc = kpictl("--db", str(target), "people", "add", "ana", "--name", "Ana", fsize=0)
    assert proc.returncode == 1
    one_error_line(proc)
    assert not any(p.name.startswith("kpictl.db") for p in target.parent.iterdir())


def test_a_failed_commit_prints_no_written_line(portfolio, tmp_path):
    rows = ["kpi,value,at,note"] + [f"k.{i % KPIS:03},{i % 90},2026-11-2{i % 7},{'n' * 200}"
                                    for i in range(2_000)]
    (tmp_path / "big.csv").write_text("\n".join(rows) + "\n")
    proc = kpictl("checkin", "--file", str(tmp_path / "big.csv"),
                  fsize=portfolio.stat().st_size)  # the write-ahead log cannot grow enough
    assert proc.returncode == 1
    assert "written" not in proc.stderr
    one_error_line(proc)
    assert kpictl("db", "check").returncode == 0


# --- backups ------------------------------------------------------------------------------


def test_a_backup_killed_mid_way_leaves_no_backup(portfolio, tmp_path):
    import sqlite3

    conn = sqlite3.connect(portfolio)  # grow the database so that the copy takes a while
    conn.executescript("PRAGMA journal_mode=WAL; CREATE TEMP TABLE n(x);")
    blob = "x" * 4000
    with conn:
        conn.executemany("INSERT INTO feedback (kpi_id, author_id, at, text) "
                         "SELECT min(kpi.id), min(person.id), '2026-11-20 00:00:00.000000', ? "
                         "FROM kpi, person", [(blob,)] * 15_000)
    conn.close()
    target = tmp_path / "backup.db"
    proc = subprocess.Popen([sys.executable, "-m", "kpictl", "db", "backup", str(target)],
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".backup.db.") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, "the copy never started"
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not target.exists()  # complete or absent
    check = kpictl("--db", str(target), "db", "check")
    assert check.returncode == 1
    assert one_error_line(check) == (f"kpictl: error: no kpictl database at {target}: check "
                                     "--db (KPICTL_DB); nothing was created")
    assert not target.exists()
    done = kpictl("db", "backup", str(target))
    assert done.returncode == 0, done.stderr
    assert kpictl("--db", str(target), "db", "check").returncode == 0


def test_check_of_a_missing_file_creates_nothing(run, tmp_path):
    typo = tmp_path / "typo" / "dir" / "x.db"
    assert_error(run("--db", str(typo), "db", "check"), 1,
                 f"no kpictl database at {typo}: check --db (KPICTL_DB); nothing was created")
    assert not (tmp_path / "typo").exists()
    result = run("--db", str(typo), "report", "-f", "json")
    assert result.exit_code == 0 and result.json()["kpis"] == []
    assert "nothing was created" in result.stderr
    assert not (tmp_path / "typo").exists()
    assert_error(run("--db", str(typo), "db", "backup", str(tmp_path / "b.db")), 1)
    assert not (tmp_path / "typo").exists() and not (tmp_path / "b.db").exists()


@pytest.mark.backend_free
def test_backup_of_a_server_says_pg_dump_before_connecting(run, tmp_path):
    started = time.monotonic()
    result = run("--db", "postgresql://maya:s3cret@192.0.2.1/kpis", "db", "backup",
                 str(tmp_path / "b.db"))
    assert time.monotonic() - started < 3  # 192.0.2.1 never answers: nothing was tried
    line = assert_error(result, 2)
    assert "pg_dump" in line and "s3cret" not in line
