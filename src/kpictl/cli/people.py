"""`kpictl people …`: the people a manager can delegate to."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import (
    ByOption,
    FormatOption,
    JsonOption,
    acting,
    choose_format,
    clock,
    state,
    whole,
)

app = typer.Typer(
    help="The people you can delegate KPIs to: add, list, show, edit, deactivate, tree.\n\n"
    "Example: kpictl people list",
    no_args_is_help=True)
WHO = "Who"
LOAD = "Skills and load"
OUTPUT = "Output"

Handle = Annotated[str, typer.Argument(metavar="HANDLE", help="Lowercase handle, e.g. ana.",
                                       autocompletion=complete.handles)]


@app.command("add")
def add(
    ctx: typer.Context,
    handle: Handle,
    name: Annotated[str, typer.Option("--name", help="Full name.", rich_help_panel=WHO)],
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.",
                                              rich_help_panel=WHO)] = None,
    manager: Annotated[
        str | None, typer.Option("--manager", metavar="HANDLE", rich_help_panel=WHO,
                                 help="Their manager's handle.", autocompletion=complete.handles)
    ] = None,
    skill: Annotated[
        list[str] | None,
        typer.Option("--skill", metavar="SKILL[:LEVEL]", rich_help_panel=LOAD,
                     help="A skill tag with an optional level 1-5, e.g. sales:4; repeat.",
                     autocompletion=complete.skills),
    ] = None,
    capacity: Annotated[
        str | None, typer.Option("--capacity", metavar="N", help="Most active KPIs they should own. Default: 5.",
                                 rich_help_panel=LOAD)
    ] = None,
    db_role: Annotated[
        str | None, typer.Option("--db-role", metavar="ROLE", rich_help_panel=WHO,
                                 help="Their PostgreSQL role on a shared server. Default: the handle.")
    ] = None,
) -> None:
    """Add a person you can delegate KPIs to.

    Example: kpictl people add zoe --name "Zoe Park" --skill sales:4 --capacity 4
    """
    from kpictl.services.people import add_person

    st = state(ctx)
    db = st.open_db()
    with db.session(write=True) as session:
        result = add_person(session=session, now=st.now(), handle=handle, name=name, email=email,
                            skills=skill or [],
                            capacity=whole(capacity, option="--capacity", use=_CAPACITY),
                            manager=manager, db_role=db_role)
    st.say(result.message)


_CAPACITY = "a number of KPIs from 0 to 1000"


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include inactive people.",
                                       rich_help_panel="Filters")] = False,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """List people with their skills and load (active KPIs / capacity).

    Example: kpictl people list --all

    Example: kpictl people list --json
    """
    from kpictl.render.people import render_people
    from kpictl.services.people import list_people

    st = state(ctx)
    fmt_ = choose_format(fmt, as_json, ctx=ctx, view="`people list`")
    db = st.open_db(read=True)
    with db.session() as session:
        people = list_people(session=session, include_inactive=all_)
    render_people(people, fmt_, now=st.now(), no_color=st.no_color)


@app.command("show")
def show(
    ctx: typer.Context,
    handle: Handle,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one person, how well calibrated their confidence is, and the KPIs they own now.

    Example: kpictl people show ana
    """
    from kpictl.render.people import render_person
    from kpictl.services.people import show_person

    st = state(ctx)
    fmt_ = choose_format(fmt, as_json, ctx=ctx, view="`people show`")
    db = st.open_db(read=True)
    now = st.now()
    with db.session() as session:
        detail = show_person(session=session, handle=handle, as_of=now, tz=st.zone())
    render_person(detail, fmt_, now=now, tz=st.zone(), no_color=st.no_color)


