"""Running one source: a command, or a read-only SQL query, within its timeout.

* A **command** runs without a shell, in its own process group (``start_new_session``), from
  the sources file's directory, with no standard input. On timeout the whole group is killed,
  so a shell script's children die with it. It prints a number, or one JSON object
  ``{"value": …, "at": …, "note": …, "confidence": …}``.
* A **query** runs read-only however the URL's backend enforces it: SQLite is opened with
  ``mode=ro`` and ``PRAGMA query_only``; PostgreSQL sessions start with
  ``default_transaction_read_only`` and the transaction is ``READ ONLY``; any other backend
  must accept ``SET TRANSACTION READ ONLY`` or the source fails. The transaction is always
  rolled back. The timeout is the server's ``statement_timeout`` on PostgreSQL and a progress
  handler on SQLite. It returns one row, ``value[, at]``. For a hard guarantee, give the URL a
  role that can only read.

Every failure is a :class:`SourceError` whose message never holds a ``${VAR}`` value or a
URL password.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from kpictl.errors import InvalidInput
from kpictl.services.sources import Secrets, Source

#: A source printing more than this is not printing one number.
MAX_OUTPUT_BYTES = 64 * 1024
_JSON_KEYS = ("value", "at", "note", "confidence")
_RUNNING: set[subprocess.Popen] = set()  # commands in flight, for stop_all()
_RUNNING_LOCK = threading.Lock()


class SourceError(Exception):
    """A source that did not give a value; the message is safe to print."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Reading:
    value: float
    at: datetime | None = None
    note: str | None = None
    confidence: int | None = None


def read_source(source: Source, *, now: datetime, tz) -> Reading:
    """The value ``source`` gives now, or :class:`SourceError`."""
    secrets = Secrets()
    try:
        if source.command is not None:
            return _run_command(source, secrets, now=now, tz=tz)
        return _run_query(source, secrets, now=now, tz=tz)
    except SourceError as exc:
        raise SourceError(secrets.mask(exc.message)) from None


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _first_line(data: bytes | str, limit: int = 200) -> str:
    from kpictl.textforms import sanitize

    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = sanitize(lines[0]) if lines else ""
    return line if len(line) <= limit else line[:limit] + "…"


# --- commands --------------------------------------------------------------------------------


