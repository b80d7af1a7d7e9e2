"""Floors in plain ``sqlite3`` (standard library only; run as a script, in its own process).

``python floors.py executemany DB CSV NOW``
    Insert every row of a check-in CSV into ``DB``'s ``checkin`` table — an equivalent schema:
    ``DB`` is a copy of the bench database taken before any check-in was loaded, so it has the
    same columns, indexes, foreign keys and KPI rows — with one ``executemany`` in one
    transaction, under the connection settings kpictl uses (WAL, ``synchronous=NORMAL``,
    ``foreign_keys=ON``). Prints JSON: ``prepare_s`` (read the CSV, map keys to ids, format
    the times), ``insert_s`` (BEGIN IMMEDIATE … executemany … COMMIT: the floor) and ``rows``.

``python floors.py report-sql DB AS_OF RUNS [known]``
    The SQL that ``report --format json`` runs (``known``: ``--as-of AS_OF``, a past instant
    as it was known then) (services/reports.py ``_rows``, the corrected
    KPIs' history of services/corrections.py,
    services/stats.py ``covered`` and services/history.py ``changes_after``), written out by
    hand: definition changes after the instant, KPIs with their owner at the instant, their
    latest check-in (correlated subqueries) and their per-KPI aggregates (``checkin_stats``),
    their tags, their milestones, and the aggregates' guard. Each run opens a fresh connection
    and fetches every row. Prints JSON with the per-query and total seconds (and CPU seconds)
    of every run.

``python floors.py ongoing-sql DB AS_OF RUNS``
    What the portfolio adds for ongoing KPIs (services/periods/ ``apply_rows``), in the same
    form: which KPIs are ongoing, the handles, their definition changes, per-period targets,
    assignments and corrections, and the check-ins of their current periods. The floor of a
    portfolio of ongoing KPIs is ``report-sql`` plus this.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta

PRAGMAS = ("PRAGMA busy_timeout = 30000", "PRAGMA journal_mode = WAL",
           "PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL")
FMT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DATETIME on SQLite (naive UTC)


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def executemany(db: str, csv_path: str, now_text: str) -> dict:
    t0 = time.perf_counter()
    conn = connect(db)
    kpis = {key: (kpi_id, owner) for kpi_id, key, owner in
            conn.execute("SELECT id, key, owner_id FROM kpi")}
    now = datetime.fromisoformat(now_text).astimezone(UTC).strftime(FMT)
    cache: dict[str, str] = {}
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: i for i, name in enumerate(header)}
        ik, iv, ia = col["kpi"], col["value"], col["at"]
        ic, inote = col.get("confidence"), col.get("note")
        for rec in reader:
            kpi_id, owner = kpis[rec[ik]]
            at = rec[ia]
            measured = cache.get(at)
            if measured is None:
                measured = cache[at] = (datetime.fromisoformat(at).astimezone(UTC)
                                        .strftime(FMT))
            conf = rec[ic] if ic is not None else ""
            note = rec[inote] if inote is not None else ""
            rows.append((kpi_id, float(rec[iv]), measured, now, owner,
                         int(conf) if conf else None, note or None, None, "file", None))
    t1, c1 = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, author_id, confidence, "
        "note, blocker, source, idem_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    t2, c2 = time.perf_counter(), time.process_time()
    conn.close()
    return {"rows": len(rows), "prepare_s": t1 - t0, "insert_s": t2 - t1,
            "insert_cpu_s": c2 - c1, "total_s": t2 - t0}


CHANGES = """
SELECT kpi_change.id, kpi_change.kpi_id, kpi_change.at, kpi_change.by_id, kpi_change.field,
       kpi_change.old_value, kpi_change.new_value
FROM kpi_change
WHERE kpi_change.at > :as_of AND kpi_change.field IN ('baseline', 'target', 'low', 'high',
      'start', 'due', 'title', 'outcome', 'unit', 'kind', 'cadence', 'grace', 'tags',
      'milestones'{lifecycle})
