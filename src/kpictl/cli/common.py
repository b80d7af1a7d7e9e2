"""Shared plumbing for commands: global state, option types, parsing helpers, output.

Kept cheap to import (typer and the domain enums only): ``--help``, ``--version`` and shell
completion must not pay for SQLAlchemy, pendulum or Rich.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import typer

from kpictl.domain import Format


@dataclass
class State:
    db: str | None = None
    tz: str | None = None
    quiet: bool = False
    no_color: bool = False
    no_hooks: bool = False

    def open_db(self, *, read: bool = False, warn_missing: bool = True):
        """The database, for a command that writes, or (``read=True``) one that only reads:
        then no file is created, migrated or switched to WAL, and a read-only file is fine."""
        from kpictl.db import open_database

        db = open_database(self.db, read=read, notify=self.say)
        if db.stand_in and warn_missing and not self.quiet:
            from pathlib import Path

            if not Path(db.location).parent.is_dir():  # a typo, more likely than a new user
                print(f"kpictl: warning: no directory {Path(db.location).parent}: nothing to "
                      "read, and nothing was created (check --db or KPICTL_DB)",
                      file=sys.stderr)
        return db

    @contextmanager
    def write(self, db, *, now: datetime | None = None, hooks: bool = True):
        """A write session whose events reach the hooks once it has committed (see
        :mod:`kpictl.services.hooks`); with ``--no-hooks``, KPICTL_NO_HOOKS=1 or no hook
        installed, exactly ``db.session(write=True)``."""
        found = self.hooks() if hooks else {}
        if not found:
            with db.session(write=True) as session:
                yield session
            return
        from kpictl.services.events import Outbox
        from kpictl.services.hooks import deliver

        outbox = Outbox(wanted=set(found), now=now or self.now(), tz=self.zone)
        with db.session(write=True) as session:
            outbox.attach(session)
            yield session
            outbox.finish(session)
        if outbox.incomplete:
            self.warn("some status changes could not be worked out for on-status-change")
        deliver(found, outbox.events, self.warn)

    def hooks(self) -> dict:
        import os

        if self.no_hooks or os.environ.get("KPICTL_NO_HOOKS", "").strip().lower() in (
                "1", "true", "yes", "on"):
            return {}
        from kpictl.services.hooks import discover

        return discover(self.warn)

    def warn(self, message: str) -> None:
        """A warning: stderr, one line, shown even with -q."""
        from kpictl.render.text import sanitize

        print(f"kpictl: warning: {sanitize(message)}", file=sys.stderr)

    def zone(self):
        from kpictl.timeparse import resolve_zone

        return resolve_zone(self.tz)

    def now(self) -> datetime:
        from kpictl.clock import utcnow

        return utcnow()

    def when(self, text: str | None, *, option: str, bound: Literal["start", "end"] = "start",
             now: datetime | None = None, tz=None) -> datetime | None:
        """Parse a date option with the kpictl grammar (in ``tz``, default the viewer's
        zone); errors name the option."""
        if text is None:
            return None
        from kpictl.errors import InvalidInput
        from kpictl.timeparse import parse_when

        try:
            return parse_when(text, now=now or self.now(), tz=tz or self.zone(), bound=bound)
        except InvalidInput as exc:
            raise InvalidInput(f"{option}: {exc.message}") from None

    def say(self, message: str) -> None:
        """A confirmation or progress message: stderr, silenced by -q."""
        if not self.quiet:
            from kpictl.render.text import sanitize

            print(sanitize(message, multiline=True), file=sys.stderr)


def acting(session, by: str | None) -> str | None:
    """Who a write acts as: ``--by`` on SQLite; on PostgreSQL the connected role's person,
    and ``--by`` naming someone else is refused (exit 6) unless the role is an admin."""
    from kpictl.services.access import resolve_actor

    return resolve_actor(session, by)


def clock(session, now: datetime) -> datetime:
    """``now`` for a write in ``session``: on a shared server, a non-admin's is the server's
    clock — it stamps their rows, and what kpictl files beside them must agree — else ``now``
    (see :func:`kpictl.services.access.write_clock`)."""
    from kpictl.services.access import write_clock

    return write_clock(session, now)


def state(ctx: typer.Context) -> State:
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def number(text: str | None, *, option: str) -> float | None:
    if text is None:
        return None
    plain = text.strip()
    # The everyday case (``42000``, ``-2.5``) without importing the date grammar's module:
    # a single check-in's start-up is a benchmark bar. Anything else takes the full parser.
    digits = plain[1:] if plain[:1] == "-" else plain
    whole, _, fraction = digits.partition(".")
    if whole.isascii() and whole.isdigit() and len(whole) <= 15 \
            and (not fraction or (fraction.isascii() and fraction.isdigit())):
        return float(plain) + 0.0
    from kpictl.timeparse import parse_number

    return parse_number(text, what=option)


def whole(text: str | None, *, option: str, use: str) -> int | None:
    """A whole-number option (``--confidence``, ``--capacity``, ``--top``) parsed by kpictl,
    so ``7.5`` gets kpictl's one line (``use`` says what is accepted), not a validation
    library's wording. The service checks the range."""
    if text is None:
        return None
    value = text.strip()
    digits = value[1:] if value[:1] in "+-" else value
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        from kpictl.errors import InvalidInput

        raise InvalidInput(f"invalid {option} {text!r}: use {use}")
    return int(value)


