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


def _report(svc, monkeypatch, *, from_history: bool, as_of=None):
    with monkeypatch.context() as m:
        if from_history:
            _history_only(m)
        return [asdict(r) for r in svc.report(as_of).kpis]


def _stats_rows(svc) -> dict[int, dict]:
    return {r.kpi_id: r.model_dump() for r in svc.rows(CheckinStats)}


def _assert_same_stats(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for kpi_id in a:
        left, right = dict(a[kpi_id]), dict(b[kpi_id])
        for name in ("sx", "sy", "sxx", "sxy", "syy"):
            assert left.pop(name) == pytest.approx(right.pop(name), rel=1e-12, abs=1e-9)
        left.pop("covered_id"), right.pop("covered_id")
        assert left == right, kpi_id


@pytest.fixture
def kpis(team):
    team.kpi("up", kind="increase", baseline=10.0, target=110.0)
    team.kpi("down", kind="decrease", baseline=500.0, target=100.0, to="bob")
    team.kpi("floor", kind="at-least", target=50.0)
    team.kpi("band", kind="range", low=40.0, high=60.0, to="bob")
    team.kpi("quiet", target=5.0)
    return team


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


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
            kpis.call(record_checkin, key=key, value=value, at=at)
        if step == 15:  # redefinitions rebuild the aggregates they change
            kpis.update("band", low=30.0)
            kpis.update("up", start=START + timedelta(days=2))
            kpis.update("down", due=utc(2026, 12, 20, 23, 59, 59))
    fast = _report(kpis, monkeypatch, from_history=False)
    slow = _report(kpis, monkeypatch, from_history=True)
    # Reports carry full precision now: sums added in another order agree to ~1e-12.
    assert _rounded(fast) == _rounded(slow)
    assert any(r["forecast"] for r in fast)  # the comparison covers forecasts too
    before = _stats_rows(kpis)
    kpis.call(stats.rebuild, with_now=False)
    _assert_same_stats(before, _stats_rows(kpis))
    for as_of in (utc(2026, 11, 5), utc(2026, 11, 20), now):  # past instants: history where needed
        assert _rounded(_report(kpis, monkeypatch, from_history=False, as_of=as_of)) == \
            _rounded(_report(kpis, monkeypatch, from_history=True, as_of=as_of))


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
        from kpictl.services.stats import rebuild  # what migration 0002 runs

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
