"""`report KEY`'s scorecard of an ongoing KPI: one line per period, the streak, and a bar of
each period's value against its target."""

from __future__ import annotations

from kpictl.render import table as t

_OUTCOME_STYLE = {"achieved": "green", "missed": "red", "no_data": "yellow"}


def _target(p: dict) -> str:
    if p["target"] is not None:
        return t.number(p["target"])
    if p["low"] is not None:
        return f"{t.number(p['low'])}..{t.number(p['high'])}"
    return "—"


def _chart(p: dict, width: int = 12) -> str:
    """The value against the target as a bar: full at the target, ``|`` marks the target."""
    goal = p["target"] if p["target"] is not None else p["high"]
    value = p["value"]
    if value is None or goal in (None, 0) or (value < 0) != (goal < 0):
        return ""
    share = max(0.0, min(value / goal, 1.5))
    filled = round(share * width / 1.5)
    mark = round(width / 1.5)
    cells = ["█" if i < filled else "·" for i in range(width)]
    if mark < width:
        cells[mark] = "|" if cells[mark] == "·" else "┃"
    return "".join(cells)


def print_scorecard(console, detail, tz) -> None:
    rows = detail.periods or []
    table = t.new_table(title=f"Periods ({detail.kpi.every}, {detail.kpi.aggregate})",
                        caption=f"streak: {detail.streak} achieved in a row")
    for name in ("Period", "Target", "Value", "Outcome", "Owner", "Value vs target"):
        table.add_column(name, justify="right" if name in ("Target", "Value") else "left")
    for p in rows[-24:]:
        outcome = p["outcome"] or "open"
        table.add_row(t.text(p["label"]), t.text(_target(p)), t.text(t.number(p["value"])),
                      t.text(outcome.replace("_", " "), _OUTCOME_STYLE.get(outcome, "")),
                      t.text(p["owner"]), t.text(_chart(p) or None, "cyan"))
    console.print()
    console.print(table)


def scorecard_rows(detail) -> list[list[str]]:
    """The scorecard's cells for the HTML page, oldest period first."""
    return [[p["label"], _target(p), t.number(p["value"]),
             (p["outcome"] or "open").replace("_", " "), p["owner"] or "—", _chart(p) or "—"]
            for p in detail.periods or []]
