"""`--format html`: one self-contained page per view, for e-mail and the browser.

Jinja2 renders the templates in ``render/templates`` with autoescaping on, and every value a
template prints first passes through :func:`kpictl.render.text.sanitize` (the environment's
``finalize``), so user text (titles, notes, names) can carry neither markup nor control
characters. Only the SVG charts of :mod:`kpictl.render.svg`, built from numbers, are marked
safe. Layout is tables and inline styles (mail clients ignore grids and most stylesheets);
nothing is fetched from the network. Like the charts, Jinja2 is imported only on this path.
"""

from __future__ import annotations

from functools import lru_cache

from kpictl import __version__
from kpictl.render import svg
from kpictl.render.text import due_by, in_zone, number, own_zone, sanitize
from kpictl.schemas import Digest, KpiDetail, KpiRow, Report

STATUS_LABEL = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track",
                "no_data": "no data"}


def _finalize(value):
    from markupsafe import Markup

    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return sanitize(str(value))


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("kpictl.render", "templates"), autoescape=True,
                      finalize=_finalize, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.globals.update(status_color=svg.STATUS_COLOR, status_label=STATUS_LABEL,
                       version=__version__)
    return env


def _render(template: str, **context) -> str:
    return _environment().get_template(template).render(**context)


def _safe(markup: str | None):
    from markupsafe import Markup

    return Markup(markup) if markup else None


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"


def _days(row: KpiRow) -> tuple[str, bool]:
    """("in 10d" | "3d late" | "ended 3d ago" | "due today" | "closed", late?)."""
    if row.state != "active":
        return "closed", False
    d = round(row.days_left)
    if row.days_left < 0:
        if row.status in ("achieved", "on_track"):  # reached or held: close it, not late
            return (f"ended {-d}d ago" if d else "ended today"), False
        return (f"{-d}d late" if d else "due today"), True
    return ("due today" if d == 0 else f"in {d}d"), False


def kpi_cells(row: KpiRow, *, tz, trend: list[float] | None = None) -> dict:
    """One KPI as the strings (and sparkline) a template shows; every fact comes from the row."""
    from kpictl.render.reports import forecast_text, target_text

    days, late = _days(row)
    return {
        "key": row.key, "title": row.title, "owner": row.owner or "—",
        "status": row.status, "status_label": STATUS_LABEL.get(row.status, row.status),
        "progress": row.progress, "progress_text": _pct(row.progress),
        # Maintain kinds have no pace: no "expected" at all, not a dash.
        "expected_text": (None if row.expected_progress is None
                          else _pct(row.expected_progress)),
        "behind": (row.progress is not None and row.expected_progress is not None
                   and row.progress < row.expected_progress),
        "current": number(row.current, row.unit), "target": target_text(row),
        "due": in_zone(row.due, own_zone(row, tz)).strftime("%Y-%m-%d"), "days": days, "late": late,
        "forecast": forecast_text(row) if row.forecast else "—",
        "forecast_miss": "forecast_miss" in row.flags,
        "flags": [f.replace("_", " ") for f in row.flags],
        "blocker": row.blocker,
        "sparkline": _safe(svg.sparkline(trend or [])),
    }


def _summary(by_status: dict[str, int]) -> list[tuple[str, int]]:
    return [(s, n) for s, n in by_status.items() if n]


def _portfolio(report: Report, *, tz, trends: dict[str, list[float]]) -> dict:
    from kpictl.render.text import tree_depths

    depths = tree_depths(report.kpis)  # children indented under the parent shown
    return {
        "as_of": in_zone(report.as_of, tz).strftime("%Y-%m-%d %H:%M"),
        "total": report.summary.total,
        "summary": _summary(report.summary.by_status),
        "status_chart": _safe(svg.status_bar(report.summary.by_status)),
        "rows": [{**kpi_cells(r, tz=tz, trend=trends.get(r.key)), "depth": depths[r.key]}
                 for r in report.kpis],
        "filters": {k: v for k, v in report.filters.items() if v},
    }


def report_page(report: Report, *, tz, trends: dict[str, list[float]]) -> str:
    """`report --format html`: the portfolio with a sparkline per KPI."""
    return _render("report.html.j2", tz=tz.name,
                   portfolio=_portfolio(report, tz=tz, trends=trends))


