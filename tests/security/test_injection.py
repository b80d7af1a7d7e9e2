"""User text is data, never instructions (PRODUCT §5 Security).

Every field a user can type (names, titles, outcomes, units, notes, blockers, feedback,
delegation and closing notes) is filled with Rich markup, emoji codes, ANSI/OSC escape
sequences, C1 controls, bidi overrides, carriage returns, Markdown and HTML. Each human view
must show that text literally and inertly, plain and with FORCE_COLOR=1; CSV must not let a
spreadsheet run a formula (numbers stay numbers); JSON must round-trip the exact text with every
control character escaped.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.cli.conftest import build_template, ok, use_template

# One payload with every trick; each field gets it behind a marker saying which field it is.
PAYLOAD = ("[bold]B[/] [/] [link=http://x]L[/link] :warning: <i>h</i> [c](http://e) a|b "
           "\x1b[2J\x1b[H \x1b]52;c;SGVsbG8=\x07 \x1b]8;;http://evil\x1b\\O8\x1b]8;;\x1b\\ "
           "\x9b31m \u202eRTL\u202c \u2066I\u2069 over\rwrite\bback\nnext")
# What must be readable, verbatim, right after the marker in a table view.
VISIBLE = "[bold]B[/] [/] [link=http://x]L[/link] :warning: <i>h</i> [c](http://e) a|b "
UNIT = "\x1b[2J\x9b1m\u202e[b]:x:"  # units are at most 40 characters


def text(marker: str) -> str:
    return f"{marker} {PAYLOAD}"


NASTY = [
    ("people", "add", "maya", "--name", text("NAME1"), "--email", "maya@example.com",
     "--skill", "sales:3"),
    ("people", "add", "ana", "--name", text("NAME2"), "--manager", "maya", "--skill", "sales:4"),
    ("people", "add", "bob", "--name", "Bob", "--manager", "maya"),
    ("assign", "sales.arr", "--to", "ana", "--by", "maya", "--title", text("TITLE1"),
     "--outcome", text("OUTCOME1"), "--note", text("DELEGATION1"), "--target", "100",
     "--unit", UNIT, "--start", "2026-11-01", "--due", "2026-12-31", "--tag", "sales"),
    ("checkin", "sales.arr", "10", "--at", "2026-11-10", "--note", text("NOTE1")),
    ("checkin", "sales.arr", "20", "--at", "2026-11-17", "--note", text("NOTE2")),
    ("checkin", "sales.arr", "30", "--at", "2026-11-24", "--note", text("NOTE3"),
     "--blocker", text("BLOCKER1")),
    ("feedback", "sales.arr", text("FEEDBACK1"), "--by", "maya"),
    ("assign", "ops.done", "--to", "bob", "--by", "maya", "--title", text("TITLE2"),
     "--target", "5", "--start", "2026-11-01", "--due", "2026-11-30"),
    ("checkin", "ops.done", "5", "--at", "2026-11-20"),
    ("close", "ops.done", "--outcome", "achieved", "--note", text("CLOSING1"), "--by", "maya"),
]

# (view, markers of the fields that view is there to show)
TABLE_VIEWS = [
    (["report"], ["TITLE1", "TITLE2"]),
    (["report", "sales.arr"], ["TITLE1", "NOTE1", "NOTE2", "NOTE3", "BLOCKER1", "FEEDBACK1",
                               "DELEGATION1"]),
    (["people", "list"], ["NAME1", "NAME2"]),
    (["people", "show", "ana"], ["NAME2", "TITLE1"]),
    (["report", "--by", "owner"], []),
    (["suggest", "sales.arr", "--explain"], ["TITLE1"]),
    (["suggest", "--tag", "sales", "--unit", UNIT, "--explain"], []),
    (["report", "--since", "2026-11-01"], ["NOTE1", "NOTE3", "BLOCKER1", "TITLE1"]),
]
MD_VIEWS = [
    (["report", "-f", "md"], ["TITLE1", "TITLE2"]),
    (["report", "sales.arr", "-f", "md"], ["TITLE1", "NOTE1", "NOTE3"]),
    (["people", "list", "-f", "md"], ["NAME1", "NAME2"]),
    (["people", "show", "ana", "-f", "md"], ["NAME2", "TITLE1"]),
    (["report", "--by", "owner", "-f", "md"], []),
    (["suggest", "sales.arr", "--explain", "-f", "md"], ["TITLE1"]),
    (["report", "--since", "2026-11-01", "-f", "md"], ["NOTE1", "BLOCKER1", "TITLE1"]),
]
JSON_VIEWS = [
    (["report", "--json"], ["TITLE1", "TITLE2", "BLOCKER1", UNIT]),
    (["report", "sales.arr", "--json"], ["TITLE1", "NOTE1", "NOTE2", "NOTE3", "BLOCKER1",
                                         "FEEDBACK1", "DELEGATION1", UNIT]),
    (["people", "list", "--json"], ["NAME1", "NAME2"]),
    (["people", "show", "ana", "--json"], ["NAME2", "TITLE1"]),
    (["suggest", "sales.arr", "--json"], ["TITLE1", "NAME1", "NAME2"]),
    (["report", "--since", "2026-11-01", "--json"], ["NOTE1", "BLOCKER1", "TITLE1"]),
]



def view_id(view: list[str]) -> str:
    return " ".join("UNIT" if part == UNIT else part for part in view)


SGR = re.compile(r"\x1b\[[0-9;]*m")
# Anything that can move the cursor, change the title, write the clipboard or reorder text.
UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def nasty_template(tmp_path_factory, backend, pg):
    return build_template(tmp_path_factory.mktemp("nasty"), NASTY, backend=backend, pg=pg)


@pytest.fixture
def nasty(run, nasty_template):
    use_template(nasty_template)
    return run


def assert_inert(out: str, *, colour: bool) -> str:
    """No control or bidi character from user text; in colour only plain SGR sequences.
    Returns the text with the SGR sequences removed."""
    if colour:
        for match in re.finditer("\x1b", out):
            assert SGR.match(out, match.start()), repr(out[match.start():match.start() + 20])
    else:
        assert "\x1b" not in out
    visible = SGR.sub("", out)
    bad = UNSAFE.findall(visible)
    assert not bad, f"raw control/bidi characters {sorted(set(bad))!r} in:\n{visible!r}"
    assert "\x1b]" not in out and "\x1b[2J" not in out and "\x1b[H" not in out
    assert "\u26a0" not in visible  # :warning: stayed text, never became an emoji
    return visible


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "FORCE_COLOR"])
@pytest.mark.parametrize("view,markers", TABLE_VIEWS, ids=[view_id(v) for v, _ in TABLE_VIEWS])
def test_user_text_is_literal_and_inert_in_table_views(nasty, monkeypatch, view, markers,
                                                       colour):
    if colour:
        monkeypatch.setenv("FORCE_COLOR", "1")
    result = nasty(*view)
    assert result.exit_code == 0, result.stderr
    if colour:  # the switch works, so the SGR rule below is really exercised
        assert SGR.search(result.stdout)
    visible = assert_inert(result.stdout, colour=colour)
    assert "\x1b" not in result.stderr and not UNSAFE.search(result.stderr)
    for marker in markers:
        assert f"{marker} {VISIBLE}" in visible, (marker, visible)
        # The escape sequences are still there to see (as text), just harmless.
        assert re.search(re.escape(marker) + r" .*\]52;c;SGVsbG8=", visible), marker


@pytest.mark.parametrize("view,markers", MD_VIEWS, ids=[view_id(v) for v, _ in MD_VIEWS])
def test_user_text_is_inert_in_markdown(nasty, view, markers):
    result = nasty(*view)
    assert result.exit_code == 0, result.stderr
    assert_inert(result.stdout, colour=False)
    out = result.stdout
    # No live HTML or link from user text, and a table row is never split or widened by it.
    assert not re.search(r"(?<!\\)<i>|(?<!\\)\]\(http://e\)", out), out
    for marker in markers:
        assert re.search(re.escape(marker) + r" .*:warning:.*SGVsbG8=", out), (marker, out)
    widths: dict[int, int] = {}
    table = 0
    for line in out.splitlines():
        if line.startswith("|"):
            cells = len(re.findall(r"(?<!\\)\|", line))
            widths.setdefault(table, cells)
            assert cells == widths[table], line
        else:
            table += 1


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


@pytest.mark.parametrize("view,markers", JSON_VIEWS, ids=[view_id(v) for v, _ in JSON_VIEWS])
def test_json_escapes_control_characters_and_round_trips_the_text(nasty, view, markers):
    result = nasty(*view)
    assert result.exit_code == 0, result.stderr
    raw = result.stdout
    assert "\x1b" not in raw
    assert not re.search(r"[\x00-\x09\x0b-\x1f]", raw)  # C0 controls only as \u escapes
    strings = set(_strings(json.loads(raw)))
    for marker in markers:
        assert (marker if marker == UNIT else text(marker)) in strings, marker


def test_export_escapes_control_characters_and_round_trips_the_text(nasty):
    result = nasty("export")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert not re.search(r"[\x00-\x09\x0b-\x1f]", result.stdout.replace("\n", ""))
    strings = set()
    for line in result.stdout.splitlines():
        strings |= set(_strings(json.loads(line)))
    for marker in ("NAME1", "NAME2", "TITLE1", "TITLE2", "OUTCOME1", "DELEGATION1", "NOTE1",
                   "BLOCKER1", "FEEDBACK1", "CLOSING1"):
        assert text(marker) in strings, marker


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "FORCE_COLOR"])
def test_confirmations_and_errors_on_stderr_are_inert(run, monkeypatch, colour):
    if colour:
        monkeypatch.setenv("FORCE_COLOR", "1")
    added = run("people", "add", "eve", "--name", text("NAME9"))
    assert added.exit_code == 0, added.stderr
    refused = run("people", "show", "eve\x1b]52;c;SGVsbG8=\x07\u202e")
    assert refused.exit_code in (2, 3)
    for stderr in (added.stderr, refused.stderr):
        assert "\x1b" not in stderr
        assert not UNSAFE.search(stderr.replace("\n", "")), repr(stderr)
    assert "NAME9 [bold]B[/] [/] [link=http://x]L[/link] :warning:" in added.stderr


# --------------------------------------------------------------------------- CSV

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

SPREADSHEET = [
    ("people", "add", "maya", "--name", '=HYPERLINK("http://evil","click")',
     "--email", "@maya@example.com", "--skill", "sales:3"),
    ("people", "add", "ana", "--name", "+cmd|' /C calc'!A0", "--manager", "maya",
     "--skill", "sales:4"),
    ("people", "add", "bob", "--name", "-2+3+cmd|' /C calc'!A0", "--manager", "maya"),
    ("assign", "net.change", "--to", "ana", "--by", "maya",
     "--title", "@SUM(1+1)*cmd|' /C calc'!A0",
     "--kind", "decrease", "--baseline", "-5", "--target", "-20", "--unit", "=U",
     "--start", "2026-11-01", "--due", "2026-12-31", "--note", "\t=1+1",
     "--outcome", "\r=2+2", "--tag", "sales"),
    ("checkin", "net.change", "--at", "2026-11-10", "--note", "=1+1", "--key", "=idem", "--",
     "-7.5"),
    ("checkin", "net.change", "--at", "2026-11-17", "--note", "-1+2", "--blocker", "+1+2", "--",
     "-9"),
    ("checkin", "net.change", "--at", "2026-11-24", "--note", "@A1", "--", "-10"),
    ("feedback", "net.change", "=FEEDBACK()", "--by", "maya"),
]

CSV_VIEWS = [
    ["report"], ["report", "net.change"], ["people", "list"], ["people", "show", "ana"],
    ["report", "--by", "owner"], ["report", "--since", "2026-11-01"],
    ["suggest", "net.change", "--explain"], ["suggest", "--tag", "sales", "--unit", "=U"],
]


@pytest.fixture(scope="module")
def spreadsheet_template(tmp_path_factory, backend, pg):
    return build_template(tmp_path_factory.mktemp("csv"), SPREADSHEET, backend=backend, pg=pg)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("view", CSV_VIEWS, ids=" ".join)
def test_csv_neutralises_formulas_and_keeps_numbers(run, spreadsheet_template, view):
    use_template(spreadsheet_template)
    result = ok(run, *view, "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert len(rows) >= 2
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_START):
                assert _is_number(cell), (cell, row)
    texts = [cell for row in rows[1:] for cell in row]
    assert any(cell.startswith("'") for cell in texts)  # there was something to neutralise


def test_csv_formulas_get_a_quote_and_negative_numbers_stay_numbers(run, spreadsheet_template):
    use_template(spreadsheet_template)
    report = list(csv.DictReader(io.StringIO(ok(run, "report", "-f", "csv").stdout)))
    (row,) = report
    assert row["title"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert row["unit"] == "'=U"
    assert float(row["baseline"]) == -5 and float(row["target"]) == -20
    assert float(row["current"]) == -10
    checkins = list(csv.DictReader(io.StringIO(
        ok(run, "report", "net.change", "-f", "csv").stdout)))
    assert [float(c["value"]) for c in checkins] == [-7.5, -9, -10]
    assert [c["note"] for c in checkins] == ["'=1+1", "'-1+2", "'@A1"]
    assert checkins[1]["blocker"] == "'+1+2"
    assert checkins[0]["key"] == "'=idem"
    people = {p["handle"]: p for p in csv.DictReader(io.StringIO(
        ok(run, "people", "list", "-f", "csv").stdout))}
    assert people["maya"]["name"] == "'=HYPERLINK(\"http://evil\",\"click\")"
    assert people["maya"]["email"] == "'@maya@example.com"
    assert people["ana"]["name"] == "'+cmd|' /C calc'!A0"
    assert people["bob"]["name"] == "'-2+3+cmd|' /C calc'!A0"