@app.command("edit")
def edit(
    ctx: typer.Context,
    handle: Handle,
    name: Annotated[str | None, typer.Option("--name", help="New full name.",
                                             rich_help_panel=WHO)] = None,
    email: Annotated[str | None, typer.Option("--email", help="New address; '' clears it.",
                                              rich_help_panel=WHO)] = None,
    manager: Annotated[
        str | None, typer.Option("--manager", metavar="HANDLE", help="New manager; '' clears it.",
                                 rich_help_panel=WHO, autocompletion=complete.handles)
    ] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Reactivate or deactivate.",
                                  rich_help_panel=WHO)
    ] = None,
    skill: Annotated[
        list[str] | None,
        typer.Option("--skill", metavar="SKILL[:LEVEL]", rich_help_panel=LOAD,
                     help="Add or re-level a skill; repeat.", autocompletion=complete.skills),
    ] = None,
    remove_skill: Annotated[
        list[str] | None, typer.Option("--remove-skill", metavar="SKILL", help="Drop a skill.",
                                       rich_help_panel=LOAD, autocompletion=complete.skills)
    ] = None,
    capacity: Annotated[str | None, typer.Option("--capacity", metavar="N", help="New capacity.",
                                                 rich_help_panel=LOAD)] = None,
    db_role: Annotated[
        str | None, typer.Option("--db-role", metavar="ROLE", rich_help_panel=WHO,
                                 help="Link their PostgreSQL role on a shared server; '' unlinks.")
    ] = None,
) -> None:
    """Change a person's details, skills or capacity.

    Example: kpictl people edit ana --skill finance:3 --capacity 6
    """
    from kpictl.services.people import edit_person

    st = state(ctx)
    db = st.open_db()
    with db.session(write=True) as session:
        result = edit_person(session=session, handle=handle, name=name, email=email,
                             add_skills=skill or [], remove_skills=remove_skill or [],
                             capacity=whole(capacity, option="--capacity", use=_CAPACITY),
                             manager=manager, activate=active, now=st.now(),
                             db_role=db_role)
    st.say(result.message)


@app.command("deactivate")
def deactivate(ctx: typer.Context, handle: Handle) -> None:
    """Mark a person inactive (history is kept; they get no new KPIs).

    Example: kpictl people deactivate gus
    """
    from kpictl.services.people import deactivate_person

    st = state(ctx)
    db = st.open_db()
    with db.session(write=True) as session:
        result = deactivate_person(session=session, handle=handle, now=st.now())
    st.say(result.message)


@app.command("away")
def away(
    ctx: typer.Context,
    handle: Handle,
    from_: Annotated[str | None, typer.Option("--from", metavar="DATE", rich_help_panel=WHO,
                                              help="First day away, from the start of that "
                                              "day (date grammar). Default: now.")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DATE", rich_help_panel=WHO,
                                              help="Last day away, inclusive (to the end of "
                                              "that day).")] = None,
    cover: Annotated[
        str | None, typer.Option("--cover", metavar="HANDLE", rich_help_panel=WHO,
                                 help="Who gets their nudges meanwhile (default: their "
                                 "manager).", autocompletion=complete.handles)
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", rich_help_panel=WHO,
                                        help="They are back: end the current away window "
                                        "now and drop future ones.")] = False,
    by: ByOption = None,
) -> None:
    """Mark someone away: no nudges to them, their missed slots are not charged, and their
    nudges go to the cover (else their manager).

    Example: kpictl people away ana --until 2027-02-12 --cover ben
    """
    from kpictl.errors import InvalidInput

    st = state(ctx)
    now = st.now()
    if clear:
        if from_ or until or cover:
            raise InvalidInput("--clear takes no --from, --until or --cover")
        from kpictl.services.away import clear_away

        with st.open_db().session(write=True) as session:
            acting(session, by)  # a shared server: only as yourself
            result = clear_away(session=session, now=clock(session, now), handle=handle)
        st.say(result.message)
        return
    if until is None:
        raise InvalidInput("--until DATE is required (the last day away; or --clear)")
    starts = st.when(from_, option="--from", bound="start", now=now) or now
    ends = st.when(until, option="--until", bound="end", now=now)
    from kpictl.services.away import set_away

    with st.open_db().session(write=True) as session:
        result = set_away(session=session, now=clock(session, now), handle=handle, starts=starts, ends=ends,
                          cover=cover, by=acting(session, by), tz=st.zone())
    st.say(result.message)


@app.command("tree")
def tree(
    ctx: typer.Context,
    handle: Annotated[str | None, typer.Argument(metavar="[HANDLE]", autocompletion=complete.handles,
                                                 help="Start from this person (default: every root).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include inactive people.",
                                       rich_help_panel="Filters")] = False,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the reporting tree with each person's load (active KPIs / capacity).

    Example: kpictl people tree maya
    """
    from kpictl.render.tree import render_tree
    from kpictl.services.tree import build_tree

    st = state(ctx)
    fmt_ = choose_format(fmt, as_json, ctx=ctx, view="`people tree`")
    db = st.open_db(read=True)
    with db.session() as session:
        roots = build_tree(session=session, head=handle, include_inactive=all_)
    render_tree(roots, fmt_, now=st.now(), no_color=st.no_color)
