"""Rich tables for people at a terminal.

User text only ever enters Rich as ``Text`` built from :func:`sanitize`d strings, so markup,
emoji codes and escape sequences stay literal. Off a TTY there is no colour and the table is
laid out wide enough that keys are never cut with ``…``.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kpictl.render.text import in_zone, number, sanitize  # noqa: F401 - number is re-exported

#: Only the terminal's own palette colours (which dark and light themes each tune to be
#: readable), bold where it matters; never blue (dark on black), white/black literals, or
#: "dim" for data a reader needs. Dim is kept for decoration: empty bar cells, "—".
STATUS_STYLE = {
    "on_track": "green",
    "achieved": "bold green",
    "at_risk": "bold yellow",
    "off_track": "red",
    "overdue": "bold red",
    "no_data": "bold magenta",
    "missed": "red",
    "cancelled": "magenta",
}
STATUS_LABEL = {
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
    "no_data": "no data",
}
FLAG_STYLE = {"overdue": "bold red", "stale": "bold yellow", "blocked": "red",
              "low_confidence": "bold yellow", "forecast_miss": "bold yellow",
              "needs_close": "bold cyan", "source_failed": "red"}


class _TrimmedLines:
    """File wrapper that drops the padding Rich leaves at line ends (for pipes and mail)."""

    def __init__(self, file) -> None:
        self._file = file
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            self._file.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._file.write(self._pending.rstrip(" "))
            self._pending = ""
        self._file.flush()

    def isatty(self) -> bool:
        return False


OFF_TTY_WIDTH = 10_000


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich exits 1 here; kpictl's entry point decides (a reader that left is not an error).
        self.quiet = True
        raise BrokenPipeError


def _plain_requested(no_color: bool) -> bool:
    """--no-color, NO_COLOR or TERM=dumb: no escape codes at all (not even bold), and they
    win over FORCE_COLOR."""
    return no_color or bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def make_console(*, no_color: bool = False, stderr: bool = False) -> Console:
    file = sys.stderr if stderr else sys.stdout
    plain = _plain_requested(no_color)
    styles = {"color_system": None} if plain else {}
    console = _Console(file=file, highlight=False, emoji=False, markup=False,
                       no_color=plain or None, soft_wrap=False, **styles)
    if not (hasattr(file, "isatty") and file.isatty()):
        # Off a TTY Rich assumes 80 columns and would cut cells with "…". Tables are not
        # expanded, so an unbounded width lets each take its natural width (pipes, mail).
        console = _Console(file=_TrimmedLines(file), highlight=False, emoji=False,
                           markup=False, no_color=plain or None, width=OFF_TTY_WIDTH,
                           soft_wrap=False, **styles)
    return console


def text(value, style: str = "") -> Text:
    if value is None:
        return Text("—", style="dim")
    return Text(sanitize(str(value)), style=style)


def bar(progress: float | None, width: int = 10) -> Text:
    if progress is None:
        return Text("·" * width + "    —", style="dim")
    filled = round(progress * width)
    result = Text()
    result.append("█" * filled, style="green" if progress >= 1 else "cyan")
    result.append("░" * (width - filled), style="dim")
    result.append(f" {progress * 100:3.0f}%")
    return result


def status_text(status: str) -> Text:
    return Text(STATUS_LABEL.get(status, status), style=STATUS_STYLE.get(status, ""))


def flags_text(flags: list[str]) -> Text:
    result = Text()
    for i, flag in enumerate(flags):
        if i:
            result.append(" ")
        result.append(flag.replace("_", " "), style=FLAG_STYLE.get(flag, ""))
    return result


def span(value: datetime, now: datetime) -> str:
    """How far apart two instants are, in words ("3 days", "2 weeks"): pendulum's humanizer."""
    import pendulum

    return pendulum.instance(value).diff_for_humans(pendulum.instance(now), absolute=True)


def ago(value: datetime | None, now: datetime) -> Text:
    """ "3 days ago" / "in 2 days" relative to the report's instant (JSON keeps exact times)."""
    if value is None:
        return text(None)
    return Text(f"{span(value, now)} ago" if value <= now else f"in {span(value, now)}")


def due_text(due: datetime, now: datetime, status: str, *, state: str = "active",
             prefix: str = "") -> Text:
    """ "in 2 weeks" (yellow within a week), "2 weeks late" in red; closed KPIs say so.

    Only a *closed* KPI reads "closed": one whose target is reached but that nobody closed
    yet keeps its deadline, and past it reads "ended … ago" (its flag says to close it).
    """
    if state != "active":
        return Text("closed")
    if due <= now:
        if status in ("achieved", "on_track"):  # target reached or threshold held: not late
            return Text(f"ended {span(due, now)} ago", style="bold cyan")
        return Text(f"{span(due, now)} late", style="bold red")
    soon = (due - now).total_seconds() <= 7 * 86400
    return Text(f"{prefix}in {span(due, now)}", style="bold yellow" if soon else "")


def local_date(value: datetime | None, tz) -> str:
    if value is None:
        return "—"
    return in_zone(value, tz).strftime("%Y-%m-%d")


def new_table(title: str | None = None, caption: str | None = None) -> Table:
    # Titles and captions can carry user text (a KPI's title): inert like every cell.
    return Table(title=Text(sanitize(title)) if title else None,
                 caption=Text(sanitize(caption)) if caption else None,
                 box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False, header_style="bold",
                 title_justify="left", caption_justify="left")


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 24) -> str:
    """The last ``width`` values as a one-line trend (flat data draws a flat line)."""
    values = values[-width:]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        return SPARK[3] * len(values)
    return "".join(SPARK[round((v - lo) / (hi - lo) * (len(SPARK) - 1))] for v in values)
