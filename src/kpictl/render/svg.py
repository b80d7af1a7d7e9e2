"""Inline SVG charts for the HTML report, drawn by pygal; this module only chooses what to plot.

The page is meant for e-mail, so every chart must work with nothing but itself: pygal's
JavaScript is off (``js=[]``), the small configuration ``<script>`` it still writes is removed
along with its comments (which carry its home page's URL), and fonts are the reader's own.
Charts hold numbers and our own labels, never user text. Imported only by the HTML renderer:
pygal costs nothing to the other formats.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from kpictl.render.text import number
from kpictl.schemas import KpiDetail

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "Helvetica, Arial, sans-serif"

#: Status colours with at least 4.5:1 contrast against white (WCAG AA), shared with the page.
STATUS_COLOR = {
    "overdue": "#82071e",
    "off_track": "#cf222e",
    "at_risk": "#9a6700",
    "no_data": "#6639ba",
    "on_track": "#1a7f37",
    "achieved": "#116329",
    "missed": "#a40e26",
    "cancelled": "#57606a",
}
ACTUAL, PACE, FORECAST, RANGE = "#0969da", "#57606a", "#bc4c00", "#d4a72c"


def _style(colors):
    from pygal.style import Style

    return Style(background="transparent", plot_background="transparent", font_family=FONT,
                 foreground="#24292f", foreground_strong="#24292f",
                 foreground_subtle="#8c959f", colors=tuple(colors), opacity="1",
                 stroke_opacity="1", label_font_size=11, legend_font_size=12,
                 major_label_font_size=11)


def _config(**options) -> dict:
    return {"js": [], "disable_xml_declaration": True, **options}


def _inline(svg: str, label: str) -> str:
    """pygal's SVG made fit to inline: no script, no comments, an accessible name."""
    ET.register_namespace("", SVG_NS)
    root = ET.fromstring(svg)  # the parser drops comments
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}script":
                parent.remove(child)
            elif child.tag == f"{{{SVG_NS}}}title":
                child.text = label
    root.set("role", "img")
    root.set("aria-label", label)
    return ET.tostring(root, encoding="unicode")


def sparkline(values: list[float], *, width: int = 120, height: int = 28) -> str | None:
    """A small line of the recent values (None when there are none)."""
    if not values:
        return None
    import pygal

    chart = pygal.Line(**_config(style=_style([ACTUAL]), stroke_style={"width": 2}))
    chart.add("", values if len(values) > 1 else values * 2)  # one value: a flat line
    label = f"trend of the last {len(values)} check-in{'s' if len(values) != 1 else ''}"
    return _inline(chart.render_sparkline(width=width, height=height), label)


def status_bar(by_status: dict[str, int], *, width: int = 640, height: int = 30) -> str | None:
    """One stacked bar of the portfolio by status (None for an empty portfolio); the page's
    status badges are its legend."""
    counts = [(s, n) for s, n in by_status.items() if n]
    if not counts:
        return None
    import pygal

    chart = pygal.HorizontalStackedBar(**_config(
        style=_style([STATUS_COLOR.get(s, PACE) for s, _ in counts]), width=width,
        height=height, show_legend=False, show_y_labels=False, show_x_labels=False,
        show_y_guides=False, show_x_guides=False, margin=0, spacing=0))
    for status, n in counts:
        chart.add(status.replace("_", " "), [n])
    summary = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts)
    return _inline(chart.render(), f"KPIs by status: {summary}")


def trajectory(detail: KpiDetail, *, tz, width: int = 760, height: int = 340) -> str | None:
    """Actual values, the expected pace (or the threshold) and the forecast with its 80 %
    range, against days since the KPI's start (None before the first check-in, or when values
    or times written around kpictl are beyond what a chart can scale)."""
    try:
        return _trajectory(detail, tz=tz, width=width, height=height)
    except (ValueError, OverflowError, ZeroDivisionError):
        return None


def _trajectory(detail: KpiDetail, *, tz, width: int, height: int) -> str | None:
    row = detail.kpi
    start = row.start

    def day(t) -> float:
        return round((t - start).total_seconds() / 86400, 3)

    points = [(day(c.measured_at), c.value) for c in detail.checkins
              if c.measured_at >= start and c.status != "retracted"]
    if not points:
        return None
    import pygal

    x_due = day(row.due)
    x_end = max(x_due, points[-1][0])
    series = [("actual", ACTUAL, points, {"stroke_style": {"width": 2}})]
    if row.kind in ("increase", "decrease"):
        pace = [(0.0, row.baseline), *((day(m.at), m.value) for m in detail.milestones),
                (x_due, row.target)]
        series.append(("expected pace", PACE, pace,
                       {"show_dots": False, "stroke_style": {"width": 2, "dasharray": "6,4"}}))
    else:
        for name, level in (("target", row.target), ("low", row.low), ("high", row.high)):
            if level is not None:
                series.append((name, PACE, [(0.0, level), (x_end, level)],
                               {"show_dots": False,
                                "stroke_style": {"width": 2, "dasharray": "6,4"}}))
    f = row.forecast
    if f is not None:
        x0, y0 = points[-1]
        series.append(("forecast", FORECAST, [(x0, y0), (x_due, f.value_at_due)],
                       {"stroke_style": {"width": 2, "dasharray": "3,3"}}))
        # Both edges of the range in one series (None breaks the line): one legend entry.
        series.append(("80% range", RANGE, [(x0, y0), (x_due, f.low), (None, None), (x0, y0),
                                            (x_due, f.high)],
                       {"show_dots": False, "allow_interruptions": True,
                        "stroke_style": {"width": 1.5, "dasharray": "2,3"}}))
    ticks = [round(x_end * i / 4, 3) for i in range(5)]
    chart = pygal.XY(**_config(
        style=_style([c for _, c, _, _ in series]), width=width, height=height,
        legend_at_bottom=True, dots_size=3, show_x_guides=False, x_labels=ticks,
        x_value_formatter=lambda x: (start + timedelta(days=x)).astimezone(tz)
        .strftime("%Y-%m-%d"),
        value_formatter=number, margin=8, margin_right=40))
    for name, _, data, options in series:
        chart.add(name, data, **options)
    return _inline(chart.render(), f"trajectory of {len(points)} check-ins against the "
                                   "expected pace and the forecast")