def digest_page(digest: Digest, *, tz, portfolio: Report | None = None,
                trends: dict[str, list[float]] | None = None) -> str:
    """`report --since/--week --format html`: the window's events, then where things stand."""
    when = lambda d: in_zone(d, tz).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    labels = {"checkins": "check-ins", "missed_checkins": "missed check-ins",
              "new_kpis": "new KPIs", "source_failures": "KPIs with failed pulls"}
    sections = [
        ("Status changes", ["KPI", "Owner", "Before", "After"],
         [[c.key, c.owner, STATUS_LABEL.get(c.before or "", c.before or "new"),
           STATUS_LABEL.get(c.after, c.after)] for c in digest.status_changes]),
        ("Missed check-ins", ["KPI", "Owner", "Due by"],
         [[m.key, m.owner, when(m.due_by)] for m in digest.missed_checkins]),
        ("Check-ins", ["Measured", "KPI", "Value", "By", "Note"],
         [[when(c.measured_at), c.key, number(c.value), c.by,
           (c.note or "") + (f" [blocker: {c.blocker}]" if c.blocker else "")]
          for c in digest.checkins]),
        ("New KPIs", ["KPI", "Owner", "Start", "Title"],
         [[e.key, e.owner, when(e.at), e.detail] for e in digest.new_kpis]),
        ("Reassigned", ["KPI", "To", "At", "Note"],
         [[e.key, e.owner, when(e.at), e.detail] for e in digest.reassigned]),
        ("Closed", ["KPI", "Owner", "At", "Outcome"],
         [[e.key, e.owner, when(e.at), e.detail] for e in digest.closed]),
        ("Source failures", ["KPI", "Owner", "Failed pulls", "Last", "Error"],
         [[f.key, f.owner, str(f.failures), when(f.last_at), f.error]
          for f in digest.source_failures]),
    ]
    counts = ", ".join(f"{n} {labels.get(k, k.replace('_', ' '))}"
                       for k, n in digest.summary.items())
    return _render("digest.html.j2", tz=tz.name, since=when(digest.since),
                   until=when(digest.until), counts=counts,
                   sections=[s for s in sections if s[2]],
                   portfolio=_portfolio(portfolio, tz=tz, trends=trends or {})
                   if portfolio is not None else None)


def kpi_page(detail: KpiDetail, *, tz) -> str:
    """`report KEY --format html`: the facts, the trajectory chart, the history."""
    from kpictl.render.reports import forecast_text

    r = detail.kpi
    day = lambda d: in_zone(d, tz).strftime("%Y-%m-%d")  # noqa: E731
    own_day = lambda d: in_zone(d, own_zone(r, tz)).strftime("%Y-%m-%d")  # noqa: E731
    kind = f"{r.kind}, target {kpi_cells(r, tz=tz)['target']}"
    if r.baseline is not None:
        kind += f" from baseline {number(r.baseline)}"
    objective = detail.children is not None
    if objective:
        from kpictl.render.objectives import child_cells, summary_text

        kind = summary_text(detail)
    facts = [
        ("Owner", r.owner or "—"), ("Kind", kind + (f" {r.unit}" if r.unit else "")),
        ("Window", (f"period {r.period['label']}: {own_day(r.period['start'])} → "
                    f"{own_day(r.due)}, every {r.every} since {own_day(r.start)}") if r.period
         else f"{own_day(r.start)} → {own_day(r.due)}"),
        ("Progress", _pct(r.progress) if r.expected_progress is None
         else f"{_pct(r.progress)} (expected {_pct(r.expected_progress)})"),
        ("Current", number(r.current, r.unit)),
        ("Cadence", f"{r.cadence} in {r.zone} (grace {r.grace}), next check-in "
                    + (due_by(r.next_checkin_due, r.zone, detail.as_of) if r.next_checkin_due
                       else "— (no slot left before due)")),
        ("Forecast", forecast_text(r, compact=False) if r.forecast
         else "— (needs 3 check-ins at different times)"),
        ("Flags", ", ".join(f.replace("_", " ") for f in r.flags) or "—"),
    ]
    if r.blocker:
        facts.append(("Blocker", r.blocker))
    if objective:  # no values, cadence or forecast of its own
        facts = [f for f in facts if f[0] not in ("Current", "Cadence", "Forecast")]
    checkins = [[c.id, "" if c.status == "current" else c.status,
                 in_zone(c.measured_at, tz).strftime("%Y-%m-%d %H:%M"), number(c.value),
                 c.by, "—" if c.confidence is None else c.confidence,
                 (c.note or "") + (f" [blocker: {c.blocker}]" if c.blocker else "")]
                for c in detail.checkins]
    assignments = [[day(a.valid_from), day(a.valid_until) if a.valid_until else "now", a.to,
                    a.by, a.note] for a in detail.assignments]
    feedback = [[day(f.at), f.by, f.text] for f in detail.feedback]
    periods = None
    if detail.periods is not None:  # an ongoing KPI's scorecard (render/periods.py)
        from kpictl.render.periods import scorecard_rows

        periods = scorecard_rows(detail)
    return _render("kpi.html.j2", tz=tz.name, periods=periods, streak=detail.streak,
                   as_of=in_zone(detail.as_of, tz).strftime("%Y-%m-%d %H:%M"),
                   kpi=kpi_cells(r, tz=tz), facts=facts,
                   chart=None if periods is not None or objective
                   else _safe(svg.trajectory(detail, tz=tz)),
                   checkins=checkins, objective=objective,
                   children=[child_cells(c) for c in detail.children] if objective else None,
                   assignments=assignments, feedback=feedback)


def render_nudge_page(*, recipient, as_of, tz, items) -> str:
    """The HTML part of one recipient's nudge mail, in the look of the report pages."""
    count = f"{len(items)} thing{'s' if len(items) != 1 else ''} to do"
    return _render("nudge.html.j2", name=recipient.name, count=count, items=items,
                   as_of=f"{as_of.astimezone(tz):%Y-%m-%d %H:%M}", tz=getattr(tz, "name", tz))
