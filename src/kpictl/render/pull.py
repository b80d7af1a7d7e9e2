"""Renderers for `kpictl pull` (``kpictl.pull/1``) and `kpictl sources` (``kpictl.sources/1``)."""

from __future__ import annotations

from kpictl.domain import Format
from kpictl.render import machine

PULL_COLUMNS = ["kpi", "ok", "value", "at", "action", "error", "seconds"]
SOURCE_COLUMNS = ["kpi", "type", "runs", "sql", "timeout", "by", "variables", "ok", "problems"]
_ACTION_STYLE = {"recorded": "green", "changed": "yellow", "unchanged": "dim",
                 "failed": "bold red"}


def render_pull(report, fmt: Format, *, tz, no_color: bool = False) -> None:
    records = [machine.plain(r) for r in report.results]
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("pull", report.generated_at,
                                            sources_file=report.sources_file,
                                            dry_run=report.dry_run, results=records))
    elif fmt is Format.JSONL:
        for record in records:
            print(machine.dumps(record, indent=None))
    elif fmt is Format.CSV:
        machine.write_csv(PULL_COLUMNS, records)
    elif fmt is Format.MD:
        machine.write_md_table(["KPI", "Value", "Result", "Seconds", "Error"], [
            [r.kpi, r.value, _action(r, report.dry_run), r.seconds, r.error]
            for r in report.results])
    else:
        from kpictl.render import table as t

        console = t.make_console(no_color=no_color)
        if not report.results:
            console.print(t.text("No sources to pull."))
            return
        title = "Pull (dry run: nothing written)" if report.dry_run else "Pull"
        grid = t.new_table(title=title)
        for name in ("KPI", "Value", "Result", "Time", "Error"):
            grid.add_column(name, no_wrap=name != "Error",
                            justify="right" if name in ("Value", "Time") else "left")
        from kpictl.render.text import number

        for r in report.results:
            grid.add_row(t.text(r.kpi, "bold"), t.text(number(r.value) if r.ok else None),
                         t.text(_action(r, report.dry_run), _ACTION_STYLE.get(r.action, "")),
                         t.text(f"{r.seconds:.2f}s"), t.text(r.error, "red"))
        console.print(grid)


def _action(result, dry_run: bool) -> str:
    if dry_run and result.action in ("recorded", "changed"):
        return f"would be {result.action}"
    return result.action


def render_sources(path: str, checks, fmt: Format, *, now, no_color: bool = False) -> None:
    records = [machine.plain(c) for c in checks]
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("sources", now, file=path, sources=records))
    elif fmt is Format.JSONL:
        for record in records:
            print(machine.dumps(record, indent=None))
    elif fmt is Format.CSV:
        machine.write_csv(SOURCE_COLUMNS, records)
    elif fmt is Format.MD:
        machine.write_md_table(["KPI", "Type", "Runs", "Timeout", "By", "Check"], [
            [c.kpi, c.type, c.runs, f"{c.timeout:g}s", c.by,
             "ok" if c.ok else "; ".join(c.problems)] for c in checks])
    else:
        from kpictl.render import table as t

        console = t.make_console(no_color=no_color)
        if not checks:
            console.print(t.text(f"No sources in {path}."))
            return
        grid = t.new_table(title=f"Sources in {path}")
        for name in ("KPI", "Type", "Runs", "Timeout", "By", "Check"):
            grid.add_column(name, no_wrap=name in ("KPI", "Type", "Timeout"))
        for c in checks:
            runs = c.runs if c.sql is None else f"{c.runs}\n{c.sql.strip()}"
            grid.add_row(t.text(c.kpi, "bold"), t.text(c.type), t.text(runs),
                         t.text(f"{c.timeout:g}s"), t.text(c.by or "(owner)"),
                         t.text("ok", "green") if c.ok else t.text("; ".join(c.problems),
                                                                    "bold red"))
        console.print(grid)
