"""`kpictl people tree`: the reporting tree as indented text, Markdown or JSON."""

from __future__ import annotations

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.services.tree import TreeNode


def _lines(nodes: list[TreeNode], depth: int = 0):
    for node in nodes:
        yield depth, node
        yield from _lines(node.reports, depth + 1)


def _record(node: TreeNode) -> dict:
    return {"handle": node.handle, "name": node.name, "active": node.active,
            "active_kpis": node.active_kpis, "capacity": node.capacity,
            "reports": [_record(r) for r in node.reports]}


def render_tree(roots: list[TreeNode], fmt: Format, *, now, no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("tree", now, roots=[_record(r) for r in roots]))
        return
    rows = list(_lines(roots))
    if fmt is Format.JSONL:
        machine.write_jsonl([{"handle": n.handle, "depth": d, "name": n.name,
                              "active_kpis": n.active_kpis, "capacity": n.capacity}
                             for d, n in rows])
        return
    if fmt is Format.CSV:
        machine.write_csv(["handle", "depth", "name", "active_kpis", "capacity"],
                          [{"handle": n.handle, "depth": d, "name": n.name,
                            "active_kpis": n.active_kpis, "capacity": n.capacity}
                           for d, n in rows])
        return
    if fmt is Format.MD:
        machine.write_md_table(["Person", "Name", "Load"], [
            ["\u00a0\u00a0" * d + n.handle, n.name, f"{n.active_kpis}/{n.capacity}"]
            for d, n in rows])
        return
    from kpictl.render import table as t

    console = t.make_console(no_color=no_color)
    if not rows:
        console.print(t.text("No people yet. Add one with `kpictl people add HANDLE --name NAME`."))
        return
    for depth, node in rows:
        over = node.active_kpis >= node.capacity
        line = t.text("  " * depth + ("└ " if depth else ""))
        line.append(node.handle, "bold")
        line.append(f"  {node.name}  ")
        line.append(f"{node.active_kpis}/{node.capacity}", "red" if over else "")
        if not node.active:
            line.append("  (inactive)", "dim")
        console.print(line)
