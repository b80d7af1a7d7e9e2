"""Help is the manual: every command and group has a one-line summary, options grouped in
panels, and `Example:` lines that work when pasted into a shell (STYLE habit 9).

The examples are collected from the real command tree, so a new command without one, or an
example that stops working, fails here.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys

import pytest
import typer

from kpictl.cli import app

from .conftest import ok

TYPER_OWN = {"--help", "--install-completion", "--show-completion"}


def walk(command, path=()):
    """(path, click command) for every group and command, depth first."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from walk(sub, (*path, name))


COMMANDS = list(walk(typer.main.get_command(app)))
EXAMPLES = [(path, line.strip().removeprefix("Example:").strip())
            for path, command in COMMANDS
            for line in (command.help or "").splitlines()
            if line.strip().startswith("Example:")]


#: Commands that act on a shared PostgreSQL server's roles (tests/roles/ runs them there);
#: their help examples, pasted against the demo's SQLite file, must say why they do nothing.
SERVER_ONLY = {("db", "grant"), ("db", "revoke")}


def label(path) -> str:
    return " ".join(("kpictl", *path))


def test_the_tree_has_every_command():
    names = {label(path) for path, _ in COMMANDS}
    assert {"kpictl", "kpictl assign", "kpictl checkin", "kpictl report", "kpictl suggest",
            "kpictl feedback", "kpictl close", "kpictl export", "kpictl import", "kpictl demo",
            "kpictl schema", "kpictl people", "kpictl people add", "kpictl people list",
            "kpictl people show", "kpictl people edit", "kpictl people deactivate",
            "kpictl db", "kpictl db path", "kpictl db upgrade", "kpictl db backup",
            "kpictl db check", "kpictl amend", "kpictl retract", "kpictl reopen",
            "kpictl log"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[label(p) for p, _ in COMMANDS])
def test_every_command_has_a_summary_an_example_and_documented_options(path, command):
    lines = (command.help or "").strip().splitlines()
    assert lines, f"{label(path)} has no help"
    summary = lines[0].strip()
    assert summary[:1].isupper() and len(summary) > 15, summary
    assert any(line.strip().startswith("Example: kpictl") or "| kpictl" in line
               for line in lines if line.strip().startswith("Example:")), label(path)
    for param in command.params:
        if isinstance(param, typer.core.TyperOption) and param.opts[0] not in TYPER_OWN:
            assert param.help, f"{label(path)} {param.opts[0]} has no help text"


