"""`report KEY` of an objective: its roll-up and its children's contributions (issue 21).

Every number comes from the service (:func:`kpictl.services.rollup.contributions`); this
module only lays it out, for the terminal, Markdown, CSV and HTML.
"""

from __future__ import annotations

from kpictl.schemas import KpiDetail

CHILD_HEADERS = ["KPI", "Title", "Owner", "Status", "Weight", "Progress", "Expected",
                 "Contribution"]
CHILD_COLUMNS = ["key", "title", "owner", "kind", "weight", "status", "progress",
                 "expected_progress", "contribution"]


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _weight(value) -> str:
    from kpictl.render.text import number

    return number(value)


def child_cells(child: dict) -> list[str]:
    return [child["key"], child["title"], child["owner"] or "—",
            child["status"].replace("_", " "), _weight(child["weight"]),
            _pct(child["progress"]), _pct(child["expected_progress"]),
            _pct(child["contribution"])]


def summary_text(detail: KpiDetail) -> str:
    """``3 children; progress is their weighted mean (weights 2, 1, 1)``."""
    children = detail.children or []
    if not children:
        return "objective with no children yet: link KPIs with --parent"
    weights = ", ".join(_weight(c["weight"]) for c in children)
    noun = "child" if len(children) == 1 else "children"
    return (f"objective: progress is the weighted mean of its {len(children)} {noun} "
            f"(weights {weights})")


def print_children(console, detail: KpiDetail) -> None:
    from kpictl.render import table as t

    table = t.new_table(title="Children (contribution = weight × progress ÷ Σ weights)")
    for name in CHILD_HEADERS:
        table.add_column(name, justify="right" if name in (
            "Weight", "Progress", "Expected", "Contribution") else "left")
    for child in detail.children or []:
        cells = child_cells(child)
        table.add_row(t.text(cells[0], "bold"), t.text(cells[1]), t.text(cells[2]),
                      t.status_text(child["status"]), *(t.text(c) for c in cells[4:]))
    console.print()
    console.print(table)


def write_md(detail: KpiDetail, out) -> None:
    from kpictl.render import machine

    out.write(summary_text(detail) + "\n\n")
    machine.write_md_table(CHILD_HEADERS, [child_cells(c) for c in detail.children or []], out)


def csv_records(detail: KpiDetail) -> list[dict]:
    return [{name: child[name] for name in CHILD_COLUMNS} for child in detail.children or []]
