"""`kpictl db …`: where the data is, its schema, backups and health checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kpictl.cli.common import FormatOption, JsonOption, choose_format, state

app = typer.Typer(
    help="Where your data is, its schema, backups and health checks.\n\n"
    "Example: kpictl db check",
    no_args_is_help=True)


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print where the database is (a file path, or its URL without the password).

    Example: kpictl db path
    """
    from kpictl.db import describe, resolve_url

    print(describe(resolve_url(state(ctx).db)))


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Create the database or bring its schema up to date (also done on first use).

    Example: kpictl --db team.db db upgrade
    """
    from kpictl.db import SCHEMA_REVISION, open_database, upgrade as run_upgrade

    st = state(ctx)
    db = open_database(st.db, migrate=False)
    changed = run_upgrade(db)
    st.say(f"{'upgraded' if changed else 'already at'} schema {SCHEMA_REVISION}: {db.location}")


@app.command("backup")
def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(metavar="FILE", help="A new file for the copy.")],
) -> None:
    """Copy the database to FILE while it is in use (SQLite's online backup, never a file copy).

    Example: kpictl db backup kpictl-backup-$(date +%F).db
    """
    from kpictl.services.maintenance import backup as take_backup

    st = state(ctx)
    written = take_backup(db=st.open_db(), target=target)
    st.say(f"backed up {st.open_db().location} to {written}")


@app.command("check")
def check(ctx: typer.Context, fmt: FormatOption = None, as_json: JsonOption = False) -> None:
    """Check integrity, schema version, journal mode, file permissions and file system.

    Exits 1 when the database is damaged or its schema is not the expected one.

    Example: kpictl db check
    """
    from kpictl.domain import Format
    from kpictl.errors import RuntimeFailure
    from kpictl.render import machine
    from kpictl.services.maintenance import check as run_check

    st = state(ctx)
    report = run_check(db=st.open_db())
    if choose_format(fmt, as_json, ctx=ctx, view="`db check`") in (Format.JSON, Format.JSONL):
        machine.write_json(machine.envelope("check", st.now(), ok=report.ok,
                                            **machine.plain(report)))
    else:
        from kpictl.render import table as t

        console = t.make_console(no_color=st.no_color)
        grid = t.new_table()
        grid.show_header = False
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in (("Database", report.location), ("Backend", report.backend),
                             ("Integrity", report.integrity),
                             ("Schema", f"{report.schema_revision} (expected "
                                        f"{report.expected_revision})"),
                             ("Journal mode", report.journal_mode),
                             ("File mode", report.file_mode),
                             ("Directory mode", report.directory_mode),
                             ("File system", report.filesystem)):
            if value is not None:
                grid.add_row(label, t.text(value, "" if label != "Integrity" or value == "ok"
                                           else "bold red"))
        console.print(grid)
    for warning in report.warnings:
        print(f"kpictl: warning: {warning}", file=__import__("sys").stderr)
    if not report.ok:
        raise RuntimeFailure(f"database check failed: integrity {report.integrity}, schema "
                             f"{report.schema_revision}")
