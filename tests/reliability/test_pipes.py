"""Pipes and full disks: a reader that leaves early is not an error; a failed write is one
line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

VIEWS = [["report"], ["report", "--json"], ["report", "--by", "owner"], ["people", "list"],
         ["report", "sales.pipeline"], ["--help"]]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipes") / "demo.db"
    subprocess.run([sys.executable, "-m", "kpictl", "demo", "--path", str(path)], check=True,
                   capture_output=True, env={**os.environ, "KPICTL_TZ": "UTC"})
    return path


@pytest.mark.parametrize("args", VIEWS, ids=" ".join)
def test_reader_leaving_early_ends_quietly_with_exit_0(demo_db, args):
    # `true` exits before kpictl (which needs a few hundred ms to start) writes anything, so
    # the first write meets a closed pipe: the `report | head -1` case, without the race.
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f'"{sys.executable}" -m kpictl --db "{demo_db}" {" ".join(args)} | true'],
        capture_output=True, text=True, timeout=60, env={**os.environ, "KPICTL_TZ": "UTC"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["report"], ["report", "--json"], ["schema", "report"]],
                         ids=" ".join)
def test_full_disk_is_one_line_exit_1(demo_db, args):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "kpictl", "--db", str(demo_db), *args],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr == "kpictl: error: cannot write output: No space left on device\n"


pytestmark = pytest.mark.backend_free
