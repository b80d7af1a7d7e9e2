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
    assert len(lines) == 2
    for line in lines:
        script = next(word for word in line.split() if word.endswith(".sh"))
        assert (EXAMPLES / Path(script).name).exists()


pytestmark = pytest.mark.backend_free
