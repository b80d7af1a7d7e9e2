"""`kpictl demo`: a realistic demo database in its own file, then its report."""

from __future__ import annotations

import os

import pytest

from .conftest import make_runner, ok, pinned_env

KINDS = {"increase", "decrease", "at-least", "at-most", "range", "objective"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Build the demo once for this module (it takes a second or two); tests only read it."""
    workdir = tmp_path_factory.mktemp("demo")
    user_db = workdir / "user.db"
    path = workdir / "demo.db"
    with pinned_env(user_db):
        result = make_runner()("demo", "--path", str(path))
    return result, path, user_db


@pytest.fixture
def demo_report(demo, run):
    _, path, _ = demo
    doc = ok(run, "--db", str(path), "report", "--json").json()
    assert doc["schema"] == "kpictl.report/1"
    return doc


def test_demo_prints_its_report(demo, demo_report):
    result, path, _ = demo
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out
    assert "…" not in out
    assert out.splitlines()[0] == "KPIs as of 2026-11-27 12:00 UTC"
    keys = [k["key"] for k in demo_report["kpis"]]
    assert 18 <= len(keys) <= 25
    for key in keys:
        assert key in out
    assert f"{len(keys)} KPIs: " in out
    assert result.stderr.startswith(f"\nDemo database: {path} (8 people, {len(keys)} KPIs, ")
    assert f"kpictl --db {path} report" in result.stderr


def test_demo_never_touches_the_users_database(demo):
    result, _, user_db = demo
    assert result.exit_code == 0
    assert not os.path.exists(user_db)


def test_demo_has_every_kind(demo_report):
    assert {k["kind"] for k in demo_report["kpis"]} == KINDS


@pytest.mark.parametrize("flag", ["stale", "overdue", "blocked", "low_confidence"])
def test_demo_shows_flag(demo_report, flag):
    assert any(flag in k["flags"] for k in demo_report["kpis"])


@pytest.mark.parametrize("status", ["on_track", "at_risk", "off_track", "overdue", "no_data",
                                    "achieved"])
def test_demo_shows_status(demo_report, status):
    assert demo_report["summary"]["by_status"][status] >= 1


def test_demo_has_a_reassignment_and_feedback(demo, demo_report, run):
    _, path, _ = demo
    reassigned = feedback = None
    for row in demo_report["kpis"]:
        doc = ok(run, "--db", str(path), "report", row["key"], "--json").json()
        if reassigned is None and len(doc["assignments"]) >= 2:
            reassigned = doc
        if feedback is None and doc["feedback"]:
            feedback = doc
        if reassigned and feedback:
            break
    assert reassigned is not None, "no KPI in the demo was reassigned"
    old, new = reassigned["assignments"][-2:]
    assert old["valid_until"] == new["valid_from"]
    assert new["valid_until"] is None
    assert old["to"] != new["to"] == reassigned["kpi"]["owner"]
    assert feedback is not None, "no KPI in the demo has feedback"


def test_demo_rebuild_replaces_the_file(run, tmp_path):
    path = tmp_path / "again.db"
    first = ok(run, "-q", "demo", "--path", str(path))
    second = ok(run, "-q", "demo", "--path", str(path))
    assert second.stdout == first.stdout
    assert second.stderr == ""


def test_demo_path_that_is_a_directory_is_one_line_error(run, tmp_path):
    target = tmp_path / "somedir"
    target.mkdir()
    result = run("demo", "--path", str(target))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kpictl: error: ")
    assert list(target.iterdir()) == []
