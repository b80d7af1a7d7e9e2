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
    # Each series has a marker of its own (the legend must tell them apart without colour
    # too: braille dots all look alike); colour adds to it on a terminal.
    marker = {"actual": "●", "pace": "·", "forecast": "*", "range": "'", "milestone": "◆",
              "target": "-"}
    plt.plot([x for x, _ in points], [y for _, y in points], label="actual",
             marker=marker["actual"], color="cyan")
    ys = [y for _, y in points]
    if row.kind in ("increase", "decrease"):
        pace = [(0.0, row.baseline)]
        pace += [(_days(m.at, row.start), m.value) for m in detail.milestones]
        pace.append((x_due, row.target))
        plt.plot([x for x, _ in pace], [y for _, y in pace], label="expected pace",
                 marker=marker["pace"], color="magenta")
        ys += [y for _, y in pace if y is not None]
        if detail.milestones:
            plt.scatter([_days(m.at, row.start) for m in detail.milestones],
                        [m.value for m in detail.milestones], label="milestone",
                        marker=marker["milestone"], color="magenta")
        steps = _target_steps(detail, x_due)
        if steps:
            plt.plot([x for x, _ in steps], [y for _, y in steps], label="target (changed)",
                     marker=marker["target"], color="red")
            ys += [y for _, y in steps]
    else:
        for level in (row.target, row.low, row.high):
            if level is not None:
                plt.plot([0.0, x_end], [level, level], marker=marker["pace"], color="magenta")
                ys.append(level)
    f = row.forecast
    if f is not None:
        x0, y0 = points[-1]
        plt.plot([x0, x_due], [y0, f.value_at_due], label="forecast",
                 marker=marker["forecast"], color="green")
        plt.plot([x0, x_due], [y0, f.low], label="80% range", marker=marker["range"],
                 color="yellow")
        plt.plot([x0, x_due], [y0, f.high], marker=marker["range"], color="yellow")
        ys += [f.low, f.high, f.value_at_due]
    ticks = [x_end * i / 3 for i in range(4)]
    plt.xticks(ticks, [(row.start + timedelta(days=x)).astimezone(tz).strftime("%m-%d")
                       for x in ticks])
    values = [y for y in ys if y is not None]
    if values:
        ticks = nice_ticks(min(values), max(values))
        plt.yticks(ticks, [_label(t, ticks) for t in ticks])
        plt.ylim(min(ticks[0], min(values)), max(ticks[-1], max(values)))
    text = plt.build()
    return text if color else plt.uncolorize(text)


def _target_steps(detail: KpiDetail, x_due: float) -> list[tuple[float, float]]:
    """The target over time as steps, when it was changed (the pace line shows only the
    current one)."""
    row = detail.kpi
    changes = [c for c in detail.changes if c.field == "target"]
    if not changes or row.target is None:
        return []
    steps: list[tuple[float, float]] = []
    x = 0.0
    for c in changes:
        try:
            old = float(c.old) if c.old is not None else None
        except ValueError:
            old = None
        at = max(0.0, min(_days(c.at, row.start), x_due))
        if old is not None:
            steps += [(x, old), (at, old)]
        x = at
    steps += [(x, row.target), (x_due, row.target)]
    return steps


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering ``low``..``high``."""
    import math

    if high == low:
        high, low = high + (abs(high) or 1) * 0.5, low - (abs(low) or 1) * 0.5
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _label(value: float, ticks: list[float]) -> str:
    """``524,620``-style labels people read, with as many decimals as the step needs."""
    import math

    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1
    decimals = 0 if step >= 1 else min(6, math.ceil(-math.log10(step) - 1e-9))
    return f"{value:,.{decimals}f}"
