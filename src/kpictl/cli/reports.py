"""`kpictl report`: the portfolio, or one KPI in detail."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import (
    AsOfOption,
    FormatOption,
    JsonOption,
    choose_format,
    parse_choices,
    state,
)
from kpictl.domain import Status


FILTERS = "Filters"
VIEWS = "Views"


class Week(StrEnum):
    THIS = "this"
    LAST = "last"


class GroupBy(StrEnum):
    OWNER = "owner"


def report(
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Argument(metavar="KEY", help="Show one KPI in detail.",
                                    autocompletion=complete.kpi_keys)
    ] = None,
    team: Annotated[str | None, typer.Option("--team", metavar="HANDLE", rich_help_panel=FILTERS,
                                             help="H and everyone under H, as the tree stood "
                                             "at the report's instant.",
                                             autocompletion=complete.handles)] = None,
    owner: Annotated[str | None, typer.Option("--owner", metavar="HANDLE", rich_help_panel=FILTERS,
                                              help="Only the KPIs this person owns.",
                                              autocompletion=complete.handles)] = None,
    tag: Annotated[str | None, typer.Option("--tag", metavar="TAG", rich_help_panel=FILTERS,
                                            help="Only the KPIs with this tag.",
                                            autocompletion=complete.tags)] = None,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", metavar="STATUS", rich_help_panel=FILTERS,
                     help="Only these statuses (on_track, at_risk, off_track, overdue, no_data, "
                     "achieved, missed, cancelled); repeat or separate with commas.",
                     autocompletion=complete.statuses),
    ] = None,
    as_of: AsOfOption = None,
    revised: Annotated[
        bool, typer.Option("--revised", rich_help_panel=VIEWS,
                           help="With --as-of: in hindsight, with everything recorded since "
                           "(back-filled check-ins, corrections) that was effective by then. "
                           "Default: what was known then.")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", rich_help_panel=VIEWS,
                                 help="Digest of what happened from DATE until --as-of/now.")
    ] = None,
    week: Annotated[
        Week | None, typer.Option("--week", case_sensitive=False, rich_help_panel=VIEWS,
                                  help="Digest of this or last ISO week.")
    ] = None,
    by: Annotated[
        GroupBy | None, typer.Option("--by", case_sensitive=False, rich_help_panel=VIEWS,
                                     help="Accountability per owner.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option("--fail-on", metavar="LIST", rich_help_panel="Alerts",
                     help="Exit 5 if any KPI has one of these statuses or flags "
                     "(comma-separated, e.g. overdue,stale).",
                     autocompletion=complete.statuses_and_flags),
    ] = None,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show where every KPI stands: status, progress against pace, flags.

    Views: the portfolio (default), one KPI in detail (KEY), accountability per owner
    (--by owner), and a digest of a window (--since DATE or --week this|last).

    Example: kpictl report sales.new-arr

    Example: kpictl report --owner ana --status at_risk,off_track --as-of -2w

    Example: kpictl report --week last --format md

    Example: kpictl report --as-of 2027-01-21T10:00 --revised

    Example: kpictl report --fail-on overdue,stale || echo "needs attention"
    """
    from kpictl.domain import Flag, Format
    from kpictl.errors import InvalidInput
    from kpictl.services.reports import build_report

    st = state(ctx)
    now = st.now()
    instant = st.when(as_of, option="--as-of", bound="end", now=now) or now
    if revised and as_of is None and not (since or week):
        raise InvalidInput("--revised looks back at an earlier instant: give --as-of DATE "
                           "(or a digest window, --since/--week)")
    fail_set: set[str] = set()
    if fail_on:
        known = {str(s) for s in Status} | {str(f) for f in Flag}
        fail_set = {item.strip().lower().replace("-", "_") for item in fail_on.split(",")
                    if item.strip()}
        unknown = sorted(fail_set - known)
        if unknown:
            raise InvalidInput(f"--fail-on: unknown status or flag {', '.join(unknown)}; "
                               f"use any of {', '.join(sorted(known))}")
    tz = st.zone()
    fmt_ = choose_format(fmt, as_json, ctx=ctx, html=by is None, view="`report --by owner`")
    human = fmt_ in (Format.TABLE, Format.HTML)  # only these show trends (sparklines)
    status = parse_choices(status, Status, option="--status")
    if key and team:
        raise InvalidInput("--team filters the portfolio, --by owner and the digest; with a "
                           "KEY there is one KPI to show")
    if key and (owner or tag or status):
        raise InvalidInput("--owner, --tag and --status filter the portfolio; with a KEY "
                           "there is one KPI to show")
    views = [name for name, given in (("KEY", key), ("--by", by), ("--since", since),
                                      ("--week", week)) if given]
    if len(views) > 1:
        raise InvalidInput(f"{' and '.join(views)} are different views: give one of them")
    if (by or since or week) and (owner or tag or status):
        raise InvalidInput("--owner, --tag and --status filter the portfolio; they do not "
                           "combine with --by, --since or --week")
    if since or week:
        from kpictl.render.accountability import render_digest
        from kpictl.services.accountability import build_digest
        from kpictl.timeparse import week_window

        if week:
            start, end = week_window(str(week), now=instant, tz=tz)
            until = min(end, instant)
        else:
            start = st.when(since, option="--since", bound="start", now=now)
            until = instant
        if start >= until:
            raise InvalidInput("--since must be before --as-of (or now)")
        portfolio = trends = None
        with st.open_db(read=True).session() as session:
            digest = build_digest(session=session, since=start, until=until, now=now, tz=tz,
                                  include_until=until == instant, revised=revised)
            if team:
                digest = _team_digest(session, digest, team, until, now, tz, revised)
            rows = _fail_on_rows(session, fail_set, until, now, tz, revised)
            if fmt_ is Format.HTML:  # the page is the whole weekly mail: the portfolio too
                portfolio = build_report(session=session, as_of=instant, now=now, tz=tz,
                                         revised=revised)
                if team:
                    portfolio = _team_report(session, portfolio, team, instant)
                trends = _trends(session, portfolio.kpis, instant, now, revised)
        render_digest(digest, fmt_, tz=tz, no_color=st.no_color, portfolio=portfolio,
                      trends=trends)
        _fail_on(st, fail_set, rows)
        return
    if by:
        from kpictl.render.accountability import render_owners
        from kpictl.services.accountability import build_owner_report

        with st.open_db(read=True).session() as session:
            owners = build_owner_report(session=session, as_of=instant, now=now, tz=tz,
                                        revised=revised)
            if team:
                from kpictl.services.teams import narrow_owners
                from kpictl.services.tree import team_of

                owners = narrow_owners(owners, team_of(session, team, instant))
            rows = _fail_on_rows(session, fail_set, instant, now, tz, revised)
        render_owners(owners, fmt_, tz=tz, no_color=st.no_color)
        _fail_on(st, fail_set, rows)
        return
    from kpictl import collector_paused

    # A portfolio is some 30 objects per KPI, alive until written and freed without cycles:
    # the collector resumes once _show has returned and they are gone.
    with collector_paused():
        _show(st, key=key, team=team, owner=owner, tag=tag, status=status, instant=instant,
              now=now, tz=tz, revised=revised, fmt_=fmt_, human=human, fail_set=fail_set)


