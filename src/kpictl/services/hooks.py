"""Hooks: executables in ``<config>/kpictl/hooks/`` told what a write did, after it committed.

``on-checkin``, ``on-assign``, ``on-close``, ``on-feedback`` and ``on-status-change`` each get
their events (:mod:`kpictl.services.events`) as JSON Lines on standard input, one run per
write — a bulk file or a pull is one run with one line per event. Hooks run concurrently,
each within :data:`HOOK_TIMEOUT_SECONDS` (then its process group is killed); a hook that
fails, hangs or cannot start gets one warning line on stderr and changes nothing: the write
has committed and the command's exit code stays what it was.

Like sources, hooks are taken only from the user's own files (see
:func:`kpictl.services.sources.insecurity`): a hooks directory or hook that another user could
have written is not run, with one warning line naming it and the fix. A file that is not
executable (``on-checkin.sample``, a README) is not a hook and is ignored silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

#: How long a hook may run before it is stopped (a named setting; ``KPICTL_HOOK_TIMEOUT``
#: overrides it, in seconds).
HOOK_TIMEOUT_SECONDS = 10.0
HOOK_NAMES = ("on-checkin", "on-assign", "on-close", "on-feedback", "on-status-change")


def hooks_dir() -> Path:
    from kpictl.services.sources import config_dir

    return config_dir() / "hooks"


def hook_timeout() -> float:
    text = os.environ.get("KPICTL_HOOK_TIMEOUT")
    if text:
        try:
            value = float(text)
            if 0 < value <= 3600:
                return value
        except ValueError:
            pass
    return HOOK_TIMEOUT_SECONDS


def discover(warn: Callable[[str], None], directory: Path | None = None) -> dict[str, Path]:
    """The hooks that may run, by name; warns once about each one that is unsafe."""
    directory = directory or hooks_dir()
    try:
        if not directory.is_dir():
            return {}
    except OSError:
        return {}
    from kpictl.services.sources import insecurity

    problem = insecurity(directory)
    if problem:
        warn(f"not running hooks: {problem}")
        return {}
    found = {}
    for name in HOOK_NAMES:
        path = directory / name
        try:
            if not path.is_file() or not os.access(path, os.X_OK):
                continue
        except OSError:
            continue
        problem = insecurity(path)
        if problem:
            warn(f"not running hook {name}: {problem}")
            continue
        found[name] = path
    return found


def deliver(hooks: dict[str, Path], events: list[dict],
            warn: Callable[[str], None]) -> None:
    """Run each hook that has events, with them as JSON Lines on stdin."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from kpictl.services.events import HOOK_FOR

    batches: dict[str, list[str]] = {}
    for event in events:
        name = HOOK_FOR.get(event["type"])
        if name in hooks:
            batches.setdefault(name, []).append(
                json.dumps(event, ensure_ascii=False, allow_nan=False))
    if not batches:
        return
    timeout = hook_timeout()
    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        problems = list(pool.map(
            lambda item: _run(hooks[item[0]], item[0], "\n".join(item[1]) + "\n", timeout),
            batches.items()))
    for problem in problems:
        if problem:
            warn(problem)


def _run(path: Path, name: str, payload: str, timeout: float) -> str | None:
    """Run one hook; the warning to print, or None when it succeeded."""
    import subprocess

    env = {**os.environ, "KPICTL_HOOK": name}
    try:
        proc = subprocess.Popen([str(path)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, cwd=path.parent, env=env,
                                start_new_session=True)
    except OSError as exc:
        return f"hook {path} could not start ({exc.strerror or exc}); the write was kept"
    try:
        _out, err = proc.communicate(payload.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        return (f"hook {path} took longer than {timeout:g}s and was stopped; the write was "
                "kept")
    except BrokenPipeError:  # it exited without reading its input
        err = b""
        proc.wait(timeout=timeout)
    if proc.returncode != 0:
        from kpictl.textforms import sanitize

        lines = [ln for ln in (err or b"").decode("utf-8", "replace").splitlines() if ln.strip()]
        detail = f": {sanitize(lines[0].strip())[:200]}" if lines else ""
        how = (f"was killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exited with status {proc.returncode}")
        return f"hook {path} {how}{detail}; the write was kept"
    return None


def _stop(proc) -> None:
    import signal
    import subprocess

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        for stream in (proc.stdin, proc.stderr):
            if stream:
                stream.close()
        proc.wait(timeout=5)
