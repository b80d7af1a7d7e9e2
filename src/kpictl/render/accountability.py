"""Renderers for `report --by owner` and the digest (`report --since` / `--week`)."""

from __future__ import annotations

import sys

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.schemas import Digest, OwnersReport, Report

OWNER_COLUMNS = ["handle", "name", "active", "kpis", "on_track", "at_risk", "off_track", "overdue",
                 "no_data", "checkins_on_time", "checkins_late", "checkins_missed", "on_time_rate",
                 "closed_achieved", "closed_missed", "hit_rate", "confidence_predictions",
                 "confidence_brier", "confidence_bias", "calibration"]
_COUNTED = ("on_track", "at_risk", "off_track", "overdue", "no_data")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"


def render_owners(report: OwnersReport, fmt: Format, *, tz, no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("owners", report.generated_at, as_of=report.as_of,
                                            owners=report.owners))
        return
    if fmt is Format.JSONL:
        machine.write_jsonl([machine.plain(o) for o in report.owners])
        return
    flat = [{**machine.plain(o), **o.by_status} for o in report.owners]
    if fmt is Format.CSV:
        machine.write_csv(OWNER_COLUMNS, flat)
        return
    headers = ["Owner", "KPIs", "On track", "At risk", "Off track", "Overdue", "No data",
               "Check-ins on time", "Late", "Missed", "Hit rate", "Confidence"]
    rows = [[o.handle, o.kpis, *(o.by_status[s] for s in _COUNTED),
             f"{o.checkins_on_time} ({_pct(o.on_time_rate)})", o.checkins_late,
             o.checkins_missed,
             f"{_pct(o.hit_rate)} of {o.closed_achieved + o.closed_missed}",
             o.calibration if o.confidence_brier is None
             else f"{o.calibration} ({o.confidence_brier:.2f})"]
            for o in report.owners]
    if fmt is Format.MD:
        sys.stdout.write(f"# Accountability by owner — {report.as_of.astimezone(tz):%Y-%m-%d}\n\n")
        machine.write_md_table(headers, rows)
        return
    from kpictl.render import table as t

    console = t.make_console(no_color=no_color)
    on_tty = console.width < t.OFF_TTY_WIDTH
    # The table adds a bar of each person's on-time share of check-ins after their KPI count.
    headers = [*headers[:2], "On time", *headers[2:]]
    rows = [[*row[:2], o.on_time_rate, *row[2:]] for o, row in zip(report.owners, rows)]
    shown = list(headers)
    # A narrow terminal gives up detail columns first; the owner is never cut.
    droppable = ["No data", "Late", "Confidence", "On time", "Overdue", "Hit rate", "Off track"]
    while True:
        grid = t.new_table(title=f"Accountability by owner as of "
                                 f"{report.as_of.astimezone(tz):%Y-%m-%d %H:%M} {tz.name}")
        for h in shown:
            grid.add_column(h, justify="left" if h in ("Owner", "On time") else "right",
                            no_wrap=True)
        for o, row in zip(report.owners, rows):
            cells = []
            for h, value in zip(headers, row):
                if h not in shown:
                    continue
                if h == "On time":
                    cells.append(t.bar(value))
                    continue
                style = "bold" if h == "Owner" and o.active else ""  # inactive: not bold
                if h in ("Overdue", "Off track", "Missed") and value:
                    style = "red"
                elif h == "At risk" and value:
                    style = "bold yellow"
                cells.append(t.text(value, style))
            grid.add_row(*cells)
        left = [h for h in droppable if h in shown]
        natural = console.measure(grid, options=console.options.update_width(t.OFF_TTY_WIDTH))
        if not on_tty or not left or natural.maximum <= console.width:
            break
        shown.remove(left[0])
    console.print(grid)


def render_digest(digest: Digest, fmt: Format, *, tz, no_color: bool = False,
                  portfolio: Report | None = None,
                  trends: dict[str, list[float]] | None = None) -> None:
    """``portfolio`` and ``trends`` are shown by the HTML page only (the weekly mail)."""
    if fmt is Format.HTML:
        from kpictl.render.html import digest_page

        sys.stdout.write(digest_page(digest, tz=tz, portfolio=portfolio, trends=trends))
        return
    if fmt in (Format.JSON, Format.JSONL, Format.CSV):
        doc = machine.envelope("digest", digest.generated_at, since=digest.since,
                               until=digest.until, summary=digest.summary,
                               checkins=digest.checkins, status_changes=digest.status_changes,
                               missed_checkins=digest.missed_checkins, new_kpis=digest.new_kpis,
                               reassigned=digest.reassigned, closed=digest.closed)
        if fmt is Format.JSON:
            machine.write_json(doc)
            return
        events = []
        for section in ("checkins", "status_changes", "missed_checkins", "new_kpis",
                        "reassigned", "closed"):
            events += [{"type": section, **item} for item in doc[section]]
        if fmt is Format.JSONL:
            machine.write_jsonl(events)
        else:
            machine.write_csv(["type", "key", "owner", "by", "at", "measured_at", "due_by",
                               "value", "before", "after", "detail", "note", "blocker"], events)
        return
    day = lambda d: d.astimezone(tz).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    sections = [
        ("Status changes", ["KPI", "Owner", "Before", "After"],
         [[c.key, c.owner, (c.before or "new").replace("_", " "), c.after.replace("_", " ")]
          for c in digest.status_changes]),
        ("Missed check-ins", ["KPI", "Owner", "Due by"],
         [[m.key, m.owner, day(m.due_by)] for m in digest.missed_checkins]),
        ("Check-ins", ["Measured", "KPI", "Value", "By", "Note"],
         [[day(c.measured_at), c.key, c.value, c.by,
           (c.note or "") + (f" [blocker: {c.blocker}]" if c.blocker else "")]
          for c in digest.checkins]),
        ("New KPIs", ["KPI", "Owner", "Start", "Title"],
         [[e.key, e.owner, day(e.at), e.detail] for e in digest.new_kpis]),
        ("Reassigned", ["KPI", "To", "At", ""],
         [[e.key, e.owner, day(e.at), e.detail] for e in digest.reassigned]),
        ("Closed", ["KPI", "Owner", "At", "Outcome"],
         [[e.key, e.owner, day(e.at), e.detail] for e in digest.closed]),
    ]
    title = f"Digest {day(digest.since)} → {day(digest.until)} ({tz.name})"
    labels = {"checkins": "check-ins", "missed_checkins": "missed check-ins",
              "new_kpis": "new KPIs"}
    counts = ", ".join(f"{n} {labels.get(k, k.replace('_', ' '))}"
                       for k, n in digest.summary.items())
    if fmt is Format.MD:
        sys.stdout.write(f"# {title}\n\n{counts}\n")
        for name, headers, rows in sections:
            if rows:
                sys.stdout.write(f"\n## {name}\n\n")
                machine.write_md_table(headers, rows)
        return
    from kpictl.render import table as t

    console = t.make_console(no_color=no_color)
    console.print(t.text(title, "bold"))
    console.print(t.text(counts))
    for name, headers, rows in sections:
        if not rows:
            continue
        grid = t.new_table(title=name)
        for h in headers:
            grid.add_column(h)
        for row in rows:
            grid.add_row(*(t.text(v if not isinstance(v, float) else t.number(v)) for v in row))
        console.print(grid)
