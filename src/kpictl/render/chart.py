"""The trajectory chart of `report KEY`: actual values, the expected pace, the forecast cone.

Drawn by plotext (a terminal plotting library); this module only chooses what to plot. The
chart holds numbers and our own labels, never user text, so its output is safe to print.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kpictl.schemas import KpiDetail


def _days(t: datetime, start: datetime) -> float:
    return (t - start).total_seconds() / 86400


def trajectory(detail: KpiDetail, *, tz, width: int = 80, height: int = 16,
               color: bool = False) -> str | None:
    """The chart as text, or None when there is nothing to draw yet (or nothing drawable:
    values or times written around kpictl beyond what plotext can scale)."""
    try:
        return _trajectory(detail, tz=tz, width=width, height=height, color=color)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None


def _trajectory(detail: KpiDetail, *, tz, width: int, height: int, color: bool) -> str | None:
    import plotext as plt

    row = detail.kpi
    points = [(_days(c.measured_at, row.start), c.value) for c in detail.checkins
              if c.measured_at >= row.start and c.status != "retracted"]
    if not points:
        return None
    x_due = _days(row.due, row.start)
    x_end = max(x_due, points[-1][0])
    plt.clear_figure()
    plt.plotsize(width, height)
    # No theme colours (axes in the terminal's own foreground) and palette colours for the
    # series: readable on dark and light terminals alike (no grey, blue or orange literals).
    plt.theme("clear")
    # Colour tells the series apart on a terminal; off it (pipes, mail) the markers do.
    marker = {"actual": "braille", "pace": "braille", "forecast": "braille", "range": "braille"}
    if not color:
        marker = {"actual": "●", "pace": "·", "forecast": "*", "range": "'"}
    plt.plot([x for x, _ in points], [y for _, y in points], label="actual",
             marker=marker["actual"], color="cyan")
    if row.kind in ("increase", "decrease"):
        pace = [(0.0, row.baseline)]
        pace += [(_days(m.at, row.start), m.value) for m in detail.milestones]
        pace.append((x_due, row.target))
        plt.plot([x for x, _ in pace], [y for _, y in pace], label="expected pace",
                 marker=marker["pace"], color="magenta")
    else:
        for level in (row.target, row.low, row.high):
            if level is not None:
                plt.plot([0.0, x_end], [level, level], marker=marker["pace"], color="magenta")
    f = row.forecast
    if f is not None:
        x0, y0 = points[-1]
        plt.plot([x0, x_due], [y0, f.value_at_due], label="forecast",
                 marker=marker["forecast"], color="green")
        plt.plot([x0, x_due], [y0, f.low], label="80% range", marker=marker["range"],
                 color="yellow")
        plt.plot([x0, x_due], [y0, f.high], marker=marker["range"], color="yellow")
    ticks = [x_end * i / 3 for i in range(4)]
    plt.xticks(ticks, [(row.start + timedelta(days=x)).astimezone(tz).strftime("%m-%d")
                       for x in ticks])
    text = plt.build()
    return text if color else plt.uncolorize(text)
