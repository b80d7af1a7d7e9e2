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
    """Copy a consistent snapshot of a SQLite database (in use or not) to a new 0600 file.

    The copy is made in a temporary file beside ``target`` and renamed into place only when
    it is complete: a backup killed half-way leaves no file that looks like a backup."""
    if not db.is_sqlite:
        raise InvalidInput(POSTGRES_BACKUP)
    if db.stand_in:
        raise RuntimeFailure(f"no kpictl database at {db.location}: nothing to back up")
    target = target.expanduser().absolute()
    if target.exists() or target.is_symlink():
        raise Conflict(f"{target} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise InvalidInput(f"cannot write {target}: no directory {target.parent}")
    import sqlite3
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                   suffix=".partial")  # 0600
        os.close(fd)
    except OSError as exc:
        raise RuntimeFailure(f"cannot write {target}: {exc.strerror}") from None
    try:
        source = db.engine.raw_connection()
        try:
            dest = sqlite3.connect(tmp)
            try:
                source.driver_connection.backup(dest)
                dest.execute("PRAGMA journal_mode = WAL")  # as kpictl would have made it
            finally:
                dest.close()
        finally:
            source.close()
        _fsync(tmp)
        try:
            os.link(tmp, target)  # unlike a rename, never replaces a file made meanwhile
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            os.replace(tmp, target)
    except FileExistsError:
        raise Conflict(f"{target} already exists; choose a new file name") from None
    except OSError as exc:
        raise RuntimeFailure(f"cannot write {target}: {exc.strerror}") from None
    except sqlite3.Error as exc:
        raise RuntimeFailure(f"backup to {target} failed: {exc}") from None
    finally:
        for leftover in (tmp, f"{tmp}-journal", f"{tmp}-wal", f"{tmp}-shm"):
            Path(leftover).unlink(missing_ok=True)
    return str(target)


POSTGRES_BACKUP = ("db backup copies SQLite files; a PostgreSQL server's backups are "
                   "pg_dump's job (pg_dump -Fc DBNAME > FILE), or `kpictl export > FILE` for "
                   "a portable copy")


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    writable: bool | None = None
    stale_aggregates: list[str] = field(default_factory=list)
    #: Every problem found, one sentence each with its fix; ``ok`` when there is none.
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


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
    if db.stand_in:
        raise RuntimeFailure(f"no kpictl database at {db.location}: check --db (KPICTL_DB); "
                             "nothing was created")
    journal = revision = None
    try:
        with db.engine.connect() as conn:
            if db.is_sqlite:
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                integrity = "ok" if rows == ["ok"] else "; ".join(rows[:5])
                from kpictl.dbfiles import journal_mode_of

                journal = (journal_mode_of(Path(db.url.database)) if db.url.database
                           else None) or conn.exec_driver_sql("PRAGMA journal_mode").scalar()
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
    if integrity != "ok":
        report.problems.append(f"integrity: {integrity}; restore the latest backup "
                               "(`kpictl db backup` copies), or `kpictl export` what still reads")
    if report.schema_revision != SCHEMA_REVISION:
        report.problems.append(f"schema {report.schema_revision} is not the expected "
                               f"{SCHEMA_REVISION}: run `kpictl db upgrade`")
    elif integrity == "ok":
        from kpictl.services.derived import stale_kpis

        try:
            # One snapshot for both sides of the comparison, while writers go on.
            engine = db.engine if db.is_sqlite else db.engine.execution_options(
                isolation_level="REPEATABLE READ")
            with engine.connect() as conn:
                from sqlalchemy.orm import Session

                with Session(conn) as session:
                    report.stale_aggregates = stale_kpis(session)
        except DBAPIError as exc:
            report.problems.append(f"aggregates unreadable: {str(exc.orig or exc).strip()}")
        if report.stale_aggregates:
            shown = ", ".join(report.stale_aggregates[:10])
            more = (f" and {len(report.stale_aggregates) - 10} more"
                    if len(report.stale_aggregates) > 10 else "")
            report.problems.append(
                f"stale aggregates: check-ins of {shown}{more} were changed outside kpictl; "
                "run `kpictl db rebuild`")
    if db.is_sqlite and db.url.database:
        path = Path(db.url.database)
        from kpictl.dbfiles import inspect_file

        state = inspect_file(path)
        report.writable = state.writable
        if not state.writable:
            report.problems.append(f"read-only: {state.why_readonly}, so every write will "
                                   f"fail; {state.fix_readonly}")
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
