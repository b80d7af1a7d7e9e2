"""Every output complete, or an error: checked writes to stdout and to ``--output`` files.

Python's buffered writer takes a *short* write (a file that reaches ``RLIMIT_FSIZE``, a disk
that fills up) as success and drops the rest without an error, so ``report > f`` on a full
disk exited 0 with a file cut at the limit. Here the bytes go out through :class:`CheckedRaw`,
which writes until every byte is written or the system says why it cannot (``ENOSPC``,
``EFBIG``); the error reaches the one error route: "cannot write output: No space left on
device", exit 1.

``export --output FILE`` never destroys anything (:func:`open_output`): an existing file is
replaced only with ``--force``, and then through a private temporary file renamed into place
once complete; a FIFO or a character device (``/dev/stdout``, a named pipe) is opened and
written, never renamed over; a symbolic link is followed, never replaced; the database itself
and its ``-wal``/``-shm``/``-journal`` files are refused even with ``--force``.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path


class CheckedRaw(io.RawIOBase):
    """A file descriptor whose writes either complete or raise ``OSError``."""

    def __init__(self, fd: int, *, close_fd: bool = False) -> None:
        super().__init__()
        self.fd, self.close_fd = fd, close_fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    failed = False

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        if self.failed:  # reported once already; what is still buffered goes nowhere
            return len(view)
        done = 0
        try:
            while done < len(view):
                done += os.write(self.fd, view[done:])  # raises on ENOSPC, EFBIG, EPIPE, EIO
        except OSError:
            self.failed = True
            raise
        return done

    def close(self) -> None:
        if not self.closed and self.close_fd:
            os.close(self.fd)
        super().close()


def text_writer(fd: int, *, like=None, close_fd: bool = False) -> io.TextIOWrapper:
    """A text stream over ``fd`` with checked writes (encoding and buffering like ``like``)."""
    encoding = getattr(like, "encoding", None) or "utf-8"
    errors = getattr(like, "errors", None) or "strict"
    line_buffering = bool(getattr(like, "line_buffering", False))
    return io.TextIOWrapper(io.BufferedWriter(CheckedRaw(fd, close_fd=close_fd)),
                            encoding=encoding, errors=errors, newline="\n" if like is None
                            else None, line_buffering=line_buffering, write_through=False)


def check_stdout() -> None:
    """Put the process's real stdout behind :class:`CheckedRaw` (a test's buffer is left)."""
    out = sys.stdout
    if out is None or out is not sys.__stdout__:
        return
    try:
        fd = out.fileno()
    except (OSError, ValueError, AttributeError):
        return
    out.flush()
    sys.stdout = text_writer(fd, like=out)


def _same_file(info: os.stat_result, name: str) -> bool:
    try:
        other = os.stat(name)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == (other.st_dev, other.st_ino)


def _database_files(db_path: str | None) -> set[str]:
    if not db_path:
        return set()
    real = os.path.realpath(db_path)
    return {real, *(f"{real}{suffix}" for suffix in ("-wal", "-shm", "-journal"))}


@contextmanager
def open_output(output: Path, *, force: bool, database: str | None):
    """A text stream for ``--output`` (see the module doc); on success the file is complete
    and in place, on any error nothing was replaced."""
    from kpictl.errors import Conflict, InvalidInput

    given = output.expanduser()
    target = Path(os.path.realpath(given))  # a symlink is followed, never replaced
    try:
        info = os.stat(given)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror}") from None
    if str(target) in _database_files(database) or (info is not None and database and any(
            _same_file(info, name) for name in _database_files(database))):
        raise Conflict(f"--output {output} is the database itself (or one of its files): "
                       "choose another file")
    if info is not None and (stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode)):
        try:  # /dev/stdout is a link into /proc: open the name given, as a shell would
            fd = os.open(given, os.O_WRONLY)
        except OSError as exc:
            raise InvalidInput(f"cannot write {output}: {exc.strerror}") from None
        with text_writer(fd, close_fd=True) as stream:
            yield stream
        return
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InvalidInput(f"--output {output} is a directory; give a file name")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"--output {output} is not a regular file, a FIFO or a device")
    if info is not None and not force:
        raise Conflict(f"--output {output} already exists: pass --force to replace it, or "
                       "choose a new file name")
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                   suffix=".tmp")  # mkstemp creates it 0600
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from None
    try:
        with text_writer(fd, close_fd=True) as stream:
            yield stream
            stream.flush()
            os.fsync(fd)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
