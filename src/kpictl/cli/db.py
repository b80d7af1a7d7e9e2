"""`kpictl db …`: where the data is, and its schema."""

from __future__ import annotations

import typer

from kpictl.cli.common import state

app = typer.Typer(help="Where your data is, and its schema.", no_args_is_help=True)


@app.command("path")
def path(ctx: typer.Context) -> None:
    """Print where the database is (a file path, or the URL without its password).

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
