"""`kpictl targets KEY --file`: an ongoing KPI's schedule of per-period targets."""

from __future__ import annotations

from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import ByOption, acting, clock, state

COLUMNS = ("period", "target", "low", "high")


def targets(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="An ongoing KPI's key.",
                                       autocompletion=complete.active_kpi_keys)],
    file: Annotated[str, typer.Option("--file", metavar="PATH|-",
                                      help="CSV or JSON Lines: period,target[,low,high] "
                                      "('-' = stdin), e.g. 2027-03,500 or 2027-Q2,,10,50.")],
    input_format: Annotated[
        str | None, typer.Option("--input-format", metavar="csv|jsonl",
                                 help="Default: from the extension, else the content.",
                                 autocompletion=complete.input_formats)
    ] = None,
    by: ByOption = None,
) -> None:
    """Load per-period targets of an ongoing KPI (validated whole; merged period by period).

    Periods not in the file keep their targets; periods that already closed cannot change.
    A CSV file is a header "period,target" (or "period,low,high" for a range KPI) and one
    row per period, such as "2027-03,500"; '-' reads it from stdin.

    Example: kpictl targets growth.signups --file targets-2027.csv
    """
    from kpictl.cli.files import read_bulk
    from kpictl.errors import InvalidInput
    from kpictl.services.bulk.rows import listed
    from kpictl.services.periods import load_targets

    st = state(ctx)
    now = st.now()
    rows, errors, name = read_bulk(file, fmt=input_format, columns=COLUMNS)
    if errors:
        raise InvalidInput(f"{len(errors)} invalid row(s) in {name}; nothing written",
                           details=listed(errors))
    db = st.open_db()
    with st.write(db, now=now) as session:
        result = load_targets(session=session, now=clock(session, now), key=key, rows=rows,
                              by=acting(session, by), name=name)
    st.say(result.message)


def register(app: typer.Typer) -> None:
    app.command("targets", rich_help_panel="Delegate")(targets)