@pytest.mark.parametrize(("path", "panels"), [
    ((), {"Where", "Output"}),
    (("assign",), {"What", "Target", "Schedule", "Bulk"}),
    (("checkin",), {"Details", "Bulk"}),
    (("report",), {"Filters", "Views", "Alerts", "Output"}),
    (("suggest",), {"A KPI not created yet", "Ranking", "Output"}),
    (("people", "add"), {"Who", "Skills and load"}),
    (("people", "edit"), {"Who", "Skills and load"}),
    (("people", "list"), {"Filters", "Output"}),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_options_are_grouped_in_help_panels(run, monkeypatch, path, panels):
    monkeypatch.setenv("COLUMNS", "120")
    out = ok(run, *path, "--help").stdout
    shown = set(re.findall(r"╭─ (.+?) ─", out))
    assert panels <= shown, shown


def test_kpictl_alone_shows_help(run):
    result = run()
    assert "Usage: kpictl [OPTIONS] COMMAND" in result.stdout
    assert "Example: kpictl demo" in result.stdout
    assert result.exit_code == 2  # no command is a usage error for scripts, as a bare group


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[label(p) for p, _ in COMMANDS])
def test_literal_brackets_survive_in_help(run, monkeypatch, path, command):
    # Help is Rich markup: an unescaped [x] vanishes and [/x] crashes. Every bracketed span
    # in a docstring or option help must reach the screen as written (\[ is the escape).
    monkeypatch.setenv("COLUMNS", "250")
    out = _flat(ok(run, *path, "--help").stdout)
    texts = [command.help or ""] + [p.help or "" for p in command.params
                                    if getattr(p, "help", None)]
    for text in texts:
        for span in re.findall(r"\\?\[[^\]]*\]", text):
            assert _flat(span.removeprefix("\\")) in out, (label(path), span)


def test_a_bracket_in_help_text_is_printed(run, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    assert "[blocker: TEXT]" in ok(run, "checkin", "--help").stdout


# --------------------------------------------------------------------------- examples


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("examples") / "demo.db"
    env = {**os.environ, "KPICTL_TZ": "UTC", "KPICTL_NOW": "2026-11-27T12:00:00Z"}
    env.pop("KPICTL_DB", None)
    subprocess.run([sys.executable, "-m", "kpictl", "demo", "--path", str(path)], check=True,
                   capture_output=True, env=env, timeout=120)
    return path


def rendered_examples(run, monkeypatch, path, columns: int = 80) -> list[str]:
    """The `Example:` lines as `kpictl … --help` shows them on a terminal this wide."""
    monkeypatch.setenv("COLUMNS", str(columns))
    out = ok(run, *path, "--help").stdout
    return [line.strip().removeprefix("Example:").strip() for line in out.splitlines()
            if line.strip().startswith("Example:")]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[label(p) for p, _ in COMMANDS])
def test_help_at_80_columns_has_no_type_tags_braces_or_odd_defaults(run, monkeypatch, path,
                                                                    command):
    monkeypatch.setenv("COLUMNS", "80")
    out = ok(run, *path, "--help").stdout
    assert all(len(line) <= 80 for line in out.splitlines())
    for noise in ("<bool>", "<str>", "<int>", "<text>", "[default: (", "{HANDLE}", "{KEY}",
                  "{FILE}", "{PATH}", "{NAME}"):
        assert noise not in out, (label(path), noise)
    for param in command.params:  # an option that takes a value still says so
        if isinstance(param, typer.core.TyperOption) and not param.is_flag \
                and param.opts[0] not in TYPER_OWN:
            row = next(line for line in out.splitlines() if f" {param.opts[0]} " in line
                       or line.rstrip("│ ").endswith(param.opts[0]))
            assert len(row.replace("│", " ").split()) > 1, row


@pytest.mark.parametrize(("path", "example"), EXAMPLES,
                         ids=[f"{label(p)}: {e}" for p, e in EXAMPLES])
def test_every_help_example_works_when_pasted(demo_db, tmp_path, run, monkeypatch, path,
                                              example):
    # Pasted from the help as an 80-column terminal shows it: whole, never broken in two.
    shown = rendered_examples(run, monkeypatch, path)
    assert example in shown, (example, shown)
    example = shown[shown.index(example)]
    db = tmp_path / "team.db"
    src, dst = sqlite3.connect(demo_db), sqlite3.connect(db)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPICTL_", "NO_COLOR"))}
    env.update(KPICTL_DB=str(db), KPICTL_TZ="UTC", KPICTL_NOW="2026-11-27T12:00:00Z",
               KPICTL_USER="maya", HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), PY=sys.executable)
    # A user who set up `kpictl pull` has a private sources file (the pull/sources examples).
    config = tmp_path / "config" / "kpictl"
    config.mkdir(parents=True, mode=0o700)
    (tmp_path / "config").chmod(0o700)
    sources = config / "sources.toml"
    sources.write_text('[[source]]\nkpi = "eng.uptime"\ncommand = ["echo", "99.95"]\n')
    sources.chmod(0o600)
    # A user who keeps ongoing KPIs has one, and a schedule of targets (the targets example).
    subprocess.run([sys.executable, "-m", "kpictl", "assign", "growth.signups", "--to", "maya",
                    "--every", "month", "--aggregate", "sum", "--target", "400"], env=env,
                   check=True, capture_output=True, timeout=120)
    (tmp_path / "targets-2027.csv").write_text("period,target\n2027-03,500\n2027-04,550\n")
    # `kpictl` is this checkout's, whatever is on PATH; the example runs through a real shell.
    script = f'set -o pipefail; kpictl() {{ "$PY" -m kpictl "$@"; }}\n{example}\n'
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    if tuple(path) in SERVER_ONLY:  # on the demo's SQLite file: one line saying why not
        assert (proc.returncode, proc.stdout) == (2, ""), (example, proc.stderr)
        assert proc.stderr.startswith(f"kpictl: error: nothing to {path[-1]}: SQLite is "
                                      "single-user: "), proc.stderr
        return
    assert proc.returncode == 0, (example, proc.stderr)
    assert "Traceback" not in proc.stderr
    made = {p.name for p in tmp_path.iterdir()} - {"team.db", "team.db-wal", "team.db-shm",
                                                   "config", "targets-2027.csv"}
    assert proc.stdout or proc.stderr or made  # every example shows, confirms or writes


pytestmark = pytest.mark.backend_free
