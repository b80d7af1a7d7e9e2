"""Report renderers: one function per view, one branch per format. No rule is decided here."""

from __future__ import annotations

import sys

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.render.text import in_zone, own_zone
from kpictl.schemas import KpiDetail, PersonDetail, PersonView, Report

REPORT_COLUMNS = [
    "key", "title", "owner", "kind", "unit", "baseline", "target", "low", "high", "start", "due",
    "cadence", "tags", "current", "last_checkin_at", "next_checkin_due", "checkins", "progress",
    "progress_raw", "expected_progress", "status", "flags", "confidence", "blocker", "days_left",
    "forecast_value_at_due", "forecast_low", "forecast_high", "forecast_probability",
    "forecast_eta", "forecast_rate", "forecast_required_rate", "suggested_outcome",
    "parent", "weight",
]


def _flat(row) -> dict:
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
        machine.write_csv(REPORT_COLUMNS, [_flat(r) for r in report.kpis])
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
         r.current, _target_text(r),
         in_zone(r.due, own_zone(r, tz)).strftime("%Y-%m-%d"), forecast_text(r) if r.forecast else "",
         ", ".join(r.flags)]
        for r in report.kpis
    ]
    machine.write_md_table(["Status", "KPI", "Title", "Owner", "Progress", "Expected", "Current",
                            "Target", "Due", "Forecast", "Flags"], rows, out)


def _target_text(row) -> str:
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
            "Current": current(r), "Target": t.text(_target_text(r)),
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


def _change_value(value: str | None) -> str | None:
    """A changed number as tables show numbers (``120,000``); other values as stored."""
    from kpictl.render.text import number

    try:
        return number(float(value)) if value is not None else None
    except ValueError:
        return value


def _cadence_text(r, as_of, tz):
    from kpictl.render import table as t

    from kpictl.render.text import due_by

    line = t.text(f"{r.cadence} in {r.zone} (grace {r.grace}), next check-in "
                  + (due_by(r.next_checkin_due, r.zone, as_of) if r.next_checkin_due
                     else "— (no slot left before due)"))
    if r.next_checkin_due is not None and r.status not in ("achieved", "missed", "cancelled"):
        line.append(" (")
        line.append_text(t.ago(r.next_checkin_due, as_of))
        line.append(")")
    return line


def _forecast_cell(row):
    from kpictl.render import table as t

    if row.forecast is None:
        return t.text(None)
    miss = "forecast_miss" in row.flags
    return t.text(forecast_text(row), "yellow" if miss else "")


def render_kpi_detail(detail: KpiDetail, fmt: Format, *, tz, no_color: bool = False) -> None:
    if fmt is Format.HTML:
        from kpictl.render.html import kpi_page

        sys.stdout.write(kpi_page(detail, tz=tz))
        return
    if fmt in (Format.JSON, Format.JSONL):
        doc = machine.envelope("kpi", detail.generated_at, as_of=detail.as_of, kpi=detail.kpi,
                               outcome=detail.outcome, milestones=detail.milestones,
                               checkins=detail.checkins, assignments=detail.assignments,
                               changes=detail.changes, feedback=detail.feedback,
                               periods=detail.periods, streak=detail.streak,
                               children=detail.children)
        if fmt is Format.JSON:
            machine.write_json(doc)
        else:
            # The records of one KPI's view are its check-ins, each naming its KPI.
            machine.write_jsonl([{"kpi": detail.kpi.key, **c} for c in doc["checkins"]])
        return
    if fmt is Format.CSV and detail.children is not None:  # an objective: its children
        from kpictl.render.objectives import CHILD_COLUMNS, csv_records

        machine.write_csv(CHILD_COLUMNS, csv_records(detail))
        return
    if fmt is Format.CSV:
        machine.write_csv(["id", "status", "measured_at", "value", "by", "confidence", "note",
                           "blocker", "source", "key", "recorded_at", "corrections"],
                          [_csv_checkin(c) for c in detail.checkins])
        return
    if fmt is Format.MD:
        row = detail.kpi
        sys.stdout.write(f"# {machine.md_cell(row.key)} — {machine.md_cell(row.title)}\n\n")
        sys.stdout.write(f"Status: **{row.status.replace('_', ' ')}**, owner "
                         f"{machine.md_cell(row.owner)}, "
                         f"due {in_zone(row.due, own_zone(row, tz)):%Y-%m-%d}\n\n")
        if detail.children is not None:
            from kpictl.render.objectives import write_md

            write_md(detail, sys.stdout)
            return
        machine.write_md_table(["ID", "Status", "Measured", "Value", "By", "Confidence", "Note"],
                               [[c.id, c.status, in_zone(c.measured_at, tz).strftime(
                                   "%Y-%m-%d %H:%M"), c.value, c.by, c.confidence, c.note]
                                for c in detail.checkins])
        return
    _detail_table(detail, tz, no_color)