ORDER BY kpi_change.at DESC, kpi_change.id DESC
"""

#: The portfolio's main query. ``{known}`` parts: the known-then view of a past instant (only
#: what was recorded by then); the per-KPI aggregates are the row recorded by the instant (or
#: the newest), and the latest check-in is the one that row names.
MAIN = """
SELECT kpi.id, kpi."key", kpi.title, kpi.outcome, kpi.unit, kpi.kind, kpi.baseline, kpi.target,
       kpi.low, kpi.high, kpi.start, kpi.due, kpi.cadence, kpi.grace, kpi.state, kpi.closed_at,
       (SELECT person.handle FROM person JOIN assignment ON assignment.person_id = person.id
        WHERE assignment.kpi_id = kpi.id AND assignment.valid_from <= :as_of
          AND {owner}
        ORDER BY assignment.valid_from DESC LIMIT 1) AS owner,
       c.value, c.measured_at, c.confidence, c.blocker,
       s.n, s.last_at, s.in_window, s.met, s.fit_n, s.fit_distinct, s.x_mean, s.y_mean, s.sxx,
       s.sxy, s.syy, s.sse, s.exact_fit
FROM kpi LEFT OUTER JOIN checkin_stats AS s ON s.kpi_id = kpi.id AND s.recorded_at = (
        SELECT max(recorded_at) FROM checkin_stats WHERE checkin_stats.kpi_id = kpi.id{stats})
LEFT OUTER JOIN checkin AS c ON c.id = CASE WHEN s.kpi_id IS NULL THEN NULL
        WHEN s.last_at <= :as_of THEN s.latest_id ELSE (
        SELECT checkin.id FROM checkin
        WHERE checkin.kpi_id = kpi.id AND checkin.measured_at <= :as_of{checkin}
        ORDER BY checkin.measured_at DESC, checkin.id DESC LIMIT 1) END
