"""Reading as an unprivileged user, and reading a database at an older schema (issue 16).

Root ignores file modes, so the read-only mount of test_edges_files.py is root's way; here the
real `kpictl` runs as ``nobody`` (setpriv) on a file it may read but not write, as most users
meet a read-only database: a colleague's, or one in a shared directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.cli.conftest import dump_db, ok
from tests.reliability.edges import one_error_line

SETPRIV = shutil.which("setpriv")


def as_nobody(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         sys.executable, "-m", "kpictl", *args],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, timeout=120, text=True)


@pytest.fixture
def shared_dir():
    """A directory every user can enter and read, owned by root (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="kpictl-shared-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.sqlite_only("file modes of a SQLite file")
def test_a_user_who_may_only_read_the_file_reads_and_is_refused_writes(run, shared_dir,
                                                                       monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("needs root to run kpictl as another user (setpriv --reuid)")
    if SETPRIV is None:
        pytest.skip("no setpriv (util-linux) to run kpictl as an unprivileged user")
    reach = subprocess.run([SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            sys.executable, "-c", "import kpictl"], capture_output=True)
    if reach.returncode != 0:  # e.g. a checkout under a 0700 directory (mktemp -d)
        pytest.skip("nobody cannot import this kpictl (its checkout or venv is not readable "
                    "by other users); the read-only bind mount test covers root")
    db = shared_dir / "team.db"
    monkeypatch.setenv("KPICTL_DB", str(db))
    ok(run, "people", "add", "ana", "--name", "Ana")
    ok(run, "assign", "sales.arr", "--to", "ana", "--target", "100", "--start", "2026-11-01",
       "--due", "2026-12-31")
    for value, at in (("10", "2026-11-10"), ("20", "2026-11-17")):
        ok(run, "-q", "checkin", "sales.arr", value, "--at", at)
    assert sorted(p.name for p in shared_dir.iterdir()) == ["team.db"]  # WAL checkpointed
    db.chmod(0o644)  # root's: others read, only root writes
    before = dump_db()
    env = {"KPICTL_DB": str(db), "HOME": str(shared_dir), "XDG_DATA_HOME": str(shared_dir)}
    probe = subprocess.run([SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            "sh", "-c", f"test -r {db} && ! test -w {db} && ! test -w "
                            f"{shared_dir}"], capture_output=True)
    assert probe.returncode == 0, "nobody should read, and not write, the file and directory"

    report = as_nobody("report", "-f", "json", env=env)
    assert report.returncode == 0, report.stderr
    assert report.stderr == ""
    assert json.loads(report.stdout)["kpis"][0]["checkins"] == 2
    table = as_nobody("report", env=env)
    assert table.returncode == 0 and "sales.arr" in table.stdout, table.stderr
    exported = as_nobody("export", env=env)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.count('"type": "checkin"') == 2
    check = as_nobody("db", "check", "-f", "json", env=env)
    assert check.returncode == 1, check.stderr  # read-only is a problem db check names
    document = json.loads(check.stdout)
    assert document["writable"] is False
    assert [p for p in document["problems"] if p.startswith("read-only: ")], document
    assert "Traceback" not in check.stderr

    write = as_nobody("checkin", "sales.arr", "40", env=env)
    assert write.returncode == 1, write.stderr
    line = one_error_line(write)
    assert line.startswith(f"kpictl: error: cannot write to the database {db}"), line
    assert "read-only" in line or "permission" in line.lower(), line
    assert sorted(p.name for p in shared_dir.iterdir()) == ["team.db"]  # no -wal, no -shm
    assert dump_db() == before


def _downgrade(url: str, revision: str) -> None:
    """The database as an older kpictl left it: Alembic down to ``revision``."""
    from alembic import command
    from alembic.config import Config

    import kpictl

    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location",
                               str(Path(kpictl.__file__).parent / "migrations"))
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
    engine.dispose()


def _url() -> str:
    target = os.environ["KPICTL_DB"]
    return (target.replace("postgresql://", "postgresql+psycopg://", 1) if "://" in target
            else f"sqlite:///{target}")


@pytest.mark.parametrize("command", [
    ("report",), ("report", "-f", "json"), ("report", "sales.arr"), ("export",),
    ("people", "list"), ("suggest",),
], ids=lambda c: "-".join(c))
def test_a_read_on_an_older_schema_says_to_upgrade_and_changes_nothing(run, command):
    ok(run, "people", "add", "ana", "--name", "Ana")
    ok(run, "assign", "sales.arr", "--to", "ana", "--target", "100", "--start", "2026-11-01",
       "--due", "2026-12-31")
    ok(run, "-q", "checkin", "sales.arr", "10", "--at", "2026-11-10")
    _downgrade(_url(), "0006")
    before = dump_db()
    result = run(*command)
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kpictl: error: the database "), lines[0]
    assert "has schema 0006" in lines[0] and "run `kpictl db upgrade`" in lines[0], lines[0]
    assert dump_db() == before
    # The fix works, and keeps the data.
    ok(run, "db", "upgrade")
    assert ok(run, "report", "-f", "json").json()["kpis"][0]["checkins"] == 1