def _csv_checkin(c) -> dict:
    """A check-in as a CSV record: its corrections as one JSON cell (empty when none)."""
    record = machine.plain(c)
    record["corrections"] = machine.dumps(record["corrections"], indent=None) \
        if record["corrections"] else None
    return record


def _was(value, tz) -> str:
    from datetime import datetime

    from kpictl.render import table as t

    if isinstance(value, datetime):
        return in_zone(value, tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return t.number(value)
    return "none" if value is None else str(value)


def _detail_table(detail: KpiDetail, tz, no_color: bool) -> None:
    from rich.text import Text

    from kpictl.render import table as t
    from kpictl.render.objectives import print_children, summary_text

    console = t.make_console(no_color=no_color)
    r = detail.kpi
    head = Text()
    head.append(t.text(r.key, "bold"))
    head.append("  ")
    head.append(t.text(r.title))
    console.print(head)
    objective = detail.children is not None
    lines = [
        ("Status", t.status_text(r.status)),
        ("Owner", t.text(r.owner)),
        ("Kind", t.text(summary_text(detail)) if objective else
         t.text(f"{r.kind}, target {_target_text(r)}"
                        + (f" from baseline {t.number(r.baseline)}" if r.baseline is not None
                           else "") + (f" {r.unit}" if r.unit else ""))),
        ("Window", t.text(_window_text(r, tz) + " (")
         .append_text(t.due_text(r.due, detail.as_of, r.status, state=r.state, prefix="due "))
         .append(")" + _series_text(r, tz))),
        ("Progress", t.bar(r.progress)),
        *([] if r.expected_progress is None else  # maintain kinds have no pace
          [("Expected", t.text(f"{r.expected_progress * 100:.0f}%"))]),
        *([] if objective else [  # an objective has no values of its own
            ("Trend", t.text(t.sparkline([c.value for c in detail.checkins
                                          if c.status != "retracted"]) or None, "cyan")),
            ("Current", t.text(t.number(r.current, r.unit))),
            ("Cadence", _cadence_text(r, detail.as_of, tz)),
            ("Forecast", t.text(forecast_text(r, compact=False) if r.forecast else
                                "— (needs 3 check-ins at different times)"))]),
        ("Flags", t.flags_text(r.flags) if r.flags else t.text(None)),
    ]
    if r.blocker:
        lines.append(("Blocker", t.text(r.blocker, "red")))
    info = t.new_table()
    info.show_header = False
    info.add_column(style="bold")
    info.add_column()
    for label, value in lines:
        info.add_row(label, value)
    console.print(info)
    from rich.text import Text as RichText

    from kpictl.render.chart import trajectory

    color = console.is_terminal and not console.no_color
    chart = None if detail.periods is not None or objective else \
        trajectory(detail, tz=tz, width=min(console.width, 100), color=color)
    if chart:
        console.print()
        chart = chart.rstrip("\n")
        console.print(RichText.from_ansi(chart) if color else RichText(chart))

    if detail.periods is not None:
        from kpictl.render.periods import print_scorecard

        print_scorecard(console, detail, tz)

    if objective:
        print_children(console, detail)
    checkins = t.new_table(title="Check-ins")
    for name in ("ID", "Measured", "", "Value", "By", "Conf.", "Note"):
        checkins.add_column(name, justify="right" if name in ("ID", "Value", "Conf.") else "left")
    for c in detail.checkins[-20:]:
        note = c.note or ""
        if c.blocker:
            note = f"{note} [blocker: {c.blocker}]".strip()
        for fix in c.corrections:  # what it was, and why it changed
            was = ", ".join(f"{name} was {_was(change['from'], tz)}"
                            for name, change in fix.changes.items())
            note = f"{note} [{fix.kind}ed: {was + '; ' if was else ''}{fix.reason}]".strip()
        style = {"retracted": "strike", "amended": "yellow"}.get(c.status, "")
        checkins.add_row(t.text(str(c.id), style),
                         t.text(in_zone(c.measured_at, tz).strftime("%Y-%m-%d %H:%M"), style),
                         t.ago(c.measured_at, detail.as_of),
                         t.text(t.number(c.value)), t.text(c.by),
                         t.text(c.confidence), t.text(note or None))
    if len(detail.checkins) > 20:
        checkins.caption = Text(f"last 20 of {len(detail.checkins)}; all with --format csv")
    if not objective:
        console.print()
        console.print(checkins)

    log = t.new_table(title="Delegation")
    for name in ("From", "Until", "Owner", "By", "Note"):
        log.add_column(name)
    for a in detail.assignments:
        log.add_row(t.text(t.local_date(a.valid_from, tz)),
                    t.text(t.local_date(a.valid_until, tz) if a.valid_until else "now"),
                    t.text(a.to), t.text(a.by), t.text(a.note))
    console.print()
    console.print(log)
    if detail.changes:
        changes = t.new_table(title="Changes")
        for name in ("When", "By", "Field", "From", "To"):
            changes.add_column(name)
        for c in detail.changes:
            changes.add_row(t.text(t.local_date(c.at, tz)), t.text(c.by), t.text(c.field),
                            t.text(_change_value(c.old)), t.text(_change_value(c.new)))
        console.print()
        console.print(changes)
    if detail.feedback:
        fb = t.new_table(title="Feedback")
        for name in ("When", "", "By", "Feedback"):
            fb.add_column(name)
        for f in detail.feedback:
            fb.add_row(t.text(t.local_date(f.at, tz)), t.ago(f.at, detail.as_of), t.text(f.by),
                       t.text(f.text))
        console.print()
        console.print(fb)


PEOPLE_COLUMNS = ["handle", "name", "email", "skills", "capacity", "active_kpis", "manager",
                  "active", "created_at"]



def _window_text(r, tz) -> str:
    """The row's window in the KPI's zone; an ongoing KPI's is its current period."""
    from kpictl.render import table as t

    zone = own_zone(r, tz)
    start = r.period["start"] if r.period else r.start
    text = f"{t.local_date(start, zone)} → {t.local_date(r.due, zone)}"
    return f"period {r.period['label']}: {text}" if r.period else text


def _series_text(r, tz) -> str:
    """An ongoing KPI's series, after its current period's window; nothing for a one-off."""
    from kpictl.render import table as t

    return f", every {r.every} since {t.local_date(r.start, own_zone(r, tz))}" if r.period else ""

def _person_record(p: PersonView) -> dict:
    record = machine.plain(p)
    record["skills"] = [f"{s.skill}:{s.level}" if s.level else s.skill for s in p.skills]
    return record


def render_people(people: list[PersonView], fmt: Format, *, now, no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("people", now, people=people))
    elif fmt is Format.JSONL:
        machine.write_jsonl([machine.plain(p) for p in people])
    elif fmt is Format.CSV:
        machine.write_csv(PEOPLE_COLUMNS, [_person_record(p) for p in people])
    elif fmt is Format.MD:
        machine.write_md_table(["Handle", "Name", "Skills", "Load", "Manager", "Active"], [
            [p.handle, p.name, ", ".join(_person_record(p)["skills"]),
             f"{p.active_kpis}/{p.capacity}", p.manager, "yes" if p.active else "no"]
            for p in people])
    else:
        from kpictl.render import table as t

        console = t.make_console(no_color=no_color)
        if not people:
            console.print(t.text("No people yet. Add one with `kpictl people add HANDLE --name "
                                 "NAME`."))
            return
        grid = t.new_table()
        for name in ("Handle", "Name", "Skills", "Load", "Manager", "Active"):
            grid.add_column(name, no_wrap=name in ("Handle", "Load"))
        for p in people:
            over = p.active_kpis >= p.capacity
            grid.add_row(t.text(p.handle, "bold"), t.text(p.name),
                         t.text(", ".join(_person_record(p)["skills"]) or None),
                         t.text(f"{p.active_kpis}/{p.capacity}", "red" if over else ""),
                         t.text(p.manager), t.text("yes" if p.active else "no"))
        console.print(grid)


def render_person(detail: PersonDetail, fmt: Format, *, now, tz, no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("person", now, as_of=now, person=detail.person,
                                            calibration=detail.calibration, away=detail.away,
                                            kpis=detail.kpis))
        return
    if fmt is Format.JSONL:
        machine.write_jsonl([machine.plain(r) for r in detail.kpis])
        return
    if fmt is Format.CSV:
        machine.write_csv(REPORT_COLUMNS, [_flat(r) for r in detail.kpis])
        return
    from kpictl.render import table as t

    p = detail.person
    if fmt is Format.MD:
        sys.stdout.write(f"# {machine.md_cell(p.handle)} — {machine.md_cell(p.name)}\n\n")
        sys.stdout.write(f"Confidence: {calibration_text(detail.calibration)}\n\n")
        for line in _away_lines(detail.away, now, tz):
            sys.stdout.write(f"{machine.md_cell(line)}\n\n")
    else:
        console = t.make_console(no_color=no_color)
        head = t.text(p.handle, "bold")
        head.append("  ")
        head.append(t.text(p.name))
        head.append(t.text(f"  ({p.email})" if p.email else ""))
        console.print(head)
        console.print(t.text(f"skills: {', '.join(_person_record(p)['skills']) or '—'}; "
                             f"load {p.active_kpis}/{p.capacity}; manager {p.manager or '—'}; "
                             f"{'active' if p.active else 'inactive'}"))
        console.print(t.text(f"confidence: {calibration_text(detail.calibration)}"))
        for line in _away_lines(detail.away, now, tz):
            console.print(t.text(line))
    report = Report(as_of=now, generated_at=now, kpis=detail.kpis,
                    summary=_summary(detail.kpis))
    render_report(report, fmt, tz=tz, no_color=no_color)


def _away_lines(windows, now, tz) -> list[str]:
    """The current and coming away windows ("away Mon 1 Feb → Fri 12 Feb, covered by ben")."""
    from kpictl.render.text import local_day

    lines = []
    for w in windows:
        if w.ends < now:
            continue
        cover = f", covered by {w.cover}" if w.cover else ", their manager covers"
        lines.append(f"away {local_day(w.starts, tz)} → {local_day(w.ends, tz)}{cover}")
    return lines


def calibration_text(cal) -> str:
    """"over-confident (Brier 0.31 over 12 check-ins)"."""
    if cal.brier is None:
        return cal.label
    return f"{cal.label} (Brier {cal.brier:.2f} over {cal.predictions} check-ins)"


def _summary(rows):
    from kpictl.domain import Status
    from kpictl.schemas import Summary

    by_status = {str(s): 0 for s in Status}
    for r in rows:
        by_status[r.status] += 1
    return Summary(total=len(rows), by_status=by_status)
