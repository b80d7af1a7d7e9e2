"""`kpictl demo`: a realistic demo database in its own file, then its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kpictl.cli.common import state


def demo(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option("--path", metavar="FILE", rich_help_panel="Output",
                     help="Where to build it (default: demo.db in your user data dir)."),
    ] = None,
) -> None:
    """Build a demo team with KPIs and months of check-ins, and show its report.

    The demo has its own file and never touches your database (--db is ignored here).

    Example: kpictl demo

    Example: kpictl demo --path demo.db && kpictl --db demo.db report --by owner
    """
    import shlex

    from kpictl.db import default_db_path, open_database
    from kpictl.domain import Format
    from kpictl.errors import Conflict, InvalidInput, RuntimeFailure
    from kpictl.render.reports import render_report
    from kpictl.services.demo import build_demo
    from kpictl.services.reports import build_report

    st = state(ctx)
    target = (path or default_db_path().with_name("demo.db")).expanduser().absolute()
    if target.is_dir():
        raise InvalidInput(f"--path {target} is a directory; give a file name such as demo.db")
    if target.exists() and not is_demo_database(target):
        raise Conflict(f"{target} exists and is not a kpictl demo database; the demo never "
                       "replaces other files (choose another --path)")
    for suffix in ("", "-wal", "-shm"):
        try:
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            raise RuntimeFailure(f"cannot replace the demo database {target}: "
                                 f"{exc.strerror}") from None
    now = st.now()
    tz = st.zone()
    day_start = st.when("today", option="--start", now=now)
    db = open_database(str(target))
    mark_demo_database(db)
    with db.session(write=True) as session:
        counts = build_demo(session=session, now=now, day_start=day_start)
    with db.session() as session:
        report = build_report(session=session, as_of=now, now=now, tz=tz)
    render_report(report, Format.TABLE, tz=tz, no_color=st.no_color)
    quoted = shlex.quote(str(target))
    st.say(
        f"\nDemo database: {target} ({counts['people']} people, {counts['kpis']} KPIs, "
        f"{counts['checkins']} check-ins). Explore it:\n"
        f"  kpictl --db {quoted} report sales.pipeline\n"
        f"  kpictl --db {quoted} report --status at_risk --status off_track\n"
        f"  kpictl --db {quoted} report --as-of -2w\n"
        f"  kpictl --db {quoted} report --json | jq '.kpis[] | select(.flags | index(\"stale\"))'\n"
        f"  kpictl --db {quoted} people list\n"
        f"  kpictl --db {quoted} checkin sales.pipeline 390000 --confidence 6\n"
        f"  export KPICTL_DB={quoted}   # make it the default for this shell"
    )


#: SQLite `PRAGMA application_id` of demo databases ("kpid"), so a rebuild only ever
#: replaces a file that an earlier `kpictl demo` made.
DEMO_APPLICATION_ID = 0x6B706964


def is_demo_database(path: Path) -> bool:
    import sqlite3

    try:
        with path.open("rb") as fh:
            header = fh.read(100)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False
    return header.startswith(b"SQLite format 3") and app_id == DEMO_APPLICATION_ID


def mark_demo_database(db) -> None:
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
        conn.commit()


def register(app: typer.Typer) -> None:
    app.command("demo", rich_help_panel="Data")(demo)
