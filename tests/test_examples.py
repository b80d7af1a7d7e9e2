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
