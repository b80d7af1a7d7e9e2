"""`kpictl log` in every format: the JSON document ``kpictl.log/1``, its events as JSON Lines,
CSV and Markdown, and a table for people (one line per event, the detail in words)."""

from __future__ import annotations

from datetime import datetime

from kpictl.domain import Format
from kpictl.render import machine

COLUMNS = ["at", "by", "type", "kpi", "person", "detail"]


def detail_text(event, tz) -> str:
    """The detail of an event in a short sentence, for tables and Markdown."""
    d = event.detail

    def show(value) -> str:
        if value is None:
            return "none"
        if isinstance(value, float):
            return f"{value:.15g}"
        if isinstance(value, datetime):
            return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        return str(value)

    t = event.type
    if t == "checkin.recorded":
        text = f"#{d['id']} {show(d['value'])} measured {show(d['measured_at'])}"
        return text + (f" — {d['note']}" if d.get("note") else "")
    if t in ("checkin.amended", "checkin.retracted"):
        changes = ", ".join(f"{name} {show(c['from'])} → {show(c['to'])}"
                            for name, c in d["changes"].items())
        return f"#{d['id']} {changes + '; ' if changes else ''}reason: {d['reason']}"
    if t in ("kpi.changed", "person.changed", "person.deactivated"):
        return f"{d['field']}: {show(d['from'])} → {show(d['to'])}"
    if t == "kpi.closed":
        return f"as {d['outcome']}" + (f" — {d['note']}" if d.get("note") else "")
    if t == "kpi.reopened":
        return f"was {d['was']}; reason: {d['reason']}"
    if t in ("kpi.assigned", "kpi.reassigned"):
        moved = f"from {d['from']}, " if d.get("from") else ""
        note = f" — {d['note']}" if d.get("note") else ""
        return f"{moved}effective {show(d['effective_at'])}{note}"
    if t == "kpi.created":
        return f"{d['title']} ({d['kind']})"
    if t == "person.added":
        return f"{d['name']}"
    if t == "feedback.added":
        return d["text"]
    return ", ".join(f"{k}={show(v)}" for k, v in d.items())


def render_log(log, fmt: Format, *, tz, no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("log", log.generated_at, filters=log.filters,
                                            events=log.events))
        return
    if fmt is Format.JSONL:  # a listing's records and nothing else (PRODUCT §4)
        import sys

        for event in log.events:
            sys.stdout.write(machine.dumps(machine.plain(event), indent=None) + "\n")
        return
    if fmt is Format.CSV:
        machine.write_csv(COLUMNS, [machine.plain(e) for e in log.events])
        return
    if fmt is Format.MD:
        machine.write_md_table(["When", "Who", "What", "KPI / person", "Detail"], [
            [e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), e.by, e.type, e.kpi or e.person,
             detail_text(e, tz)] for e in log.events])
        return
    from kpictl.render import table as t

    console = t.make_console(no_color=no_color)
    if not log.events:
        console.print(t.text("Nothing in the log for these filters."))
        return
    grid = t.new_table()
    for name in ("When", "Who", "What", "KPI / person", "Detail"):
        grid.add_column(name, no_wrap=name in ("When", "What"))
    styles = {"checkin.amended": "yellow", "checkin.retracted": "red", "kpi.closed": "bold",
              "kpi.reopened": "bold yellow"}
    for e in log.events:
        grid.add_row(t.text(e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M")), t.text(e.by),
                     t.text(e.type, styles.get(e.type, "")), t.text(e.kpi or e.person),
                     t.text(detail_text(e, tz)))
    console.print(grid)
