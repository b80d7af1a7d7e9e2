"""Shell completion offers live values from the database: keys, handles, tags, formats."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def team(run):
    for handle in ("ana", "anton", "bob"):
        assert run("people", "add", handle, "--name", handle.title(), "--skill",
                   f"{handle[0]}kill:3").exit_code == 0
    for key, tag in (("sales.arr", "sales"), ("sales.pipe", "sales"), ("ops.up", "ops")):
        assert run("assign", key, "--to", "ana", "--target", "5", "--due", "+9d", "--tag",
                   tag).exit_code == 0
    assert run("close", "sales.pipe", "--outcome", "cancelled").exit_code == 0
    assert run("assign", "sales.goals", "--objective", "--to", "ana").exit_code == 0
    return run


def complete(words: str, *, python: list[str] | None = None) -> list[str]:
    env = {**os.environ, "_KPICTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    proc = subprocess.run(python or [sys.executable, "-m", "kpictl"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.parametrize(("words", "expected"), [
    ("kpictl checkin sa", ["sales.arr"]),  # closed KPIs and objectives take no check-ins
    ("kpictl report sa", ["sales.arr", "sales.goals", "sales.pipe"]),
    ("kpictl assign sales.arr --to an", ["ana", "anton"]),
    ("kpictl report --owner b", ["bob"]),
    ("kpictl report --tag s", ["sales"]),
    ("kpictl people show ant", ["anton"]),
    ("kpictl report --format js", ["json", "jsonl"]),
    ("kpictl rep", ["report"]),
    ("kpictl close s", ["sales.arr", "sales.goals"]),  # a closed one cannot be closed again
    ("kpictl feedback sales.p", ["sales.pipe"]),
    ("kpictl suggest o", ["ops.up"]),
    ("kpictl suggest --tag o", ["ops"]),
    ("kpictl people add zoe --manager b", ["bob"]),
    ("kpictl people edit ana --remove-skill a", ["akill"]),
    ("kpictl people add zoe --skill b", ["bkill"]),
    ("kpictl assign ops.up --parent s", ["sales.goals"]),  # only objectives have children
])
def test_completion_offers_live_values(team, words, expected):
    assert complete(words) == expected


@pytest.mark.parametrize(("words", "expected"), [
    ("kpictl assign x --kind a", ["at-least", "at-most"]),
    ("kpictl close x --outcome ", ["achieved", "missed", "cancelled"]),
    ("kpictl report --week ", ["this", "last"]),
    ("kpictl report --by ", ["owner"]),
    ("kpictl report --status o", ["on_track", "off_track", "overdue"]),
    ("kpictl report --status at_risk,of", ["at_risk,off_track"]),
    ("kpictl report --fail-on overdue,st", ["overdue,stale"]),
    ("kpictl report --format c", ["csv"]),
    ("kpictl people list -f m", ["md"]),
    ("kpictl assign x --cadence ", ["daily", "weekly", "biweekly", "monthly", "quarterly"]),
    ("kpictl checkin --input-format ", ["csv", "jsonl"]),
    ("kpictl suggest --weight s", ["skill="]),
    ("kpictl schema pe", ["people", "person"]),
    ("kpictl report --ta", ["--tag"]),
    ("kpictl people ", ["add", "list", "show", "edit", "deactivate", "away", "tree"]),
    ("kpictl db b", ["backup"]),
])
@pytest.mark.backend_free
def test_completion_offers_fixed_choices(words, expected):
    assert complete(words) == expected


WRAPPER = """
import atexit, sys
heavy = ("sqlalchemy", "sqlmodel", "alembic", "pendulum", "rich")
atexit.register(lambda: sys.stderr.write(
    "loaded:" + ",".join(m for m in heavy if m in sys.modules) + "\\n"))
from kpictl.cli import main
main()
"""


@pytest.mark.sqlite_only("PostgreSQL completion goes through the engine by design")
@pytest.mark.parametrize("words", ["kpictl checkin sa", "kpictl report --owner a",
                                   "kpictl report --tag s", "kpictl report --status o"])
def test_completion_of_live_values_loads_no_database_stack(team, words):
    env = {**os.environ, "_KPICTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - 1)}
    proc = subprocess.run([sys.executable, "-c", WRAPPER], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()  # it did complete something
    assert proc.stderr.strip().splitlines()[-1] == "loaded:", proc.stderr


def test_completion_of_a_missing_database_is_empty_not_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KPICTL_DB", str(tmp_path / "nothing.db"))
    assert complete("kpictl checkin sa") == []
    assert not (tmp_path / "nothing.db").exists()
