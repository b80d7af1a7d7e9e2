"""`kpictl report`: the portfolio, or one KPI in detail."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli.common import AsOfOption, FormatOption, JsonOption, choose_format, state
from kpictl.domain import Status


def report(
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Argument(metavar="[KEY]", help="Show one KPI in detail.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", metavar="HANDLE")] = None,
    tag: Annotated[str | None, typer.Option("--tag", metavar="TAG")] = None,
    status: Annotated[
        list[Status] | None,
        typer.Option("--status", case_sensitive=False, help="Only these statuses; repeat."),
    ] = None,
    as_of: AsOfOption = None,
    fail_on: Annotated[
        str | None,
        typer.Option("--fail-on", metavar="LIST",
                     help="Exit 5 if any KPI has one of these statuses or flags "
                     "(comma-separated, e.g. overdue,stale)."),
    ] = None,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show where every KPI stands: status, progress against pace, flags.

    Example: kpictl report --owner ana --format md
    """
    from kpictl.domain import Flag
    from kpictl.errors import FailOnMatched, InvalidInput
    from kpictl.render.reports import render_kpi_detail, render_report
    from kpictl.services.reports import build_kpi_detail, build_report

    st = state(ctx)
    now = st.now()
    instant = st.when(as_of, option="--as-of", bound="end", now=now) or now
    fail_set: set[str] = set()
    if fail_on:
        known = {str(s) for s in Status} | {str(f) for f in Flag}
        fail_set = {item.strip().lower() for item in fail_on.split(",") if item.strip()}
        unknown = sorted(fail_set - known)
        if unknown:
            raise InvalidInput(f"--fail-on: unknown status or flag {', '.join(unknown)}; "
                               f"use any of {', '.join(sorted(known))}")
    tz = st.zone()
    fmt_ = choose_format(fmt, as_json)
    db = st.open_db()
    with db.session() as session:
        if key:
            detail = build_kpi_detail(session=session, key=key, as_of=instant, now=now, tz=tz)
            rows = [detail.kpi]
        else:
            result = build_report(session=session, as_of=instant, now=now, tz=tz, owner=owner,
                                  tag=tag, status=status)
            rows = result.kpis
    if key:
        render_kpi_detail(detail, fmt_, tz=tz, no_color=st.no_color)
    else:
        render_report(result, fmt_, tz=tz, no_color=st.no_color)
    if fail_set:
        hits = [r.key for r in rows if r.status in fail_set or fail_set.intersection(r.flags)]
        if hits:
            shown = ", ".join(hits[:5]) + (f" and {len(hits) - 5} more" if len(hits) > 5 else "")
            raise FailOnMatched(f"--fail-on matched {len(hits)} KPI(s): {shown}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
