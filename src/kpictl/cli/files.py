"""Reading `--file PATH|-` for bulk commands, and their progress bar and summary."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path


def read_bulk(path: str, *, fmt: str | None, columns: tuple[str, ...]):
    """(rows, row errors, file name) from a CSV or JSON Lines file, or stdin for ``-``."""
    from kpictl.errors import InvalidInput
    from kpictl.services.bulk import read_rows

    if path == "-":
        return (*read_rows(sys.stdin, name="stdin", fmt=fmt, columns=columns)[:2], "stdin")
    try:
        with Path(path).open(encoding="utf-8", newline="") as stream:
            rows, errors, _kind = read_rows(stream, name=path, fmt=fmt, columns=columns)
    except FileNotFoundError:
        raise InvalidInput(f"--file: cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"--file: {path} is a directory") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"--file: {path} is not UTF-8 text") from None
    except PermissionError:
        raise InvalidInput(f"--file: cannot read {path}: permission denied") from None
    except OSError as exc:
        raise InvalidInput(f"--file: cannot read {path}: {exc.strerror or exc}") from None
    return rows, errors, path


@contextmanager
def progress_bar(st, total: int, label: str):
    """A Rich progress bar on stderr for big files at a terminal; a no-op callback otherwise."""
    import os

    dumb = os.environ.get("TERM") == "dumb" or bool(os.environ.get("NO_COLOR")) or st.no_color
    if st.quiet or total < 2_000 or not sys.stderr.isatty() or dumb:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done)


def finish(st, result, *, what: str, name: str, skip_invalid: bool,
           skipped: str = "skipped (already recorded)") -> None:
    """The one-line summary, or exit 2 listing every bad row (nothing was written)."""
    from kpictl.errors import InvalidInput
    from kpictl.services.bulk import listed

    if result.errors and not skip_invalid:
        raise InvalidInput(
            f"{len(result.errors)} invalid row(s) in {name}; nothing written (fix them, or pass "
            "--skip-invalid to write the valid rows)", details=listed(result.errors))
    for line in listed(result.errors):
        print(f"kpictl: skipped {line}", file=sys.stderr)
    st.say(f"{name}: {result.summary(what, skipped)}")
