"""Each terminal view laid out at 80 and 200 columns, as a person sees it: text captured from
a terminal of a fixed width (COLUMNS, an output that says it is a terminal, no colour).

At 80 columns nothing a reader needs is cut or lost: the portfolio keeps status, key, owner,
current, target, progress and due and says in one dim line how many columns are hidden;
`suggest --explain` and `--rebalance` show every handle and every word of every reason; the
KPI chart labels its axis with numbers people read.
"""

from __future__ import annotations

import io
import re
import sys

import pytest

from kpictl.cli import main

pytestmark = pytest.mark.backend_free

WIDTHS = (80, 200)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("layouts") / "demo.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KPICTL_TZ", "UTC")
        mp.setenv("KPICTL_NOW", "2026-11-27T12:00:00Z")
        with pytest.raises(SystemExit) as done:
            _capture(["demo", "--path", str(path)])
        assert done.value.code == 0
    return path


def _capture(args):
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Terminal(), io.StringIO()
    try:
        main(args)
    finally:
        out, sys.stdout, sys.stderr = sys.stdout, *saved
        _capture.last = out.getvalue()


@pytest.fixture
def screen(demo_path, monkeypatch):
    """``screen(columns, *args)``: what `kpictl ARGS` shows on a terminal that wide."""
    monkeypatch.setenv("KPICTL_DB", str(demo_path))
    monkeypatch.setenv("NO_COLOR", "1")

    def show(columns: int, *args: str, now: str = "2026-11-27T12:00:00Z") -> str:
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.setenv("KPICTL_NOW", now)
        with pytest.raises(SystemExit) as done:
            _capture(list(args))
        assert done.value.code == 0, _capture.last
        text = _capture.last
        assert all(len(line) <= columns for line in text.splitlines()), \
            max(text.splitlines(), key=len)
        return text

    return show


def _json(demo_path, *args, now="2026-11-27T12:00:00Z"):
    import json
    import os

    saved = os.environ.get("KPICTL_NOW")
    os.environ["KPICTL_NOW"] = now
    try:
        with pytest.raises(SystemExit):
            _capture(["--db", str(demo_path), *args, "--json"])
    finally:
        if saved is None:
            os.environ.pop("KPICTL_NOW")
        else:
            os.environ["KPICTL_NOW"] = saved
    return json.loads(_capture.last)


def _header(text: str, first: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(first))
    return re.split(r"\s{2,}", line.strip())


# --------------------------------------------------------------------------- portfolio


def test_portfolio_at_80_columns_keeps_what_a_manager_reads_first(screen, demo_path):
    out = screen(80, "report")
    assert _header(out, "Status") == ["Status", "KPI", "Progress", "Current", "Target", "Due"]
    lines = out.splitlines()
    rows = _json(demo_path, "report")["kpis"]
    for row in rows:
        # the key after a one- or two-word status, and after "└" under its parent
        at = next(i for i, line in enumerate(lines) if row["key"] in line.split()[1:4])
        assert lines[at + 1].split()[:2] == [row["owner"], "·"]  # the owner joins the title
        for flag in row["flags"]:  # the flags follow the title, never dropped
            assert flag.replace("_", " ") in " ".join(lines[at:at + 5])
        assert "…" not in lines[at].split(row["key"])[0]
    assert lines[-1] == "4 columns hidden — wider terminal or `--format md`"


def test_portfolio_at_200_columns_shows_every_column_and_hides_none(screen):
    out = screen(200, "report")
    assert _header(out, "Status") == ["Status", "KPI", "Owner", "Progress", "Trend", "Exp.",
                                      "Current", "Target", "Due", "Forecast",
                                      "Last check-in", "Flags"]
    assert "hidden" not in out


@pytest.mark.parametrize("columns", [80, 100, 110, 120, 130, 140, 160, 200])
def test_current_and_target_are_shown_together_or_not_at_all(screen, columns):
    out = screen(columns, "report")
    header = _header(out, "Status")
    assert ("Current" in header) == ("Target" in header), header
    hidden = [line for line in out.splitlines() if "hidden" in line]
    assert bool(hidden) == (len(header) < 12)
    if hidden:
        count = int(hidden[0].split()[0])
        # The owner and the flags fold into the KPI cell: shown, so not counted as hidden.
        assert count == 12 - len(header) - ("Owner" not in header) - ("Flags" not in header)


# --------------------------------------------------------------------------- suggest


