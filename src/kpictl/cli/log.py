"""`kpictl log`: who changed what, when, and why."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import FormatOption, JsonOption, choose_format, state

FILTERS = "Filters"


def log(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(metavar="KEY", help="Only this KPI's events.",
                                              autocompletion=complete.kpi_keys)] = None,
    since: Annotated[str | None, typer.Option("--since", metavar="DATE", rich_help_panel=FILTERS,
                                              help="Recorded at or after DATE.")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DATE", rich_help_panel=FILTERS,
                                              help="Recorded at or before DATE (a date: its "
                                              "end).")] = None,
    by: Annotated[str | None, typer.Option("--by", metavar="HANDLE", rich_help_panel=FILTERS,
                                           help="Only what this person did.",
                                           autocompletion=complete.handles)] = None,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the timeline of every change: people, KPIs, assignments, check-ins, corrections,
    feedback, closes and reopens — with who, when (recorded) and why.

    Example: kpictl log sales.new-arr --since -2w

    Example: kpictl log --by ana --json | jq -r '.events[].type'
    """
    from kpictl.errors import InvalidInput
    from kpictl.render.log import render_log
    from kpictl.services.log import build_log

    st = state(ctx)
    now = st.now()
    fmt_ = choose_format(fmt, as_json, ctx=ctx, view="`log`")
    start = st.when(since, option="--since", bound="start", now=now)
    end = st.when(until, option="--until", bound="end", now=now)
    if start is not None and end is not None and start > end:
        raise InvalidInput("--since must not be after --until")
    with st.open_db().session() as session:
        result = build_log(session=session, now=now, key=key, since=start, until=end, by=by)
    render_log(result, fmt_, tz=st.zone(), no_color=st.no_color)


def register(app: typer.Typer) -> None:
    app.command("log", rich_help_panel="Track")(log)
