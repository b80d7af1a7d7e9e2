"""The report's floors on PostgreSQL, in plain psycopg (run as a script, in its own process).

``python floors_pg.py report-sql URL AS_OF RUNS [known]``
    The same queries as ``floors.py report-sql`` (their text is read from there, so the two
    floors cannot drift apart; ``known``: the ``--as-of`` view as known then), with psycopg's
    placeholders and ``timestamptz`` parameters:
    definition changes after the instant, the KPIs with owner, latest check-in and per-KPI
    aggregates, the corrected KPIs' history, tags, milestones and the aggregates' guard. Each
    run opens a fresh connection and fetches every row. Prints JSON like ``floors.py``.

``python floors_pg.py ongoing-sql URL AS_OF RUNS``
    ``floors.py ongoing-sql`` on PostgreSQL.

``python floors_pg.py floor-table URL``
    Creates ``bench_floor_checkin``, a copy of the ``checkin`` table (``LIKE … INCLUDING
    ALL``: columns, defaults, constraints and indexes; no foreign keys), into which the SQLModel
    floor writes its row on PostgreSQL: a row written into ``checkin`` around kpictl would make
    its reports (rightly) read history instead of the per-KPI aggregates.
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floors  # noqa: E402 - the sibling script, for the SQL it runs

FLOOR_TABLE = "bench_floor_checkin"


def pg(sql: str) -> str:
    """sqlite3's ``:name`` and ``?`` placeholders as psycopg's ``%(name)s`` and ``%s``."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql).replace("?", "%s")


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def report_sql(url: str, as_of_text: str, known: bool = False) -> dict:
    as_of = datetime.fromisoformat(as_of_text).astimezone(UTC)
    times = {}
    cpu = time.process_time()
    t = time.perf_counter()
    conn = connect(url)
    conn.execute("SELECT version_num FROM alembic_version").fetchall()
    times["open"] = time.perf_counter() - t

    t = time.perf_counter()
    view = floors.VIEWS[known]
    changes = conn.execute(pg(floors.CHANGES.format(**view)), {"as_of": as_of}).fetchall()
    times["changes_after"] = time.perf_counter() - t

    t = time.perf_counter()
    rows = conn.execute(pg(floors.MAIN.format(**view)), {"as_of": as_of}).fetchall()
    times["kpis+owner+latest"] = time.perf_counter() - t

    t = time.perf_counter()
    corrected = [r[0] for r in conn.execute(pg(floors.CORRECTED), {"as_of": as_of})]
    if corrected:
        marks = ", ".join("?" * len(corrected))
        conn.execute(pg(floors.FIXES.format(ids=marks)), [*corrected, as_of]).fetchall()
        conn.execute(pg(floors.HISTORY.format(ids=marks)), [*corrected, as_of]).fetchall()
    times["corrected history"] = time.perf_counter() - t
    ids = [r[0] for r in rows]
    marks = ", ".join("?" * len(ids))

    t = time.perf_counter()
    conn.execute(pg(floors.TAGS.format(ids=marks)), ids).fetchall()
    times["tags"] = time.perf_counter() - t

    t = time.perf_counter()
    conn.execute(pg(floors.MILESTONES.format(ids=marks)), ids).fetchall()
    times["milestones"] = time.perf_counter() - t

    t = time.perf_counter()
    newest, covered = conn.execute(pg(floors.GUARD)).fetchone()
    times["guard"] = time.perf_counter() - t
    conn.commit()
    conn.close()
    return {"kpis": len(rows), "with_checkins": sum(1 for r in rows if r[21] is not None),
            "aggregates_cover_all": covered is not None and covered >= newest,
            "changes": len(changes),
            "seconds": times, "total_s": sum(times.values()),
            "cpu_s": time.process_time() - cpu}


def ongoing_sql(url: str, as_of_text: str) -> dict:
    as_of = datetime.fromisoformat(as_of_text).astimezone(UTC)
    monday = (as_of - timedelta(days=as_of.weekday())).replace(hour=0, minute=0, second=0,
                                                                 microsecond=0)
    times = {}
    cpu = time.process_time()
    t = time.perf_counter()
    conn = connect(url)
    ids = [r[0] for r in conn.execute(pg(floors.ONGOING), (as_of,))]
    conn.execute(pg(floors.HANDLES)).fetchall()
    times["ongoing kpis"] = time.perf_counter() - t
    marks = ", ".join("?" * len(ids))
    rows = []
    t = time.perf_counter()
    if ids:
        conn.execute(pg(floors.ONGOING_CORRECTED.format(ids=marks)), ids).fetchall()
        rows = conn.execute(pg(floors.CURRENT_CHECKINS.format(ids=marks)),
                            [*ids, monday, as_of]).fetchall()
    times["current periods' check-ins"] = time.perf_counter() - t
    t = time.perf_counter()
    if ids:
        for query in (floors.ONGOING_CHANGES, floors.PERIOD_TARGETS, floors.ASSIGNMENTS):
            conn.execute(pg(query.format(ids=marks)), ids).fetchall()
    times["changes, targets, assignments"] = time.perf_counter() - t
    conn.commit()
    conn.close()
    return {"kpis": len(ids), "checkins": len(rows), "seconds": times,
            "total_s": sum(times.values()), "cpu_s": time.process_time() - cpu}


def floor_table(url: str) -> None:
    with connect(url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        conn.execute(f"CREATE TABLE {FLOOR_TABLE} (LIKE checkin INCLUDING ALL)")


if __name__ == "__main__":
    what = sys.argv[1]
    if what in ("report-sql", "ongoing-sql"):
        runs = int(sys.argv[4])
        if what == "report-sql":
            known = sys.argv[5:] == ["known"]
            results = [report_sql(sys.argv[2], sys.argv[3], known) for _ in range(runs)]
        else:
            results = [ongoing_sql(sys.argv[2], sys.argv[3]) for _ in range(runs)]
        print(json.dumps(results))
    elif what == "floor-table":
        floor_table(sys.argv[2])
    else:
        sys.exit(f"unknown floor {what!r}")
