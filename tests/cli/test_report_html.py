"""`report --format html`: a self-contained page (portfolio, digest, one KPI) whose rows match the
JSON report, with an inline SVG per KPI, nothing fetched from the network, and user text inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from .conftest import assert_error, ok

EVIL = "<script>alert(1)</script> [bold]loud[/bold] \x1b[31mred"


@pytest.fixture
def portfolio(seeded):
    """sales.arr (ana) with three check-ins, ops.backlog (bob) overdue, eng.uptime (bob) blocked,
    and a KPI whose title, note and feedback are hostile."""
    run = seeded
    for day, value in (("2026-11-10", "10"), ("2026-11-18", "20"), ("2026-11-26", "40")):
        ok(run, "checkin", "sales.arr", value, "--at", day, "--confidence", "7")
    ok(run, "assign", "ops.backlog", "--to", "bob", "--title", "Backlog", "--baseline", "320",
       "--target", "100", "--start", "2026-10-01", "--due", "2026-11-20")
    ok(run, "checkin", "ops.backlog", "200", "--at", "2026-11-25")
    ok(run, "assign", "eng.uptime", "--to", "bob", "--title", "Uptime", "--low", "99.9",
       "--high", "100", "--unit", "%", "--start", "2026-11-01", "--due", "2026-12-31")
    ok(run, "checkin", "eng.uptime", "99.5", "--at", "2026-11-26", "--blocker", "vendor outage")
    ok(run, "assign", "x.evil", "--to", "ana", "--title", EVIL, "--target", "10",
       "--start", "2026-11-01", "--due", "2026-12-31")
    ok(run, "checkin", "x.evil", "3", "--at", "2026-11-20", "--note", "<img src=x onerror=alert(1)>")
    ok(run, "checkin", "x.evil", "4", "--at", "2026-11-21", "--blocker", EVIL)
    ok(run, "feedback", "x.evil", EVIL, "--by", "maya")
    return run


class Page(HTMLParser):
    """The facts a reader (or a mail client) gets from the page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.rows: list[dict] = []  # <tr class="kpi"> of the portfolio table
        self.text: list[str] = []
        self._cell: str | None = None
        self._cells: list[str] = []
        self._nested = 0  # tables inside a row (the progress bars)
        self._svg = 0  # inside a chart: its style and labels are not the row's text
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        if tag == "svg":
            self._svg += 1
        a = dict(attrs)
        if tag == "table" and self._open():
            self._nested += 1
        if self._nested:
            return
        if tag == "tr" and a.get("class") == "kpi":
            self.rows.append({"key": a["data-key"], "status": a["data-status"], "svg": 0})
        elif tag == "td" and self.rows:
            self._cell = a.get("class") or ""
        elif tag == "svg" and self.rows and self._cell == "trend":
            self.rows[-1]["svg"] += 1

    def _open(self) -> bool:
        return bool(self.rows) and "text" not in self.rows[-1]

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg -= 1
        if tag == "table" and self._nested:
            self._nested -= 1
        elif tag == "tr" and not self._nested and self._open():
            self.rows[-1]["text"] = " ".join(self._cells)
            self._cells = []

    def handle_data(self, data):
        self.text.append(data)
        if self._open() and not self._svg and data.strip():
            self._cells.append(data.strip())


def assert_self_contained(html: str, page: Page) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert not [v for k, v in page.attrs if k in ("src", "href") or k.startswith("on")]
    # The only URL is the SVG namespace name (an identifier, never fetched).
    assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert "@import" not in html and "url(" not in html
    assert "\x1b" not in html


def test_report_html_rows_match_the_json_report(portfolio):
    doc = portfolio("report", "--json").json()
    html = ok(portfolio, "report", "--format", "html").stdout
    page = Page(html)
    assert [(r["key"], r["status"]) for r in page.rows] == [
        (k["key"], k["status"]) for k in doc["kpis"]]
    assert all(r["svg"] == 1 for r in page.rows)  # every KPI has check-ins: a sparkline each
    arr = next(r for r in page.rows if r["key"] == "sales.arr")["text"]
    assert "sales.arr New ARR ana 40% vs" in arr and "40 EUR 100 2026-12-31 in 34d" in arr
    backlog = next(r for r in page.rows if r["key"] == "ops.backlog")["text"]
    assert "6d late" in backlog and backlog.endswith("overdue needs close")
    assert "4 KPIs" in " ".join(page.text)
    assert page.tags.count("svg") == 1 + len(page.rows)  # the status bar and the sparklines
    assert_self_contained(html, page)


