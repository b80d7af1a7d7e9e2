"""The `kpictl` command line: global options, command registration, and the one error route.

Command modules import only Typer and the domain enums at module level; each command body
imports the services and renderers it needs, so `--help`, `--version` and completion stay as
cheap as `import typer`. Commands are also *built* lazily (Click's "lazily loading
subcommands" pattern): the root group knows every command's name, but a command's module is
imported and turned into a Click command only when it is run, listed in help or completed —
`kpictl checkin …` does not pay for building `report`, `assign` and the rest.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import Annotated

import typer
from typer.core import TyperGroup

from kpictl import __version__, _interrupted_while_starting
from kpictl.cli.common import State

#: Every command, in help order, with the module that defines it. A module's ``register(app)``
#: adds its commands; ``people`` and ``db`` are groups (the module's ``app``).
COMMANDS = {
    "people": "people", "assign": "kpis", "targets": "periods", "feedback": "kpis",
    "close": "kpis",
    "reopen": "corrections", "suggest": "suggest", "checkin": "checkins",
    "amend": "corrections", "retract": "corrections", "report": "reports", "log": "log",
    "nudge": "nudge",
    "db": "db",
    "demo": "demo", "schema": "schema", "export": "transfer", "import": "transfer",
    "pull": "pull", "sources": "pull", "whoami": "access",
}
_GROUP_PANELS = {"people": "Delegate", "db": "Data"}


def _build(module_name: str) -> dict:
    """The Click commands that one command module defines, by name."""
    module = importlib.import_module(f"kpictl.cli.{module_name}")
    holder = typer.Typer(rich_markup_mode="rich")
    holder.callback()(lambda: None)  # a callback makes it a group even with one command
    if module_name in _GROUP_PANELS:
        holder.add_typer(module.app, name=module_name,
                         rich_help_panel=_GROUP_PANELS[module_name])
    else:
        module.register(holder)
    return dict(typer.main.get_command(holder).commands)


class _LazyCommands(MutableMapping):
    """``TyperGroup.commands`` whose values are built on first access (see the module doc)."""

    def __init__(self, loaders: dict[str, str], build: Callable[[str], dict]) -> None:
        self.loaders, self.build, self.built = dict(loaders), build, {}

    def __getitem__(self, name: str):
        if name not in self.built:
            if name not in self.loaders:
                raise KeyError(name)
            self.built.update(self.build(self.loaders[name]))
        return self.built[name]

    def __setitem__(self, name: str, command) -> None:
        self.built[name] = command
        self.loaders.setdefault(name, "")

    def __delitem__(self, name: str) -> None:
        self.loaders.pop(name)
        self.built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.loaders)

    def __len__(self) -> int:
        return len(self.loaders)


def _plain_help() -> None:
    """Help that reads as a manual: no ``<bool>``/``<str>`` type tags (a flag takes no value;
    an option without a metavar takes its name in capitals, ``--name NAME``) and no ``{KEY}`` braces for a required
    argument in the usage line (``Usage: kpictl people add [OPTIONS] HANDLE``, as
    man pages write it). Typer offers no setting for either; both methods only shape help."""
    from typer.core import TyperArgument, TyperOption

    generic = {"<bool>", "<str>", "<int>", "<float>", "<text>", "<list[str]>"}
    for cls in (TyperArgument, TyperOption):
        original = cls.display_type_rich
        if getattr(original, "_kpictl", False):
            continue

        def display_type_rich(self, ctx, _original=original):
            shown = _original(self, ctx)
            if shown is None or str(shown).lower() not in generic:
                return shown
            if isinstance(self, TyperOption) and not self.is_flag and self.opts:
                return self.opts[-1].lstrip("-").upper()  # --name takes NAME, as Click says
            return None

        display_type_rich._kpictl = True
        cls.display_type_rich = display_type_rich
    usage = getattr(TyperArgument, "_usage_display_name", None)
    if usage is not None and not getattr(usage, "_kpictl", False):
        def _usage_display_name(self, _original=usage):
            name = _original(self)
            return name[1:].replace("}", "", 1) if name.startswith("{") else name

        _usage_display_name._kpictl = True
        TyperArgument._usage_display_name = _usage_display_name


_plain_help()


class _Recorder:
    """Stands in for a Typer app in a module's ``register(app)``: it notes each command's
    name, panel and function instead of building it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict, Callable]] = []

    def command(self, name: str, **options):
        def record(function):
            self.seen.append((name, options, function))
            return function
        return record