def choose_format(fmt: str | None, as_json: bool, *, ctx: typer.Context | None = None,
                  html: bool = False, view: str = "this command") -> Format:
    """``--json`` wins over ``KPICTL_FORMAT`` (an explicit flag beats the env), but
    ``--json --format csv`` on one command line asks for two things: a usage error (exit 2),
    never silently one of them.

    ``html`` says whether the view has an HTML page; where it has none, ``--format html`` is
    refused (exit 2) rather than answered with a terminal table.
    """
    if as_json:
        if fmt and fmt.strip().lower() != "json" and _from_command_line(ctx, "fmt"):
            from kpictl.errors import InvalidInput

            raise InvalidInput(f"--json and --format {fmt.strip()} ask for different formats: "
                               "give one of them")
        return Format.JSON
    if not fmt:
        return Format.TABLE
    offered = ", ".join(f.value for f in Format if html or f is not Format.HTML)
    try:
        chosen = Format(fmt.strip().lower())
    except ValueError:
        from kpictl.errors import InvalidInput

        raise InvalidInput(f"invalid --format {fmt!r} (or KPICTL_FORMAT): use "
                           f"{offered}") from None
    if chosen is Format.HTML and not html:
        from kpictl.errors import InvalidInput

        raise InvalidInput(f"--format html is not available for {view}: use {offered} "
                           "(html covers `report`, `report KEY` and the digest)")
    return chosen


def _from_command_line(ctx: typer.Context | None, name: str) -> bool:
    """Whether the option ``name`` was typed (not taken from the environment or default)."""
    if ctx is None:
        return True
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def parse_choices(values: list[str] | None, enum, *, option: str) -> list:
    """Repeated and/or comma-separated choices (``--status at_risk,off_track``)."""
    result = []
    for value in values or []:
        for item in value.split(","):
            if not item.strip():
                continue
            word = item.strip().lower()
            try:  # kinds are spelled with hyphens, statuses with underscores: take either
                result.append(enum(word) if word in enum._value2member_map_
                              else enum(word.replace("-", "_")) if "-" in word
                              else enum(word.replace("_", "-")))
            except ValueError:
                from kpictl.errors import InvalidInput

                raise InvalidInput(f"invalid {option} {item.strip()!r}: use "
                                   f"{', '.join(e.value for e in enum)}") from None
    return result


def _complete(name: str, ctx, incomplete: str) -> list[str]:
    from kpictl.cli import complete

    return getattr(complete, name)(ctx, incomplete)


def _complete_format(incomplete: str) -> list[str]:
    return [f.value for f in Format if f.value.startswith(incomplete)]


FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", envvar="KPICTL_FORMAT", metavar="table|json|jsonl|csv|md|html",
                 help="Output format (html: `report` views only). Default: table.",
                 autocompletion=_complete_format, rich_help_panel="Output"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.",
                                          rich_help_panel="Output")]
ByOption = Annotated[
    str | None,
    typer.Option("--by", envvar="KPICTL_USER", metavar="HANDLE",
                 help="Who is doing this (default: $KPICTL_USER). On PostgreSQL: the "
                 "connected role's person; only an admin may name someone else.",
                 autocompletion=lambda ctx, incomplete: _complete("handles", ctx, incomplete)),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", metavar="DATE", rich_help_panel="Views",
                 help="Compute the report as it stood at this instant (date grammar)."),
]
