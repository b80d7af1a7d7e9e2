"""What a SQLite file is before kpictl writes to it, and who else has it open.

Every command looks at its SQLite file with a read-only connection first (``mode=ro``: no
journal switch, no ``-wal`` created, nothing migrated) and decides:

* a file that does not exist is created only by a command that writes; a command that reads
  sees an empty database (in memory) and says so, and ``db check``/``db backup`` refuse;
* a file with tables but no kpictl schema (no ``alembic_version``, or one that names no
  revision of ours together with a ``kpi`` table) is not a kpictl database: refused before
  anything is written to it;
* a file or directory the user may not write is opened read-only by reads, and a write is
  refused in one line that names the cause and the fix.

When a writer times out waiting for the lock, :func:`holders` names the processes that have
the file open (Linux ``/proc``), so the message can say what to wait for or stop.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from kpictl.errors import RuntimeFailure

_REVISION_RE = re.compile(r"^(\d{4})_\w+\.py$")


def known_revisions() -> set[str]:
    """The revisions of kpictl's migrations (their file names), without importing Alembic."""
    versions = Path(__file__).parent / "migrations" / "versions"
    return {m.group(1) for m in map(_REVISION_RE.match, os.listdir(versions)) if m}


@dataclass
class FileState:
    path: Path
    exists: bool
    blank: bool = True  # no tables at all: a new file (or one a failed create left empty)
    revision: str | None = None
    tables: tuple[str, ...] = ()
    writable: bool = True
    why_readonly: str | None = None

    @property
    def fix_readonly(self) -> str:
        if self.why_readonly and "file system" in self.why_readonly:
            return ("remount it read-write, or copy the database to a writable place and "
                    "point --db (KPICTL_DB) there")
        return (f"give yourself write access to {self.path} and its directory "
                f"{self.path.parent} (chmod u+w), run as their owner, or point --db "
                "elsewhere")


def inspect_file(path: Path) -> FileState:
    """Look at ``path`` without changing it (see the module doc)."""
    if not path.exists():
        return FileState(path=path, exists=False, writable=_can_create(path))
    state = FileState(path=path, exists=True)
    state.writable, state.why_readonly = _writable(path)
    if path.stat().st_size == 0:
        return state
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise RuntimeFailure(f"cannot open {path}: {exc}") from None
    try:
        try:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
        except sqlite3.DatabaseError as exc:
            if "readonly" in str(exc) or "unable to open" in str(exc):
                names = _immutable_tables(path)
            elif "not a database" in str(exc):
                raise RuntimeFailure(f"{path} is not a kpictl database ({exc})") from None
            else:
                raise RuntimeFailure(f"cannot read the database {path}: {exc}") from None
        state.tables = tuple(sorted(n for n in names if not n.startswith("sqlite_")))
        state.blank = not state.tables
        if "alembic_version" in names:
            try:
                state.revision = _read_revision(conn)
            except sqlite3.DatabaseError:
                state.revision = _read_revision(_immutable(path))
    finally:
        conn.close()
    if not state.blank:
        _refuse_foreign(state)
    return state


def journal_mode_of(path: Path) -> str | None:
    """"wal" or "delete" from the file header (bytes 18–19 are 2 in WAL mode), as SQLite
    would report it: an immutable read-only open always says "delete"."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return None
    if len(header) < 20:
        return None
    return "wal" if header[18] == 2 else "delete"


def _immutable(path: Path) -> sqlite3.Connection:
    """A read of a WAL file in a directory we may not write (no ``-shm`` can be made)."""
    return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)


def _immutable_tables(path: Path) -> list[str]:
    conn = _immutable(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    finally:
        conn.close()


def _read_revision(conn) -> str | None:
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _refuse_foreign(state: FileState) -> None:
    ours = state.revision in known_revisions()
    newer = (state.revision is not None and re.fullmatch(r"\d{4}", state.revision)
             and "kpi" in state.tables)
    if ours or newer:
        return
    shown = ", ".join(state.tables[:5]) + (", …" if len(state.tables) > 5 else "")
    why = (f"its schema revision is {state.revision!r}" if state.revision is not None
           else f"it has tables ({shown}) and no kpictl schema")
    raise RuntimeFailure(f"{state.path} is not a kpictl database: {why}; nothing was "
                         "changed. Point --db (KPICTL_DB) at a kpictl database or a new file")


def _can_create(path: Path) -> bool:
    parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    return parent is not None and os.access(parent, os.W_OK | os.X_OK)


def _writable(path: Path) -> tuple[bool, str | None]:
    """Whether this user may write the file and its directory (SQLite needs both for the
    ``-wal``/``-shm`` files), and if not, why."""
    if _read_only_mount(path):
        return False, "it is on a read-only file system"
    if not os.access(path, os.W_OK):
        return False, "the file is read-only for you"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return False, "its directory is read-only for you"
    return True, None


def _read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def holders(path: Path) -> list[str]:
    """Other processes that have the database (or its ``-wal``) open: "pid 123 (kpictl
    checkin --file big.csv)". Empty where ``/proc`` is not there or not readable."""
    wanted = {str(path), f"{path}-wal", f"{path}-shm"}
    found = []
    me = os.getpid()
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == me:
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if not any(_link(pid, fd) in wanted for fd in fds):
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        found.append(f"pid {pid} ({_command(argv)})")
    return found


def _link(pid: int, fd: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None


def _command(argv: list[str]) -> str:
    """``python -m kpictl checkin …`` or ``/venv/bin/kpictl checkin …`` → ``kpictl checkin …``."""
    for i, arg in enumerate(argv):
        if arg == "kpictl" or arg.endswith("/kpictl"):
            argv = ["kpictl", *argv[i + 1:]]
            break
    text = " ".join(argv)
    return text if len(text) <= 120 else text[:119] + "…"