WHERE kpi.start <= :as_of{kpi}
"""
VIEWS = {
    False: {"owner": "(assignment.valid_until IS NULL OR assignment.valid_until > :as_of)",
            "stats": "", "checkin": "", "kpi": "", "lifecycle": ""},
    True: {"owner": "assignment.recorded_at <= :as_of",
           "stats": " AND recorded_at <= :as_of",
           "checkin": " AND checkin.recorded_at <= :as_of",
           "kpi": " AND kpi.created_at <= :as_of", "lifecycle": ", 'state', 'closed_at'"},
}

#: KPIs with a correction in the view, and their history (services/corrections.py), which the
#: report replays instead of reading their aggregates.
CORRECTED = "SELECT DISTINCT kpi_id FROM checkin_correction WHERE recorded_at <= :as_of"
FIXES = ("SELECT * FROM checkin_correction WHERE kpi_id IN ({ids}) AND recorded_at <= ? "
         "ORDER BY id")
HISTORY = "SELECT * FROM checkin WHERE kpi_id IN ({ids}) AND recorded_at <= ?"
TAGS = "SELECT kpi_id, tag FROM kpi_tag WHERE kpi_id IN ({ids}) ORDER BY tag"
MILESTONES = "SELECT kpi_id, at, value FROM milestone WHERE kpi_id IN ({ids})"
#: The guard of services/stats.py: every check-in is counted in checkin_stats.
GUARD = ("SELECT (SELECT max(id) FROM checkin), (SELECT max(covered_id) FROM checkin_stats)")


def report_sql(db: str, as_of_text: str, known: bool = False) -> dict:
    as_of = datetime.fromisoformat(as_of_text).astimezone(UTC).strftime(FMT)
    times = {}
    cpu = time.process_time()
    t = time.perf_counter()
    conn = connect(db)
    conn.execute("BEGIN DEFERRED")
    conn.execute("SELECT version_num FROM alembic_version").fetchall()
    times["open"] = time.perf_counter() - t

    t = time.perf_counter()
    view = VIEWS[known]
    changes = conn.execute(CHANGES.format(**view), {"as_of": as_of}).fetchall()
    times["changes_after"] = time.perf_counter() - t

    t = time.perf_counter()
    rows = conn.execute(MAIN.format(**view), {"as_of": as_of}).fetchall()
    times["kpis+owner+latest"] = time.perf_counter() - t

    t = time.perf_counter()
    corrected = [r[0] for r in conn.execute(CORRECTED, {"as_of": as_of})]
    if corrected:
        marks = ", ".join("?" * len(corrected))
        conn.execute(FIXES.format(ids=marks), [*corrected, as_of]).fetchall()
        conn.execute(HISTORY.format(ids=marks), [*corrected, as_of]).fetchall()
    times["corrected history"] = time.perf_counter() - t
    ids = [r[0] for r in rows]
    marks = ", ".join("?" * len(ids))

    t = time.perf_counter()
    conn.execute(TAGS.format(ids=marks), ids).fetchall()
    times["tags"] = time.perf_counter() - t

    t = time.perf_counter()
    conn.execute(MILESTONES.format(ids=marks), ids).fetchall()
    times["milestones"] = time.perf_counter() - t

    t = time.perf_counter()
    newest, covered = conn.execute(GUARD).fetchone()
    times["guard"] = time.perf_counter() - t
    conn.execute("COMMIT")
    conn.close()
    return {"kpis": len(rows), "with_checkins": sum(1 for r in rows if r[21] is not None),
            "aggregates_cover_all": covered is not None and covered >= newest,
            "changes": len(changes),
            "seconds": times, "total_s": sum(times.values()),
            "cpu_s": time.process_time() - cpu}


#: Ongoing KPIs: the check-ins of the current periods are those measured since the earliest
#: current period's start; the bench's ongoing KPIs are weekly and in UTC, so that is the
#: Monday 00:00 UTC of the instant's ISO week.
ONGOING = "SELECT * FROM kpi WHERE every IS NOT NULL AND start <= ?"
HANDLES = "SELECT id, handle FROM person"
ONGOING_CORRECTED = "SELECT DISTINCT kpi_id FROM checkin_correction WHERE kpi_id IN ({ids})"
CURRENT_CHECKINS = ("SELECT * FROM checkin WHERE kpi_id IN ({ids}) AND measured_at >= ? "
                    "AND measured_at <= ?")
ONGOING_CHANGES = "SELECT * FROM kpi_change WHERE kpi_id IN ({ids}) ORDER BY at DESC, id DESC"
PERIOD_TARGETS = "SELECT * FROM period_target WHERE kpi_id IN ({ids}) ORDER BY recorded_at, id"
ASSIGNMENTS = "SELECT * FROM assignment WHERE kpi_id IN ({ids}) ORDER BY valid_from, id"


def ongoing_sql(db: str, as_of_text: str) -> dict:
    instant = datetime.fromisoformat(as_of_text).astimezone(UTC)
    as_of = instant.strftime(FMT)
    monday = (instant - timedelta(days=instant.weekday())).strftime("%Y-%m-%d 00:00:00.000000")
    times = {}
    cpu = time.process_time()
    t = time.perf_counter()
    conn = connect(db)
    conn.execute("BEGIN DEFERRED")
    ids = [r[0] for r in conn.execute(ONGOING, (as_of,))]
    conn.execute(HANDLES).fetchall()
    times["ongoing kpis"] = time.perf_counter() - t
    marks = ", ".join("?" * len(ids))
    t = time.perf_counter()
    conn.execute(ONGOING_CORRECTED.format(ids=marks), ids).fetchall()
    rows = conn.execute(CURRENT_CHECKINS.format(ids=marks), [*ids, monday, as_of]).fetchall()
    times["current periods' check-ins"] = time.perf_counter() - t
    t = time.perf_counter()
    for query in (ONGOING_CHANGES, PERIOD_TARGETS, ASSIGNMENTS):
        conn.execute(query.format(ids=marks), ids).fetchall()
    times["changes, targets, assignments"] = time.perf_counter() - t
    conn.execute("COMMIT")
    conn.close()
    return {"kpis": len(ids), "checkins": len(rows), "seconds": times,
            "total_s": sum(times.values()), "cpu_s": time.process_time() - cpu}


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "executemany":
        print(json.dumps(executemany(sys.argv[2], sys.argv[3], sys.argv[4])))
    elif what == "report-sql":
        runs = int(sys.argv[4])
        known = sys.argv[5:] == ["known"]
        print(json.dumps([report_sql(sys.argv[2], sys.argv[3], known) for _ in range(runs)]))
    elif what == "ongoing-sql":
        runs = int(sys.argv[4])
        print(json.dumps([ongoing_sql(sys.argv[2], sys.argv[3]) for _ in range(runs)]))
    else:
        sys.exit(f"unknown floor {what!r}")