def test_report_html_user_text_is_inert(portfolio):
    for args in (["report"], ["report", "x.evil"], ["report", "--since", "2026-11-01"]):
        html = ok(portfolio, *args, "--format", "html").stdout
        page = Page(html)
        assert_self_contained(html, page)
        text = "".join(page.text)
        # Shown literally, as text: the title (and the blocker), with ESC made visible.
        assert "<script>alert(1)</script> [bold]loud[/bold] \\x1b[31mred" in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img" not in html
    assert "<img src=x onerror=alert(1)>" in "".join(Page(html).text)  # the digest's note


def test_report_html_kpi_page_has_the_trajectory_chart(portfolio):
    html = ok(portfolio, "report", "sales.arr", "--format", "html").stdout
    page = Page(html)
    assert_self_contained(html, page)
    assert page.tags.count("svg") == 1
    assert ("aria-label", "trajectory of 3 check-ins against the expected pace and the "
                          "forecast") in page.attrs
    text = " ".join(t.strip() for t in page.text if t.strip())
    assert "sales.arr New ARR" in text and "Trajectory" in text
    assert "2026-11-26 00:00 40 ana 7" in text  # the check-ins table
    assert "expected pace" in text and "forecast" in text  # the chart's legend


def test_report_html_digest_has_events_and_the_portfolio(portfolio):
    html = ok(portfolio, "report", "--week", "this", "--format", "html").stdout
    page = Page(html)
    assert_self_contained(html, page)
    text = " ".join(t.strip() for t in page.text if t.strip())
    assert text.startswith("Digest 2026-11-23 00:00 → 2026-11-27 12:00 (UTC)")
    assert "Check-ins" in text and "2026-11-26 00:00 sales.arr 40 ana" in text
    assert "Where things stand: KPIs as of 2026-11-27 12:00" in text
    assert {r["key"] for r in page.rows} == {"sales.arr", "ops.backlog", "eng.uptime", "x.evil"}


@pytest.mark.parametrize(("args", "view"), [
    (["report", "--by", "owner"], "`report --by owner`"),
    (["people", "list"], "`people list`"),
    (["people", "show", "ana"], "`people show`"),
    (["suggest", "sales.arr"], "`suggest`"),
    (["db", "check"], "`db check`"),
])
def test_views_without_a_page_refuse_html(seeded, args, view):
    assert_error(seeded(*args, "--format", "html"), 2,
                 f"--format html is not available for {view}: use table, json, jsonl, csv, md "
                 "(html covers `report`, `report KEY` and the digest)")


def test_report_html_format_is_offered_by_completion_and_errors(seeded):
    line = assert_error(seeded("report", "--format", "xml"), 2)
    assert line.endswith("use table, json, jsonl, csv, md, html")


# --------------------------------------------------------------------------- terminal charts


def test_report_table_shows_a_trend_sparkline_per_kpi(portfolio):
    lines = ok(portfolio, "report").stdout.splitlines()
    assert lines[1].split()[:5] == ["Status", "KPI", "Owner", "Progress", "Trend"]
    arr = next(line for line in lines if "sales.arr" in line.split())
    assert "████░░░░░░  40%   ▁▃█ " in arr  # 10, 20, 40 scaled onto ▁…█
    backlog = next(line for line in lines if "ops.backlog" in line.split())
    assert " ▄ " in backlog  # one value draws a flat mark


def test_report_machine_formats_never_query_trends(portfolio, monkeypatch):
    import kpictl.services.trends as trends

    def refuse(**kw):
        raise AssertionError("the trend query ran")

    monkeypatch.setattr(trends, "recent_values", refuse)
    for fmt in ("json", "jsonl", "csv", "md"):
        ok(portfolio, "report", "--format", fmt)
    ok(portfolio, "report", "--week", "last", "--format", "md")
    with pytest.raises(AssertionError, match="the trend query ran"):
        portfolio("report")


def test_report_by_owner_table_has_an_on_time_bar(portfolio):
    owners = {o["handle"]: o for o in ok(portfolio, "report", "--by", "owner",
                                         "--json").json()["owners"]}
    lines = ok(portfolio, "report", "--by", "owner").stdout.splitlines()
    assert lines[1].split()[:4] == ["Owner", "KPIs", "On", "time"]
    for handle in ("ana", "bob"):
        rate = owners[handle]["on_time_rate"]
        filled = round(rate * 10)
        bar = "█" * filled + "░" * (10 - filled) + f" {rate * 100:3.0f}%"
        row = next(line for line in lines if line.split()[:1] == [handle])
        assert row.split()[1] == str(owners[handle]["kpis"]) and bar in row
