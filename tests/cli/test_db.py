"""`kpictl db path`: where the data is."""

from __future__ import annotations

import os

import pytest

from .conftest import assert_error, ok


def test_db_path_prints_kpictl_db(run):
    result = ok(run, "db", "path")
    target = os.environ["KPICTL_DB"]
    if "://" in target:  # PostgreSQL: the URL, with the password hidden
        user, _, rest = target.split("://", 1)[1].partition(":")
        expected = f"postgresql+psycopg://{user}:***@{rest.split('@', 1)[1]}"
    else:
        expected = target
    assert result.stdout == expected + "\n"
    assert result.stderr == ""


def test_db_path_option_beats_environment_and_is_absolute(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ok(run, "--db", "team.db", "db", "path").stdout == f"{tmp_path / 'team.db'}\n"


def test_db_path_default_is_in_user_data_dir(run, isolated_env, monkeypatch):
    monkeypatch.delenv("KPICTL_DB")
    expected = isolated_env / "home" / ".local" / "share" / "kpictl" / "kpictl.db"
    assert ok(run, "db", "path").stdout == f"{expected}\n"


def test_db_path_hides_password_of_url(run):
    result = ok(run, "--db", "postgresql://kpi:s3cret@db.example.com:5432/kpis", "db", "path")
    assert result.stdout == "postgresql+psycopg://kpi:***@db.example.com:5432/kpis\n"
    assert "s3cret" not in result.stdout + result.stderr


def test_db_path_unsupported_backend_is_exit_2(run):
    line = assert_error(run("--db", "mysql://kpi:s3cret@h/kpis", "db", "path"), 2)
    assert line == ("kpictl: error: unsupported database 'mysql': use a SQLite path or a "
                    "postgresql:// URL")


@pytest.mark.parametrize("url", ["postgresql://kpi:s3cret@h:notaport/kpis",
                                 "postgresql://kpi:s3cret@h:5432x/kpis"])
def test_db_path_malformed_url_is_exit_2_without_password(run, url):
    # A typo in the port must be a one-line usage error, not a ValueError traceback.
    result = run("--db", url, "db", "path")
    line = assert_error(result, 2)
    assert line.startswith("kpictl: error: invalid --db URL")
    assert "s3cret" not in result.stderr
