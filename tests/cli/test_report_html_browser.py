"""The HTML report in a real browser (headless Chromium, when installed), and what the new
formats cost everything else: nothing (their libraries load only on their own path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ok

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (.ci/run installs `chromium`)")


def chromium(tmp_path, page, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def page(seeded, tmp_path):
    run = seeded
    for day, value in (("2026-11-10", "10"), ("2026-11-18", "20"), ("2026-11-26", "40")):
        ok(run, "checkin", "sales.arr", value, "--at", day)
    ok(run, "assign", "ops.backlog", "--to", "bob", "--title", "Backlog", "--baseline", "320",
       "--target", "100", "--start", "2026-10-01", "--due", "2026-11-20")
    ok(run, "checkin", "ops.backlog", "200", "--at", "2026-11-25")
    path = tmp_path / "report.html"
    path.write_text(ok(run, "report", "--format", "html").stdout, encoding="utf-8")
    return path


@needs_chromium
def test_report_html_renders_in_headless_chromium(page, tmp_path):
    dom = chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr
    assert '<tr class="kpi" data-key="ops.backlog" data-status="overdue">' in dom.stdout
    assert '<tr class="kpi" data-key="sales.arr" data-status="on_track">' in dom.stdout
    assert dom.stdout.count("<svg") == 3  # the status bar and one sparkline per KPI
    assert "<path" in dom.stdout  # the charts drew their lines

    png = tmp_path / "report.png"
    shot = chromium(tmp_path, page, f"--screenshot={png}", "--window-size=1200,900",
                    "--hide-scrollbars")
    assert shot.returncode == 0, shot.stderr
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a blank 1200×900 page compresses to a few kilobytes


def _imported(args: list[str], env: dict) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "kpictl", *args],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.sqlite_only("subprocesses read the SQLite file")
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["report", "--format", "json"],
                                  ["report", "--format", "csv"], ["checkin", "sales.arr", "5"]])
def test_html_libraries_load_only_for_html(page, args):
    env = {**os.environ}
    heavy = _imported(args, env) & {"jinja2", "markupsafe", "pygal"}
    assert heavy == set()
    assert {"jinja2", "pygal"} <= _imported(["report", "--format", "html"], env)
