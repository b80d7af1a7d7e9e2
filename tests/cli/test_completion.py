"""Shell completion offers live values from the database: keys, handles, tags, formats."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def team(run):
    for handle in ("ana", "anton", "bob"):
        assert run("people", "add", handle, "--name", handle.title()).exit_code == 0
    for key, tag in (("sales.arr", "sales"), ("sales.pipe", "sales"), ("ops.up", "ops")):
        assert run("assign", key, "--to", "ana", "--target", "5", "--due", "+9d", "--tag",
                   tag).exit_code == 0
    assert run("close", "sales.pipe", "--outcome", "cancelled").exit_code == 0
    return run


def complete(words: str) -> list[str]:
    env = {**os.environ, "_KPICTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    proc = subprocess.run([sys.executable, "-m", "kpictl"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.parametrize(("words", "expected"), [
    ("kpictl checkin sa", ["sales.arr"]),  # closed KPIs take no check-ins
    ("kpictl report sa", ["sales.arr", "sales.pipe"]),
    ("kpictl assign sales.arr --to an", ["ana", "anton"]),
    ("kpictl report --owner b", ["bob"]),
    ("kpictl report --tag s", ["sales"]),
    ("kpictl people show ant", ["anton"]),
    ("kpictl report --format js", ["json", "jsonl"]),
    ("kpictl rep", ["report"]),
])
def test_completion_offers_live_values(team, words, expected):
    assert complete(words) == expected


def test_completion_of_a_missing_database_is_empty_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KPICTL_DB", str(tmp_path / "nothing.db"))
    assert complete("kpictl checkin sa") == []
    assert not (tmp_path / "nothing.db").exists()
