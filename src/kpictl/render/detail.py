"""`kpictl report KEY`: one KPI's detail in every format. No rule is decided here."""

from __future__ import annotations

import sys

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.render.text import in_zone, own_zone
from kpictl.render.reports import forecast_text, target_text
from kpictl.schemas import KpiDetail


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
         t.text(f"{r.kind}, target {target_text(r)}"
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
