"""Renderers for `suggest` and `suggest --rebalance`."""

from __future__ import annotations

import sys

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.schemas import Rebalance, Suggestion

COMPONENTS = ("track_record", "skill_match", "capacity", "reliability")
# In CSV the components get a `_score` suffix: `capacity` is already the person's capacity.
CANDIDATE_COLUMNS = ["rank", "handle", "name", "score", *(f"{c}_score" for c in COMPONENTS),
                     "active_kpis", "capacity", "overloaded", "current_owner", "reasons"]


def _records(result: Suggestion) -> list[dict]:
    records = []
    for rank, c in enumerate(result.candidates, start=1):
        record = {"rank": rank, **machine.plain(c)}
        record.update({f"{k}_score": v for k, v in record.pop("components").items()})
        records.append(record)
    return records


def _what(result: Suggestion) -> str:
    k = result.kpi
    if k.key:
        return f"{k.key} ({k.title})"
    parts = [f"tags {', '.join(k.tags)}" if k.tags else "", f"unit {k.unit}" if k.unit else ""]
    return "a new KPI with " + " and ".join(p for p in parts if p)


def render_suggestion(result: Suggestion, fmt: Format, *, explain: bool,
                      no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("suggest", result.generated_at, kpi=result.kpi,
                                            weights=result.weights,
                                            candidates=result.candidates))
        return
    if fmt is Format.JSONL:
        machine.write_jsonl([machine.plain(c) for c in result.candidates])
        return
    if fmt is Format.CSV:
        machine.write_csv(CANDIDATE_COLUMNS, _records(result))
        return
    weights = ", ".join(f"{k.split('_')[0]} {v:g}" for k, v in result.weights.items())
    headers = ["#", "Person", "Score", "Track record", "Skills", "Capacity", "Reliability",
               "Load", "Notes"]
    rows = []
    for rank, c in enumerate(result.candidates, start=1):
        notes = [n for n, on in (("current owner", c.current_owner),
                                 ("overloaded", c.overloaded)) if on]
        rows.append([rank, c.handle, f"{c.score:.2f}",
                     *(f"{getattr(c.components, n):.2f}" for n in COMPONENTS),
                     f"{c.active_kpis}/{c.capacity}", ", ".join(notes), c.reasons])
    if fmt is Format.MD:
        sys.stdout.write(f"# Who should own {machine.md_cell(_what(result))}\n\n"
                         f"Weights: {weights}\n\n")
        machine.write_md_table(headers + (["Why"] if explain else []),
                               [r[:-1] + (["; ".join(r[-1])] if explain else []) for r in rows])
        return
    from kpictl.render import table as t

    console = t.make_console(no_color=no_color)
    if not result.candidates:
        console.print(t.text("No active people. Add one with `kpictl people add`."))
        return
    title = f"Who should own {_what(result)}"
    caption = f"score = weighted mean of the components; weights: {weights}"

    def cells(row, c, why: bool) -> list:
        out = [t.text(row[0]), t.text(c.handle, "bold"), t.text(row[2], "bold cyan")]
        out += [t.text(v) for v in row[3:7]]
        out += [t.text(row[7], "red" if c.overloaded else ""),
                t.text(row[8] or None, "bold yellow" if c.overloaded else "")]
        return out + ([t.text("; ".join(c.reasons))] if why else [])

    def table(names, why: bool, **kw):
        grid = t.new_table(**kw)
        for h in names + (["Why"] if why else []):
            grid.add_column(h, justify="right" if h in _NUMERIC else "left",
                            no_wrap=h != "Why")
        for row, c in zip(rows, result.candidates):
            grid.add_row(*cells(row, c, why))
        return grid

    wide = table(headers, explain, title=title, caption=caption)
    if not _too_wide(console, wide):
        console.print(wide)
        return
    # A narrow terminal: short headers, and the reasons below each candidate, whole.
    from kpictl.render.columns import print_with_details

    console.print(t.text(title, "bold"))
    print_with_details(console, table(_SHORT_HEADERS, False),
                       [[t.text("; ".join(c.reasons))] if explain else []
                        for c in result.candidates])
    console.print(t.text(caption, "dim"))


_NUMERIC = {"#", "Score", "Track record", "Skills", "Capacity", "Reliability", "Track", "Cap.",
            "Rel."}
_SHORT_HEADERS = ["#", "Person", "Score", "Track", "Skills", "Cap.", "Rel.", "Load", "Notes"]


def _too_wide(console, table) -> bool:
    """Whether ``table`` would have to cut or squeeze cells on this terminal."""
    from kpictl.render.table import OFF_TTY_WIDTH

    if console.width >= OFF_TTY_WIDTH:
        return False
    natural = console.measure(table, options=console.options.update_width(OFF_TTY_WIDTH))
    return natural.maximum > console.width


MOVE_COLUMNS = ["key", "title", "status", "from_owner", "to", "score_from", "score_to", "gain",
                "reason", "command"]


def render_rebalance(plan: Rebalance, fmt: Format, *, no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("rebalance", plan.generated_at,
                                            weights=plan.weights, overloaded=plan.overloaded,
                                            moves=plan.moves))
        return
    if fmt is Format.JSONL:
        machine.write_jsonl([machine.plain(m) for m in plan.moves])
        return
    if fmt is Format.CSV:
        machine.write_csv(MOVE_COLUMNS, [machine.plain(m) for m in plan.moves])
        return
    if fmt is Format.MD:
        sys.stdout.write("# Proposed moves\n\n")
        machine.write_md_table(["KPI", "Status", "From", "To", "Gain", "Why", "Command"], [
            [m.key, m.status, m.from_owner, m.to, f"+{m.gain:.2f}", m.reason, m.command]
            for m in plan.moves])
        return
    from kpictl.render import table as t

    console = t.make_console(no_color=no_color)
    if not plan.moves:
        console.print(t.text("No moves to propose: nobody is over capacity and no KPI at risk "
                             "has a better-suited owner with room."))
        return
    title = "Proposed moves (apply with the command on the right)"

    def table(names, **kw):
        grid = t.new_table(**kw)
        for h in names:
            grid.add_column(h, no_wrap=h in ("KPI", "Command", "From", "To", "Score"))
        for m in plan.moves:
            cells = {"KPI": t.text(m.key, "bold"), "Status": t.text(m.status.replace("_", " ")),
                     "From": t.text(m.from_owner), "To": t.text(m.to, "bold"),
                     "Score": t.text(f"{m.score_from:.2f} → {m.score_to:.2f} (+{m.gain:.2f})",
                                     "green"),
                     "Why": t.text(m.reason), "Command": t.text(m.command, "cyan")}
            grid.add_row(*(cells[h] for h in names))
        return grid

    wide = table(["KPI", "Status", "From", "To", "Score", "Why", "Command"], title=title)
    if not _too_wide(console, wide):
        console.print(wide)
        return
    # A narrow terminal: each move on one line, its reason and command whole below it.
    from kpictl.render.columns import print_with_details

    console.print(t.text("Proposed moves (apply each with the command below it)", "bold"))
    print_with_details(console, table(["KPI", "Status", "From", "To", "Score"]),
                       [[t.text(m.reason), t.text(m.command, "cyan")] for m in plan.moves])
