"""`kpictl export` and `kpictl import`: the whole database as JSON Lines, and back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kpictl.cli.common import state


def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", rich_help_panel="Output",
                     help="Write to FILE (a new private 0600 file, or a FIFO or device) "
                          "instead of stdout."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", rich_help_panel="Output",
                     help="Replace an existing --output file (never the database itself)."),
    ] = False,
) -> None:
    """Write the whole database as JSON Lines, for backups and moves.

    A header line {"schema": "kpictl.export/1", …}, then one record per line: people, KPIs,
    the assignment and change logs, check-ins and feedback. `kpictl import` reads it back into
    a new database, also from SQLite to PostgreSQL.

    An existing FILE is refused (exit 4) unless --force; it is then replaced whole, through a
    temporary file renamed into place when complete. A FIFO or device is written to.

    Example: kpictl export --output backup.jsonl
    """
    from collections import Counter

    from kpictl.services.transfer.exports import export_records
    from kpictl.services.transfer.records import describe_counts

    from kpictl.cli.output import open_output

    st = state(ctx)
    db = st.open_db(read=True)
    counts: Counter = Counter()
    with db.session() as session:
        records = export_records(session=session, now=st.now())
        if output is None:
            _utf8(sys.stdout)
            _write(records, sys.stdout, counts)
        else:
            database = db.url.database if db.is_sqlite else None
            with open_output(output, force=force, database=database) as out:
                _write(records, out, counts)
    if output is not None:
        st.say(f"exported {describe_counts(counts)} to {output}")


def import_(
    ctx: typer.Context,
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="A kpictl export file, or - for stdin.")
    ],
) -> None:
    """Load a kpictl export into a new, empty database.

    The file is checked whole: any invalid line and nothing is written (exit 2). A database
    that already has data is left alone: if it holds exactly the file's records there is
    nothing to do, otherwise the import is refused (exit 4).

    Example: kpictl export | kpictl --db copy.db import -
    """
    from contextlib import nullcontext

    from kpictl.errors import InvalidInput
    from kpictl.services.transfer.imports import import_records

    st = state(ctx)
    if path == "-":
        name = "stdin"
        # Bytes, decoded line by line: a bad byte is reported with its line number.
        stream = nullcontext(getattr(sys.stdin, "buffer", sys.stdin))  # never close stdin
    else:
        name = path
        try:  # before opening the database, so a typo does not create an empty one
            stream = open(path, "rb")  # noqa: SIM115 - closed by `with` below
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    from kpictl.services.limits import bounded_lines

    db = st.open_db()
    with stream as lines, db.session(write=True) as session:
        result = import_records(session=session, source_name=name,
                                lines=_decoded(bounded_lines(lines, name=name), name))
    st.say(result.message)


def _utf8(stream) -> None:
    """JSON Lines are UTF-8 whatever the locale says (a TextIOWrapper can be switched)."""
    reconfigure = getattr(stream, "reconfigure", None)
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    if reconfigure is not None and encoding != "utf8":
        reconfigure(encoding="utf-8")


def _decoded(lines, name: str):
    """Text lines from byte (or text) lines; bytes that are not UTF-8 are invalid input."""
    from kpictl.errors import InvalidInput

    for n, line in enumerate(lines, 1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"{name} is not UTF-8 text (line {n})") from None
        yield line


def _write(records, out, counts) -> None:
    from kpictl.render.machine import dumps

    for record in records:
        out.write(dumps(record, indent=None) + "\n")
        if "type" in record:
            counts[record["type"]] += 1


def register(app: typer.Typer) -> None:
    app.command("export", rich_help_panel="Data")(export)
    app.command("import", rich_help_panel="Data")(import_)
