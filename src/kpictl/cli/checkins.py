"""`kpictl checkin`: an owner records progress."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli.common import ByOption, number, state


def checkin(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="KPI key.")],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The measured value.")],
    at: Annotated[
        str | None, typer.Option("--at", metavar="DATE", help="When it was measured (default: now).")
    ] = None,
    by: ByOption = None,
    confidence: Annotated[
        int | None, typer.Option("--confidence", min=0, max=10, metavar="0-10",
                                 help="How sure you are the target will be met.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT")] = None,
    blocker: Annotated[
        str | None, typer.Option("--blocker", metavar="TEXT",
                                 help="What blocks progress; the KPI shows as blocked.")
    ] = None,
    key_: Annotated[
        str | None, typer.Option("--key", metavar="K",
                                 help="Idempotency key: the same key twice records once.")
    ] = None,
) -> None:
    """Record a check-in (a measured value) on a KPI.

    Example: kpictl checkin sales.new-arr 42000 --confidence 7 --note "two deals signed"
    """
    from kpictl.services.checkins import record_checkin

    st = state(ctx)
    now = st.now()
    measured = number(value, option="VALUE")
    when = st.when(at, option="--at", now=now)
    db = st.open_db()
    with db.session(write=True) as session:
        result = record_checkin(session=session, now=now, key=key, value=measured, at=when, by=by,
                                confidence=confidence, note=note, blocker=blocker, idem_key=key_)
    st.say(result.message)


def register(app: typer.Typer) -> None:
    # Negative values (`kpictl checkin net.change -2`) must not be mistaken for options.
    app.command("checkin", context_settings={"ignore_unknown_options": True})(checkin)