@pytest.mark.parametrize("columns", WIDTHS)
def test_suggest_explain_shows_every_reason_whole(screen, demo_path, columns):
    out = screen(columns, "suggest", "sales.new-arr", "--explain")
    flat = " ".join(out.split())
    doc = _json(demo_path, "suggest", "sales.new-arr")
    assert "…" not in out
    for c in doc["candidates"]:
        assert c["handle"] in out.split()
        assert "; ".join(c["reasons"]) in flat, c["reasons"]
    if columns == 80:
        assert _header(out, "#") == ["#", "Person", "Score", "Track", "Skills", "Cap.", "Rel.",
                                     "Load", "Notes"]
        lines = out.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("1 "))
        assert lines[first + 1].startswith("    ")  # the reasons below their candidate
    else:
        assert _header(out, "#")[-1] == "Why"


@pytest.mark.parametrize("columns", WIDTHS)
def test_rebalance_shows_every_handle_reason_and_command_whole(screen, demo_path, columns):
    later = "2026-12-20T12:00:00Z"  # the demo team has moves to propose by then
    out = screen(columns, "suggest", "--rebalance", now=later)
    doc = _json(demo_path, "suggest", "--rebalance", now=later)
    assert doc["moves"], "the scenario needs a move"
    assert "…" not in out
    flat = " ".join(out.split())
    header = _header(out, "KPI")
    assert set(header) <= {"KPI", "Status", "From", "To", "Score", "Why", "Command"}, header
    for m in doc["moves"]:
        assert m["from_owner"] in out.split() and m["to"] in out.split()
        assert m["reason"] in flat and m["command"] in out
    if columns == 80:
        assert header == ["KPI", "Status", "From", "To", "Score"]


# --------------------------------------------------------------------------- report KEY


@pytest.mark.parametrize("columns", WIDTHS)
def test_kpi_detail_chart_reads_like_numbers_and_sections_breathe(screen, columns):
    out = screen(columns, "report", "sales.new-arr")
    labels = re.findall(r"^\s*([-\d,.]+)┤", out, flags=re.MULTILINE)
    assert labels and all(re.fullmatch(r"-?\d{1,3}(,\d{3})*", label) for label in labels), labels
    assert "50,000" in labels and "100,000" in labels
    legend = re.findall(r"[│┤] (\S)\1 (actual|expected pace|forecast|80% range)", out)
    markers = [m for m, _ in legend]
    assert len(legend) == 4 and len(set(markers)) == 4, legend
    lines = [line.rstrip() for line in out.splitlines()]
    for section in ("Check-ins", "Delegation", "Feedback"):
        assert lines[lines.index(section) - 1] == "", section


def test_kpi_detail_chart_shows_milestones_and_target_changes(screen, demo_path, tmp_path):
    import sqlite3

    changed = tmp_path / "changed.db"
    src, dst = sqlite3.connect(demo_path), sqlite3.connect(changed)
    src.backup(dst)
    src.close()
    dst.close()
    with pytest.raises(SystemExit) as done:
        _capture(["--db", str(changed), "assign", "sales.new-arr", "--target", "110000",
                  "--milestone", "2026-11-15=60000"])
    assert done.value.code == 0
    out = screen(80, "--db", str(changed), "report", "sales.new-arr")
    assert "◆◆ milestone" in out and "-- target (changed)" in out
    lines = [line.rstrip() for line in out.splitlines()]
    changes = lines.index("Changes")
    assert lines[changes - 1] == ""
    assert any(line.split()[2:5] == ["target", "120,000", "110,000"]
               for line in lines[changes:]), lines[changes:]


# --------------------------------------------------------------------------- --by owner


@pytest.mark.parametrize("columns", WIDTHS)
def test_owner_view_has_one_on_time_figure_and_words_for_nothing(screen, demo_path, columns):
    out = screen(columns, "report", "--by", "owner")
    header = _header(out, "Owner")
    assert header.count("On time") == 1 and "Check-ins on time" not in header
    doc = _json(demo_path, "report", "--by", "owner")
    lines = out.splitlines()
    for o in doc["owners"]:
        row = next(line for line in lines if line.split()[:1] == [o["handle"]])
        slots = o["checkins_on_time"] + o["checkins_late"] + o["checkins_missed"]
        assert f"{o['on_time_rate'] * 100:3.0f}% of {slots}" in row
        closed = o["closed_achieved"] + o["closed_missed"]
        assert ("none closed" in row) == (closed == 0)
        assert "— of 0" not in row
        if columns == 200 and o["confidence_brier"] is not None:
            assert f"(Brier {o['confidence_brier']:.2f})" in row
    if columns == 80:
        assert lines[-1].endswith("hidden — wider terminal or `--format md`")
    else:
        assert "hidden" not in out


def test_units_agree_with_counts():
    from kpictl.render.text import number

    assert [number(1, "bugs"), number(2, "bugs"), number(1, "days"), number(1, "sign-ups"),
            number(1, "ms"), number(1, "EUR"), number(1.5, "hours")] == [
        "1 bug", "2 bugs", "1 day", "1 sign-up", "1 ms", "1 EUR", "1.5 hours"]
