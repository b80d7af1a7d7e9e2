"""Run the benchmark: ``python -m tests.benchmarks [--quick] [--json PATH] [--profile]``.

Every kpictl figure is a real subprocess (the ``kpictl`` console script next to
``sys.executable``) with ``KPICTL_DB`` = the bench file, ``KPICTL_TZ=UTC`` and a pinned
``KPICTL_NOW``, measured beside its floor in the same run, interleaved run by run so a burst
of load hits both alike. Figures are medians; (min–max) is the machine's noise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks import dataset
from tests.benchmarks.measure import (
    BenchError,
    Sample,
    Series,
    fmt_series,
    fmt_time,
    interleaved,
    load_average,
    run,
    start_spawner,
    stop_spawner,
)

HERE = Path(__file__).resolve().parent
FLOORS = HERE / "floors.py"
FLOORS_PG = HERE / "floors_pg.py"
SQLMODEL_FLOOR = HERE / "sqlmodel_floor.py"
TYPER_FLOOR = HERE / "typer_floor.py"

BARS = {
    "startup": 1.5,  # --help/--version ≤ 1.5 × python -c "import typer"
    "checkin": 1.15,  # one checkin ≤ 1.15 × minimal SQLModel one-row script
    "bulk": 0.50,  # bulk throughput ≥ 50 % of raw executemany
    "report": 2.0,  # report ≤ 2 × (SQLModel floor + raw SQL)
    "report_mb": 200.0,  # peak memory of the report < 200 MB
    "growth": 0.15,  # doubling the check-ins adds < 15 % to report time
    "nudge": 2.0,  # nudge over the portfolio ≤ 2 × report --format json at the same size
    # Issue 17: against the stack floors (what Typer + SQLModel cost before kpictl's code).
    "help_stack": 1.2,  # kpictl --help ≤ 1.2 × a one-command Typer app's --help
    "checkin_stack": 1.1,  # one checkin ≤ 1.1 × the same insert in a Typer command
}
#: What ``--only`` may name (the steps each needs run too: a checkin needs the data).
STEPS = ("startup", "checkin", "report", "ongoing", "postgres")


class Bench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root
        self.db = root / "bench.db"
        self.floor_db = root / "floor.db"
        self.t0 = time.perf_counter()
        self.py = sys.executable
        script = Path(sys.executable).parent / "kpictl"
        self.kpictl = [str(script)] if script.exists() else [self.py, "-m", "kpictl"]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("KPICTL_") and k not in ("NO_COLOR", "COLUMNS")}
        env.update(KPICTL_DB=str(self.db), KPICTL_TZ="UTC", KPICTL_NOW=dataset.NOW_TEXT,
                   NO_COLOR="1")
        if not args.no_bytecode_cache:
            # Byte-code as an installed kpictl has it, for kpictl and the floors alike, kept in
            # the bench dir (the source tree is not touched); the warm-up runs fill it.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        self.env = env
        self.results: dict = {"config": {}, "figures": {}, "info": {}}
        self.rows: list[tuple[str, str, str, str, str]] = []

    # -- plumbing -------------------------------------------------------------------------

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f}s] {message}", file=sys.stderr, flush=True)

    def k(self, *argv: str, stdout: Path | None = None, now: str | None = None) -> dict:
        env = self.env if now is None else {**self.env, "KPICTL_NOW": now}
        return {"cmd": [*self.kpictl, *argv], "env": env, "stdout": stdout, "cwd": self.root}

    def py_cmd(self, *argv: str, stdout: Path | None = None) -> dict:
        return {"cmd": [self.py, *argv], "env": self.env, "stdout": stdout, "cwd": self.root}

    def scalar(self, db: Path, sql: str, *params):
        with sqlite3.connect(db) as conn:
            return conn.execute(sql, params).fetchone()[0]

    def row(self, figure, measured, floor, bar, met: bool | None) -> None:
        self.rows.append((figure, measured, floor, bar,
                          "—" if met is None else ("yes" if met else "NO")))

    # -- steps ----------------------------------------------------------------------------

    def startup(self) -> None:
        self.say("start-up: kpictl --version / --help vs python -c 'import typer'")
        s = interleaved({
            "typer": self.py_cmd("-c", "import typer"),
            "version": self.k("--version"),
            "help": self.k("--help"),
            "typer_help": self.py_cmd(str(TYPER_FLOOR), "--help"),
        }, runs=self.args.runs, warmup=2)
        floor = s["typer"].median()
        for name in ("version", "help"):
            ratio = s[name].median() / floor
            cpu = s[name].median("cpu") / s["typer"].median("cpu")
            ok = ratio <= BARS["startup"]
            self.row(f"kpictl --{name}", fmt_series(s[name]),
                     f"{fmt_series(s['typer'])} import typer",
                     f"≤ 1.5× = {fmt_time(floor * BARS['startup'])}; is {ratio:.2f}× "
                     f"(CPU {cpu:.2f}×)", ok)
            self.results["figures"][f"startup_{name}"] = {
                "measured": s[name].as_dict(), "floor": s["typer"].as_dict(),
                "ratio": ratio, "cpu_ratio": cpu, "bar": BARS["startup"], "met": ok}
        # What Typer's Rich help costs by itself (a one-command app): the floor of --help
        # on this stack, beside the bar's floor.
        ref = s["typer_help"].median()
        self.row("  one-command Typer app --help (stack floor)", fmt_series(s["typer_help"]),
                 f"{fmt_series(s['typer'])} import typer",
                 f"is {ref / floor:.2f}× import typer", None)
        stack = s["help"].median() / ref
        ok = stack <= BARS["help_stack"]
        self.row("kpictl --help vs its stack floor", fmt_series(s["help"]),
                 f"{fmt_series(s['typer_help'])} Typer app --help",
                 f"≤ 1.2× = {fmt_time(ref * BARS['help_stack'])}; is {stack:.2f}× (CPU "
                 f"{s['help'].median('cpu') / s['typer_help'].median('cpu'):.2f}×)", ok)
        self.results["figures"]["startup_typer_help_floor"] = {
            "measured": s["typer_help"].as_dict(), "ratio_to_import_typer": ref / floor,
            "kpictl_help_ratio": stack, "bar": BARS["help_stack"], "met": ok}

    def build(self) -> None:
        a = self.args
        owners = dataset.people(a.people)
        self.say(f"building {a.people} people (kpictl people add)")
        t = time.perf_counter()
        created = dataset.CREATED_TEXT  # before every start: known to a past --as-of
        run(**self.k("-q", "people", "add", owners[0], "--name", "Person 0",
                     "--skill", "sales:3", now=created))
        for handle in owners[1:]:
            run(**self.k("-q", "people", "add", handle, "--name", f"Person {handle}",
                         "--capacity", "1000", now=created))
        self.results["info"]["people_add_s"] = time.perf_counter() - t

        self.plans = dataset.plan_kpis(a.kpis, owners, seed=a.seed)
        kpi_csv = self.root / "kpis.csv"
        dataset.write_kpi_file(kpi_csv, owners, self.plans, seed=a.seed + 1)
        self.say(f"building {a.kpis:,} KPIs (kpictl assign --file)")
        s = run(**self.k("-q", "assign", "--file", str(kpi_csv), now=created))
        self.results["info"]["assign_file"] = {**s.__dict__, "rows": a.kpis}
        got = self.scalar(self.db, "SELECT count(*) FROM kpi")
        if got != a.kpis:
            raise BenchError(f"expected {a.kpis} KPIs, found {got}")
        self.say(f"  {a.kpis:,} KPIs in {s.wall:.1f} s ({a.kpis / s.wall:,.0f}/s, "
                 f"peak {s.rss_mb:.0f} MB)")

        # The executemany floor's database: the bench file as it is now (schema, indexes,
        # foreign keys, KPI rows), before any check-in.
        with sqlite3.connect(self.db) as src, sqlite3.connect(self.floor_db) as dst:
            src.backup(dst)

        self.say(f"writing 2 × {a.checkins:,} check-ins as CSV")
        t = time.perf_counter()
        self.csv1 = self.root / "checkins-1.csv"
        self.csv2 = self.root / "checkins-2.csv"
        dataset.write_checkin_file(self.csv1, self.plans, a.checkins, half="late",
                                   seed=a.seed + 2)
        dataset.write_checkin_file(self.csv2, self.plans, a.checkins, half="early",
                                   seed=a.seed + 3)
        self.results["info"]["csv_generation_s"] = time.perf_counter() - t
        self.results["info"]["csv_mb"] = self.csv1.stat().st_size / 2**20

    def bulk(self, csv_path: Path, label: str) -> tuple[Sample, dict]:
        n = self.args.checkins
        before = self.scalar(self.db, "SELECT count(*) FROM checkin")
        self.say(f"bulk {label}: kpictl checkin --file ({n:,} rows)")
        s = run(**self.k("-q", "checkin", "--file", str(csv_path)))
        after = self.scalar(self.db, "SELECT count(*) FROM checkin")
        if after - before != n:
            raise BenchError(f"checkin --file wrote {after - before} rows, expected {n}")
        self.say(f"  {s.wall:.1f} s = {n / s.wall:,.0f} rows/s, peak {s.rss_mb:.0f} MB")
        self.say(f"bulk {label}: raw sqlite3 executemany floor")
        out = self.root / "floor.json"
        fs = run(**self.py_cmd(str(FLOORS), "executemany", str(self.floor_db), str(csv_path),
                               dataset.NOW_TEXT, stdout=out))
        floor = json.loads(out.read_text())
        floor["process"] = fs.__dict__
        if floor["rows"] != n:
            raise BenchError(f"floor inserted {floor['rows']} rows, expected {n}")
        self.say(f"  executemany {floor['insert_s']:.1f} s = {n / floor['insert_s']:,.0f} rows/s"
                 f" (+ {floor['prepare_s']:.1f} s reading the CSV)")
        return s, floor

    def bulk_figure(self, key: str, label: str, s: Sample, floor: dict, bar: bool) -> None:
        n = self.args.checkins
        rate, floor_rate = n / s.wall, n / floor["insert_s"]
        e2e = n / floor["process"]["wall"]
        share = rate / floor_rate
        cpu_share = floor["insert_cpu_s"] / s.cpu
        ok = share >= BARS["bulk"]
        self.row(label, f"{rate:,.0f} rows/s ({s.wall:.1f} s, {s.rss_mb:.0f} MB)",
                 f"{floor_rate:,.0f} rows/s executemany",
                 f"≥ 50% = {floor_rate * BARS['bulk']:,.0f}/s; is {share:.0%} (CPU "
                 f"{cpu_share:.0%}; CSV→sqlite3 script {e2e:,.0f}/s)", ok if bar else None)
        self.results["figures"][key] = {
            "measured": {**s.__dict__, "rows_per_s": rate}, "floor": floor,
            "floor_rows_per_s": floor_rate, "raw_script_rows_per_s": e2e, "share": share,
            "cpu_share": cpu_share,
            "bar": BARS["bulk"], "met": ok}

    def single_checkin(self) -> None:
        self.say("one checkin vs minimal SQLModel one-row script")
        plan = self.plans[len(self.plans) // 2]
        kpi_id, owner = sqlite3.connect(self.db).execute(
            "SELECT id, owner_id FROM kpi WHERE key = ?", (plan.key,)).fetchone()
        # The floors write into the floor copy (the same kind of file, as many check-ins): a
        # row inserted around kpictl into bench.db would (rightly) make its reports read
        # history instead of the per-KPI aggregates (services/stats.py).
        s = interleaved({
            "floor": self.py_cmd(str(SQLMODEL_FLOOR), str(self.floor_db), str(kpi_id),
                                 str(owner)),
            "checkin": self.k("-q", "checkin", plan.key, "42", "--confidence", "6"),
            "typer_floor": self.py_cmd(str(TYPER_FLOOR), "checkin", str(self.floor_db),
                                       str(kpi_id), str(owner)),
        }, runs=self.args.runs, warmup=1)
        ratio = s["checkin"].median() / s["floor"].median()
        cpu = s["checkin"].median("cpu") / s["floor"].median("cpu")
        ok = ratio <= BARS["checkin"]
        self.row(f"checkin (one row, {self.args.checkins:,} in db)", fmt_series(s["checkin"]),
                 f"{fmt_series(s['floor'])} SQLModel",
                 f"≤ 1.15× = {fmt_time(s['floor'].median() * BARS['checkin'])}; "
                 f"is {ratio:.2f}× (CPU {cpu:.2f}×)", ok)
        self.results["figures"]["checkin"] = {
            "measured": s["checkin"].as_dict(), "floor": s["floor"].as_dict(), "ratio": ratio,
            "cpu_ratio": cpu,
            "bar": BARS["checkin"], "met": ok, "key": plan.key}
        ref = s["typer_floor"].median()
        self.row("  the same insert in a Typer command (stack floor)",
                 fmt_series(s["typer_floor"]), f"{fmt_series(s['floor'])} SQLModel",
                 f"is {ref / s['floor'].median():.2f}× the SQLModel floor", None)
        stack = s["checkin"].median() / ref
        ok = stack <= BARS["checkin_stack"]
        self.row("checkin vs its stack floor", fmt_series(s["checkin"]),
                 f"{fmt_series(s['typer_floor'])} Typer + SQLModel",
                 f"≤ 1.1× = {fmt_time(ref * BARS['checkin_stack'])}; is {stack:.2f}× (CPU "
                 f"{s['checkin'].median('cpu') / s['typer_floor'].median('cpu'):.2f}×)", ok)
        self.results["figures"]["checkin_typer_floor"] = {
            "measured": s["typer_floor"].as_dict(),
            "ratio_to_sqlmodel_floor": ref / s["floor"].median(),
            "kpictl_ratio": stack, "bar": BARS["checkin_stack"], "met": ok}

    def corrections(self) -> None:
        """Corrections in the history: 1 % of the KPIs get their latest check-in amended (one
        by `kpictl amend`, one retracted by `kpictl retract`, the rest through the same
        service in one transaction), so the report figures are measured with corrected KPIs
        replayed from their history (services/corrections.py)."""
        import random
        from datetime import datetime

        from kpictl.db import open_database
        from kpictl.services.corrections import amend_checkin

        n = max(2, self.args.kpis // 100)
        with sqlite3.connect(self.db) as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT max(id) FROM checkin GROUP BY kpi_id ORDER BY kpi_id LIMIT ?", (n,))]
        self.say(f"corrections: {len(ids)} check-ins of as many KPIs (kpictl amend, retract)")
        run(**self.k("-q", "amend", str(ids[0]), "--value", "1.5", "--reason", "bench"))
        run(**self.k("-q", "retract", str(ids[1]), "--reason", "bench"))
        rng = random.Random(self.args.seed)
        now = datetime.fromisoformat(dataset.NOW_TEXT.replace("Z", "+00:00"))
        db = open_database(str(self.db))
        with db.session(write=True) as session:
            for checkin_id in ids[2:]:
                amend_checkin(session=session, now=now, checkin_id=checkin_id,
                              value=round(rng.uniform(0, 1000), 2), reason="bench")
        db.engine.dispose()
        got = self.scalar(self.db, "SELECT count(DISTINCT kpi_id) FROM checkin_correction")
        if got != len(ids):
            raise BenchError(f"expected corrections on {len(ids)} KPIs, found {got}")
        self.results["info"]["corrected_kpis"] = got

    def recorded_as_measured(self) -> None:
        """The first batch as if each check-in had been recorded as it happened, an hour after
        its measurement: a bulk load records every row at one instant, and the ``--as-of``
        figure needs a history recorded over time. Written into bench.db by hand, so the
        per-KPI aggregates are then stale, and ``kpictl db rebuild`` recomputes them (timed,
        info). The second batch stays a back-fill, recorded at NOW."""
        from datetime import datetime

        lag = dataset.RECORDING_LAG

        def recorded(measured: str) -> str:  # stored as naive UTC text
            return (datetime.fromisoformat(measured) + lag).strftime("%Y-%m-%d %H:%M:%S.%f")

        self.say("first batch recorded an hour after each measurement; kpictl db rebuild")
        with sqlite3.connect(self.db) as conn:
            conn.create_function("recorded", 1, recorded, deterministic=True)
            conn.execute("UPDATE checkin SET recorded_at = recorded(measured_at)")
        s = run(**self.k("-q", "db", "rebuild"))
        rows = self.scalar(self.db, "SELECT count(*) FROM checkin_stats")
        self.say(f"  db rebuild {s.wall:.1f} s ({rows:,} aggregate rows), peak {s.rss_mb:.0f} MB")
        self.results["info"]["db_rebuild"] = {**s.__dict__, "aggregate_rows": rows}

    def report(self, label: str) -> dict:
        """``report --format json`` interleaved with its two floors: the SQLModel one-row
        script (python + SQLModel start-up) and the report's SQL in plain sqlite3."""
        self.say(f"report --format json at {label} check-ins")
        out = self.root / "report.json"
        plan = self.plans[0]
        kpi_id, owner = sqlite3.connect(self.db).execute(
            "SELECT id, owner_id FROM kpi WHERE key = ?", (plan.key,)).fetchone()
        rep, floor, sql = Series(), Series(), Series()
        past, past_sql = Series(), Series()  # --as-of a month before NOW, as known then
        past_out = self.root / "report-past.json"
        per_query: list[dict] = []
        sql_out = self.root / "sql.json"
        for _ in range(self.args.report_runs):
            rep.add(run(**self.k("report", "--format", "json", stdout=out)))
            past.add(run(**self.k("report", "--format", "json", "--as-of", dataset.AS_OF_TEXT,
                                  stdout=past_out)))
            if len(rep.samples) == 1:  # the data were just written: no warm-up run needed
                doc = json.loads(out.read_text())
                if len(doc["kpis"]) != self.args.kpis:
                    raise BenchError(f"report has {len(doc['kpis'])} KPIs, "
                                     f"expected {self.args.kpis}")
                past_doc = json.loads(past_out.read_text())
                if not any(r["checkins"] for r in past_doc["kpis"]):
                    raise BenchError("the --as-of report has no check-ins")
            run(**self.py_cmd(str(FLOORS), "report-sql", str(self.db), dataset.AS_OF_TEXT, "1",
                              "known", stdout=sql_out))
            result = json.loads(sql_out.read_text())[0]
            past_sql.add(Sample(wall=result["total_s"], cpu=result["cpu_s"], rss_mb=0.0))
            floor.add(run(**self.py_cmd(str(SQLMODEL_FLOOR), str(self.floor_db), str(kpi_id),
                                        str(owner))))
            run(**self.py_cmd(str(FLOORS), "report-sql", str(self.db), dataset.NOW_TEXT, "1",
                              stdout=sql_out))
            result = json.loads(sql_out.read_text())[0]
            per_query.append(result["seconds"])
            sql.add(Sample(wall=result["total_s"], cpu=result["cpu_s"], rss_mb=0.0))
        self.say(f"  report {rep.median():.2f} s, peak {rep.high('rss_mb'):.0f} MB; "
                 f"SQL {sql.median():.2f} s; SQLModel floor {floor.median():.2f} s")
        self.say(f"  report --as-of {past.median():.2f} s ({len(past_doc['kpis']):,} KPIs); "
                 f"SQL {past_sql.median():.2f} s")
        return {"report": rep, "floor": floor, "sql": sql, "per_query": per_query,
                "statuses": doc["summary"]["by_status"],
                "bytes": out.stat().st_size,
                "past": {"report": past, "floor": floor, "sql": past_sql,
                         "kpis": len(past_doc["kpis"]),
                         "checkins": sum(r["checkins"] for r in past_doc["kpis"]),
                         "statuses": past_doc["summary"]["by_status"],
                         "bytes": past_out.stat().st_size}}

    def ongoing(self) -> None:
        """Issue 18: the portfolio over ``--ongoing`` weekly ongoing KPIs with a check-in every
        day for three years (each judged on its current period), in its own database built
        through kpictl (``assign --file`` with ``every``, ``checkin --file``), beside its floor:
        the SQLModel script on a copy taken before the check-ins, and the report's SQL."""
        n = self.args.ongoing
        db, floor_db = self.root / "ongoing.db", self.root / "ongoing-floor.db"
        env = {**self.env, "KPICTL_DB": str(db), "KPICTL_NOW": dataset.ONGOING_NOW_TEXT}
        owners = dataset.people(self.args.people)
        self.say(f"ongoing: {len(owners)} people (kpictl people add)")
        for handle in owners:
            run(**{**self.k("-q", "people", "add", handle, "--name", f"Person {handle}",
                            "--capacity", "1000"), "env": env})
        plans = dataset.plan_ongoing(n, owners)
        kpi_csv, checkin_csv = self.root / "ongoing-kpis.csv", self.root / "ongoing.csv"
        dataset.write_ongoing_kpi_file(kpi_csv, plans)
        self.say(f"ongoing: {n:,} weekly KPIs (kpictl assign --file)")
        run(**{**self.k("-q", "assign", "--file", str(kpi_csv)), "env": env})
        with sqlite3.connect(db) as src, sqlite3.connect(floor_db) as dst:
            src.backup(dst)
        rows = dataset.write_ongoing_checkin_file(checkin_csv, plans, seed=self.args.seed + 4)
        self.say(f"ongoing: {rows:,} daily check-ins over 3 years (kpictl checkin --file)")
        s = run(**{**self.k("-q", "checkin", "--file", str(checkin_csv)), "env": env})
        self.say(f"  {s.wall:.1f} s = {rows / s.wall:,.0f} rows/s")
        self.results["info"]["ongoing_checkin_file"] = {**s.__dict__, "rows": rows}
        self.say(f"report --format json over the ongoing KPIs ({rows:,} check-ins)")
        kpi_id, owner = sqlite3.connect(floor_db).execute(
            "SELECT id, owner_id FROM kpi ORDER BY id LIMIT 1").fetchone()
        sql_out = self.root / "sql.json"
        r = self.portfolio(
            report={**self.k("report", "--format", "json"), "env": env}, kpis=n,
            floor=self.py_cmd(str(SQLMODEL_FLOOR), str(floor_db), str(kpi_id), str(owner)),
            sql=[self.py_cmd(str(FLOORS), mode, str(db), dataset.ONGOING_NOW_TEXT, "1",
                             stdout=sql_out) for mode in ("report-sql", "ongoing-sql")],
            sql_out=sql_out)
        self.report_figures("report_ongoing", f"{n:,} weekly ongoing KPIs × 3 years of daily "
                            f"check-ins = {rows:,}", r, True, memory=False)

    def postgres(self) -> None:
        """The portfolio on PostgreSQL (``--pg-url``): the same people, KPIs and first batch of
        check-ins loaded through kpictl into a new database on that server (recorded an hour
        after each measurement, as on SQLite), 1 % of the KPIs corrected, and ``report
        --format json`` — now, and ``--as-of`` a month earlier as known then — each beside its
        own floor: the SQLModel one-row script on psycopg plus that view's SQL in plain
        psycopg (floors_pg.py)."""
        from urllib.parse import urlsplit, urlunsplit

        import psycopg

        admin = self.args.pg_url.replace("postgresql+psycopg://", "postgresql://")
        name = f"kpictl_bench_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        self.pg_db = (admin, name)
        url = urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
        env = {**self.env, "KPICTL_DB": url}
        self.say(f"postgres: database {name}; {self.args.people} people, "
                 f"{self.args.kpis:,} KPIs, {self.args.checkins:,} check-ins through kpictl")
        then = {**env, "KPICTL_NOW": dataset.CREATED_TEXT}  # before every start, as build()
        for i, handle in enumerate(dataset.people(self.args.people)):
            extra = ("--skill", "sales:3") if i == 0 else ("--capacity", "1000")
            run(**{**self.k("-q", "people", "add", handle, "--name", f"Person {handle}", *extra),
                   "env": then})
        s = run(**{**self.k("-q", "assign", "--file", str(self.root / "kpis.csv")), "env": then})
        self.say(f"  assign --file {s.wall:.1f} s")
        s = run(**{**self.k("-q", "checkin", "--file", str(self.csv1)), "env": env})
        self.say(f"  checkin --file {s.wall:.1f} s = {self.args.checkins / s.wall:,.0f} rows/s")
        self.results["info"]["postgres_checkin_file"] = {**s.__dict__,
                                                         "rows": self.args.checkins}
        # As recorded_as_measured() does on SQLite: the batch recorded an hour after each
        # measurement, the aggregates recomputed by kpictl db rebuild.
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE checkin SET recorded_at = measured_at + %s",
                         (dataset.RECORDING_LAG,))
        s = run(**{**self.k("-q", "db", "rebuild"), "env": env})
        self.say(f"  recorded an hour after each measurement; db rebuild {s.wall:.1f} s")
        self.results["info"]["postgres_db_rebuild"] = s.__dict__
        with psycopg.connect(url) as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT max(id) FROM checkin GROUP BY kpi_id ORDER BY kpi_id LIMIT %s",
                (max(2, self.args.kpis // 100),))]
            kpi_id, owner = conn.execute(
                "SELECT id, owner_id FROM kpi ORDER BY id LIMIT 1").fetchone()
        self.amend(env, url, ids)
        run(**self.py_cmd(str(FLOORS_PG), "floor-table", url))
        sql_out = self.root / "sql.json"
        r = self.portfolio(
            report={**self.k("report", "--format", "json"), "env": env}, kpis=self.args.kpis,
            floor=self.py_cmd(str(SQLMODEL_FLOOR), url, str(kpi_id), str(owner),
                              "bench_floor_checkin"),
            sql=[self.py_cmd(str(FLOORS_PG), mode, url, dataset.NOW_TEXT, "1", stdout=sql_out)
                 for mode in ("report-sql", "ongoing-sql")],
            sql_out=sql_out,
            # The --as-of figure as on SQLite: its floor is the same SQLModel script plus the
            # SQL of that view (report-sql … known).
            past={**self.k("report", "--format", "json", "--as-of", dataset.AS_OF_TEXT),
                  "env": env},
            past_sql=[self.py_cmd(str(FLOORS_PG), "report-sql", url, dataset.AS_OF_TEXT, "1",
                                  "known", stdout=sql_out)])
        self.report_figures("report_pg", f"PostgreSQL, {self.args.kpis:,} KPIs, "
                            f"{self.args.checkins:,} check-ins", r, True)
        self.past_figures("report_as_of_pg", f"PostgreSQL, {self.args.checkins:,} check-ins",
                          r, True)

    def amend(self, env: dict, target: str, ids: list[int]) -> None:
        """Corrections as :meth:`corrections` makes them, in the database ``target``: the
        check-ins ``ids`` amended (one by `kpictl amend`, one retracted by `kpictl retract`,
        the rest through the same service in one transaction)."""
        import random
        from datetime import datetime

        from kpictl.db import open_database
        from kpictl.services.corrections import amend_checkin

        self.say(f"  corrections: {len(ids)} check-ins of as many KPIs")
        run(**{**self.k("-q", "amend", str(ids[0]), "--value", "1.5", "--reason", "bench"),
               "env": env})
        run(**{**self.k("-q", "retract", str(ids[1]), "--reason", "bench"), "env": env})
        rng = random.Random(self.args.seed)
        now = datetime.fromisoformat(dataset.NOW_TEXT.replace("Z", "+00:00"))
        db = open_database(target)
        with db.session(write=True) as session:
            for checkin_id in ids[2:]:
                amend_checkin(session=session, now=now, checkin_id=checkin_id,
                              value=round(rng.uniform(0, 1000), 2), reason="bench")
        db.engine.dispose()

    def drop_postgres(self) -> None:
        admin, name = getattr(self, "pg_db", (None, None))
        if name is None:
            return
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            # WITH (FORCE) is refused while an autovacuum worker (the server's own role) is
            # connected: it finishes within moments.
            for attempt in range(40):
                try:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    return
                except psycopg.errors.InsufficientPrivilege:
                    if attempt == 39:
                        raise
                    time.sleep(0.25)

    def portfolio(self, *, report: dict, kpis: int, floor: dict, sql: list[dict],
                  sql_out: Path, past: dict | None = None,
                  past_sql: list[dict] = ()) -> dict:
        """``report`` (a ``report --format json`` command) interleaved with its floors: the
        SQLModel one-row script ``floor`` and the raw SQL scripts ``sql`` (their times summed,
        each printing floors.py's JSON into ``sql_out``); the shape :meth:`report` returns.
        With ``past`` (the ``--as-of`` report) and its SQL ``past_sql``, those too, in the
        same rounds, beside the same SQLModel floor (``["past"]``, as :meth:`report`)."""
        out = self.root / "report.json"
        past_out = self.root / "report-past.json"
        rep, floor_s, sql_s = Series(), Series(), Series()
        past_s, past_sql_s = Series(), Series()
        per_query: list[dict] = []

        def run_sql(cmds: list[dict], seconds: dict) -> Sample:
            wall = cpu = 0.0
            for cmd in cmds:
                run(**cmd)
                result = json.loads(sql_out.read_text())[0]
                wall, cpu = wall + result["total_s"], cpu + result["cpu_s"]
                seconds.update(result["seconds"])
            return Sample(wall=wall, cpu=cpu, rss_mb=0.0)

        for _ in range(self.args.report_runs):
            rep.add(run(**{**report, "stdout": out}))
            if past is not None:
                past_s.add(run(**{**past, "stdout": past_out}))
            if len(rep.samples) == 1:
                doc = json.loads(out.read_text())
                if len(doc["kpis"]) != kpis:
                    raise BenchError(f"report has {len(doc['kpis'])} KPIs, expected {kpis}")
                if past is not None:
                    past_doc = json.loads(past_out.read_text())
                    if not any(r["checkins"] for r in past_doc["kpis"]):
                        raise BenchError("the --as-of report has no check-ins")
            if past is not None:
                past_sql_s.add(run_sql(list(past_sql), {}))
            floor_s.add(run(**floor))
            seconds: dict = {}
            sql_s.add(run_sql(sql, seconds))
            per_query.append(seconds)
        self.say(f"  report {rep.median():.2f} s, peak {rep.high('rss_mb'):.0f} MB; "
                 f"SQL {sql_s.median():.2f} s; SQLModel floor {floor_s.median():.2f} s")
        result = {"report": rep, "floor": floor_s, "sql": sql_s, "per_query": per_query,
                  "statuses": doc["summary"]["by_status"], "bytes": out.stat().st_size}
        if past is not None:
            self.say(f"  report --as-of {past_s.median():.2f} s ({len(past_doc['kpis']):,} "
                     f"KPIs); SQL {past_sql_s.median():.2f} s")
            result["past"] = {"report": past_s, "floor": floor_s, "sql": past_sql_s,
                              "kpis": len(past_doc["kpis"]),
                              "checkins": sum(r["checkins"] for r in past_doc["kpis"]),
                              "statuses": past_doc["summary"]["by_status"],
                              "bytes": past_out.stat().st_size}
        return result

    def report_figures(self, key: str, label: str, r: dict, bar: bool,
                       memory: bool = True) -> None:
        rep, floor, sql = r["report"], r["floor"], r["sql"]
        base = floor.median() + sql.median()
        ratio = rep.median() / base
        cpu = rep.median("cpu") / (floor.median("cpu") + sql.median("cpu"))
        ok = ratio <= BARS["report"]
        self.row(f"report --format json ({label})", fmt_series(rep),
                 f"{floor.median():.3f} s SQLModel + {fmt_series(sql)} SQL",
                 f"≤ 2× = {fmt_time(base * BARS['report'])}; is {ratio:.2f}× "
                 f"(CPU {cpu:.2f}×)", ok if bar else None)
        mb = rep.high("rss_mb")
        ok_mb = mb < BARS["report_mb"]
        if memory:
            self.row(f"report peak memory ({label})",
                     f"{mb:.0f} MB (median {rep.median('rss_mb'):.0f})",
                     f"{floor.median('rss_mb'):.0f} MB SQLModel script", "< 200 MB",
                     ok_mb if bar else None)
        queries = {q: sorted(p[q] for p in r["per_query"])[len(r["per_query"]) // 2]
                   for q in r["per_query"][0]}
        self.results["figures"][key] = {
            "measured": rep.as_dict(), "floor_sqlmodel": floor.as_dict(),
            "floor_sql": sql.as_dict(), "sql_per_query_median_s": queries,
            "ratio": ratio, "cpu_ratio": cpu, "bar": BARS["report"], "met": ok,
            "peak_mb": mb, "peak_mb_bar": BARS["report_mb"], "peak_mb_met": ok_mb,
            "statuses": r["statuses"], "json_bytes": r["bytes"]}

    def past_figures(self, key: str, label: str, r: dict, bar: bool) -> None:
        """The ``--as-of`` report (a month before NOW, as known then) beside its floor: the
        SQLModel script plus that view's SQL (floors.py ``report-sql … known``)."""
        p = r["past"]
        rep, floor, sql = p["report"], p["floor"], p["sql"]
        base = floor.median() + sql.median()
        ratio = rep.median() / base
        cpu = rep.median("cpu") / (floor.median("cpu") + sql.median("cpu"))
        ok = ratio <= BARS["report"]
        self.row(f"report --as-of {dataset.AS_OF_TEXT[:10]} ({label})", fmt_series(rep),
                 f"{floor.median():.3f} s SQLModel + {fmt_series(sql)} SQL",
                 f"≤ 2× = {fmt_time(base * BARS['report'])}; is {ratio:.2f}× "
                 f"(CPU {cpu:.2f}×)", ok if bar else None)
        self.results["figures"][key] = {
            "measured": rep.as_dict(), "floor_sqlmodel": floor.as_dict(),
            "floor_sql": sql.as_dict(), "ratio": ratio, "cpu_ratio": cpu,
            "bar": BARS["report"], "met": ok, "peak_mb": rep.high("rss_mb"),
            "kpis": p["kpis"], "checkins": p["checkins"], "statuses": p["statuses"],
            "json_bytes": p["bytes"]}

    def nudge(self) -> None:
        """``nudge --format json`` beside ``report --format json``, interleaved, with the
        reporting line grown to ``--nudge-people`` people (a tree three levels deep above the
        owners, written straight into the person table: people carry no derived data)."""
        total = self.args.nudge_people
        self.say(f"nudge --format json beside report --format json ({total:,} people)")
        with sqlite3.connect(self.db) as conn:
            created = conn.execute("SELECT created_at FROM person LIMIT 1").fetchone()[0]
            have = conn.execute("SELECT count(*) FROM person").fetchone()[0]
            extra = max(total - have, 0)
            first = conn.execute("SELECT max(id) FROM person").fetchone()[0] + 1
            conn.executemany(
                "INSERT INTO person (id, handle, name, email, capacity, manager_id, active, "
                "created_at) VALUES (?, ?, ?, ?, 5, ?, 1, ?)",
                [(first + i, f"m{i:04d}", f"Manager {i}", f"m{i:04d}@example.com",
                  # m0000 is the top; each further person reports to one a level above
                  None if i == 0 else first + (i - 1) // 10, created) for i in range(extra)])
            if extra:  # the owners report into the tree's lowest level
                conn.execute("UPDATE person SET manager_id = ? + (id % ?) WHERE id < ?",
                             (first + extra // 2, max(extra // 2, 1), first))
        out = self.root / "nudge.json"
        nudge, rep = Series(), Series()
        for _ in range(self.args.report_runs):
            nudge.add(run(**self.k("nudge", "--format", "json", stdout=out)))
            rep.add(run(**self.k("report", "--format", "json", stdout=self.root / "r.json")))
        doc = json.loads(out.read_text())
        items = sum(len(r["items"]) for r in doc["recipients"])
        ratio = nudge.median() / rep.median()
        ok = ratio <= BARS["nudge"]
        self.say(f"  nudge {nudge.median():.2f} s ({items:,} items for "
                 f"{len(doc['recipients']):,} people); report {rep.median():.2f} s")
        self.row(f"nudge --format json ({self.args.kpis:,} KPIs, {total:,} people, "
                 f"{items:,} items)", fmt_series(nudge), f"{fmt_series(rep)} report",
                 f"≤ 2× = {fmt_time(rep.median() * BARS['nudge'])}; is {ratio:.2f}×", ok)
        self.results["figures"]["nudge"] = {
            "measured": nudge.as_dict(), "report": rep.as_dict(), "ratio": ratio,
            "bar": BARS["nudge"], "met": ok, "items": items,
            "recipients": len(doc["recipients"]), "people": total}

    def growth(self, r1: dict, r2: dict) -> None:
        t1, t2 = r1["report"].median(), r2["report"].median()
        g = t2 / t1 - 1
        g_cpu = r2["report"].median("cpu") / r1["report"].median("cpu") - 1
        ok = g < BARS["growth"]
        s1, s2 = r1["sql"].median(), r2["sql"].median()
        n = self.args.checkins
        self.row(f"report time, {2 * n:,} vs {n:,} check-ins", fmt_series(r2["report"]),
                 f"{fmt_series(r1['report'])} at {n:,}",
                 f"< +15% = {fmt_time(t1 * (1 + BARS['growth']))}; is {g:+.0%}"
                 f" (CPU {g_cpu:+.0%}; raw SQL {s2 / s1 - 1:+.0%})", ok)
        self.results["figures"]["report_growth"] = {"t1": t1, "t2": t2, "growth": g,
                                                    "cpu_growth": g_cpu,
                                                    "sql_growth": s2 / s1 - 1,
                                                    "bar": BARS["growth"], "met": ok}
        p1, p2 = r1["past"], r2["past"]
        t1, t2 = p1["report"].median(), p2["report"].median()
        g = t2 / t1 - 1
        g_cpu = p2["report"].median("cpu") / p1["report"].median("cpu") - 1
        ok = g < BARS["growth"]
        s1, s2 = p1["sql"].median(), p2["sql"].median()
        self.row(f"report --as-of time, {2 * n:,} vs {n:,} check-ins", fmt_series(p2["report"]),
                 f"{fmt_series(p1['report'])} at {n:,}",
                 f"< +15% = {fmt_time(t1 * (1 + BARS['growth']))}; is {g:+.0%}"
                 f" (CPU {g_cpu:+.0%}; raw SQL {s2 / s1 - 1:+.0%})", ok)
        self.results["figures"]["report_as_of_growth"] = {
            "t1": t1, "t2": t2, "growth": g, "cpu_growth": g_cpu, "sql_growth": s2 / s1 - 1,
            "bar": BARS["growth"], "met": ok}

    def profile(self) -> None:
        """Where the time goes: cProfile of report / one checkin / a bulk slice, and
        ``-X importtime`` of --help and checkin."""
        import pstats

        plan = self.plans[1]
        slice_csv = self.root / "checkins-slice.csv"
        with self.csv2.open() as src, slice_csv.open("w") as dst:
            for i, line in enumerate(src):
                if i > max(1000, self.args.checkins // 10):
                    break
                dst.write(line)
        cases = {
            "report": ("report", "--format", "json"),
            "checkin": ("-q", "checkin", plan.key, "43"),
            "bulk-slice": ("-q", "checkin", "--file", str(slice_csv)),
        }
        for name, argv in cases.items():
            prof = self.root / f"{name}.prof"
            self.say(f"profiling {name}")
            run(**self.py_cmd("-m", "cProfile", "-o", str(prof), "-m", "kpictl", *argv))
            print(f"\n--- cProfile: kpictl {' '.join(argv)} (top 25 by cumulative) ---")
            stats = pstats.Stats(str(prof), stream=sys.stdout)
            stats.strip_dirs().sort_stats("cumulative").print_stats(25)
            print("--- (top 15 by own time) ---")
            stats.sort_stats("tottime").print_stats(15)
        for name, argv in {"--help": ("--help",),
                           "checkin": ("-q", "checkin", plan.key, "44")}.items():
            err = self.root / "importtime.txt"
            env = {**self.env, "PYTHONPROFILEIMPORTTIME": "1"}
            cmd = [self.py, "-m", "kpictl", *argv]
            with err.open("wb") as f:
                subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=f,
                               cwd=self.root, check=True)
            top = []
            for line in err.read_text().splitlines():
                if not line.startswith("import time:") or "cumulative" in line:
                    continue
                _self_us, cum_us, name_ = line[len("import time:"):].split("|")
                depth = (len(name_) - len(name_.lstrip()) - 1) // 2
                if depth <= 1:
                    top.append((int(cum_us), depth, name_.strip()))
            top.sort(reverse=True)
            print(f"\n--- python -X importtime -m kpictl {' '.join(argv)}: top-level and "
                  "first-level imports, cumulative ---")
            for cum, depth, mod in top[:20]:
                print(f"  {cum / 1000:8.1f} ms  {'  ' * depth}{mod}")

    # -- output ---------------------------------------------------------------------------

    def table(self) -> str:
        head = ("figure", "measured", "floor", "bar", "met?")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(5)]
        line = " | ".join(h.ljust(w) for h, w in zip(head, widths))
        out = [line, "-+-".join("-" * w for w in widths)]
        for r in self.rows:
            out.append(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
        return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks",
                                description="kpictl performance benchmark (PRODUCT.md §5).")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1,000 KPIs and 100,000 + 100,000 check-ins (< 1 min)")
    p.add_argument("--kpis", type=int, help="KPIs (default 10,000; quick 1,000)")
    p.add_argument("--checkins", type=int,
                   help="check-ins per batch; two batches (default 1,000,000; quick 100,000)")
    p.add_argument("--people", type=int, help="owners (default 20; quick 2)")
    p.add_argument("--runs", type=int, help="runs per short figure (default 5; quick 3)")
    p.add_argument("--report-runs", type=int, help="runs per report figure (3; quick 2)")
    p.add_argument("--ongoing", type=int, metavar="N",
                   help="weekly ongoing KPIs of the ongoing figure, each with a daily check-in "
                   "for 3 years (1,000; quick 100)")
    p.add_argument("--pg-url", metavar="URL", default=os.environ.get("KPICTL_BENCH_PG_URL"),
                   help="also measure the portfolio on PostgreSQL: a role that may create "
                   "databases (a fresh one is made and dropped); default $KPICTL_BENCH_PG_URL")
    p.add_argument("--nudge-people", type=int,
                   help="people in the reporting line for the nudge figure (1,000; quick 100)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--only", metavar="STEPS", type=lambda v: [x.strip() for x in v.split(",")],
                   help=f"only these figures, comma-separated, of {', '.join(STEPS)} (the "
                   "data a figure needs is still built: checkin needs the first batch)")
    p.add_argument("--dir", type=Path, help="bench directory (default: a new temp dir, removed "
                   "afterwards unless --keep)")
    p.add_argument("--keep", action="store_true", help="keep the bench directory")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    p.add_argument("--profile", action="store_true",
                   help="afterwards, print cProfile and -X importtime breakdowns")
    p.add_argument("--no-bytecode-cache", action="store_true",
                   help="run children with the environment's byte-code settings as they are "
                   "(default: a byte-code cache in the bench dir, as an installed kpictl has)")
    args = p.parse_args(argv)
    full = {"kpis": 10_000, "checkins": 1_000_000, "people": 20, "runs": 5, "report_runs": 3,
            "nudge_people": 1_000, "ongoing": 1_000}
    quick = {"kpis": 1_000, "checkins": 100_000, "people": 2, "runs": 3, "report_runs": 2,
             "nudge_people": 100, "ongoing": 100}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spawner = start_spawner()  # first, while this process is small (see measure.py)
    made = args.dir is None
    root = Path(tempfile.mkdtemp(prefix="kpictl-bench-")) if made else args.dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    if (root / "bench.db").exists():
        sys.exit(f"{root} already holds a bench.db; give an empty --dir")
    bench = Bench(args, root)
    import kpictl

    load_before = load_average()
    bench.say(f"bench dir {root}; kpictl {kpictl.__version__} ({' '.join(bench.kpictl)}); "
              f"{args.kpis:,} KPIs, 2 × {args.checkins:,} check-ins; load {load_before}")
    only = set(args.only or STEPS)
    if only - set(STEPS):
        sys.exit(f"--only: unknown step(s) {', '.join(sorted(only - set(STEPS)))}; "
                 f"use {', '.join(STEPS)}")
    try:
        if "startup" in only:
            bench.startup()
        if "postgres" in only and not args.pg_url:
            if args.only is not None:
                sys.exit("--only postgres needs --pg-url URL (or KPICTL_BENCH_PG_URL)")
            only.discard("postgres")
        if only & {"checkin", "report", "postgres"}:
            bench.build()
        if only & {"checkin", "report"}:
            s1, f1 = bench.bulk(bench.csv1, "1st batch")
            if args.only is None:
                bench.bulk_figure("bulk", f"checkin --file ({args.checkins:,} rows)", s1, f1,
                                  True)
            if "report" in only:
                bench.recorded_as_measured()
        if "checkin" in only:
            bench.single_checkin()
        if "report" in only:
            bench.corrections()
            r1 = bench.report(f"{args.checkins:,}")
            bench.report_figures("report", f"{args.kpis:,} KPIs, {args.checkins:,} check-ins",
                                 r1, True)
            bench.past_figures("report_as_of", f"{args.checkins:,} check-ins", r1, True)
        if args.only is None:
            s2, f2 = bench.bulk(bench.csv2, "2nd batch")
            bench.bulk_figure("bulk_2", f"checkin --file (2nd {args.checkins:,}; info)", s2,
                              f2, False)
            r2 = bench.report(f"{2 * args.checkins:,}")
            bench.report_figures("report_2x", f"{2 * args.checkins:,} check-ins; info", r2,
                                 False)
            bench.past_figures("report_as_of_2x", f"{2 * args.checkins:,} check-ins; info", r2,
                               False)
            bench.growth(r1, r2)
            bench.nudge()
        if "ongoing" in only:
            bench.ongoing()
        if "postgres" in only:
            bench.postgres()
        load_after = load_average()
        info = bench.results["info"]
        from kpictl.db import redact

        bench.results["config"] = {
            **{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "pg_url": redact(args.pg_url) if args.pg_url else None,  # never a password
            "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
            "kpictl": kpictl.__version__, "machine": platform.platform(),
            "cpus": os.cpu_count(), "load_before": load_before, "load_after": load_after,
            "kpictl_cmd": bench.kpictl, "now": dataset.NOW_TEXT,
            "bytecode_cache": not args.no_bytecode_cache,
        }
        print()
        print(f"kpictl {kpictl.__version__} benchmark — {args.kpis:,} KPIs, {args.people} "
              f"people, 2 × {args.checkins:,} check-ins; Python {sys.version.split()[0]}, "
              f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")
        print(f"medians of {args.runs} runs (start-up, checkin) and {args.report_runs} "
              f"(reports), 1 run per bulk load; (min–max) = the machine's noise; "
              f"load average {load_before} → {load_after}")
        print()
        print(bench.table())
        print()
        a = info.get("assign_file")
        if a:
            print(f"data: {args.people} × people add {info['people_add_s']:.1f} s; assign "
                  f"--file {a['rows']:,} KPIs {a['wall']:.1f} s ({a['rows'] / a['wall']:,.0f}"
                  f"/s, peak {a['rss_mb']:.0f} MB); CSV {info['csv_mb']:.0f} MB per batch, "
                  f"written in {info['csv_generation_s']:.1f} s")
        for key in ("report", "report_2x", "report_ongoing", "report_pg"):
            if key not in bench.results["figures"]:
                continue
            q = bench.results["figures"][key]["sql_per_query_median_s"]
            print(f"raw SQL ({key}): " + ", ".join(f"{k} {v:.3f} s" for k, v in q.items()))
        noise = {name: f["measured"]["wall_max"] / f["measured"]["wall_min"] - 1
                 for name, f in bench.results["figures"].items()
                 if isinstance(f.get("measured"), dict) and "wall_min" in f["measured"]}
        print(f"peak memory = ru_maxrss of each child (os.wait4), MB = 10^6 bytes; children are "
              f"started by a spawner whose own peak is {spawner.own_peak_mb:.0f} MB")
        print("noise (max/min − 1 of the measured runs): "
              + ", ".join(f"{k} {v:.0%}" for k, v in noise.items()))
        missed = [r[0] for r in bench.rows if r[4] == "NO"]
        print(f"bars missed: {len(missed)}" + (f" ({'; '.join(missed)})" if missed else ""))
        if args.json:
            args.json.write_text(json.dumps(bench.results, indent=2, default=str))
            print(f"results written to {args.json}")
        if args.profile:
            bench.profile()
        return 1 if missed else 0
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            bench.drop_postgres()
        stop_spawner()
        if made and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"bench directory kept: {root}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
