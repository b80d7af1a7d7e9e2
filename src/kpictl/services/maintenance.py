"""Backups and health checks of the database (`kpictl db backup`, `kpictl db check`).

A backup of a live SQLite database must not be a file copy: committed transactions may still
sit in the ``-wal`` file. SQLite's online backup API copies a consistent snapshot while other
processes keep reading and writing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from kpictl.db import SCHEMA_REVISION, Database, current_revision
from kpictl.errors import Conflict, InvalidInput, RuntimeFailure

#: File systems on which SQLite's locking is unreliable (the SQLite FAQ warns about them).
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb", "smbfs", "smb3", "9p", "fuse.sshfs",
                       "afs", "ceph", "glusterfs", "fuse.glusterfs", "davfs", "fuse.davfs2"}


def backup(*, db: Database, target: Path) -> str:
    """Copy a consistent snapshot of a SQLite database (in use or not) to a new 0600 file."""
    if not db.is_sqlite:
        raise InvalidInput("db backup copies SQLite files; on PostgreSQL use pg_dump, or "
                           "`kpictl export > FILE` for a portable copy")
    target = target.expanduser().absolute()
    if target.exists():
        raise Conflict(f"{target} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise InvalidInput(f"cannot write {target}: no directory {target.parent}")
    import sqlite3

    try:
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        source = db.engine.raw_connection()
        try:
            dest = sqlite3.connect(target)
            try:
                source.driver_connection.backup(dest)
            finally:
                dest.close()
        finally:
            source.close()
    except OSError as exc:
        raise RuntimeFailure(f"cannot write {target}: {exc.strerror}") from None
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise RuntimeFailure(f"backup to {target} failed: {exc}") from None
    return str(target)


@dataclass
class CheckReport:
    location: str
    backend: str
    integrity: str
    schema_revision: str | None
    expected_revision: str
    journal_mode: str | None = None
    file_mode: str | None = None
    directory_mode: str | None = None
    filesystem: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and self.schema_revision == self.expected_revision


def _filesystem_of(path: Path) -> str | None:
    """The type of the mount holding ``path`` (Linux /proc/mounts), or None elsewhere."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    best, kind = "", None
    resolved = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3 and (resolved == parts[1] or
                                resolved.startswith(parts[1].rstrip("/") + "/")):
            if len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return kind


def check(*, db: Database) -> CheckReport:
    journal = revision = None
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                integrity = "ok" if rows == ["ok"] else "; ".join(rows[:5])
                journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken and integrity == "ok":
                    integrity = f"{len(broken)} broken reference(s)"
            else:
                conn.exec_driver_sql("SELECT 1")
                integrity = "ok"
        revision = current_revision(db)
    except DBAPIError as exc:  # a damaged file fails even to answer
        integrity = str(exc.orig or exc).strip().splitlines()[0]
    report = CheckReport(location=db.location, backend=db.url.get_backend_name(),
                         integrity=integrity, schema_revision=revision,
                         expected_revision=SCHEMA_REVISION, journal_mode=journal)
    if report.schema_revision != SCHEMA_REVISION:
        report.warnings.append(f"schema {report.schema_revision} is not the expected "
                               f"{SCHEMA_REVISION}: run `kpictl db upgrade`")
    if db.is_sqlite and db.url.database:
        path = Path(db.url.database)
        mode = stat.S_IMODE(path.stat().st_mode)
        dir_mode = stat.S_IMODE(path.parent.stat().st_mode)
        report.file_mode, report.directory_mode = f"{mode:04o}", f"{dir_mode:04o}"
        if mode & 0o077:
            report.warnings.append(f"the database file is readable by others ({mode:04o}): "
                                   f"chmod 600 {path}")
        report.filesystem = _filesystem_of(path)
        if report.filesystem in NETWORK_FILESYSTEMS:
            report.warnings.append(f"the database is on a network file system "
                                   f"({report.filesystem}): SQLite locking is unreliable there; "
                                   "use a local disk or PostgreSQL")
        if journal != "wal":
            report.warnings.append(f"journal mode is {journal}, not wal")
    return report
