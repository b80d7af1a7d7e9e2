"""`kpictl suggest`: who should own a KPI, and why; `--rebalance` for moves."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import FormatOption, JsonOption, choose_format, state, whole

NEW = "A KPI not created yet"
RANKING = "Ranking"


def suggest(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(metavar="KEY", help="An existing KPI.",
                                              autocompletion=complete.kpi_keys)] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="TAG", rich_help_panel=NEW,
                     help="Describe a KPI not created yet by its tags; repeat.",
                     autocompletion=complete.tags),
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", metavar="UNIT", rich_help_panel=NEW,
                                             help="Unit of that new KPI.")] = None,
    top: Annotated[str | None, typer.Option("--top", metavar="N", rich_help_panel=RANKING,
                                            help="Only the best N.")] = None,
    explain: Annotated[bool, typer.Option("--explain", rich_help_panel=RANKING,
                                          help="The evidence, in words.")] = False,
    weight: Annotated[
        list[str] | None,
        typer.Option("--weight", metavar="NAME=W", rich_help_panel=RANKING,
                     help="Change a weight: track, skill, capacity, reliability; repeat.",
                     autocompletion=complete.weights),
    ] = None,
    rebalance_: Annotated[
        bool, typer.Option("--rebalance", help="Propose moves for overloaded people and "
                                               "KPIs at risk, across the whole team.")
    ] = False,
    team: Annotated[str | None, typer.Option("--team", metavar="HANDLE", rich_help_panel=RANKING,
                                             help="Candidates from H's tree only (H and "
                                             "everyone under H).",
                                             autocompletion=complete.handles)] = None,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rank people for a KPI by track record, skills, spare capacity and reliability.

    Example: kpictl suggest sales.new-arr --explain

    Example: kpictl suggest --tag sales --unit EUR --top 3 --weight skill=2

    Example: kpictl suggest --rebalance
    """
    from kpictl.errors import InvalidInput
    from kpictl.render.suggestions import render_rebalance, render_suggestion
    from kpictl.services.suggestions import parse_weights, rebalance, suggest_owners

    st = state(ctx)
    top = whole(top, option="--top", use="a number of people, 1 or more")
    weights = parse_weights(weight or [])
    fmt_ = choose_format(fmt, as_json, ctx=ctx, view="`suggest`")
    now = st.now()
    tz = st.zone()
    if rebalance_:
        if key or tag or unit or top or team:
            raise InvalidInput("--rebalance looks at the whole team: it takes no KEY, --tag, "
                               "--unit, --top or --team")
        with st.open_db(read=True).session() as session:
            plan = rebalance(session=session, now=now, tz=tz, weights=weights)
        render_rebalance(plan, fmt_, no_color=st.no_color)
        return
    with st.open_db(read=True).session() as session:
        result = suggest_owners(session=session, now=now, tz=tz, key=key, tags=tag or [],
                                unit=unit, top=None if team else top, weights=weights)
        if team:
            from kpictl.services.teams import narrow_suggestion
            from kpictl.services.tree import team_of

            result = narrow_suggestion(result, team_of(session, team, now))
            if top is not None:
                result.candidates = result.candidates[:top]
    render_suggestion(result, fmt_, explain=explain, no_color=st.no_color)


def register(app: typer.Typer) -> None:
    app.command("suggest", rich_help_panel="Delegate")(suggest)
