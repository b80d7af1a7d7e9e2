"""32 concurrent process groups of mixed commands — bulk files holding the write lock,
single check-ins, KPI changes, reports and exports — and not one failure (issue 16; the
README's "Nothing lost to concurrency")."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli.conftest import ok, seeded, seeded_template  # noqa: F401

GROUPS = 32
BULK_ROWS = 3_000


@pytest.mark.slow
def test_32_mixed_process_groups_never_fail(seeded, tmp_path):
    kpictl = f"{sys.executable} -m kpictl"
    for i in range(8):
        rows = ["kpi,value,at,key"] + [f"sales.arr,{n % 100},2026-11-{1 + n % 26:02}T10:00:00Z,"
                                       f"b{i}-{n}" for n in range(BULK_ROWS)]
        (tmp_path / f"bulk{i}.csv").write_text("\n".join(rows) + "\n")
    groups = []
    for g in range(GROUPS):
        kind = g % 8
        if kind in (0, 4):  # a bulk file, then a report: the lock is held for a while
            script = (f"{kpictl} -q checkin --file {tmp_path}/bulk{g // 4}.csv && "
                      f"{kpictl} report -f json > /dev/null")
        elif kind in (1, 5):
            script = (f"{kpictl} -q checkin sales.arr {g} --key single-{g} && "
                      f"{kpictl} -q checkin sales.arr {g + 1} --key single-{g}b")
        elif kind == 2:
            script = (f"{kpictl} -q assign ops.k{g} --to bob --title Ops --target 10 "
                      f"--baseline 0 --due 2026-12-31 && {kpictl} -q feedback ops.k{g} 'go on'")
        elif kind == 3:
            script = f"{kpictl} export > /dev/null && {kpictl} report --by owner > /dev/null"
        elif kind == 6:
            script = (f"{kpictl} -q people add p{g} --name P{g} && "
                      f"{kpictl} -q checkin sales.arr 7 --key six-{g}")
        else:
            script = f"{kpictl} report sales.arr -f json > /dev/null && {kpictl} -q db check > /dev/null"
        groups.append(subprocess.Popen(
            ["sh", "-c", script], stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, "KPICTL_LOCK_TIMEOUT": "300"}))
    failures = []
    for proc in groups:
        _, err = proc.communicate(timeout=600)
        messages = [line for line in err.splitlines() if not line.startswith("waiting for")]
        if proc.returncode != 0 or messages or "locked" in err:
            failures.append((proc.args[2], proc.returncode, err))
    assert failures == []
    detail = ok(seeded, "report", "sales.arr", "-f", "json").json()
    singles = sum(1 for g in range(GROUPS) if g % 8 in (1, 5)) * 2
    sixes = sum(1 for g in range(GROUPS) if g % 8 == 6)
    assert detail["kpi"]["checkins"] == 8 * BULK_ROWS + singles + sixes  # nothing lost or doubled
    assert ok(seeded, "db", "check", "-f", "json").json()["problems"] == []
