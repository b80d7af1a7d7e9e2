"""`kpictl amend`, `retract` and `reopen`: repairing mistakes without losing history."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import ByOption, acting, clock, number, state

IdArg = Annotated[int, typer.Argument(metavar="ID", min=1,
                                      help="The check-in's id (`kpictl report KEY` lists them).")]
ReasonOption = Annotated[str, typer.Option("--reason", metavar="TEXT",
                                           help="Why (required; kept in the history and the log).")]
FIELDS = "Corrected fields"


def amend(
    ctx: typer.Context,
    checkin_id: IdArg,
    reason: ReasonOption,
    value: Annotated[str | None, typer.Option("--value", metavar="N", rich_help_panel=FIELDS,
                                              help="The right value.")] = None,
    at: Annotated[str | None, typer.Option("--at", metavar="DATE", rich_help_panel=FIELDS,
                                           help="When it was really measured.")] = None,
    confidence: Annotated[int | None, typer.Option("--confidence", min=0, max=10,
                                                   metavar="0-10", rich_help_panel=FIELDS,
                                                   help="The confidence meant.")] = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT", rich_help_panel=FIELDS,
                                             help="The note meant ('' clears it).")] = None,
    blocker: Annotated[str | None, typer.Option("--blocker", metavar="TEXT",
                                                rich_help_panel=FIELDS,
                                                help="The blocker meant.")] = None,
    no_blocker: Annotated[bool, typer.Option("--no-blocker", rich_help_panel=FIELDS,
                                             help="It was not blocked after all.")] = False,
    by: ByOption = None,
) -> None:
    """Correct a check-in: every report from now on uses the corrected fields.

    The original stays in the KPI's history (`kpictl report KEY` shows both) and in reports
    --as-of an instant before the correction; `kpictl log` lists it with the reason.

    Example: kpictl amend 42 --value 100000 --reason "typed -5 for 100k"
    """
    from kpictl.errors import InvalidInput
    from kpictl.services.corrections import KEEP, amend_checkin

    if blocker is not None and no_blocker:
        raise InvalidInput("--blocker and --no-blocker contradict each other: give one")
    st = state(ctx)
    now = st.now()
    changes = {}
    if value is not None:
        changes["value"] = number(value, option="--value")
    if at is not None:
        changes["at"] = st.when(at, option="--at", now=now)
    if confidence is not None:
        changes["confidence"] = confidence
    if note is not None:
        changes["note"] = note
    if blocker is not None or no_blocker:
        changes["blocker"] = None if no_blocker else blocker
    db = st.open_db()
    with st.write(db, now=now) as session:  # the hooks hear of it once it committed
        result = amend_checkin(session=session, now=clock(session, now), checkin_id=checkin_id, reason=reason,
                               by=acting(session, by), **{k: changes.get(k, KEEP) for k in
                                         ("value", "at", "confidence", "note", "blocker")})
    st.say(result.message)


def retract(
    ctx: typer.Context,
    checkin_id: IdArg,
    reason: ReasonOption,
    by: ByOption = None,
) -> None:
    """Withdraw a check-in that should never have been recorded.

    From now on no report, forecast, sparkline or count uses it; it stays in the KPI's
    history, marked retracted, and in reports --as-of an instant before the retraction.

    Example: kpictl retract 42 --reason "recorded on the wrong KPI"
    """
    from kpictl.services.corrections import retract_checkin

    st = state(ctx)
    db = st.open_db()
    now = st.now()
    with st.write(db, now=now) as session:
        result = retract_checkin(session=session, now=clock(session, now), checkin_id=checkin_id,
                                 reason=reason, by=acting(session, by))
    st.say(result.message)


def reopen(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="A closed KPI's key.",
                                       autocompletion=complete.kpi_keys)],
    reason: ReasonOption,
    by: ByOption = None,
) -> None:
    """Reopen a KPI closed by mistake; it takes check-ins and changes again.

    The close and the reopen stay in the log; reports --as-of an instant between them show
    the KPI closed, as it was then.

    Example: kpictl reopen sales.renewals --reason "closed the wrong KPI"
    """
    from kpictl.services.kpis import reopen_kpi

    st = state(ctx)
    db = st.open_db()
    now = st.now()
    with st.write(db, now=now) as session:
        result = reopen_kpi(session=session, now=clock(session, now), key=key, reason=reason,
                            by=acting(session, by))
    st.say(result.message)


def register(app: typer.Typer) -> None:
    app.command("amend", rich_help_panel="Track")(amend)
    app.command("retract", rich_help_panel="Track")(retract)
    app.command("reopen", rich_help_panel="Delegate")(reopen)
