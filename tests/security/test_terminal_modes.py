"""Colour and animation follow the terminal and the user's wishes (PRODUCT §1, §5).

On a real pseudo-terminal, NO_COLOR=1, --no-color and TERM=dumb produce no escape codes at all;
FORCE_COLOR=1 colours even a pipe, and --no-color beats it. Progress for bulk files is drawn on
stderr only, so stdout stays clean for data.
"""

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

ESCAPE = re.compile(rb"\x1b[\[\]()#;?0-9]*[A-Za-z]?|\x9b")
COLOUR_SGR = re.compile(rb"\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m")
# Each view with a word it must print (so an empty output cannot pass).
VIEWS = {
    "report": (["report"], b"sales.pipeline"),
    "report KEY": (["report", "sales.pipeline"], b"Check-ins"),
    "people list": (["people", "list"], b"ana"),
    "report --by owner": (["report", "--by", "owner"], b"Owner"),
    "suggest --explain": (["suggest", "sales.pipeline", "--explain"], b"Who should own"),
    "digest": (["report", "--week", "last"], b"Digest"),
}
OPT_OUTS = [("NO_COLOR=1", "report"), ("NO_COLOR=1", "report KEY"),
            ("NO_COLOR=1", "report --by owner"), ("NO_COLOR=1", "suggest --explain"),
            ("TERM=dumb", "report"), ("TERM=dumb", "digest"), ("--no-color", "people list")]


def base_env(db) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "KPICTL_FORMAT")}
    env.update(KPICTL_TZ="UTC", KPICTL_NOW="2026-11-27T12:00:00Z", KPICTL_DB=str(db),
               TERM="xterm-256color")
    return env


def on_tty(args: list[str], env: dict, *, stdout=None, columns: int = 120) -> tuple[bytes, int]:
    """Run kpictl with stderr (and stdout unless given) on a pseudo-terminal; return what the
    terminal received and the exit code."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "kpictl", *args], stdin=slave,
                            stdout=stdout if stdout is not None else slave, stderr=slave,
                            env=env, close_fds=True)
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
    code = proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks), code


def piped(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpictl", *args], capture_output=True,
                          env=env, timeout=60, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("modes") / "demo.db"
    subprocess.run([sys.executable, "-m", "kpictl", "demo", "--path", str(path)], check=True,
                   capture_output=True, env=base_env(path))
    return path


def test_a_colour_terminal_gets_colour(demo):
    # The control: without any opt-out the same views are coloured, so the tests below mean
    # something.
    out, code = on_tty(["report"], base_env(demo))
    assert code == 0
    assert COLOUR_SGR.search(out)


@pytest.mark.parametrize("how,view", OPT_OUTS, ids=[f"{h} {v}" for h, v in OPT_OUTS])
def test_opting_out_of_colour_gives_no_escape_codes_on_a_terminal(demo, how, view):
    args, shown = VIEWS[view]
    env = base_env(demo)
    if how == "--no-color":
        args = ["--no-color", *args]
    else:
        name, value = how.split("=")
        env[name] = value
    out, code = on_tty(args, env)
    assert code == 0, out
    assert shown in out
    assert not ESCAPE.search(out), sorted(set(ESCAPE.findall(out)))


def test_empty_no_color_does_not_opt_out(demo):
    # no-color.org: only a non-empty NO_COLOR disables colour.
    out, code = on_tty(["report"], {**base_env(demo), "NO_COLOR": ""})
    assert code == 0
    assert COLOUR_SGR.search(out)


@pytest.mark.parametrize("view", [["report", "sales.pipeline"]], ids=" ".join)
def test_force_color_colours_a_pipe(demo, view):
    proc = piped(view, {**base_env(demo), "FORCE_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert COLOUR_SGR.search(proc.stdout)


@pytest.mark.parametrize("view", [["report"]], ids=" ".join)
def test_no_color_option_beats_force_color(demo, view):
    proc = piped(["--no-color", *view], {**base_env(demo), "FORCE_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    assert not ESCAPE.search(proc.stdout), sorted(set(ESCAPE.findall(proc.stdout)))


# --------------------------------------------------------------------------- bulk progress


@pytest.fixture
def bulk(run, tmp_path):
    """A database with one KPI and a 3,000-row check-in file (big enough for a progress bar)."""
    db = tmp_path / "bulk.db"
    for args in (("people", "add", "ana", "--name", "Ana"),
                 ("assign", "ops.tickets", "--to", "ana", "--target", "100000",
                  "--start", "2026-01-01", "--due", "2026-12-31")):
        result = run("--db", str(db), *args)
        assert result.exit_code == 0, result.stderr
    rows = "".join(f"ops.tickets,{i},2026-02-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z\n"
                   for i in range(3000))
    # A long path, as real ones are: the summary naming it must not be cut or re-wrapped.
    folder = tmp_path / "exports-from-the-ticketing-system" / "2026-11-27"
    folder.mkdir(parents=True)
    path = folder / "ops-tickets-daily-checkins.csv"
    path.write_text("kpi,value,at\n" + rows)
    return db, path


def test_bulk_checkin_on_a_dumb_terminal_draws_no_progress(bulk):
    db, path = bulk
    out, code = on_tty(["checkin", "--file", str(path)], {**base_env(db), "TERM": "dumb"})
    assert code == 0, out
    assert not ESCAPE.search(out), sorted(set(ESCAPE.findall(out)))
    assert out.replace(b"\r\n", b"\n").strip().decode() == (
        f"{path}: 3000 check-ins written, 0 skipped (already recorded), 0 invalid")


def test_bulk_progress_goes_to_stderr_and_leaves_stdout_empty(bulk, tmp_path):
    # `kpictl checkin --file big.csv > log`: stdout is data only (here: nothing).
    db, path = bulk
    log = tmp_path / "stdout.log"
    with open(log, "wb") as stdout:
        terminal, code = on_tty(["checkin", "--file", str(path)], base_env(db), stdout=stdout)
    assert code == 0, terminal
    assert log.read_bytes() == b""
    assert b"3000 check-ins written" in terminal



@pytest.mark.parametrize("columns", [80, 120])
def test_owner_view_on_a_terminal_never_cuts_the_handle(demo, columns):
    # The portfolio drops optional columns on narrow screens (test_terminal.py); the
    # accountability view must keep its first column, the owner, whole as well.
    out, code = on_tty(["--no-color", "report", "--by", "owner"], base_env(demo),
                       columns=columns)
    assert code == 0, out
    text = re.sub(rb"\x1b\[[0-9;]*m", b"", out).decode()
    handles = [line.split()[0] for line in text.splitlines()[3:]
               if line.strip() and " hidden " not in line]
    assert handles == ["ana", "ben", "chen", "dara", "eli", "fay", "gus", "maya"], text


pytestmark = pytest.mark.backend_free
