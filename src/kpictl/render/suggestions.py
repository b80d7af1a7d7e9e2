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
        machine.write_jsonl(machine.envelope("suggest", result.generated_at, kpi=result.kpi,
                                             weights=result.weights),
                            [machine.plain(c) for c in result.candidates])
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
    grid = t.new_table(title=f"Who should own {_what(result)}",
                       caption=f"score = weighted mean of the components; weights: {weights}")
    for h in headers + (["Why"] if explain else []):
        grid.add_column(h, justify="right" if h in ("#", "Score", "Track record", "Skills",
                                                    "Capacity", "Reliability") else "left",
                        no_wrap=h not in ("Notes", "Why"))
    for row, c in zip(rows, result.candidates):
        cells = [t.text(row[0]), t.text(c.handle, "bold"), t.text(row[2], "bold cyan")]
        cells += [t.text(v) for v in row[3:7]]
        cells += [t.text(row[7], "red" if c.overloaded else ""),
                  t.text(row[8] or None, "bold yellow" if c.overloaded else "")]
        if explain:
            cells.append(t.text("; ".join(c.reasons)))
        grid.add_row(*cells)
    if not result.candidates:
        console.print(t.text("No active people. Add one with `kpictl people add`."))
        return
    console.print(grid)


MOVE_COLUMNS = ["key", "title", "status", "from_owner", "to", "score_from", "score_to", "gain",
                "reason", "command"]


def render_rebalance(plan: Rebalance, fmt: Format, *, no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("rebalance", plan.generated_at,
                                            weights=plan.weights, overloaded=plan.overloaded,
                                            moves=plan.moves))
        return
    if fmt is Format.JSONL:
        machine.write_jsonl(machine.envelope("rebalance", plan.generated_at,
                                             weights=plan.weights, overloaded=plan.overloaded),
                            [machine.plain(m) for m in plan.moves])
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
    grid = t.new_table(title="Proposed moves (apply with the command on the right)")
    for h in ("KPI", "Status", "From", "To", "Score", "Why", "Command"):
        grid.add_column(h, no_wrap=h in ("KPI", "Command"))
    for m in plan.moves:
        grid.add_row(t.text(m.key, "bold"), t.text(m.status.replace("_", " ")),
                     t.text(m.from_owner), t.text(m.to, "bold"),
                     t.text(f"{m.score_from:.2f} → {m.score_to:.2f} (+{m.gain:.2f})", "green"),
                     t.text(m.reason), t.text(m.command, "cyan"))
    console.print(grid)
