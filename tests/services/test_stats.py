"""services/stats.py: the per-KPI aggregates that let a report skip history must always give
the report that reading the history gives."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from kpictl.models import CheckinStats
from kpictl.services import stats
from kpictl.services.bulk.checkins import import_checkins
from kpictl.services.bulk.rows import Row
from kpictl.services.checkins import record_checkin

from .conftest import START, utc


def _history_only(monkeypatch):
    """Make every report read history, as it did before the aggregates existed."""
    monkeypatch.setattr(stats, "covered", lambda session: False)


def _report(svc, monkeypatch, *, from_history: bool, as_of=None, revised=True):
    with monkeypatch.context() as m:
        if from_history:
            _history_only(m)
        return [asdict(r) for r in svc.report(as_of, revised=revised).kpis]


def _stats_rows(svc) -> dict[tuple, dict]:
    """Every stored row, by (KPI, recording instant), but the guard's ``covered_id``."""
    rows = {}
    for r in svc.rows(CheckinStats):
        row = r.model_dump()
        row.pop("covered_id")
        rows[(r.kpi_id, r.recorded_at)] = row
    return rows


def _assert_same_stats(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:  # to the last bit: exact sums do not depend on the order of addition
        assert a[key] == b[key], key


@pytest.fixture
def kpis(team):
    """Created at their start, so that views as known at later instants include them."""
    team.kpi("up", kind="increase", baseline=10.0, target=110.0, now=START)
    team.kpi("down", kind="decrease", baseline=500.0, target=100.0, to="bob", now=START)
    team.kpi("floor", kind="at-least", target=50.0, now=START)
    team.kpi("band", kind="range", low=40.0, high=60.0, to="bob", now=START)
    team.kpi("quiet", target=5.0, now=START)
    return team


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_aggregates_give_the_report_that_history_gives(kpis, monkeypatch, now, seed):
    rng = random.Random(seed)
    keys = ["up", "down", "floor", "band"]
    # Repeated times on purpose; none before the start (refused), but moving "up"'s start
    # below leaves some of its check-ins before it.
    times = [START + timedelta(hours=rng.randrange(0, 23 * 24)) for _ in range(12)]
    # Sub-second times, some a hair below a whole second: Python and SQL must count the same.
    times += [t + timedelta(microseconds=us) for t, us in
              zip(times[:4], (999_999, 999_500, 500_000, 1))]
    def when(key, step):  # after "up"'s start moves, nothing measured before it is accepted
        at = rng.choice(times)
        return max(at, START + timedelta(days=2)) if key == "up" and step > 15 else at

    def recorded(at):  # recorded up to three days after it was measured, in no set order
        return min(at + timedelta(hours=rng.randrange(0, 72)), now)

    for step in range(30):
        key = rng.choice(keys)
        at = when(key, step)
        value = round(rng.uniform(0, 600), 2)
        if step % 7 == 3:  # a bulk file now and then
            rows = [Row(i + 2, {"kpi": (k := rng.choice(keys)),
                                "value": str(round(rng.uniform(0, 600), 2)),
                                "at": when(k, step).isoformat()}) for i in range(5)]
            kpis.call(import_checkins, tz=kpis.tz, rows=rows, errors=[], skip_invalid=False)
        else:
            kpis.call(record_checkin, key=key, value=value, at=at, now=recorded(at))
        if step == 15:  # redefinitions rebuild the aggregates they change
            kpis.update("band", low=30.0, now=utc(2026, 11, 12))
            kpis.update("up", start=START + timedelta(days=2), now=utc(2026, 11, 14))
            kpis.update("down", due=utc(2026, 12, 20, 23, 59, 59), now=utc(2026, 11, 16))
    fast = _report(kpis, monkeypatch, from_history=False)
    slow = _report(kpis, monkeypatch, from_history=True)
    # Exactly the same, to the last bit of every forecast.
    assert fast == slow
    assert any(r["forecast"] for r in fast)  # the comparison covers forecasts too
    before = _stats_rows(kpis)
    assert len(before) > 10  # a row per KPI and recording instant
    kpis.call(stats.rebuild, with_now=False)
    _assert_same_stats(before, _stats_rows(kpis))
    # Past instants, known then (the aggregates recorded by then) and in hindsight.
    for as_of in [START + timedelta(days=d, hours=7) for d in range(0, 26, 2)] + [now]:
        for revised in (False, True):
            assert _report(kpis, monkeypatch, from_history=False, as_of=as_of,
                           revised=revised) == \
                _report(kpis, monkeypatch, from_history=True, as_of=as_of, revised=revised), \
                (as_of, revised)


def test_only_three_distinct_times_make_a_forecast(kpis):
    same = utc(2026, 11, 10, 9)
    for value in (20.0, 30.0, 40.0):
        kpis.call(record_checkin, key="up", value=value, at=same)
    row = kpis.row("up")
    assert (row.checkins, row.forecast) == (3, None)
    kpis.call(record_checkin, key="up", value=50.0, at=utc(2026, 11, 12))
    assert kpis.row("up").forecast is None  # two distinct times
    kpis.call(record_checkin, key="up", value=60.0, at=utc(2026, 11, 14))
    assert kpis.row("up").forecast is not None
    [st] = kpis.rows(CheckinStats, CheckinStats.fit_distinct == 3)
    assert st.fit_n == 5


def test_a_check_in_written_around_kpictl_is_still_counted_and_then_absorbed(kpis, monkeypatch):
    kpis.call(record_checkin, key="up", value=20.0, at=utc(2026, 11, 10))
    with kpis.db.session(write=True) as s:  # a hand-made INSERT, not through kpictl
        kpi_id = s.execute(text("SELECT id FROM kpi WHERE key = 'up'")).scalar()
        s.execute(text("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, source) "
                       "SELECT :k, 70.0, measured_at, recorded_at, 'sql' FROM checkin "
                       "WHERE kpi_id = :k"), {"k": kpi_id})
    with kpis.db.session() as s:
        assert not stats.covered(s)
    row = kpis.row("up")
    assert (row.checkins, row.current) == (2, 70.0)
    kpis.call(record_checkin, key="down", value=400.0, at=utc(2026, 11, 11))  # any write repairs
    with kpis.db.session() as s:
        assert stats.covered(s)
    assert kpis.row("up").checkins == 2
    assert _report(kpis, monkeypatch, from_history=False) == \
        _report(kpis, monkeypatch, from_history=True)


def test_a_redefinition_recounts_the_threshold(kpis):
    for value in (35.0, 45.0, 55.0, 65.0):
        kpis.call(record_checkin, key="band", value=value, at=utc(2026, 11, 2 + int(value) // 10))
    assert kpis.row("band").progress == 0.5
    kpis.update("band", low=30.0, high=70.0)
    assert kpis.row("band").progress == 1.0
    [st] = kpis.rows(CheckinStats, CheckinStats.met == 4)
    assert (st.n, st.in_window) == (4, 4)


def test_check_ins_measured_after_the_instant_are_read_from_history(kpis):
    kpis.call(record_checkin, key="up", value=30.0, at=utc(2026, 11, 5))
    kpis.call(record_checkin, key="up", value=90.0, at=utc(2026, 11, 25))
    past = kpis.row("up", as_of=utc(2026, 11, 10))
    assert (past.checkins, past.current) == (1, 30.0)
    with kpis.db.session() as s:
        [last] = s.execute(select(CheckinStats.last_at)).scalars()
    assert last == utc(2026, 11, 25)


def test_the_migration_fills_the_aggregates_of_existing_history(kpis, monkeypatch):
    for day in (3, 6, 9):
        kpis.call(record_checkin, key="up", value=10.0 + day * 5, at=utc(2026, 11, day))
    before = _stats_rows(kpis)
    with kpis.db.session(write=True) as s:
        s.execute(text("DELETE FROM checkin_stats"))
        from kpictl.services.stats import rebuild  # what migration 0011 runs

        rebuild(s.connection())
    _assert_same_stats(before, _stats_rows(kpis))


def test_redefining_one_kpi_does_not_hide_rows_written_around_kpictl_on_another(kpis, monkeypatch):
    kpis.call(record_checkin, key="up", value=20.0, at=utc(2026, 11, 10))
    with kpis.db.session(write=True) as s:
        kpi_id = s.execute(text("SELECT id FROM kpi WHERE key = 'up'")).scalar()
        s.execute(text("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, source) "
                       "SELECT :k, 70.0, measured_at, recorded_at, 'sql' FROM checkin "
                       "WHERE kpi_id = :k"), {"k": kpi_id})
    kpis.update("down", target=90.0)  # rebuilds the aggregates of "down" only
    assert kpis.row("up").checkins == 2
    assert _report(kpis, monkeypatch, from_history=False) == \
        _report(kpis, monkeypatch, from_history=True)


def _checkin_reads(svc, fn):
    """Run ``fn`` and return the SQL statements it sent that read check-in values (a KPI's
    history: what the aggregates are there to spare)."""
    from sqlalchemy import event

    seen = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if "checkin.value" in statement and "FROM checkin" in statement:
            seen.append(statement)

    event.listen(svc.db.engine, "before_cursor_execute", listen)
    try:
        result = fn()
    finally:
        event.remove(svc.db.engine, "before_cursor_execute", listen)
    return result, [s for s in seen if "checkin_1" not in s]  # not the latest check-in's row


def test_a_past_report_as_known_then_reads_the_aggregates_recorded_by_then(kpis, monkeypatch):
    # Check-ins recorded as they happen, and a back-fill recorded later: the view of Nov 20 as
    # known then is one row of the aggregates per KPI, not a read of the history.
    for day in (3, 6, 9, 12, 15, 18):
        at = utc(2026, 11, day, 9)
        kpis.call(record_checkin, key="up", value=10.0 + day * 4.5, at=at,
                  now=at + timedelta(hours=1))
        kpis.call(record_checkin, key="band", value=40.0 + day, at=at,
                  now=at + timedelta(hours=2))
    kpis.call(record_checkin, key="up", value=99.0, at=utc(2026, 11, 4), now=utc(2026, 11, 25))
    kpis.call(record_checkin, key="up", value=100.0, at=utc(2026, 11, 24),
              now=utc(2026, 11, 24, 1))
    as_of = utc(2026, 11, 20)
    rows, reads = _checkin_reads(kpis, lambda: kpis.report(as_of, revised=False).kpis)
    assert reads == []
    up = next(r for r in rows if r.key == "up")
    assert (up.checkins, up.current, up.forecast.points) == (6, 91.0, 6)
    assert [asdict(r) for r in rows] == _report(kpis, monkeypatch, from_history=True,
                                                as_of=as_of, revised=False)
    # In hindsight the back-fill of Nov 4 counts: read from the history of those KPIs.
    hindsight, reads = _checkin_reads(kpis, lambda: kpis.report(as_of, revised=True).kpis)
    assert reads and next(r for r in hindsight if r.key == "up").checkins == 7


def test_a_write_recorded_before_existing_rows_recounts_the_kpi(kpis, monkeypatch):
    # A machine whose clock is behind: its check-in is recorded before rows that exist.
    kpis.call(record_checkin, key="up", value=30.0, at=utc(2026, 11, 5), now=utc(2026, 11, 20))
    kpis.call(record_checkin, key="up", value=50.0, at=utc(2026, 11, 9), now=utc(2026, 11, 22))
    kpis.call(record_checkin, key="up", value=40.0, at=utc(2026, 11, 7), now=utc(2026, 11, 21))
    rows = sorted(_stats_rows(kpis).values(), key=lambda r: r["recorded_at"])
    assert [(r["recorded_at"].day, r["n"]) for r in rows] == [(20, 1), (21, 2), (22, 3)]
    before = _stats_rows(kpis)
    kpis.call(stats.rebuild, with_now=False)
    _assert_same_stats(before, _stats_rows(kpis))
    known = kpis.row("up", as_of=utc(2026, 11, 21, 12), revised=False)
    assert (known.checkins, known.current) == (2, 40.0)


def test_values_near_1e14_keep_their_interval_in_the_aggregates(kpis):
    """The stored moments themselves (no recount from the check-ins) give statsmodels'
    interval: one-pass float sums of these values cancel to a zero width."""
    import numpy as np
    import statsmodels.api as sm

    kpis.kpi("big", target=1e14 + 88.0, baseline=0.0, now=START)
    points = [(0, 1e14 + 3.0), (5, 1e14 + 10.0), (10, 1e14 + 13.0), (15, 1e14 + 24.0),
              (20, 1e14 + 27.0)]
    for x, value in points[:2]:  # in two writes, recorded at two instants
        kpis.call(record_checkin, key="big", value=value, at=START + timedelta(days=x),
                  now=START + timedelta(days=x, hours=1))
    rows = [Row(i + 2, {"kpi": "big", "value": repr(v),
                        "at": (START + timedelta(days=x)).isoformat()})
            for i, (x, v) in enumerate(points[2:])]
    assert kpis.call(import_checkins, tz=kpis.tz, rows=rows, errors=[],
                     skip_invalid=False).written == 3
    stored = max((r for r in kpis.rows(CheckinStats)), key=lambda r: r.recorded_at)
    fit = stats.fit_of(stored)
    model = sm.OLS(np.array([v for _, v in points]),
                   sm.add_constant(np.array([float(x) for x, _ in points]))).fit()
    # SSE to the last bit, as rational arithmetic gives it (statsmodels' own SSE carries the
    # rounding of its residuals, 12.85 here).
    from fractions import Fraction

    xs, ys = [Fraction(x) for x, _ in points], [Fraction(v) for _, v in points]
    mx, my = sum(xs) / 5, sum(ys) / 5
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sse = sum((y - my) ** 2 for y in ys) - sxy * sxy / sxx
    assert (fit.sse, fit.sxy, fit.sxx) == (float(sse), float(sxy), float(sxx))
    assert (fit.sse, fit.sxy, fit.sxx) == (12.8, 310.0, 250.0)
    row = kpis.row("big")
    x_due = (row.due - START).total_seconds() / 86400
    frame = model.get_prediction(np.array([[1.0, x_due]])).summary_frame(alpha=0.2)
    lo, hi = float(frame["obs_ci_lower"].iloc[0]), float(frame["obs_ci_upper"].iloc[0])
    assert row.forecast.high - row.forecast.low == pytest.approx(hi - lo, rel=0.01)
    assert abs(row.forecast.low - lo) <= 0.01 * (hi - lo)


def test_migration_0011_converts_the_aggregates_of_an_older_database(kpis, monkeypatch):
    """A database kpictl of schema 0009 left (one row per KPI of one-pass float sums, filled
    in by its writers): the upgrade recomputes them as the running log, losing nothing."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    import kpictl
    from kpictl.db import upgrade

    for day in (3, 6, 9, 12):
        at = utc(2026, 11, day, 10)
        kpis.call(record_checkin, key="up", value=12.5 * day, at=at, now=at + timedelta(hours=3))
        kpis.call(record_checkin, key="band", value=40.0 + day, at=at, now=at + timedelta(days=1))
    before = _stats_rows(kpis)
    reports = [_report(kpis, monkeypatch, from_history=False, as_of=as_of, revised=revised)
               for as_of in (utc(2026, 11, 8), None) for revised in (False, True)]
    with kpis.db.engine.begin() as conn:  # the older kpictl's schema, with its rows
        config = Config()
        config.set_main_option("script_location",
                               str(Path(kpictl.__file__).parent / "migrations"))
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")
        conn.exec_driver_sql(
            "INSERT INTO checkin_stats (kpi_id, n, in_window, met, fit_n, fit_distinct, sx, sy, "
            "sxx, sxy, syy, covered_id) SELECT kpi_id, count(*), 0, 0, 0, 0, 0, 0, 0, 0, 0, "
            "max(id) FROM checkin GROUP BY kpi_id")
    assert upgrade(kpis.db)
    _assert_same_stats(before, _stats_rows(kpis))
    assert reports == [_report(kpis, monkeypatch, from_history=False, as_of=as_of,
                               revised=revised)
                       for as_of in (utc(2026, 11, 8), None) for revised in (False, True)]
