"""`db backup` takes a consistent copy while the database is in use; `db check` tells the
truth about integrity, schema, journal mode, permissions and the file system."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from kpictl.db import SCHEMA_REVISION

pytestmark = pytest.mark.sqlite_only("backups and file checks are about SQLite files")

WRITER = r"""
import sys
from kpictl.cli import main
for i in range(int(sys.argv[1])):
    try:
        main(["-q", "checkin", "k.a", str(i), "--key", f"w{i}"])
    except SystemExit as exc:
        if exc.code:
            raise
"""


@pytest.fixture
def team(run):
    assert run("people", "add", "ana", "--name", "Ana").exit_code == 0
    assert run("assign", "k.a", "--to", "ana", "--target", "100", "--due", "+30d").exit_code == 0
    return run


def test_backup_while_another_process_writes(team, tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, "60"], env=os.environ.copy(),
                              stderr=subprocess.PIPE, text=True)
    copies = []
    try:
        for n in range(3):
            target = tmp_path / f"copy{n}.db"
            result = team("db", "backup", str(target))
            assert result.exit_code == 0, result.stderr
            copies.append(target)
    finally:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    for target in copies:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        check = team("--db", str(target), "db", "check", "--json")
        assert check.exit_code == 0, check.stderr
        assert check.json()["integrity"] == "ok"
        count = team("--db", str(target), "report", "k.a", "--json").json()["kpi"]["checkins"]
        assert 0 <= count <= 60
    final = tmp_path / "final.db"
    assert team("db", "backup", str(final)).exit_code == 0
    assert team("--db", str(final), "report", "k.a", "--json").json()["kpi"]["checkins"] == 60


def test_backup_refuses_to_overwrite(team, tmp_path):
    target = tmp_path / "b.db"
    target.write_text("precious")
    result = team("db", "backup", str(target))
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr == f"kpictl: error: {target} already exists; choose a new file name\n"
    assert target.read_text() == "precious"


def test_check_reports_a_healthy_database(team):
    result = team("db", "check", "--json")
    assert result.exit_code == 0
    doc = result.json()
    assert doc["schema"] == "kpictl.check/1"
    assert (doc["ok"], doc["integrity"], doc["schema_revision"], doc["journal_mode"],
            doc["file_mode"]) == (True, "ok", SCHEMA_REVISION, "wal", "0600")
    assert doc["warnings"] == []
    assert "Integrity        ok" in team("db", "check").stdout


def test_check_warns_about_a_readable_file_and_fails_on_damage(team, tmp_path):
    path = os.environ["KPICTL_DB"]
    os.chmod(path, 0o644)
    warned = team("db", "check")
    assert warned.exit_code == 0
    assert f"kpictl: warning: the database file is readable by others (0644): chmod 600 {path}" \
        in warned.stderr
    damaged = tmp_path / "damaged.db"
    assert team("db", "backup", str(damaged)).exit_code == 0
    data = bytearray(damaged.read_bytes())
    page = 4096
    data[page * 2:page * 2 + 64] = b"\xff" * 64  # scribble over a b-tree page
    damaged.write_bytes(bytes(data))
    broken = team("--db", str(damaged), "db", "check")
    assert broken.exit_code == 1
    assert broken.stderr.splitlines()[-1].startswith("kpictl: error: database check failed:")