def _summaries() -> dict:
    """Every command as the root help lists it (name, panel, help text), without building
    its parameters: Typer's ``get_command`` for twelve commands is most of what `kpictl
    --help` costs beyond a one-command app, and the root help shows none of their options."""
    import inspect

    from typer.core import TyperCommand

    stubs = {}
    for module_name in dict.fromkeys(COMMANDS.values()):
        module = importlib.import_module(f"kpictl.cli.{module_name}")
        if module_name in _GROUP_PANELS:
            stubs[module_name] = TyperGroup(name=module_name, help=module.app.info.help,
                                            rich_help_panel=_GROUP_PANELS[module_name])
            continue
        recorder = _Recorder()
        module.register(recorder)
        for name, options, function in recorder.seen:
            stubs[name] = TyperCommand(name=name, help=inspect.getdoc(function),
                                       rich_help_panel=options.get("rich_help_panel"))
    return {name: stubs[name] for name in COMMANDS}


class _KpictlGroup(TyperGroup):
    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        lazy = _LazyCommands(COMMANDS, _build)
        for name, command in self.commands.items():
            lazy[name] = command
        self.commands = lazy

    def format_help(self, ctx, formatter) -> None:
        real = self.commands
        self.commands = _summaries()  # see _summaries: the list needs no built command
        try:
            super().format_help(ctx, formatter)
        finally:
            self.commands = real


