"""`kpictl feedback`: a manager's note on a KPI."""

from __future__ import annotations

from .conftest import assert_error, dump_db, ok


def test_feedback_is_recorded_and_shown_in_report_detail(seeded):
    result = ok(seeded, "feedback", "sales.arr", "Great pipeline work; focus on closing",
                "--by", "maya")
    assert result.stdout == ""
    assert result.stderr == "feedback recorded on sales.arr\n"
    doc = ok(seeded, "report", "sales.arr", "--json").json()
    assert doc["feedback"] == [{"at": "2026-11-27T12:00:00Z", "by": "maya",
                                "text": "Great pipeline work; focus on closing"}]


def test_feedback_author_from_environment(seeded, monkeypatch):
    monkeypatch.setenv("KPICTL_USER", "maya")
    ok(seeded, "feedback", "sales.arr", "Nice")
    assert ok(seeded, "report", "sales.arr", "--json").json()["feedback"][0]["by"] == "maya"


def test_feedback_user_text_stays_inert_in_table(seeded):
    ok(seeded, "feedback", "sales.arr", "[bold red]urgent[/] \x1b[31mred\x1b[0m :warning:")
    out = ok(seeded, "report", "sales.arr").stdout
    assert "\x1b" not in out
    assert "[bold red]urgent[/]" in out
    assert ":warning:" in out


def test_feedback_unknown_kpi_is_exit_3(seeded):
    before = dump_db()
    assert_error(seeded("feedback", "sales.ar", "hi"), 3,
                 "no KPI 'sales.ar'; did you mean 'sales.arr'? See `kpictl report`.")
    assert dump_db() == before


def test_feedback_unknown_author_is_exit_3(seeded):
    before = dump_db()
    assert_error(seeded("feedback", "sales.arr", "hi", "--by", "zed"), 3,
                 "no person 'zed'. See `kpictl people list`.")
    assert dump_db() == before


def test_feedback_empty_text_is_exit_2(seeded):
    before = dump_db()
    assert_error(seeded("feedback", "sales.arr", "   "), 2, "feedback text must not be empty")
    assert dump_db() == before


def test_feedback_missing_text_is_exit_2(seeded):
    before = dump_db()
    assert_error(seeded("feedback", "sales.arr"), 2)
    assert dump_db() == before