def _show(st, *, key, team, owner, tag, status, instant, now, tz, revised, fmt_, human,
          fail_set) -> None:
    """The portfolio, or one KPI in detail: built, written, and checked for ``--fail-on``."""
    from kpictl.render.detail import render_kpi_detail
    from kpictl.render.reports import render_report
    from kpictl.services.reports import build_kpi_detail, build_report

    db = st.open_db(read=True)
    with db.session() as session:
        if key:
            detail = build_kpi_detail(session=session, key=key, as_of=instant, now=now, tz=tz,
                                      revised=revised)
            rows = [detail.kpi]
        else:
            result = build_report(session=session, as_of=instant, now=now, tz=tz, owner=owner,
                                  tag=tag, status=status, revised=revised)
            if team:
                result = _team_report(session, result, team, instant)
            rows = result.kpis
            trends = _trends(session, rows, instant, now, revised) if human else None
    if key:
        render_kpi_detail(detail, fmt_, tz=tz, no_color=st.no_color)
    else:
        render_report(result, fmt_, tz=tz, no_color=st.no_color, trends=trends)
    _fail_on(st, fail_set, rows)


def _team_report(session, report, team, instant):
    from kpictl.services.teams import narrow_report
    from kpictl.services.tree import team_of

    members = team_of(session, team, instant)
    return narrow_report(report, members, team.strip().lower())


def _team_digest(session, digest, team, until, now, tz, revised):
    from kpictl.services.reports import build_report
    from kpictl.services.teams import narrow_digest
    from kpictl.services.tree import team_of

    members = team_of(session, team, until)
    owned = build_report(session=session, as_of=until, now=now, tz=tz, revised=revised)
    keys = {r.key for r in owned.kpis if r.owner in members}
    return narrow_digest(digest, members, keys)


def _trends(session, rows, instant, now, revised) -> dict[str, list[float]]:
    """Recent values for the sparklines of the shown KPIs (human views only: the machine
    formats never run this query)."""
    from kpictl.render.reports import TREND_POINTS
    from kpictl.services.trends import recent_values

    return recent_values(session=session, keys=[r.key for r in rows], as_of=instant,
                         points=TREND_POINTS, known=not revised and instant < now)


def _fail_on_rows(session, fail_set, instant, now, tz, revised=False) -> list:
    """The portfolio that --fail-on checks in the owner and digest views (at their instant)."""
    if not fail_set:
        return []
    from kpictl.services.reports import build_report

    return build_report(session=session, as_of=instant, now=now, tz=tz, revised=revised).kpis


def _fail_on(st, fail_set: set[str], rows) -> None:
    """Exit 5 (after the report was printed) when any KPI has a listed status or flag.

    A match is the answer cron asked for, not a failure: one notice on stderr, not worded
    as an error, and nothing at all with ``-q``."""
    hits = [r.key for r in rows if r.status in fail_set or fail_set.intersection(r.flags)]
    if hits:
        from kpictl.errors import FailOnMatched

        shown = ", ".join(hits[:5]) + (f" and {len(hits) - 5} more" if len(hits) > 5 else "")
        st.say(f"kpictl: --fail-on matched {len(hits)} {'KPI' if len(hits) == 1 else 'KPIs'}: "
               f"{shown} (exit {FailOnMatched.exit_code})")
        raise typer.Exit(FailOnMatched.exit_code)


def register(app: typer.Typer) -> None:
    app.command("report", rich_help_panel="Track")(report)
