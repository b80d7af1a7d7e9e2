"""`kpictl db …`: where the data is, its schema, backups and health checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kpictl.cli import complete
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

    On PostgreSQL it also creates this database's group roles and their privileges (see `db
    grant`) when your role may create roles.

    Example: kpictl --db team.db db upgrade
    """
    from kpictl.db import SCHEMA_REVISION, open_database, upgrade as run_upgrade

    st = state(ctx)
    db = open_database(st.db, migrate=False)
    changed = run_upgrade(db)
    st.say(f"{'upgraded' if changed else 'already at'} schema {SCHEMA_REVISION}: {db.location}")
    if not db.is_sqlite:  # the group roles of `db grant`, when this role may create them
        from kpictl.services.access import set_up

        with db.session(write=True) as session:
            if set_up(session):
                st.say("group roles and their privileges are in place (see `kpictl db grant`)")


Handle = Annotated[str, typer.Argument(metavar="HANDLE", help="A person with a --db-role.",
                                       autocompletion=complete.handles)]


@app.command("grant")
def grant(
    ctx: typer.Context,
    handle: Handle,
    level: Annotated[str, typer.Option("--as", metavar="member|manager|admin",
                                       help="member: check-ins on their own KPIs; manager: "
                                       "also their reporting tree's KPIs; admin: everything.")],
) -> None:
    """Give a person's PostgreSQL role access to this database (an admin's command).

    Creates this database's group roles on first use when your role may (CREATEROLE);
    otherwise prints the SQL a database administrator must run. The login role itself is
    the DBA's (CREATE ROLE … LOGIN); kpictl never stores passwords.

    Example: kpictl db grant ana --as member
    """
    from kpictl.services.access import SetupNeeded, grant as grant_access

    st = state(ctx)
    db = st.open_db()
    try:
        with db.session(write=True) as session:
            result = grant_access(session=session, handle=handle,
                                  level=level.strip().lower())
    except SetupNeeded as exc:
        print("".join(f"{statement};\n" for statement in exc.sql), end="")
        raise
    st.say(result.message)


@app.command("revoke")
def revoke(ctx: typer.Context, handle: Handle) -> None:
    """Take a person's access to this database away (an admin's command); their history
    stays.

    Example: kpictl db revoke ana
    """
    from kpictl.services.access import revoke as revoke_access

    st = state(ctx)
    db = st.open_db()
    with db.session(write=True) as session:
        result = revoke_access(session=session, handle=handle)
    st.say(result.message)


@app.command("backup")
def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(metavar="FILE", help="A new file for the copy.")],
) -> None:
    """Copy the database to FILE while it is in use (SQLite's online backup, never a file copy).

    Example: kpictl db backup kpictl-backup-$(date +%F).db
    """
    from kpictl.db import resolve_url
    from kpictl.errors import InvalidInput
    from kpictl.services.maintenance import POSTGRES_BACKUP, backup as take_backup

    st = state(ctx)
    if resolve_url(st.db).get_backend_name() != "sqlite":  # said before connecting anywhere
        raise InvalidInput(POSTGRES_BACKUP)
    db = st.open_db(read=True, warn_missing=False)
    written = take_backup(db=db, target=target)
    st.say(f"backed up {db.location} to {written}")


@app.command("rebuild")
def rebuild(ctx: typer.Context) -> None:
    """Recompute every derived table (the per-KPI check-in aggregates) from the history, in
    one transaction: the fix for `db check`'s "stale aggregates".

    Example: kpictl db rebuild
    """
    from kpictl.services.derived import rebuild_all

    st = state(ctx)
    db = st.open_db()
    with db.session(write=True) as session:
        count = rebuild_all(session=session)
    st.say(f"rebuilt the aggregates of {count} KPI(s) with check-ins: {db.location}")


@app.command("check")
def check(ctx: typer.Context, fmt: FormatOption = None, as_json: JsonOption = False) -> None:
    """Check integrity, schema version, derived aggregates, write access, journal mode, file
    permissions and file system, changing nothing (a missing file is not created).

    Exits 1 naming each problem found: damage, an unexpected schema, aggregates that differ
    from the check-ins (run `kpictl db rebuild`), a database you cannot write.

    Example: kpictl db check
    """
    from kpictl.domain import Format
    from kpictl.errors import RuntimeFailure
    from kpictl.render import machine
    from kpictl.services.maintenance import check as run_check

    st = state(ctx)
    report = run_check(db=st.open_db(read=True, warn_missing=False))
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
                             ("Aggregates", "ok" if not report.stale_aggregates else
                              f"stale: {', '.join(report.stale_aggregates[:10])}"),
                             ("Writable", None if report.writable is None else
                              ("yes" if report.writable else "no (read-only)")),
                             ("Journal mode", report.journal_mode),
                             ("File mode", report.file_mode),
                             ("Directory mode", report.directory_mode),
                             ("File system", report.filesystem)):
            if value is not None:
                bad = (label == "Integrity" and value != "ok") or value.startswith(
                    ("stale", "no ("))
                grid.add_row(label, t.text(value, "bold red" if bad else ""))
        console.print(grid)
    for warning in report.warnings:
        print(f"kpictl: warning: {warning}", file=__import__("sys").stderr)
    if not report.ok:
        raise RuntimeFailure(f"database check failed: {len(report.problems)} problem(s) found",
                             details=report.problems)
