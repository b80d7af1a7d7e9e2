"""Renderers for `report --by owner` and the digest (`report --since` / `--week`)."""

from __future__ import annotations

import sys

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.render.text import in_zone
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
    rows = [[o.handle, o.kpis, *(o.by_status[s] for s in _COUNTED), _on_time(o),
             o.checkins_late, o.checkins_missed, _hit_rate(o), _confidence(o)]
            for o in report.owners]
    if fmt is Format.MD:
        sys.stdout.write(f"# Accountability by owner — {in_zone(report.as_of, tz):%Y-%m-%d}\n\n")
        machine.write_md_table(headers, rows)
        return
    from kpictl.render import table as t
    from kpictl.render.columns import Column, fit, hidden_note

    console = t.make_console(no_color=no_color)
    # On a terminal the on-time share is one bar with its percentage and the number of slots
    # (not a bar beside a column that repeats it); a narrow screen gives up detail first.
    columns = [Column("Owner"), Column("KPIs", justify="right"),
               Column("On time", priority=1), Column("On track", 6, "right"),
               Column("At risk", 4, "right"), Column("Off track", 3, "right"),
               Column("Overdue", 3, "right"), Column("No data", 7, "right"),
               Column("Late", 8, "right"), Column("Missed", 3, "right"),
               Column("Hit rate", 2), Column("Confidence", 9)]
    cells = []
    for o in report.owners:
        style = {"Owner": "bold" if o.active else ""}  # inactive: not bold
        row = {"Owner": t.text(o.handle, style["Owner"]), "KPIs": t.text(o.kpis)}
        slots = o.checkins_on_time + o.checkins_late + o.checkins_missed
        if slots:
            row["On time"] = t.bar(o.on_time_rate)
            row["On time"].append(f" of {slots}")
        else:
            row["On time"] = t.text("no slots yet", "dim")
        for status, name in zip(_COUNTED, ("On track", "At risk", "Off track", "Overdue",
                                           "No data")):
            value = o.by_status[status]
            row[name] = t.text(value, "red" if value and status in ("off_track", "overdue")
                               else "bold yellow" if value and status == "at_risk" else "")
        row["Late"] = t.text(o.checkins_late)
        row["Missed"] = t.text(o.checkins_missed, "red" if o.checkins_missed else "")
        row["Hit rate"] = t.text(_hit_rate(o))
        row["Confidence"] = t.text(_confidence(o))
        cells.append(row)

    def make_table():
        return t.new_table(title=f"Accountability by owner as of "
                                 f"{in_zone(report.as_of, tz):%Y-%m-%d %H:%M} {tz.name}")

    fitted = fit(console, columns, cells, make_table)
    console.print(fitted.table)
    if fitted.hidden:
        console.print(hidden_note(fitted.hidden, width=console.width))


def _on_time(o) -> str:
    """``19 of 22 (86%)``; a person with no slots due yet has no share to show."""
    slots = o.checkins_on_time + o.checkins_late + o.checkins_missed
    if not slots:
        return "no slots yet"
    return f"{o.checkins_on_time} of {slots} ({_pct(o.on_time_rate)})"


def _hit_rate(o) -> str:
    closed = o.closed_achieved + o.closed_missed
    return f"{_pct(o.hit_rate)} of {closed}" if closed else "none closed"


def _confidence(o) -> str:
    """The calibration in words, with the Brier score named (0 perfect, 0.25 a coin)."""
    if o.confidence_brier is None:
        return o.calibration
    return f"{o.calibration} (Brier {o.confidence_brier:.2f})"


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
                               reassigned=digest.reassigned, closed=digest.closed,
                               source_failures=digest.source_failures,
                               periods_closed=digest.periods_closed)
        if fmt is Format.JSON:
            machine.write_json(doc)
            return
        events = []
        for section in ("checkins", "status_changes", "missed_checkins", "new_kpis",
                        "reassigned", "closed", "source_failures", "periods_closed"):
            events += [{"type": section, **item} for item in doc[section]]
        if fmt is Format.JSONL:
            machine.write_jsonl(events)
        else:
            machine.write_csv(["type", "key", "owner", "by", "at", "measured_at", "due_by",
                               "value", "before", "after", "detail", "note", "blocker",
                               "failures", "first_at", "last_at", "error"], events)
        return
    day = lambda d: in_zone(d, tz).strftime("%Y-%m-%d %H:%M")  # noqa: E731
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
        ("Periods closed", ["KPI", "Owner", "Ended", "Period and outcome"],
         [[e.key, e.owner, day(e.at), e.detail] for e in digest.periods_closed]),
        ("Source failures", ["KPI", "Owner", "Failed pulls", "Last", "Error"],
         [[f.key, f.owner, str(f.failures), day(f.last_at), f.error]
          for f in digest.source_failures]),
    ]
    title = f"Digest {day(digest.since)} → {day(digest.until)} ({tz.name})"
    labels = {"checkins": "check-ins", "missed_checkins": "missed check-ins",
              "new_kpis": "new KPIs", "source_failures": "KPIs with failed pulls"}
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
