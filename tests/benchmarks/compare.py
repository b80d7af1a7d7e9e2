"""Same bytes before and after a speed-up: ``python -m tests.benchmarks.compare --db D [--rev R]``.

Runs each report view on the database ``D`` (e.g. a bench directory's ``bench.db``, kept with
``--dir D --keep``) twice — with the source tree of git revision ``R`` (default ``HEAD``,
extracted with ``git archive``) and with the working tree — and compares the output byte for
byte. ``--mixed`` first copies ``D`` and gives its KPIs a mix of zones (DST and half-hour
offsets), grace periods and cadences, so that the slot and staleness paths in every zone are
compared too. Exit status 0 when every view is the same, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIEWS = [
    ["report", "--format", "json"],
    ["report", "--format", "csv"],
    ["report", "--as-of", "2026-05-15T12:00:00Z", "--format", "json"],  # as known then
    ["report", "--as-of", "2026-05-01T03:00:00Z", "--revised", "--format", "json"],
    ["report", "--by", "owner", "--format", "json"],
]
INSTANTS = ["2026-06-15T12:00:00Z", "2026-06-14T20:00:00Z"]
ZONES = ["America/New_York", "Asia/Kolkata", "Europe/Berlin", "Pacific/Chatham",
         "Australia/Lord_Howe"]


def mix(db: Path) -> None:
    """Zones, grace periods and cadences spread over the KPIs (one-off ones: an ongoing KPI's
    cadence and zone are part of its series)."""
    with sqlite3.connect(db) as conn:
        for i, zone in enumerate(ZONES):
            conn.execute("UPDATE kpi SET zone = ? WHERE id % 7 = ?", (zone, i + 1))
        for i, grace in enumerate(["0", "1w", "3d"]):
            conn.execute("UPDATE kpi SET grace = ? WHERE id % 5 = ?", (grace, i + 1))
        for i, cadence in enumerate(["2w", "quarterly", "10d", "biweekly"]):
            conn.execute("UPDATE kpi SET cadence = ? WHERE id % 11 = ? AND every IS NULL",
                         (cadence, i + 1))


def digest(src: Path | None, db: Path, view: list[str], now: str, tz: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KPICTL_")}
    env.update(KPICTL_DB=str(db), KPICTL_NOW=now, KPICTL_TZ=tz, NO_COLOR="1", COLUMNS="200")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    done = subprocess.run([sys.executable, "-m", "kpictl", *view], env=env,
                          capture_output=True, check=False)
    return hashlib.sha256(done.stdout + b"\0" + done.stderr + bytes([done.returncode])) \
        .hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.compare")
    p.add_argument("--db", type=Path, required=True, help="a kpictl SQLite database")
    p.add_argument("--rev", default="HEAD", help="the git revision to compare with (HEAD)")
    p.add_argument("--mixed", action="store_true", help="on a copy with mixed zones, grace "
                   "periods and cadences")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kpictl-compare-") as tmp:
        tmp = Path(tmp)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.rev, "src"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        db = args.db
        if args.mixed:
            db = tmp / "mixed.db"
            shutil.copyfile(args.db, db)
            mix(db)
        failed = 0
        for now in INSTANTS:
            for tz in ("UTC", "America/Los_Angeles"):
                for view in VIEWS:
                    before = digest(tmp / "src", db, view, now, tz)
                    after = digest(None, db, view, now, tz)
                    same = before == after
                    failed += not same
                    print(f"{'same' if same else 'DIFFERENT'} {before} {after}  "
                          f"KPICTL_NOW={now} KPICTL_TZ={tz} kpictl {' '.join(view)}")
    print(f"{failed} view(s) differ" if failed else "every view is the same")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
