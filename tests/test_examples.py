"""Every runnable example runs (against nothing but the installed package)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_backtest_example_runs_and_reports_both_methods():
    proc = subprocess.run([sys.executable, str(EXAMPLES / "backtest.py"), "--n", "120",
                           "--seed", "3"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"120 simulated quarterly KPIs, \d+ of them miss the target", lines[0])
    rows = {}
    for line in lines[2:]:
        m = re.fullmatch(r"(pace(?: \+ forecast)?)\s+(\d+)%\s+(\d+)%\s+week ([\d.]+)\s+(\d+)%",
                         line)
        assert m, line
        rows[m.group(1)] = [float(g) for g in m.groups()[1:]]
    pace, both = rows["pace"], rows["pace + forecast"]
    # The forecast only adds warnings: it catches at least as many misses, no later.
    assert both[0] >= pace[0] and both[1] >= pace[1] and both[2] <= pace[2]


import os  # noqa: E402
import shutil  # noqa: E402

import pytest  # noqa: E402

needs = pytest.mark.skipif(not (shutil.which("jq") and shutil.which("sqlite3")),
                           reason="the shell examples use jq and sqlite3 (.ci/run installs them)")


def _env(db: Path) -> dict:
    env = {**os.environ, "KPICTL_DB": str(db), "KPICTL_TZ": "UTC",
           "KPICTL_NOW": "2026-11-27T12:00:00Z",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("KPICTL_USER", None)
    return env


@pytest.fixture(scope="module")
def team_db(tmp_path_factory):
    """The setup example, run once; each test works on its own copy."""
    db = tmp_path_factory.mktemp("examples") / "team.db"
    setup = subprocess.run(["bash", str(EXAMPLES / "setup_team.sh")], env=_env(db),
                           capture_output=True, text=True, timeout=120, check=False)
    assert setup.returncode == 0, setup.stderr
    assert "6 KPIs written" in setup.stderr and "69 check-ins written" in setup.stderr
    return db


@pytest.fixture
def example_env(team_db, tmp_path):
    import sqlite3

    copy = tmp_path / "team.db"
    with sqlite3.connect(team_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return _env(copy)


def _run(script, env, *args):
    return subprocess.run(["bash", str(EXAMPLES / script), *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@needs
def test_weekly_report_example_mails_markdown_and_flags_attention(example_env, tmp_path):
    mailbox = tmp_path / "mail.txt"
    env = {**example_env, "MAILER": f"tee {mailbox}"}
    proc = _run("weekly_report.sh", env, "team@example.com")
    assert proc.returncode == 5  # eng.p95-latency went stale: cron hears about it
    mail = mailbox.read_text()
    assert mail.startswith("To: team@example.com\nSubject: KPI report, week of ")
    assert "— needs attention" in mail.splitlines()[1]
    assert "# Digest 2026-11-16 00:00 → 2026-11-23 00:00 (UTC)" in mail
    assert "| eng.p95-latency | chen |" in mail
    assert "# KPI report — 2026-11-27 12:00 (UTC)" in mail
    assert "\x1b" not in mail


@needs
def test_weekly_report_example_mails_html_with_a_markdown_alternative(example_env, tmp_path):
    import email
    from email import policy

    mailbox = tmp_path / "mail.txt"
    env = {**example_env, "MAILER": f"tee {mailbox}", "REPORT_FORMAT": "html"}
    proc = _run("weekly_report.sh", env, "team@example.com")
    assert proc.returncode == 5, proc.stderr
    message = email.message_from_bytes(mailbox.read_bytes(), policy=policy.default)
    assert message["To"] == "team@example.com"
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert "| eng.p95-latency | chen |" in plain.get_content()
    assert html.get_content_type() == "text/html"
    page = html.get_content()
    assert page.startswith("<!DOCTYPE html>")
    assert "<h1>Digest 2026-11-16 00:00 → 2026-11-23 00:00 (UTC)</h1>" in page
    assert 'data-key="eng.p95-latency"' in page and "<svg" in page
    assert "<script" not in page


@needs
def test_weekly_report_example_refuses_an_unknown_format(example_env, tmp_path):
    mailbox = tmp_path / "mail.txt"
    env = {**example_env, "MAILER": f"tee {mailbox}", "REPORT_FORMAT": "pdf"}
    proc = _run("weekly_report.sh", env, "team@example.com")
    assert proc.returncode == 2
    assert proc.stderr == "weekly_report.sh: REPORT_FORMAT must be md or html\n"
    assert not mailbox.exists()


@needs
def test_weekly_report_example_does_not_mail_when_the_database_is_broken(example_env, tmp_path):
    mailbox = tmp_path / "mail.txt"
    bogus = tmp_path / "bogus.db"
    bogus.write_text("not a database")
    env = {**example_env, "MAILER": f"tee {mailbox}", "KPICTL_DB": str(bogus)}
    proc = _run("weekly_report.sh", env, "team@example.com")
    assert proc.returncode == 1
    assert "file is not a database" in proc.stderr
    assert not mailbox.exists()


@needs
def test_push_metric_example_is_idempotent_per_day(example_env, tmp_path):
    shop = tmp_path / "shop.db"
    subprocess.run(["sqlite3", str(shop), "CREATE TABLE orders(id INTEGER PRIMARY KEY, "
                    "created_at TEXT); INSERT INTO orders(created_at) VALUES ('2026-11-01'), "
                    "('2026-11-02'), ('2026-11-03');"], check=True)
    env = {**example_env, "SOURCE_DB": str(shop)}
    assert subprocess.run(["kpictl", "-q", "assign", "sales.orders", "--to", "ana", "--target",
                           "100", "--due", "+30d", "--start", "-30d"], env=env).returncode == 0
    first, second = _run("push_metric.sh", env, "sales.orders"), _run("push_metric.sh", env,
                                                                       "sales.orders")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stderr.startswith("recorded sales.orders = 3")
    assert second.stderr.startswith("already recorded: sales.orders = 3")


@needs
def test_jq_recipes_example_answers_its_questions(example_env):
    proc = _run("jq_recipes.sh", example_env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # The stale one: checked in during the ISO week of Nov 2, the next was due by Sun Nov 15.
    assert "eng.p95-latency\t2026-11-15T23:59:59Z" in out
    assert "# Forecast to miss" in out
    forecast = out.split("# Forecast to miss: projected value and chance\n")[1].splitlines()
    assert forecast and all(line.count("\t") == 2 for line in forecast)


def test_crontab_example_names_scripts_that_exist():
    lines = [line for line in (EXAMPLES / "crontab").read_text().splitlines()
             if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(lines) == 4
    for line in lines:
        script = next((word for word in line.split() if word.endswith(".sh")), None)
        assert script is None or (EXAMPLES / Path(script).name).exists()
    assert [line.split()[5:] for line in lines[-2:]] == [["kpictl", "-q", "nudge", "--send"],
                                                         ["kpictl", "-q", "pull"]]


def _install_hook(env, name):
    """The example hook, installed as a user would (0700 in their own hooks directory)."""
    import shutil as sh

    hooks = Path(env["XDG_CONFIG_HOME"]) / "kpictl" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True, mode=0o700)
    for directory in (hooks.parent, hooks):
        directory.chmod(0o700)
    target = hooks / name
    sh.copy(EXAMPLES / "hooks" / name, target)
    target.chmod(0o700)
    return target


@pytest.fixture
def hook_env(example_env, tmp_path):
    return {**example_env, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_file_append_hook_example_logs_each_checkin(hook_env, tmp_path):
    import json

    log = tmp_path / "events.jsonl"
    _install_hook(hook_env, "on-checkin")
    env = {**hook_env, "KPICTL_EVENT_LOG": str(log)}
    rows = '{"kpi": "eng.uptime", "value": 99.93}\n{"kpi": "mkt.signups", "value": 610}\n'
    for args, stdin in ((["checkin", "eng.p95-latency", "280"], None),
                        (["checkin", "--file", "-"], rows)):
        proc = subprocess.run(["kpictl", *args], env=env, input=stdin, capture_output=True,
                              text=True, timeout=120, check=False)
        assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["type"], e["kpi"], e["value"], e["source"]) for e in events] == [
        ("checkin", "eng.p95-latency", 280, "cli"), ("checkin", "eng.uptime", 99.93, "file"),
        ("checkin", "mkt.signups", 610, "file")]
    assert oct(log.stat().st_mode & 0o777) == "0o600"


@needs
def test_chat_webhook_hook_example_posts_status_changes_with_curl(hook_env):
    import http.server
    import json
    import threading

    posts = []

    class Webhook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server protocol
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _install_hook(hook_env, "on-status-change")
        env = {**hook_env, "CHAT_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook"}
        proc = subprocess.run(["kpictl", "checkin", "eng.p95-latency", "280"], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    finally:
        server.shutdown()
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    # The stale KPI got its check-in: no longer stale, so no longer at risk.
    assert posts == [{"text": "eng.p95-latency (chen): at_risk → on_track"}]


def test_chat_webhook_hook_that_cannot_post_warns_and_keeps_the_checkin(hook_env):
    _install_hook(hook_env, "on-status-change")
    env = {**hook_env, "CHAT_WEBHOOK_URL": "http://127.0.0.1:9/refused"}
    proc = subprocess.run(["kpictl", "checkin", "eng.p95-latency", "280"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "on-status-change exited with status" in warnings[0]
    shown = subprocess.run(["kpictl", "report", "eng.p95-latency", "--json"], env=env,
                           capture_output=True, text=True, timeout=120, check=True)
    assert '"current": 280' in shown.stdout


def test_sources_example_checks_and_pulls(example_env, tmp_path):
    import json
    import shutil as sh
    import sqlite3

    sources = tmp_path / "sources.toml"
    sh.copy(EXAMPLES / "sources.toml", sources)
    sources.chmod(0o600)
    with sqlite3.connect(tmp_path / "support.db") as conn:
        conn.executescript("CREATE TABLE tickets(minutes REAL, created_at TEXT, closed INT);"
                           "INSERT INTO tickets VALUES (50, '2026-11-25 10:00:00', 1), "
                           "(70, '2026-11-26 09:00:00', 1), (900, '2026-11-26 11:00:00', 0);")
    env = {**example_env, "KPICTL_SOURCES": str(sources)}
    env.pop("SALES_DB_PASSWORD", None)
    checked = subprocess.run(["kpictl", "sources", "--json"], env=env, capture_output=True,
                             text=True, timeout=120, check=False)
    assert checked.returncode == 1
    problems = {s["kpi"]: s["problems"] for s in json.loads(checked.stdout)["sources"]}
    assert problems == {"eng.uptime": [], "support.first-response": [], "sales.new-arr": [
        "environment variable(s) not set: SALES_DB_PASSWORD"]}
    pulled = subprocess.run(["kpictl", "pull", "eng.uptime", "support.first-response",
                             "--json"], env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert pulled.returncode == 0, pulled.stderr
    results = {r["kpi"]: (r["value"], r["at"], r["action"])
               for r in json.loads(pulled.stdout)["results"]}
    assert results == {"eng.uptime": (99.95, None, "recorded"),
                       "support.first-response": (60.0, "2026-11-26T09:00:00Z", "recorded")}


pytestmark = pytest.mark.backend_free
