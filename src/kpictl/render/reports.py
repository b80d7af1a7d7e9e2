"""Portfolio renderers: `kpictl report` in every format, and the cells other views share
(forecast, target). No rule is decided here."""

from __future__ import annotations

import sys

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.render.text import in_zone, own_zone
from kpictl.schemas import Report


REPORT_COLUMNS = [
    "key", "title", "owner", "kind", "unit", "baseline", "target", "low", "high", "start", "due",
    "cadence", "tags", "current", "last_checkin_at", "next_checkin_due", "checkins", "progress",
    "progress_raw", "expected_progress", "status", "flags", "confidence", "blocker", "days_left",
    "forecast_value_at_due", "forecast_low", "forecast_high", "forecast_probability",
    "forecast_eta", "forecast_rate", "forecast_required_rate", "suggested_outcome",
    "parent", "weight",
]


def flat_record(row) -> dict:
    """A report row for CSV: the forecast object becomes ``forecast_*`` columns."""
    record = machine.plain(row)
    for name, value in (record.pop("forecast") or {}).items():
        record[f"forecast_{name}"] = value
    return record


def forecast_text(row, *, compact: bool = True) -> str:
    """``→ 114,148 (33 %)``: projected value at due and the chance of meeting the target."""
    from kpictl.render.text import number

    f = row.forecast
    if f is None:
        return "—"
    text = f"→ {number(f.value_at_due)} ({f.probability * 100:.0f}%)"
    if not compact:
        text += f", 80% range {number(f.low)} … {number(f.high)}"
    return text


def render_report(report: Report, fmt: Format, *, tz, no_color: bool = False,
                  trends: dict[str, list[float]] | None = None) -> None:
    """``trends`` (recent values per key, from :mod:`kpictl.services.trends`) adds a trend
    column to the table and a sparkline per KPI to the HTML page."""
    if fmt is Format.HTML:
        from kpictl.render.html import report_page

        sys.stdout.write(report_page(report, tz=tz, trends=trends or {}))
    elif fmt is Format.JSON:
        machine.write_envelope("report", report.generated_at, as_of=report.as_of,
                               filters=report.filters, kpis=report.kpis, summary=report.summary)
    elif fmt is Format.JSONL:
        machine.write_jsonl([machine.plain(r) for r in report.kpis])
    elif fmt is Format.CSV:
        machine.write_csv(REPORT_COLUMNS, [flat_record(r) for r in report.kpis])
    elif fmt is Format.MD:
        _report_md(report, tz)
    else:
        _report_table(report, tz, no_color, trends)


def _summary_line(report: Report) -> str:
    parts = [f"{n} {s.replace('_', ' ')}" for s, n in report.summary.by_status.items() if n]
    noun = "KPI" if report.summary.total == 1 else "KPIs"
    return f"{report.summary.total} {noun}: " + (", ".join(parts) if parts else "none")


def _report_md(report: Report, tz) -> None:
    out = sys.stdout
    as_of = in_zone(report.as_of, tz)
    out.write(f"# KPI report — {as_of:%Y-%m-%d %H:%M} ({tz.name})\n\n")
    out.write(_summary_line(report) + "\n\n")
    from kpictl.render.text import tree_depths, tree_prefix

    depths = tree_depths(report.kpis)
    rows = [
        [r.status.replace("_", " "), tree_prefix(depths[r.key], plain=True) + r.key, r.title,
         r.owner,
         f"{r.progress * 100:.0f}%" if r.progress is not None else "",
         f"{r.expected_progress * 100:.0f}%" if r.expected_progress is not None else "",
         r.current, target_text(r),
         in_zone(r.due, own_zone(r, tz)).strftime("%Y-%m-%d"), forecast_text(r) if r.forecast else "",
         ", ".join(r.flags)]
        for r in report.kpis
    ]
    machine.write_md_table(["Status", "KPI", "Title", "Owner", "Progress", "Expected", "Current",
                            "Target", "Due", "Forecast", "Flags"], rows, out)


def target_text(row) -> str:
    from kpictl.render.text import number

    if row.kind == "range":
        return f"{number(row.low)}..{number(row.high)}"
    prefix = {"at-least": "≥ ", "at-most": "≤ "}.get(row.kind, "")
    return prefix + number(row.target)


#: The portfolio's columns on a terminal, in order, with the priority that decides which a
#: narrow screen gives up first (higher goes sooner; see :mod:`kpictl.render.columns`).
#: Status, key and progress always stay; the owner and the flags fold into the KPI cell
#: rather than vanish; Current and Target go together or not at all.
PORTFOLIO_COLUMNS = [
    ("Status", 0, {}), ("KPI", 0, {}), ("Owner", 4, {"fold": "KPI"}), ("Progress", 0, {}),
    ("Trend", 9, {}), ("Exp.", 7, {"justify": "right"}),
    ("Current", 2, {"justify": "right", "group": "value"}),
    ("Target", 2, {"justify": "right", "group": "value"}),
    ("Due", 3, {}), ("Forecast", 6, {}), ("Last check-in", 8, {}),
    ("Flags", 5, {"fold": "KPI", "no_wrap": False}),
]


_TITLE_ON_TTY = 48


#: Check-ins a portfolio sparkline shows (table and HTML).
TREND_POINTS = 12


