"""Reading `--file PATH|-` for bulk commands, and their progress bar and summary."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path


def read_bulk(path: str, *, fmt: str | None, columns: tuple[str, ...]):
    """(rows, row errors, file name) from a CSV or JSON Lines file, or stdin for ``-``."""
    from kpictl.services.bulk.rows import read_rows

    with open_bulk(path) as (stream, name):
        rows, errors = read_rows(stream, name=name, fmt=fmt, columns=columns)
    return rows, errors, name


@contextmanager
def open_bulk(path: str):
    """``--file PATH|-`` as (text stream, name for messages). A file that cannot be opened,
    or turns out not to be UTF-8 half-way through the rows streaming in, is the user's input
    error, named in one line."""
    from kpictl.errors import InvalidInput

    name = "stdin" if path == "-" else path
    try:
        stream = _spooled_stdin() if path == "-" else Path(path).open(encoding="utf-8",
                                                                       newline="")
    except UnicodeDecodeError:
        raise InvalidInput(f"--file: {name} is not UTF-8 text") from None
    except FileNotFoundError:
        raise InvalidInput(f"--file: cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"--file: {path} is a directory") from None
    except PermissionError:
        raise InvalidInput(f"--file: cannot read {path}: permission denied") from None
    except OSError as exc:
        raise InvalidInput(f"--file: cannot read {path}: {exc.strerror or exc}") from None
    try:
        yield stream, name
    except UnicodeDecodeError:
        raise InvalidInput(f"--file: {name} is not UTF-8 text") from None
    except IsADirectoryError:  # a directory opens on some systems and fails when read
        raise InvalidInput(f"--file: {path} is a directory") from None
    finally:
        stream.close()


def _spooled_stdin():
    """Standard input read to its end first (in memory, on disk past 16 MB): a slow producer
    (`slow-export | kpictl checkin --file -`) must not hold the database's write lock while
    it takes its time, as streaming rows straight into the transaction would."""
    import shutil
    import tempfile

    spool = tempfile.SpooledTemporaryFile(max_size=16 * 2**20, mode="w+", encoding="utf-8",
                                          newline="")
    shutil.copyfileobj(sys.stdin, spool)
    spool.seek(0)
    return spool


@contextmanager
def progress_bar(st, total: int | None, label: str):
    """A Rich progress bar on stderr for big files at a terminal; a no-op callback otherwise.

    ``total=None`` is a stream of unknown length: the bar then counts rows as they go by.
    """
    import os

    dumb = os.environ.get("TERM") == "dumb" or bool(os.environ.get("NO_COLOR")) or st.no_color
    small = total is not None and total < 2_000
    if st.quiet or small or not sys.stderr.isatty() or dumb:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    if total is None:
        columns = [TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.completed:,} rows")]
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done)


def refuse_invalid(result, *, name: str, skip_invalid: bool) -> None:
    """Inside the write transaction: exit 2 listing every bad row, so nothing is written."""
    from kpictl.errors import InvalidInput
    from kpictl.services.bulk.rows import listed

    if result.errors and not skip_invalid:
        raise InvalidInput(
            f"{len(result.errors)} invalid row(s) in {name}; nothing written (fix them, or pass "
            "--skip-invalid to write the valid rows)", details=listed(result.errors))


def finish(st, result, *, what: str, name: str,
           skipped: str = "skipped (already recorded)") -> int:
    """After the commit — "written" means committed: the skipped rows and the summary line.

    Returns the exit code: 7 (partly done, PRODUCT §4) when ``--skip-invalid`` left bad rows
    out and wrote the rest, else 0."""
    from kpictl.services.bulk.rows import listed

    for line in listed(result.errors):
        print(f"kpictl: skipped {line}", file=sys.stderr)
    st.say(f"{name}: {result.summary(what, skipped)}")
    return 7 if result.errors else 0
