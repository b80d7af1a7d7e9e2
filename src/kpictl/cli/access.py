"""`kpictl whoami`: who you are to the database, and what rule decides what you may do."""

from __future__ import annotations

import sys

import typer

from kpictl.cli.common import FormatOption, JsonOption, choose_format, state


def whoami(ctx: typer.Context, fmt: FormatOption = None, as_json: JsonOption = False) -> None:
    """Show who you are to the database: on PostgreSQL the connected role, its person and
    access (member, manager or admin); on SQLite KPICTL_USER, and that the file's
    permissions are the rule.

    Example: kpictl whoami
    """
    from kpictl.domain import Format
    from kpictl.services.access import identify

    st = state(ctx)
    chosen = choose_format(fmt, as_json, ctx=ctx, view="`whoami`")
    from kpictl.db import open_database

    # Not st.open_db(): a role without access may not read the schema's version either.
    db = open_database(st.db, read=True, migrate=False)
    with db.session() as session:
        me = identify(session=session)
    if chosen in (Format.JSON, Format.JSONL):
        from kpictl.render import machine

        document = machine.envelope("whoami", st.now(), backend=me.backend, role=me.role,
                                    person=me.person, access=me.access, rule=me.rule)
        if chosen is Format.JSONL:
            document.pop("schema"), document.pop("generated_at")
            machine.write_jsonl([document])
        else:
            machine.write_json(document)
        return
    from kpictl.render.text import sanitize

    lines = [("person", me.person or "none"), ("role", me.role or "none (SQLite)"),
             ("access", me.access or ("none" if me.role else "the file's permissions")),
             ("rule", me.rule)]
    if chosen is Format.CSV:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([name for name, _ in lines])
        writer.writerow([sanitize(value) for _, value in lines])
        return
    for name, value in lines:
        print(f"{name + ':':8} {sanitize(value)}")


def register(app: typer.Typer) -> None:
    app.command("whoami", rich_help_panel="Data")(whoami)
