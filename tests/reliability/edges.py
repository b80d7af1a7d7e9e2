"""Helpers for the edge tests: real `python -m kpictl` processes, file-size limits (a full
disk without root), read-only mounts (root ignores file modes), and a seeded database."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest


def kpictl(*args: str, env: dict | None = None, fsize: int | None = None, stdout=None,
           timeout: float = 120, stdin=None) -> subprocess.CompletedProcess:
    """One real kpictl process; ``fsize`` caps every file it writes (RLIMIT_FSIZE), as a
    full disk would: writes past it fail with EFBIG ("File too large")."""

    def limit() -> None:
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the error, not the signal
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "kpictl", *args], env={**os.environ,
                          **(env or {})}, stdout=stdout if stdout is not None else
                          subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin or
                          subprocess.DEVNULL, preexec_fn=limit, timeout=timeout, text=True)


def one_error_line(proc) -> str:
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kpictl: error: ") and "Traceback" not in proc.stderr
    return lines[0]


@contextmanager
def read_only(directory: Path):
    """``directory`` seen read-only: a read-only bind mount as root (root's writes ignore
    file modes), else chmod. Yields the path to use."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [directory, *directory.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield directory
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    view = directory.parent / f"{directory.name}-ro"
    view.mkdir()
    try:
        subprocess.run(["mount", "--bind", str(directory), str(view)], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        view.rmdir()
        # As root (CI) the bind mount is how a read-only file is made at all: not being able to
        # make one is a broken test machine, not a reason to pass silently.
        pytest.fail(f"cannot make a read-only bind mount here: {exc}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True,
                       capture_output=True)
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=False, capture_output=True)
        view.rmdir()