def _report_table(report: Report, tz, no_color: bool,
                  trends: dict[str, list[float]] | None = None) -> None:
    from kpictl.render import table as t
    from kpictl.render.columns import Column, fit, hidden_note

    console = t.make_console(no_color=no_color)
    as_of = in_zone(report.as_of, tz)
    if not report.kpis:
        filtered = any(report.filters.values()) or report.as_of != report.generated_at
        console.print(t.text(
            f"No KPIs match these filters as of {as_of:%Y-%m-%d %H:%M}." if filtered else
            "No KPIs yet. Create one with `kpictl assign KEY --to HANDLE --target N --due DATE`."
        ))
        return
    on_tty = console.width < t.OFF_TTY_WIDTH
    narrow = on_tty and console.width < 120
    # On a narrow screen a title is cut to the width the keys already take (keys never are).
    limit = _TITLE_ON_TTY if not narrow else max(16, max(len(r.key) for r in report.kpis))
    bar_width = 10 if not narrow else 8 if console.width >= 100 else 5

    def short(title: str, indent: int = 0) -> str:
        room = limit - indent  # an indented title keeps the column as wide as before
        return title[:room - 1] + "…" if on_tty and len(title) > room else title

    from kpictl.render.text import tree_depths, tree_prefix

    depths = tree_depths(report.kpis)

    def kpi_text(r, title: str):
        """The key (under its parent: indented) over the title, aligned with the key."""
        prefix = tree_prefix(depths[r.key])
        cell = t.text(prefix)  # unstyled: the row's base style stays plain
        cell.append(t.text(r.key, "bold"))
        cell.append("\n" + " " * len(prefix))
        cell.append(t.text(short(title, len(prefix))))
        return cell

    def cells(r) -> dict:
        kpi_cell = kpi_text(r, r.title)
        due = t.text(t.local_date(r.due, own_zone(r, tz)))
        due.append("\n" if on_tty else " ")  # rows are two lines on a terminal anyway
        due.append(t.due_text(r.due, report.as_of, r.status, state=r.state))
        trend = {}
        if trends is not None:
            trend["Trend"] = t.text(t.sparkline(trends.get(r.key, []), width=TREND_POINTS)
                                    or None, "cyan")
        return {
            "Status": t.status_text(r.status), "KPI": kpi_cell, "Owner": t.text(r.owner),
            "Progress": t.bar(r.progress, width=bar_width), **trend,
            "Exp.": t.text("" if r.expected_progress is None  # maintain kinds: no pace
                           else f"{r.expected_progress * 100:.0f}%"),
            "Current": current(r), "Target": t.text(target_text(r)),
            "Due": due, "Forecast": _forecast_cell(r),
            "Last check-in": t.ago(r.last_checkin_at, report.as_of),
            "Flags": t.flags_text(r.flags),
        }

    def current(r):
        if not on_tty or r.current is None or not r.unit:
            return t.text(t.number(r.current, r.unit))
        cell = t.text(t.number(r.current))  # the unit below: the column stays narrow
        cell.append("\n")
        cell.append(t.text(r.unit, "dim"))
        return cell

    by_key = {r.key: r for r in report.kpis}

    def folded(row: dict, folds: list[str]) -> dict:
        """The owner joins the title line and the flags get lines of their own in the KPI
        cell, wrapped to its width (a key's length or the title limit)."""
        r = by_key[row["KPI"].plain.split("\n", 1)[0].lstrip(" └")]
        title = f"{r.owner} · {r.title}" if "Owner" in folds else r.title
        kpi_cell = kpi_text(r, title)
        if "Flags" in folds and r.flags:
            lines: list[list[str]] = [[]]  # whole flags per line ("low confidence" unbroken)
            for flag in r.flags:
                words = flag.replace("_", " ")
                if lines[-1] and len(", ".join([*lines[-1], words])) + 1 > limit:
                    lines.append([])
                lines[-1].append(flag)
            for line in lines:
                kpi_cell.append("\n")
                for i, flag in enumerate(line):
                    kpi_cell.append(", " if i else "")
                    kpi_cell.append(flag.replace("_", " "), style=t.FLAG_STYLE.get(flag, ""))
                if line is not lines[-1]:
                    kpi_cell.append(",")
        return {**row, "KPI": kpi_cell}

    columns = [Column(name, priority, **opts) for name, priority, opts in PORTFOLIO_COLUMNS
               if name != "Trend" or trends is not None]
    if on_tty:
        columns = [c if c.name != "Flags" else Column(c.name, c.priority, fold=c.fold,
                                                       no_wrap=False, max_width=15)
                   for c in columns]
    rows = [cells(r) for r in report.kpis]

    def make_table():
        grid = t.new_table(title=f"KPIs as of {as_of:%Y-%m-%d %H:%M} {tz.name}",
                           caption=_summary_line(report))
        if narrow:
            grid.padding = (0, 1, 0, 0)  # one space less between columns
        return grid

    fitted = fit(console, columns, rows, make_table, folded=folded)
    console.print(fitted.table)
    if fitted.hidden:
        console.print(hidden_note(fitted.hidden, width=console.width))


def _forecast_cell(row):
    from kpictl.render import table as t

    if row.forecast is None:
        return t.text(None)
    miss = "forecast_miss" in row.flags
    return t.text(forecast_text(row), "yellow" if miss else "")
