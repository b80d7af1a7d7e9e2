"""Where KPI values come from by themselves: ``sources.toml`` in the user's own config.

Security first (PRODUCT §6): a row in a database must never make a machine run a command —
on a shared PostgreSQL server that would let any writer run code on every cron host. So
sources (and hooks, :mod:`kpictl.services.hooks`) are defined only in files of the user's
own config directory, or a file they name (``pull --sources FILE`` / ``KPICTL_SOURCES``), and
such a file is refused, as ssh refuses a private key, when another user could have written
it: owned by someone else, writable by group or others, or in a directory they can write.

A source is a command (an argv list, run without a shell) that prints a number or one JSON
object, or a SQL query (any SQLAlchemy URL) returning one row ``value[, at]``. ``${VAR}`` in a
command's arguments or a URL is taken from the environment when the source runs, so secrets
stay out of the file; what kpictl prints shows the file's text (``${VAR}``, never its value)
and URL passwords masked.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from dataclasses import dataclass, field
from pathlib import Path

from kpictl.errors import InvalidInput
from kpictl.paths import config_dir

#: Default time a source may take before it is stopped (``timeout = "30s"`` per source).
DEFAULT_TIMEOUT_SECONDS = 60.0
#: Longest timeout a source may ask for.
MAX_TIMEOUT_SECONDS = 24 * 3600.0
SOURCE_KEYS = ("kpi", "command", "url", "sql", "timeout", "by")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def default_sources_path() -> Path:
    return config_dir() / "sources.toml"


# --- "could anyone but me have written this?" -----------------------------------------------


def insecurity(path: Path) -> str | None:
    """Why ``path`` (a file or directory) is not safe to take commands from, with the fix;
    None when only its owner (you, or root) could have written it or the directory it is in.

    Like ssh's StrictModes: refused when owned by another user, writable by group or others,
    or inside a directory that another user can write (a sticky directory such as /tmp is
    fine: there only a file's owner may replace it).
    """
    if not hasattr(os, "geteuid"):  # no POSIX owners and modes: nothing to compare
        return None
    me = os.geteuid()
    try:
        info = path.stat()
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    if info.st_uid not in (me, 0):
        return (f"{path} is owned by uid {info.st_uid}, not by you (uid {me}); fix: "
                f"chown {me} {shlex.quote(str(path))} (or keep your own copy)")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"{path} is writable by group or others; fix: chmod go-w "
                f"{shlex.quote(str(path))}")
    parent = path.resolve().parent
    try:
        pinfo = parent.stat()
    except OSError:
        return None
    if pinfo.st_uid not in (me, 0):
        return (f"{path} is in {parent}, owned by uid {pinfo.st_uid}, not by you; fix: move "
                "it into your own directory")
    if pinfo.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not pinfo.st_mode & stat.S_ISVTX:
        return (f"{path} is in {parent}, which group or others can write; fix: chmod go-w "
                f"{shlex.quote(str(parent))}")
    return None


# --- the file --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One ``[[source]]`` table, as written (nothing expanded)."""

    kpi: str
    number: int  # 1-based position in the file, for messages
    command: tuple[str, ...] | None = None
    url: str | None = None
    sql: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    by: str | None = None
    base_dir: Path = field(default=Path("."), compare=False)

    @property
    def type(self) -> str:
        return "command" if self.command is not None else "sql"

    def shown(self) -> str:
        """What it runs, safe to print: the file's own text, URL passwords masked."""
        from kpictl.db import redact

        if self.command is not None:
            return shlex.join(self.command)
        return redact(self.url or "")

    def variables(self) -> list[str]:
        """The ``${VAR}`` names it takes from the environment."""
        texts = list(self.command or ()) + [self.url or ""]
        return sorted({name for text in texts for name in _VAR.findall(text)})


@dataclass(frozen=True)
class SourcesFile:
    path: Path
    sources: list[Source]

    def select(self, keys: list[str] | None) -> list[Source]:
        """The sources of ``keys`` (all when none are given), in the file's order."""
        if not keys:
            return list(self.sources)
        from kpictl.errors import NotFound, did_you_mean

        by_kpi = {s.kpi: s for s in self.sources}
        chosen = []
        for key in keys:
            wanted = key.strip().lower()
            if wanted not in by_kpi:
                raise NotFound(f"no source for KPI '{key}' in {self.path}"
                               f"{did_you_mean(wanted, by_kpi) or '.'}")
            if by_kpi[wanted] not in chosen:
                chosen.append(by_kpi[wanted])
        return chosen


def sources_path(given: str | None) -> Path:
    """``--sources FILE`` (or ``KPICTL_SOURCES``, which Typer passes the same way), else the
    default in the user's config directory."""
    if given:
        return Path(given).expanduser().absolute()
    return default_sources_path()


def load_sources(path: Path) -> SourcesFile:
    """Read and check ``sources.toml``; refuse (exit 2) an unsafe or invalid file."""
    if not path.exists():
        raise InvalidInput(f"no sources file at {path}: create it (see the README, 'Sources "
                           "and pull') or name one with --sources FILE / KPICTL_SOURCES")
    if path.is_dir():
        raise InvalidInput(f"sources file {path} is a directory")
    problem = insecurity(path)
    if problem:
        raise InvalidInput(f"refusing sources file: {problem}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    return parse_sources(data, path=path, base_dir=path.parent)


def parse_sources(data: bytes, *, path: Path, base_dir: Path) -> SourcesFile:
    """Sources from the text of a file (``path`` names it in messages; commands run and
    relative SQLite paths resolve in ``base_dir``). ``--sources -`` comes here with stdin:
    a pipe from your own shell is yours."""
    import tomllib

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: invalid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text") from None
    unknown = [k for k in document if k != "source"]
    if unknown:
        raise InvalidInput(f"{path}: unknown top-level key(s) {', '.join(map(repr, unknown))}; "
                           "each source is a [[source]] table")
    tables = document.get("source", [])
    if not isinstance(tables, list):
        raise InvalidInput(f"{path}: write each source as a [[source]] table")
    sources, seen = [], set()
    for number, table in enumerate(tables, start=1):
        source = _source(path, number, table, base_dir)
        if source.kpi in seen:
            raise InvalidInput(f"{path}: source {number}: a second source for KPI "
                               f"'{source.kpi}'; keep one source per KPI")
        seen.add(source.kpi)
        sources.append(source)
    return SourcesFile(path, sources)


def _source(path: Path, number: int, table, base_dir: Path) -> Source:
    from kpictl.services.lookups import normalize_key

    def fail(message: str) -> InvalidInput:
        name = f" ({table.get('kpi')})" if isinstance(table, dict) and \
            isinstance(table.get("kpi"), str) else ""
        return InvalidInput(f"{path}: source {number}{name}: {message}")

    if not isinstance(table, dict):
        raise fail("expected a table")
    unknown = [k for k in table if k not in SOURCE_KEYS]
    if unknown:
        raise fail(f"unknown key(s) {', '.join(map(repr, unknown))}; use "
                   f"{', '.join(SOURCE_KEYS)}")
    kpi = table.get("kpi")
    if not isinstance(kpi, str):
        raise fail("kpi = \"KEY\" is required")
    try:
        kpi = normalize_key(kpi)
    except InvalidInput as exc:
        raise fail(exc.message) from None
    command, url, sql = table.get("command"), table.get("url"), table.get("sql")
    if command is not None and (url is not None or sql is not None):
        raise fail("give either command, or url and sql, not both")
    if command is not None:
        if isinstance(command, str):
            raise fail('command is a list of arguments run without a shell, e.g. '
                       '["psql", "-tAc", "select 1"]')
        if not (isinstance(command, list) and command
                and all(isinstance(a, str) for a in command)):
            raise fail("command must be a non-empty list of strings")
        if not command[0].strip():
            raise fail("command[0] (the program) is empty")
        if any("\x00" in a for a in command):
            raise fail("command contains a NUL byte")
    elif url is None or sql is None:
        raise fail("give a command, or both url and sql")
    else:
        if not isinstance(url, str) or not url.strip():
            raise fail("url must be a database URL (any SQLAlchemy URL)")
        if not isinstance(sql, str) or not sql.strip():
            raise fail("sql must be a query returning one row: value[, at]")
    by = table.get("by")
    if by is not None and not isinstance(by, str):
        raise fail("by must be a person's handle")
    return Source(kpi=kpi, number=number, command=tuple(command) if command else None,
                  url=url, sql=sql, timeout=_timeout(table.get("timeout"), fail),
                  by=by.strip().lower() if by else None, base_dir=base_dir)


def _timeout(value, fail) -> float:
    if value is None:
        return DEFAULT_TIMEOUT_SECONDS
    if isinstance(value, bool):
        raise fail("timeout must be a duration such as \"30s\" or \"2m\"")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise fail(f"timeout {value!r}: use a duration such as \"500ms\", \"30s\", \"2m\"")
        scale = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[match.group(2)]
        seconds = float(match.group(1)) * scale
    if not 0 < seconds <= MAX_TIMEOUT_SECONDS:
        raise fail(f"timeout must be above 0 and at most {MAX_TIMEOUT_SECONDS / 3600:.0f}h")
    return seconds


# --- ${VAR} ----------------------------------------------------------------------------------


class Secrets:
    """The values ``${VAR}`` expanded to, so that no message ever shows them."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def expand(self, text: str, environ=None) -> str:
        env = os.environ if environ is None else environ

        def value(match: re.Match) -> str:
            name = match.group(1)
            if name not in env:
                from kpictl.services.fetch import SourceError

                raise SourceError(f"environment variable {name} is not set")
            if len(env[name]) >= 3:  # masking "1" everywhere would mask the numbers too
                self.values.add(env[name])
            return env[name]

        return _VAR.sub(value, text)

    def mask(self, text: str) -> str:
        from kpictl.db import redact

        for secret in sorted(self.values, key=len, reverse=True):
            text = text.replace(secret, "***")
        return redact(text)


# --- `kpictl sources` ------------------------------------------------------------------------


@dataclass
class SourceCheck:
    """One line of ``kpictl.sources/1``: a source as written, and what is wrong with it."""

    kpi: str
    type: str
    runs: str  # the command or URL as written, password masked
    sql: str | None
    timeout: float
    by: str | None
    variables: list[str]
    ok: bool
    problems: list[str]


def check_sources(*, session, sources: SourcesFile) -> list[SourceCheck]:
    """Check each source without running it: its KPI (exists, open), its ``by`` person, its
    ``${VAR}`` variables, its program (found, executable) or its database driver."""
    from sqlalchemy import select

    from kpictl.models import Kpi, Person

    states = dict(session.execute(select(Kpi.key, Kpi.state)).all())
    handles = set(session.execute(select(Person.handle)).scalars())
    checks = []
    for source in sources.sources:
        problems = []
        state = states.get(source.kpi)
        if state is None:
            problems.append(f"no KPI '{source.kpi}'")
        elif state != "active":
            problems.append(f"KPI '{source.kpi}' is closed ({state})")
        if source.by and source.by not in handles:
            problems.append(f"no person '{source.by}' (by)")
        missing = [v for v in source.variables() if v not in os.environ]
        if missing:
            problems.append(f"environment variable(s) not set: {', '.join(missing)}")
        problems += _runnable(source) if not missing else []
        checks.append(SourceCheck(kpi=source.kpi, type=source.type, runs=source.shown(),
                                  sql=source.sql, timeout=source.timeout, by=source.by,
                                  variables=source.variables(), ok=not problems,
                                  problems=problems))
    return checks


def _runnable(source: Source) -> list[str]:
    import shutil

    if source.command is not None:
        program = Secrets().expand(source.command[0])
        if "/" in program:
            path = Path(program).expanduser()
            path = path if path.is_absolute() else source.base_dir / path
            if not path.is_file():
                return [f"no program at {path}"]
            if not os.access(path, os.X_OK):
                return [f"{path} is not executable (chmod u+x)"]
            return []
        return [] if shutil.which(program) else [f"command not found: {program}"]
    from sqlalchemy.engine import make_url

    try:
        url = make_url(Secrets().expand(source.url))
        url.get_dialect()
    except Exception as exc:  # noqa: BLE001 - any failure to load the dialect is the message
        return [f"cannot use url {source.shown()}: {type(exc).__name__}"]
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "").expanduser()
        path = path if path.is_absolute() else source.base_dir / path
        if not url.database or not path.is_file():
            return [f"no SQLite database at {path}"]
    return []