app = typer.Typer(
    name="kpictl",
    cls=_KpictlGroup,
    # Help text is Rich markup, chosen deliberately (help panels need it): a literal bracket
    # in any docstring or help= is written \[like this] (tests/cli/test_help.py checks).
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"kpictl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db_target: Annotated[
        str | None,
        typer.Option("--db", envvar="KPICTL_DB", metavar="PATH|URL",
                     help="SQLite file or database URL (default: your user data dir).",
                     show_default=False, rich_help_panel="Where"),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option("--tz", envvar="KPICTL_TZ", metavar="ZONE",
                     help="Time zone for dates you type and see (default: the system zone).",
                     rich_help_panel="Where"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No confirmations on stderr.",
                                        rich_help_panel="Output")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour (also NO_COLOR).",
                                           rich_help_panel="Output")] = False,
    no_hooks: Annotated[
        bool, typer.Option("--no-hooks", help="Run no hooks for this command (also "
                           "KPICTL_NO_HOOKS=1).", rich_help_panel="Where")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Delegate KPIs to the right people, collect check-ins, and see early what is on track,
    at risk, stale or overdue.

    Example: kpictl demo

    Example: kpictl report --status at_risk,off_track
    """
    ctx.obj = State(db=db_target, tz=tz, quiet=quiet,
                    no_color=no_color or bool(os.environ.get("NO_COLOR")), no_hooks=no_hooks)




def _shorten(text: str, limit: int = 500) -> str:
    """A 1 MB argument echoed in an error must not flood the terminal."""
    if len(text) <= limit:
        return text
    return f"{text[:limit - 100]}… ({len(text) - limit + 20} characters cut) …{text[-60:]}"


def _fail(message: str, code: int, details: list[str] = ()) -> None:
    from kpictl.render.text import sanitize

    for line in details:
        print(f"kpictl: {_shorten(sanitize(line))}", file=sys.stderr)
    print(f"kpictl: error: {_shorten(sanitize(message))}", file=sys.stderr)
    try:
        sys.stdout.flush() if not sys.stdout.closed else None
    except (OSError, ValueError):  # the reader is gone or the disk full: the line above says why
        pass
    raise SystemExit(code)


def _argument_name(args: list[str], position: int) -> str:
    """The option an argument belongs to (``--title``), for messages; else its position."""
    arg = args[position]
    if arg.startswith("--") and "=" in arg:
        return arg.split("=", 1)[0]
    previous = args[position - 1] if position else ""
    if previous.startswith("-") and previous != "--" and "=" not in previous:
        return previous
    return f"argument {position + 1}"


def _reader_gone() -> None:
    """The reader went away (`kpictl report | head -1`): stop quietly and successfully."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
    except (OSError, ValueError):
        pass
    raise SystemExit(0)


def _unexpected(exc: Exception, program: bool) -> None:
    """An error no layer turned into a message: a database error the translation missed (the
    file changed or locked under us) is a runtime failure; anything else is a bug, which the
    program reports in one line too (``KPICTL_DEBUG=1`` shows the traceback; in-process, as
    in the tests, it propagates)."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, (SQLAlchemyError, sqlite3.Error)):
        from kpictl.db import redact

        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        _fail(f"database error: {redact(detail[0]) if detail else type(exc).__name__}", 1)
    if not program or os.environ.get("KPICTL_DEBUG", "").strip() not in ("", "0"):
        raise exc
    first = str(exc).strip().splitlines()
    _fail(f"unexpected {type(exc).__name__}{': ' + first[0] if first else ''} (a bug in "
          "kpictl: please report it; KPICTL_DEBUG=1 shows where)", 1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and map every failure to one line and an exit code."""
    from kpictl.errors import KpictlError

    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:  # answer before Typer builds the whole command tree
        print(f"kpictl {__version__}")
        raise SystemExit(0)
    for position, arg in enumerate(args):
        try:
            arg.encode("utf-8")
            bad = "contains a NUL byte" if "\x00" in arg else None
        except UnicodeEncodeError:  # undecodable bytes on the command line, lone surrogates
            bad = "is not valid UTF-8 text (check the terminal's encoding)"
        if bad:  # no path, key or text may hold these; the OS would reject a NUL anyway
            _fail(f"{_argument_name(args, position)} {bad}", 2)
    from kpictl.cli.output import check_stdout

    check_stdout()  # a short write (full disk) is an error, not a file cut short
    import signal

    program = signal.getsignal(signal.SIGINT) is _interrupted_while_starting
    try:
        if program:  # from here Ctrl-C is KeyboardInterrupt, answered below (inside the try)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        result = app(args=args, prog_name="kpictl", standalone_mode=False)
        sys.stdout.flush()
    except KpictlError as exc:
        _fail(exc.message, exc.exit_code, exc.details)
    except typer.TyperException as exc:  # usage errors from the bundled Click
        if type(exc).__name__ == "NoArgsIsHelpError":  # help was printed; a bare group is usage
            raise SystemExit(2) from None
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        possible = getattr(exc, "possibilities", None)
        if possible and getattr(exc, "option_name", None):  # Click's matches, closest first
            message = f"No such option: {exc.option_name}. Did you mean {possible[0]}?"
        ctx = getattr(exc, "ctx", None)
        hint = f" Try '{ctx.command_path} --help'." if ctx is not None else ""
        message = message.strip().replace("Value error, ", "")
        if not message.endswith((".", "?")):
            message += "."
        _fail(message + hint, getattr(exc, "exit_code", 2))
    except typer.Abort:
        _fail("aborted", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        _reader_gone()
    except OSError as exc:
        if exc.filename:  # a path the user named that cannot be used: their input
            _fail(f"cannot use {exc.filename}: {exc.strerror or exc}", 2)
        _fail(f"cannot write output: {exc.strerror or exc}", 1)  # e.g. stdout on a full disk
    except SystemExit as exc:
        # Typer and Rich answer a broken pipe with exit 1; we decided otherwise.
        if exc.code == 1 and isinstance(exc.__context__, BrokenPipeError):
            _reader_gone()
        raise
    except Exception as exc:
        _unexpected(exc, program)
    else:
        if result == 130:  # Typer turned Ctrl-C into a silent exit; say what happened
            _fail("interrupted; nothing was written by the interrupted command", 130)
        raise SystemExit(result if isinstance(result, int) else 0)
    finally:
        if program:  # the command has ended and said so: a late Ctrl-C changes nothing
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            # The interpreter's last act is a full cyclic collection over every object still
            # alive (a 10,000-KPI report leaves ~1M: 0.3 s of CPU) that frees nothing the exit
            # would not. Database connections are closed already (NullPool, sessions ended).
            import gc

            gc.freeze()
