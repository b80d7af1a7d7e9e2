"""On a real (pseudo-)terminal: narrow screens drop optional columns instead of cutting the
status or the key with "…"."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_tty(args: list[str], columns: int, env: dict) -> str:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}  # the pty decides
    proc = subprocess.Popen([sys.executable, "-m", "kpictl", *args], stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r", "")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("tty") / "demo.db"
    env = {**os.environ, "KPICTL_TZ": "UTC", "KPICTL_NOW": "2026-11-27T12:00:00Z"}
    subprocess.run([sys.executable, "-m", "kpictl", "demo", "--path", str(path)], check=True,
                   capture_output=True, env=env)
    return path, env


@pytest.mark.parametrize("columns", [60, 80, 100, 160])
def test_report_on_a_narrow_terminal_never_cuts_status_or_key(demo, columns):
    path, env = demo
    out = run_on_tty(["--db", str(path), "report"], columns, env)
    lines = out.splitlines()
    assert all(len(line) <= columns for line in lines), max(lines, key=len)
    header = next(line for line in lines if line.startswith("Status"))
    assert header.split()[:2] == ["Status", "KPI"]
    for key in ("mkt.blog-posts", "support.first-response", "sales.renewals"):
        row = next(line for line in lines if key in line.split())
        assert "…" not in row.split(key)[0]  # the status before the key is whole
    # The owner is always shown: in its column, or on narrow screens before the title.
    at = lines.index(next(line for line in lines if "mkt.blog-posts" in line))
    if "Owner" in header:
        assert "dara" in lines[at].split()
    else:
        assert lines[at + 1].split()[:2] == ["dara", "·"]
    if columns >= 100:
        assert "Owner" in header





@pytest.mark.parametrize("columns", [60, 240])
def test_report_trend_column_is_the_first_to_go_on_a_narrow_terminal(demo, columns):
    path, env = demo
    lines = run_on_tty(["--db", str(path), "report"], columns, env).splitlines()
    header = next(line for line in lines if line.startswith("Status")).split()
    assert {"Status", "KPI", "Progress"} <= set(header)
    if columns == 240:
        assert header[:5] == ["Status", "KPI", "Owner", "Progress", "Trend"]
        row = next(line for line in lines if "mkt.blog-posts" in line.split())
        assert any(set(word) <= set("▁▂▃▄▅▆▇█") for word in row.split())
    else:
        assert "Trend" not in header
pytestmark = pytest.mark.backend_free
