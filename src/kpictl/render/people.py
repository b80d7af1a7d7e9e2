"""`kpictl people list` and `people show`: every format. No rule is decided here."""

from __future__ import annotations

import sys

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.render.reports import REPORT_COLUMNS, flat_record, render_report
from kpictl.schemas import PersonDetail, PersonView, Report


PEOPLE_COLUMNS = ["handle", "name", "email", "skills", "capacity", "active_kpis", "manager",
                  "active", "created_at"]


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
        machine.write_csv(REPORT_COLUMNS, [flat_record(r) for r in detail.kpis])
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
