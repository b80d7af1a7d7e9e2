"""Waiting for SQLite's write lock, visibly and for a bounded time.

One writer at a time holds a SQLite file's write lock, and a bulk file holds it for its whole
transaction (all or nothing), which can be minutes for a million rows. Another writer waits
for it instead of failing: ``BEGIN IMMEDIATE`` is first tried with a one-second busy
timeout; if the lock is still held the writer says so on stderr ("waiting for another kpictl
writer…") and waits the rest of ``KPICTL_LOCK_TIMEOUT`` seconds (default
:data:`DEFAULT_LOCK_TIMEOUT`). On timeout it fails with exit 1, naming the processes that
hold the file open and what to do.

PostgreSQL writers wait for each other's row locks without a timeout of ours.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from kpictl.errors import InvalidInput, RuntimeFailure

#: Seconds a writer waits for another writer by default: the benchmark's largest bulk file
#: (1,000,000 rows) holds the lock for about 62 s on the 2-core machine of its README table;
#: ten times that is still an answer within a cron job's patience.
DEFAULT_LOCK_TIMEOUT = 600.0
#: After this long a waiting writer says that it waits.
NOTICE_AFTER = 1.0
#: The busy timeout of everything else a connection does (reads, checkpoints).
BUSY_TIMEOUT_MS = 30_000


def lock_timeout() -> float:
    """``KPICTL_LOCK_TIMEOUT`` in seconds (a positive number), else the default."""
    raw = os.environ.get("KPICTL_LOCK_TIMEOUT")
    if raw is None or not raw.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 7 * 86400:
        raise InvalidInput(f"invalid KPICTL_LOCK_TIMEOUT {raw!r}: give seconds, such as 600 "
                           "(at most a week)")
    return value


def _locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def begin_immediate(dbapi_connection, *, path: str | None,
                    notify: Callable[[str], None] | None) -> None:
    """``BEGIN IMMEDIATE`` on a raw sqlite3 connection, waiting as the module doc says."""
    timeout = lock_timeout()
    first = min(NOTICE_AFTER, timeout)
    started = time.monotonic()
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(first * 1000)}")
        try:
            cursor.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or timeout <= first:
                if _locked(exc):
                    raise _timed_out(path, timeout) from None
                raise
        if notify is not None:
            notify(f"waiting for another kpictl writer… (up to {_seconds(timeout)}; "
                   "KPICTL_LOCK_TIMEOUT sets it)")
        remaining = timeout - (time.monotonic() - started)
        cursor.execute(f"PRAGMA busy_timeout = {max(1, int(remaining * 1000))}")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _locked(exc):
                raise _timed_out(path, timeout) from None
            raise
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.close()


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _timed_out(path: str | None, timeout: float) -> RuntimeFailure:
    from kpictl.dbfiles import holders

    held = holders(Path(path)) if path else []
    who = (f"held by {', '.join(held[:3])}" + (f" and {len(held) - 3} more" if len(held) > 3
                                                 else "")
           if held else "held by another process")
    return RuntimeFailure(
        f"gave up after {_seconds(timeout)} waiting for the write lock of {path} ({who}): "
        "nothing was written. Wait for it to finish and run this again, or raise "
        "KPICTL_LOCK_TIMEOUT")
