"""Fitting a table to the terminal: which columns stay when the screen is narrow.

Each view declares its columns with a *priority* (lower stays longer; ``KEEP`` never goes)
and, optionally, a *group* (columns that only make sense together — Current and Target — go
together) or a *fold* (instead of vanishing, the column's text joins another cell, as the
owner joins the KPI's title). The fitter drops the lowest-priority column until the table's
natural width fits, then says in one dim line how many columns are hidden and how to see
them. A view that gains a column (a flag, a zone, a due display) only gives it a priority:
the layout logic stays the same. Off a terminal nothing is dropped (the width is unbounded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Priority of a column that is never dropped.
KEEP = 0


@dataclass
class Column:
    name: str
    priority: int = KEEP
    justify: str = "left"
    no_wrap: bool = True
    max_width: int | None = None
    group: str | None = None   # columns of one group are dropped together
    fold: str | None = None    # the column whose cell takes this one's text when dropped


@dataclass
class Fitted:
    table: Table
    hidden: list[str]


def fit(console: Console, columns: list[Column], rows: list[dict],
        make_table: Callable[[], Table], *, width: int | None = None,
        folded: Callable[[dict, list[str]], dict] | None = None) -> Fitted:
    """The widest table of ``columns`` that fits ``width`` (default: the console's).

    ``rows`` map column names to cells; ``folded(row, dropped_folds)`` returns the row with
    the folded columns' text moved into their hosts (called whenever a folding column goes).
    """
    from kpictl.render.table import OFF_TTY_WIDTH

    width = width or console.width
    shown = [c for c in columns if any(c.name in r for r in rows) or not rows]
    dropped: list[Column] = []
    while True:
        folds = [c.name for c in dropped if c.fold]
        current = [folded(r, folds) for r in rows] if folded and folds else rows
        table = make_table()
        for c in shown:
            table.add_column(c.name, justify=c.justify, no_wrap=c.no_wrap,
                             max_width=c.max_width)
        for row in current:
            table.add_row(*(row.get(c.name, Text("")) for c in shown))
        if width >= OFF_TTY_WIDTH:
            break
        natural = console.measure(table, options=console.options.update_width(OFF_TTY_WIDTH))
        candidates = [c for c in shown if c.priority != KEEP]
        if natural.maximum <= width or not candidates:
            break
        lowest = max(candidates, key=lambda c: (c.priority, shown.index(c)))
        going = [c for c in shown if c is lowest or (lowest.group and c.group == lowest.group)]
        for c in going:
            shown.remove(c)
            dropped.append(c)
    hidden = [c.name for c in dropped if not c.fold]
    return Fitted(table, hidden)


def hidden_note(hidden: list[str], *, width: int, how: str = "wider terminal or `--format md`"
                ) -> Text:
    """``4 columns hidden (Trend, Exp., …) — wider terminal or `--format md```: one dim line,
    naming the columns when that still fits on it."""
    n = len(hidden)
    head = f"{n} {'column' if n == 1 else 'columns'} hidden"
    named = f"{head} ({', '.join(hidden)}) — {how}"
    return Text(named if len(named) <= width else f"{head} — {how}", style="dim")


def print_with_details(console: Console, table: Table, details: list[list[Text]], *,
                       indent: int = 4) -> None:
    """Print ``table`` (one line per row, no title or caption) with each row followed by its
    ``details``, wrapped below it at the terminal's width: the layout for text too long for a
    column on a narrow screen (a candidate's reasons, a move's command), where a column would
    shrink it to "…"."""
    from rich.padding import Padding

    lines = console.render_lines(table, console.options, pad=False)
    header = len(lines) - len(details)
    for number, line in enumerate(lines):
        console.print(_Line(line), end="")
        row = number - header
        if 0 <= row < len(details):
            for text in details[row]:
                console.print(Padding(text, (0, 0, 0, indent)))


class _Line:
    """One rendered line of segments as a renderable (so styles and colours survive)."""

    def __init__(self, segments) -> None:
        self.segments = segments

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        yield from self.segments
        yield Segment.line()
