"""`kpictl checkin`: an owner records progress."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import ByOption, acting, clock, number, state, whole

DETAILS = "Details"


def checkin(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(metavar="KEY", help="KPI key, e.g. sales.new-arr.",
                                              autocompletion=complete.checkin_keys)] = None,
    value: Annotated[str | None, typer.Argument(metavar="VALUE", help="The measured value.")]
    = None,
    at: Annotated[
        str | None, typer.Option("--at", metavar="DATE", rich_help_panel=DETAILS,
                                 help="When it was measured (default: now).")
    ] = None,
    by: ByOption = None,
    confidence: Annotated[
        str | None, typer.Option("--confidence", metavar="0-10",
                                 rich_help_panel=DETAILS,
                                 help="How sure you are the target will be met.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT", rich_help_panel=DETAILS,
                                             help="What changed, in a sentence.")] = None,
    blocker: Annotated[
        str | None, typer.Option("--blocker", metavar="TEXT", rich_help_panel=DETAILS,
                                 help="What blocks progress; the KPI shows as blocked and the "
                                 "note as \\[blocker: TEXT].")
    ] = None,
    key_: Annotated[
        str | None, typer.Option("--key", metavar="K", rich_help_panel=DETAILS,
                                 help="Idempotency key: the same key twice records once.")
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", metavar="PATH|-", rich_help_panel="Bulk",
                                 help="Many check-ins from CSV or JSON Lines ('-' = stdin); "
                                 "columns kpi, value, at, by, confidence, note, blocker, key.")
    ] = None,
    input_format: Annotated[
        str | None, typer.Option("--input-format", metavar="csv|jsonl", rich_help_panel="Bulk",
                                 help="Default: from the extension, else the content.",
                                 autocompletion=complete.input_formats)
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", rich_help_panel="Bulk",
                           help="Write the valid rows and report the bad ones.")
    ] = False,
) -> None:
    """Record a check-in (a measured value) on a KPI, or many from a file.

    Example: kpictl checkin sales.new-arr 42000 --confidence 7 --note "2 deals"

    Example: echo '{"kpi": "mkt.cac", "value": 610}' | kpictl checkin --file -
    """
    from kpictl.errors import InvalidInput

    st = state(ctx)
    now = st.now()
    if file is not None:
        given = [n for n, v in (("KEY", key), ("VALUE", value), ("--at", at),
                                ("--confidence", confidence), ("--note", note),
                                ("--blocker", blocker), ("--key", key_)) if v is not None]
        if given:
            raise InvalidInput(f"--file takes its values from the file; drop {', '.join(given)}")
        _checkin_file(st, now, file, input_format, skip_invalid, by)
        return
    if key is None or value is None:
        raise InvalidInput("give KEY VALUE (kpictl checkin sales.arr 42000), or --file PATH")
    from kpictl.services.checkins import record_checkin

    measured = number(value, option="VALUE")
    confidence = whole(confidence, option="--confidence", use="a whole number from 0 to 10")
    when = st.when(at, option="--at", now=now)
    db = st.open_db()
    with st.write(db, now=now) as session:
        result = record_checkin(session=session, now=clock(session, now), key=key, value=measured, at=when,
                                by=acting(session, by),
                                confidence=confidence, note=note, blocker=blocker, idem_key=key_,
                                tz=st.zone() if at is not None else None)
    st.say(result.message)


def _checkin_file(st, now, path, input_format, skip_invalid, by) -> None:
    from kpictl.cli.files import finish, open_bulk, progress_bar, refuse_invalid
    from kpictl.services.bulk.checkins import CHECKIN_COLUMNS, import_checkins
    from kpictl.services.bulk.rows import Row, iter_rows

    with open_bulk(path) as (stream, name):
        db = st.open_db()  # after the file: a mistyped path touches no database
        rows = iter_rows(stream, name=name, fmt=input_format, columns=CHECKIN_COLUMNS,
                         keep_blank=True)
        with progress_bar(st, None, "check-ins") as progress, \
                st.write(db, now=now) as session:
            by = acting(session, by)  # on a shared server: the connected role's person
            if by is not None:  # --by (or KPICTL_USER) fills rows that name nobody
                rows = (r if not isinstance(r, Row) or r.fields.get("by") else
                        Row(r.line, {**r.fields, "by": by}) for r in rows)
            result = import_checkins(session=session, now=clock(session, now), tz=st.zone(), rows=rows,
                                     skip_invalid=skip_invalid, progress=progress)
            refuse_invalid(result, name=name, skip_invalid=skip_invalid)
    code = finish(st, result, what="check-ins", name=name)
    if code:  # after the commit: the valid rows are written
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    # Negative values (`kpictl checkin net.change -2`) must not be mistaken for options.
    app.command("checkin", rich_help_panel="Track", context_settings={"ignore_unknown_options": True})(checkin)
