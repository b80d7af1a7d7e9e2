"""Private by default (PRODUCT §5 Security): a database that kpictl creates is readable by its
owner only, whatever the umask, and a password in a database URL never reaches any output."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import assert_error, ok

# ----------------------------------------------------------------------------- file modes


@pytest.fixture
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private_database(run, target: Path, *prefix: str) -> None:
    """Create the database through the CLI, then write again while another connection holds a
    read transaction (so the -wal and -shm files exist) and check every mode."""
    ok(run, *prefix, "people", "add", "ana", "--name", "Ana")
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700
    reader = sqlite3.connect(target)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM person").fetchone()
        ok(run, *prefix, "people", "add", "bob", "--name", "Bob")
        for suffix in ("-wal", "-shm"):
            side = Path(f"{target}{suffix}")
            assert side.exists(), side
            assert mode(side) == 0o600, (side, oct(mode(side)))
    finally:
        reader.close()
    assert mode(target) == 0o600


@pytest.mark.sqlite_only("file modes of a SQLite database")
@pytest.mark.parametrize("umask", [0o022, 0o002, 0o000], indirect=True,
                         ids=["umask022", "umask002", "umask000"])
def test_database_in_a_new_directory_is_0600_in_a_0700_directory(run, tmp_path, umask):
    target = tmp_path / "data" / "kpictl.db"
    assert_private_database(run, target, "--db", str(target))


@pytest.mark.sqlite_only("file modes of a SQLite database")
@pytest.mark.parametrize("umask", [0o022, 0o000], indirect=True, ids=["umask022", "umask000"])
def test_default_database_is_0600_in_a_0700_directory(run, isolated_env, monkeypatch, umask):
    monkeypatch.delenv("KPICTL_DB")
    target = isolated_env / "home" / ".local" / "share" / "kpictl" / "kpictl.db"
    assert not target.parent.exists()
    assert_private_database(run, target)


@pytest.mark.sqlite_only("file modes of a SQLite database")
@pytest.mark.parametrize("umask", [0o022, 0o000], indirect=True, ids=["umask022", "umask000"])
def test_every_directory_kpictl_creates_for_the_database_is_0700(run, tmp_path, umask):
    # XDG Base Directory spec: a missing destination directory "should be created with
    # permission 0700" — that includes the parents `mkdir -p` makes on the way.
    target = tmp_path / "a" / "b" / "c" / "kpictl.db"
    ok(run, "--db", str(target), "people", "add", "ana", "--name", "Ana")
    assert mode(target) == 0o600
    created = {p.name: oct(mode(p)) for p in (tmp_path / "a", tmp_path / "a" / "b",
                                                target.parent)}
    assert created == {"a": "0o700", "b": "0o700", "c": "0o700"}


@pytest.mark.sqlite_only("file modes of a SQLite database")
def test_existing_directory_keeps_its_mode(run, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    ok(run, "--db", str(shared / "kpictl.db"), "people", "add", "ana", "--name", "Ana")
    assert mode(shared) == 0o755  # not kpictl's to change
    assert mode(shared / "kpictl.db") == 0o600


# ----------------------------------------------------------------------------- secrets

SECRET = "s3cr3t"
URL = f"postgresql://u:{SECRET}@127.0.0.1:1/db"  # port 1: refused at once

COMMANDS = [
    ["report"], ["report", "--json"], ["report", "sales.arr"], ["report", "--by", "owner"],
    ["people", "list"], ["people", "add", "ana", "--name", "Ana"], ["people", "show", "ana"],
    ["assign", "sales.arr", "--to", "ana", "--target", "5", "--due", "2026-12-31"],
    ["checkin", "sales.arr", "5"], ["checkin", "--file", "-"], ["feedback", "sales.arr", "hi"],
    ["close", "sales.arr", "--outcome", "missed"], ["suggest", "--tag", "sales"],
    ["export"], ["import", "-"], ["db", "upgrade"], ["db", "check"],
]


def assert_no_secret(result, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_password_in_db_url_never_appears_in_errors(run, args):
    result = run("--db", URL, *args, input="")
    line = assert_error(result, 1)
    assert_no_secret(result, SECRET)
    assert "127.0.0.1" in line  # says where it tried


def test_password_in_kpictl_db_environment_never_appears(run, monkeypatch):
    monkeypatch.setenv("KPICTL_DB", URL)
    result = run("report")
    line = assert_error(result, 1)
    assert_no_secret(result, SECRET)
    assert "127.0.0.1" in line


@pytest.mark.parametrize("url,secrets", [
    ("postgres://u:s3cr3t@127.0.0.1:1/db", [SECRET]),
    ("postgresql://u:s3cr%40t@127.0.0.1:1/db", ["s3cr%40t", "s3cr@t"]),
    ("postgresql://u:p%3Ass@127.0.0.1:1/db", ["p%3Ass", "p:ss"]),
    ("postgresql://u:s3cr3t@[::1]:1/db", [SECRET]),
    ("postgresql://u:s3cr3t@127.0.0.1:1/db?sslmode=disable&connect_timeout=1", [SECRET]),
    ("postgresql://u@127.0.0.1:1/db?password=s3cr3t", [SECRET]),
], ids=["postgres-scheme", "percent-encoded-at", "percent-encoded-colon", "ipv6",
        "query-options", "password-query-parameter"])
def test_password_never_appears_whatever_the_url_shape(run, url, secrets):
    result = run("--db", url, "report")
    assert_error(result, 1)
    assert_no_secret(result, *secrets)
    shown = run("--db", url, "db", "path")
    assert shown.exit_code == 0
    assert_no_secret(shown, *secrets)


@pytest.mark.parametrize("url", [
    "postgresql://u:s3cr3t@127.0.0.1:notaport/db",
    "mysql://u:s3cr3t@127.0.0.1:1/db",
], ids=["bad-port", "unsupported-backend"])
def test_invalid_url_is_usage_error_without_password(run, url):
    result = run("--db", url, "report")
    assert_error(result, 2)
    assert_no_secret(result, SECRET)


def test_password_never_appears_from_the_real_entry_point(tmp_path):
    env = {**os.environ, "KPICTL_TZ": "UTC", "HOME": str(tmp_path)}
    env.pop("KPICTL_DB", None)
    proc = subprocess.run([sys.executable, "-m", "kpictl", "--db", URL, "report", "--json"],
                          capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert SECRET not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kpictl: error: "), proc.stderr
    assert "127.0.0.1" in lines[0]


# Nothing here needs a PostgreSQL database: the URLs point at a closed port.
pytestmark = pytest.mark.backend_free