def _run_command(source: Source, secrets: Secrets, *, now, tz) -> Reading:
    argv = [secrets.expand(arg) for arg in source.command]
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=source.base_dir,
                                start_new_session=True)
    except FileNotFoundError:
        raise SourceError(f"command not found: {source.command[0]}") from None
    except PermissionError:
        raise SourceError(f"cannot run {source.command[0]}: permission denied") from None
    except OSError as exc:
        raise SourceError(f"cannot run {source.command[0]}: {exc.strerror or exc}") from None
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
    try:
        out, err = proc.communicate(timeout=source.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise SourceError(f"timed out after {_seconds(source.timeout)} (stopped)") from None
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
    if proc.returncode < 0:
        raise SourceError(f"killed by signal {-proc.returncode}")
    if proc.returncode != 0:
        detail = _first_line(err) or _first_line(out)
        raise SourceError(f"exited with status {proc.returncode}"
                          + (f": {secrets.mask(detail)}" if detail else ""))
    if len(out) > MAX_OUTPUT_BYTES:
        raise SourceError(f"printed {len(out):,} bytes; expected one number or JSON object")
    try:
        text = out.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SourceError("printed output that is not UTF-8 text") from None
    return parse_output(secrets.mask(text), now=now, tz=tz)


def stop_all() -> None:
    """Kill every command still running (the pull was interrupted)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for proc in running:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop the command and everything it started (its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a grandchild that left the group still holds a pipe
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        proc.wait(timeout=5)


def parse_output(text: str, *, now, tz) -> Reading:
    """A command's output: a number, or one JSON object with ``value`` (and optional ``at``,
    ``note``, ``confidence``)."""
    if not text:
        raise SourceError("printed nothing; expected a number or a JSON object")
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise SourceError(f"printed invalid JSON: {_first_line(text, 80)!r}") from None
        if not isinstance(document, dict):
            raise SourceError("printed JSON that is not one object")
        unknown = [k for k in document if k not in _JSON_KEYS]
        if unknown:
            raise SourceError(f"printed unknown field(s) {', '.join(map(repr, unknown))}; "
                              f"use {', '.join(_JSON_KEYS)}")
        if document.get("value") is None:
            raise SourceError("printed JSON without a \"value\"")
        note = document.get("note")
        if note is not None and not isinstance(note, str):
            raise SourceError("\"note\" must be text")
        return Reading(value=_number(document["value"]), at=_when(document.get("at"), now, tz),
                       note=note, confidence=_confidence(document.get("confidence")))
    return Reading(value=_number(text))


def _number(value) -> float:
    if isinstance(value, bool):
        raise SourceError(f"gave {value!r}, not a number")
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        if not math.isfinite(number):
            raise SourceError("gave a value that is not a finite number")
        from kpictl.timeparse import MAX_NUMBER

        if abs(number) > MAX_NUMBER:
            raise SourceError(f"gave {number:g}, beyond the largest value kpictl stores")
        return number + 0.0
    if isinstance(value, str):
        from kpictl.timeparse import parse_number

        try:
            return parse_number(value, what="value")
        except InvalidInput:
            raise SourceError(f"printed {_first_line(value, 80)!r}, not a number") from None
    raise SourceError(f"gave a {type(value).__name__}, not a number")


def _when(value, now, tz) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str):
        raise SourceError("\"at\" must be a date or time")
    from kpictl.timeparse import parse_when

    try:
        return parse_when(value, now=now, tz=tz, bound="start")
    except InvalidInput as exc:
        raise SourceError(f"at: {exc.message}") from None


def _confidence(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or value != int(value) or not 0 <= value <= 10:
        raise SourceError("\"confidence\" must be a whole number 0-10")
    return int(value)


# --- queries ---------------------------------------------------------------------------------


def _run_query(source: Source, secrets: Secrets, *, now, tz) -> Reading:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
    from sqlalchemy.pool import NullPool

    try:
        url = make_url(secrets.expand(source.url))
    except (ArgumentError, ValueError):
        raise SourceError(f"invalid url {source.shown()!r}") from None
    backend = url.get_backend_name()
    deadline = time.monotonic() + source.timeout
    connect_args: dict = {}
    if backend == "sqlite":
        url = _sqlite_read_only(url, source)
    elif backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        ms = max(1, int(source.timeout * 1000))
        connect_args = {"connect_timeout": max(2, math.ceil(source.timeout)),
                        "options": f"-c default_transaction_read_only=on "
                                   f"-c statement_timeout={ms}"}
    try:
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        raise SourceError(f"no database driver for {url.drivername} ({exc})") from None
    if backend == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _guard(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA query_only = ON")
            dbapi_connection.set_progress_handler(
                lambda: 1 if time.monotonic() > deadline else 0, 1000)
    try:
        with engine.connect() as conn:
            if backend != "sqlite":
                try:
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                except DBAPIError:
                    raise SourceError(f"cannot make a {backend} query read-only; kpictl runs "
                                      "queries only where it can") from None
            result = conn.execution_options(no_parameters=True).exec_driver_sql(source.sql)
            rows = result.fetchmany(2) if result.returns_rows else None
            conn.rollback()
    except SourceError:
        raise
    except DBAPIError as exc:
        detail = _first_line(str(exc.orig if exc.orig is not None else exc))
        if time.monotonic() > deadline or "statement timeout" in detail \
                or detail == "interrupted":
            raise SourceError(f"timed out after {_seconds(source.timeout)} (stopped)") from None
        where = f" at {source.shown()}" if exc.connection_invalidated or \
            "connect" in detail.lower() else ""
        raise SourceError(f"query failed{where}: {secrets.mask(detail)}") from None
    finally:
        engine.dispose()
    if rows is None:
        raise SourceError("the SQL returned no rows (it must be a query: select …)")
    if not rows:
        raise SourceError("the query returned no row; it must return one row: value[, at]")
    if len(rows) > 1:
        raise SourceError("the query returned more than one row; it must return one: "
                          "value[, at]")
    row = tuple(rows[0])
    if not 1 <= len(row) <= 2:
        raise SourceError(f"the query returned {len(row)} columns; it must return "
                          "value[, at]")
    if row[0] is None:
        raise SourceError("the query returned NULL")
    return Reading(value=_number(row[0]), at=_when(row[1], now, tz) if len(row) > 1 else None)


def _sqlite_read_only(url, source: Source):
    """The same file opened read-only (``mode=ro``); relative paths from the sources file."""
    from pathlib import Path
    from urllib.parse import quote

    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise SourceError("a SQLite source needs a file path: sqlite:////path/to/file.db")
    path = Path(database).expanduser()
    if not path.is_absolute():
        path = source.base_dir / path
    if not path.exists():
        raise SourceError(f"no SQLite database at {path}")
    return url.set(database=f"file:{quote(str(path))}",
                   query={**url.query, "mode": "ro", "uri": "true"})
