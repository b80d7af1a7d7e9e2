"""Ongoing KPIs (issue 18, "Done when"): one KPI of each aggregate over six monthly periods,
some met, some missed, one period without a check-in, a default target changed mid-series, a
per-period target, a reassignment mid-series and a late back-fill into a closed period. Every
value and outcome below is worked out by hand from the check-ins, and every past report made
"live" is asked again later with --as-of and must give the same answers."""

from __future__ import annotations

import pytest

from tests.cli.conftest import ok

KEYS = ("s.signups", "ops.arr", "cs.score", "ops.latency", "inv.stock")

# (measured day, value) per KPI; every check-in is recorded when it is measured (noon UTC).
CHECKINS = {
    "s.signups": [("2027-01-10", 150), ("2027-01-25", 300), ("2027-02-14", 100),
                  ("2027-04-05", 200), ("2027-04-20", 250), ("2027-05-12", 600),
                  ("2027-06-03", 300), ("2027-06-20", 300)],
    "ops.arr": [("2027-01-10", 1500), ("2027-01-25", 2100), ("2027-02-14", 1900),
                ("2027-03-10", 2500), ("2027-04-05", 2200), ("2027-06-03", 2050)],
    "cs.score": [("2027-01-10", 7), ("2027-01-25", 9), ("2027-02-03", 6), ("2027-02-14", 8),
                 ("2027-03-10", 10), ("2027-04-05", 8), ("2027-04-20", 8), ("2027-04-25", 9),
                 ("2027-05-12", 7), ("2027-06-03", 9)],
    "ops.latency": [("2027-01-10", 150), ("2027-01-25", 180), ("2027-02-03", 150),
                    ("2027-02-14", 250), ("2027-03-10", 190), ("2027-05-12", 100),
                    ("2027-06-03", 201)],
    "inv.stock": [("2027-01-10", 20), ("2027-01-25", 30), ("2027-02-03", 5),
                  ("2027-02-14", 40), ("2027-03-10", 10), ("2027-04-05", 60),
                  ("2027-05-03", 50), ("2027-05-12", 55), ("2027-06-03", 25)],
}
MONTHS = ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06"]

# By hand, at 2027-07-10 (every period closed), before the back-fill of 2027-07-05 … and after.
# s.signups (sum, increase ≥ 400; 500 from 2027-04-15; June's own target 700):
#   Jan 150+300=450 ≥ 400 achieved · Feb 100 missed · Mar no check-in: no_data (ben's, who
#   owns it from 2027-03-15) · Apr 200+250=450 < 500 missed · May 600 ≥ 500 achieved ·
#   Jun 300+300=600 < 700 missed.
SIGNUPS = [("2027-01", 400.0, 450.0, "achieved", "ana"),
           ("2027-02", 400.0, 100.0, "missed", "ana"),
           ("2027-03", 400.0, None, "no_data", "ben"),
           ("2027-04", 500.0, 450.0, "missed", "ben"),
           ("2027-05", 500.0, 600.0, "achieved", "ben"),
           ("2027-06", 700.0, 600.0, "missed", "ben")]
# ops.arr (last, increase from 1000 to 2000): Jan last 2100 achieved · Feb 1900 missed ·
#   Mar 2500 achieved · Apr 2200 achieved · May none no_data · Jun 2050 achieved.
ARR = [(2100.0, "achieved"), (1900.0, "missed"), (2500.0, "achieved"), (2200.0, "achieved"),
       (None, "no_data"), (2050.0, "achieved")]
# cs.score (mean, at-least 8): Jan (7+9)/2=8 achieved · Feb (6+8)/2=7 missed · Mar 10 achieved
#   · Apr (8+8+9)/3=8.333… achieved · May 7 missed · Jun 9 achieved.
SCORE = [(8.0, "achieved"), (7.0, "missed"), (10.0, "achieved"), (25 / 3, "achieved"),
         (7.0, "missed"), (9.0, "achieved")]
# ops.latency (max, at-most 200): Jan 180 achieved · Feb 250 missed · Mar 190 achieved ·
#   Apr none no_data · May 100 achieved · Jun 201 missed.
LATENCY = [(180.0, "achieved"), (250.0, "missed"), (190.0, "achieved"), (None, "no_data"),
           (100.0, "achieved"), (201.0, "missed")]
# inv.stock (min, range 10..50): Jan 20 achieved · Feb 5 missed · Mar 10 achieved (the bound
#   holds) · Apr 60 missed · May min(50, 55)=50 achieved · Jun 25 achieved.
STOCK = [(20.0, "achieved"), (5.0, "missed"), (10.0, "achieved"), (60.0, "missed"),
         (50.0, "achieved"), (25.0, "achieved")]


@pytest.fixture
def at(run, monkeypatch):
    def _at(now, *args):
        monkeypatch.setenv("KPICTL_NOW", now)
        return ok(run, *args)
    return _at


def _detail(at, now, key, *extra):
    return at(now, "report", key, "--json", *extra).json()


def _periods(doc):
    return [(p["label"], p["target"], p["value"], p["outcome"], p["owner"])
            for p in doc["periods"]]


def _build(at):
    """The scenario, in the order it happened; returns the live reports taken on the way."""
    start = "2027-01-01T08:00:00Z"
    at(start, "people", "add", "ana", "--name", "Ana")
    at(start, "people", "add", "ben", "--name", "Ben")
    common = ("--every", "month", "--start", "2027-01-01", "--due", "2027-06-30", "--to", "ana")
    at(start, "assign", "s.signups", *common, "--aggregate", "sum", "--target", "400")
    at(start, "assign", "ops.arr", *common, "--baseline", "1000", "--target", "2000")
    at(start, "assign", "cs.score", *common, "--aggregate", "mean", "--kind", "at-least",
       "--target", "8")
    at(start, "assign", "ops.latency", *common, "--aggregate", "max", "--kind", "at-most",
       "--target", "200")
    at(start, "assign", "inv.stock", *common, "--aggregate", "min", "--kind", "range",
       "--low", "10", "--high", "50")
    events = [(f"{day}T12:00:00Z", ("checkin", key, str(value)))
              for key, items in CHECKINS.items() for day, value in items]
    events += [("2027-03-15T09:00:00Z", ("assign", "s.signups", "--to", "ben")),
               ("2027-04-15T09:00:00Z", ("assign", "s.signups", "--target", "500")),
               ("2027-05-01T09:00:00Z", ("assign", "s.signups", "--target-for", "2027-06=700"))]
    live = {}
    snapshots = ["2027-02-20T00:00:00Z", "2027-04-10T12:00:00Z", "2027-05-05T00:00:00Z",
                 "2027-06-10T00:00:00Z"]
    for now, args in sorted(events + [(s, None) for s in snapshots], key=lambda e: e[0]):
        if args is None:
            live[now] = {key: _detail(at, now, key) for key in KEYS}
        else:
            at(now, *args)
    return live


def test_ongoing_kpis_judged_period_by_period(at):
    live = _build(at)
    now = "2027-07-10T12:00:00Z"
    signups = _detail(at, now, "s.signups")
    assert _periods(signups) == SIGNUPS
    assert signups["streak"] == 0  # June missed
    assert signups["kpi"]["every"] == "month" and signups["kpi"]["aggregate"] == "sum"
    for key, expected in (("ops.arr", ARR), ("cs.score", SCORE), ("ops.latency", LATENCY),
                          ("inv.stock", STOCK)):
        doc = _detail(at, now, key)
        assert [p["label"] for p in doc["periods"]] == MONTHS, key
        got = [(p["value"], p["outcome"]) for p in doc["periods"]]
        assert [g[1] for g in got] == [e[1] for e in expected], key
        for (value, _), (want, _) in zip(got, expected):
            assert value == pytest.approx(want) if want is not None else value is None, key
        assert {p["owner"] for p in doc["periods"]} == {"ana"}, key
    stock = _detail(at, now, "inv.stock")
    assert [(p["low"], p["high"]) for p in stock["periods"]] == [(10.0, 50.0)] * 6
    assert stock["streak"] == 2  # May and June
    assert _detail(at, now, "ops.arr")["streak"] == 1

    # Live, in the middle of April: April is the current period (value 200 of 400 so far,
    # the target change of 2027-04-15 not made yet), March closed with no data for ben.
    april = live["2027-04-10T12:00:00Z"]["s.signups"]
    assert _periods(april) == [SIGNUPS[0], SIGNUPS[1], SIGNUPS[2],
                               ("2027-04", 400.0, 200.0, None, "ben")]
    row = april["kpi"]
    assert row["period"]["label"] == "2027-04" and row["period"]["value"] == 200.0
    assert row["target"] == 400.0 and row["current"] == 200.0
    assert row["progress"] == pytest.approx(0.5)
    # 9.5 days of April's 30 days (less its last second) have passed: ahead of pace.
    assert row["expected_progress"] == pytest.approx(9.5 * 86400 / (30 * 86400 - 1))
    assert row["status"] == "on_track"
    assert row["due"] == "2027-04-30T23:59:59Z"
    # The maintain kinds judge the period's aggregate so far against the threshold.
    assert live["2027-04-10T12:00:00Z"]["cs.score"]["kpi"]["status"] == "on_track"  # mean 8
    assert live["2027-04-10T12:00:00Z"]["inv.stock"]["kpi"]["status"] == "off_track"  # 60
    assert live["2027-02-20T00:00:00Z"]["s.signups"]["streak"] == 1  # January

    # A back-fill into a closed period, recorded later, changes it from then on only.
    at("2027-07-05T10:00:00Z", "checkin", "s.signups", "420", "--at", "2027-03-20")
    after = _detail(at, now, "s.signups")
    assert _periods(after)[2] == ("2027-03", 400.0, 420.0, "achieved", "ben")
    assert _periods(after)[:2] + _periods(after)[3:] == SIGNUPS[:2] + SIGNUPS[3:]
    before = _detail(at, now, "s.signups", "--as-of", "2027-07-01")
    assert _periods(before) == SIGNUPS

    # Every live report, asked again later with --as-of its instant, gives the same answers.
    for instant, docs in live.items():
        for key, doc in docs.items():
            again = _detail(at, now, key, "--as-of", instant)
            assert _periods(again) == _periods(doc), (instant, key)
            assert again["streak"] == doc["streak"], (instant, key)
            for name in ("status", "progress", "target", "current", "period", "flags"):
                assert again["kpi"][name] == doc["kpi"][name], (instant, key, name)


def test_one_off_kpis_have_no_periods(at):
    at("2027-01-01T08:00:00Z", "people", "add", "ana", "--name", "Ana")
    at("2027-01-01T08:00:00Z", "assign", "a.b", "--to", "ana", "--target", "10",
       "--due", "2027-03-31")
    doc = _detail(at, "2027-01-02T08:00:00Z", "a.b")
    assert doc["periods"] is None and doc["streak"] is None
    assert doc["kpi"]["every"] is None and doc["kpi"]["period"] is None


def test_ongoing_input_errors(run, at, monkeypatch):
    at("2027-01-01T08:00:00Z", "people", "add", "ana", "--name", "Ana")
    at("2027-01-01T08:00:00Z", "assign", "w.k", "--to", "ana", "--every", "week",
       "--target", "5", "--aggregate", "sum")
    monkeypatch.setenv("KPICTL_NOW", "2027-02-01T08:00:00Z")
    for args, words in [
        (("--every", "fortnight"), "invalid --every"),
        (("--aggregate", "median"), "invalid --aggregate"),
        (("--target-for", "2027-03=5"), "is not a week"),
        (("--target-for", "2027-W02=9"), "already closed"),
        (("--aggregate", "mean"), "cannot change"),
    ]:
        result = run("assign", "w.k", *args)
        assert result.exit_code != 0 and words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    result = run("assign", "x.y", "--to", "ana", "--target", "5", "--due", "2027-03-01",
                 "--aggregate", "sum")
    assert result.exit_code != 0 and "--every" in result.stderr
    # An open-ended weekly series: the current ISO week is the row's period.
    row = _detail(at, "2027-02-03T08:00:00Z", "w.k")["kpi"]
    assert row["period"]["label"] == "2027-W05"
    assert row["period"]["start"] == "2027-02-01T00:00:00Z"
    assert row["period"]["end"] == "2027-02-07T23:59:59Z"


def test_export_import_keeps_periods_and_targets(at, run, tmp_path, monkeypatch):
    _build(at)
    now = "2027-07-10T12:00:00Z"
    before = {key: _detail(at, now, key) for key in KEYS}
    exported = at(now, "export").stdout
    assert '"type": "period_target"' in exported and '"every": "month"' in exported
    copy = tmp_path / "copy.db"
    monkeypatch.setenv("KPICTL_NOW", now)
    result = run("--db", str(copy), "import", "-", input=exported)
    assert result.exit_code == 0, result.stderr
    for key in KEYS:
        for instant in (now, "2027-04-10T12:00:00Z"):
            got = ok(run, "--db", str(copy), "report", key, "--json", "--as-of", instant).json()
            want = _detail(at, now, key, "--as-of", instant)
            assert _periods(got) == _periods(want) and got["streak"] == want["streak"], key
            assert got["kpi"]["period"] == want["kpi"]["period"], key
        assert _periods(before[key]) == _periods(
            ok(run, "--db", str(copy), "report", key, "--json").json())
    # The copy exports the same records (lossless both ways).
    again = ok(run, "--db", str(copy), "export").stdout
    assert [line for line in again.splitlines()[1:]] == [line for line in
                                                           exported.splitlines()[1:]]


def test_bulk_assign_every_and_aggregate(run, at):
    at("2027-01-01T08:00:00Z", "people", "add", "ana", "--name", "Ana")
    csv = ("key,to,target,kind,every,aggregate,start\n"
           "m.signups,ana,400,,month,sum,2027-01-01\n"
           "q.nps,ana,40,at-least,quarter,mean,2027-01-01\n"
           "one.off,ana,10,,,,2027-01-01\n")
    result = run("assign", "--file", "-", "--input-format", "csv", input=csv)
    assert result.exit_code == 2, result.stderr  # one.off has no due: refused, nothing written
    csv = csv.replace("one.off,ana,10,,,,2027-01-01", "bad.every,ana,10,,fortnight,,2027-01-01")
    result = run("assign", "--file", "-", "--input-format", "csv", input=csv)
    assert result.exit_code != 0 and "invalid --every" in result.stderr
    csv = csv.replace("bad.every,ana,10,,fortnight,,2027-01-01\n", "")
    ok(run, "assign", "--file", "-", "--input-format", "csv", input=csv)
    at("2027-02-01T08:00:00Z", "checkin", "q.nps", "30")
    at("2027-03-01T08:00:00Z", "checkin", "q.nps", "60")  # mean 45 ≥ 40
    at("2027-01-10T08:00:00Z", "checkin", "m.signups", "450")
    doc = _detail(at, "2027-04-02T08:00:00Z", "q.nps")
    assert _periods(doc) == [("2027-Q1", 40.0, 45.0, "achieved", "ana"),
                             ("2027-Q2", 40.0, None, None, "ana")]
    doc = _detail(at, "2027-04-02T08:00:00Z", "m.signups")
    assert [p["outcome"] for p in doc["periods"]] == ["achieved", "no_data", "no_data", None]


def test_targets_file_merges_period_by_period(run, at, monkeypatch):
    at("2027-01-01T08:00:00Z", "people", "add", "ana", "--name", "Ana")
    at("2027-01-01T08:00:00Z", "assign", "m.s", "--to", "ana", "--every", "month",
       "--aggregate", "sum", "--target", "100", "--start", "2027-01-01")
    monkeypatch.setenv("KPICTL_NOW", "2027-02-10T08:00:00Z")
    # Validated whole: one closed period and one bad number refuse the file, nothing written.
    bad = "period,target\n2027-01,90\n2027-03,abc\n2027-04,150\n"
    result = run("targets", "m.s", "--file", "-", "--input-format", "csv", input=bad)
    assert result.exit_code == 2 and "abc" in result.stderr, result.stderr
    result = run("targets", "m.s", "--file", "-", "--input-format", "csv",
                 input="period,target\n2027-01,90\n")
    assert result.exit_code == 2 and "already closed" in result.stderr
    ok(run, "targets", "m.s", "--file", "-", "--input-format", "csv",
       input="period,target\n2027-03,300\n2027-04,150\n")
    ok(run, "targets", "m.s", "--file", "-", "--input-format", "jsonl",
       input='{"period": "2027-04", "target": 175}\n')  # merged: March stays 300
    doc = _detail(at, "2027-05-02T08:00:00Z", "m.s")
    assert [(p["label"], p["target"]) for p in doc["periods"]] == [
        ("2027-01", 100.0), ("2027-02", 100.0), ("2027-03", 300.0), ("2027-04", 175.0),
        ("2027-05", 100.0)]
    # Each change is logged, and a report before it shows the target of then.
    fields = [c["field"] for c in doc["changes"]]
    assert fields.count("period_target") == 3
    then = _detail(at, "2027-05-02T08:00:00Z", "m.s", "--as-of", "2027-02-05")
    assert [p["target"] for p in then["periods"]] == [100.0, 100.0]


def test_periods_count_in_hit_rates_and_the_digest(at):
    _build(at)
    now = "2027-07-10T12:00:00Z"
    owners = {o["handle"]: o for o in at(now, "report", "--by", "owner", "--json")
              .json()["owners"]}
    # ana: arr 4 of 6, score 4 of 6, latency 3 of 6, stock 4 of 6, signups Jan of Jan–Feb
    #   → 16 achieved, 10 missed (no_data counts as a miss); ben: signups Mar–Jun → 1 and 3.
    assert (owners["ana"]["closed_achieved"], owners["ana"]["closed_missed"]) == (16, 10)
    assert owners["ana"]["hit_rate"] == round(16 / 26, 4)
    assert (owners["ben"]["closed_achieved"], owners["ben"]["closed_missed"]) == (1, 3)
    assert owners["ben"]["hit_rate"] == 0.25
    digest = at(now, "report", "--since", "2027-06-01", "--json").json()
    assert sorted((e["key"], e["owner"], e["detail"]) for e in digest["periods_closed"]) == [
        ("cs.score", "ana", "2027-06 achieved"), ("inv.stock", "ana", "2027-06 achieved"),
        ("ops.arr", "ana", "2027-06 achieved"), ("ops.latency", "ana", "2027-06 missed"),
        ("s.signups", "ben", "2027-06 missed")]
    assert digest["summary"]["periods_closed"] == 5
    assert {e["at"] for e in digest["periods_closed"]} == {"2027-06-30T23:59:59Z"}


def test_periods_are_track_records_and_calibrate_confidence(at):
    at("2027-01-01T08:00:00Z", "people", "add", "ana", "--name", "Ana")
    at("2027-01-01T08:00:00Z", "assign", "m.s", "--to", "ana", "--every", "month",
       "--aggregate", "sum", "--target", "100", "--start", "2027-01-01")
    # Jan: 60 (conf 9) then 50 (conf 8) → 110 achieved, last confidence 8 → (0.8 − 1)² = 0.04
    # Feb: 40 (conf 6) → missed, (0.6 − 0)² = 0.36 · Mar: none → no_data, no prediction
    at("2027-01-10T12:00:00Z", "checkin", "m.s", "60", "--confidence", "9")
    at("2027-01-20T12:00:00Z", "checkin", "m.s", "50", "--confidence", "8")
    at("2027-02-10T12:00:00Z", "checkin", "m.s", "40", "--confidence", "6")
    now = "2027-04-02T12:00:00Z"
    [ana] = [o for o in at(now, "report", "--by", "owner", "--json").json()["owners"]
             if o["handle"] == "ana"]
    assert (ana["closed_achieved"], ana["closed_missed"]) == (1, 2)
    assert ana["confidence_predictions"] == 2
    assert ana["confidence_brier"] == round((0.04 + 0.36) / 2, 4)
    assert ana["confidence_bias"] == round(((0.8 - 1) + (0.6 - 0)) / 2, 4)
    doc = at(now, "suggest", "--tag", "x", "--json").json()
    [cand] = [c for c in doc["candidates"] if c["handle"] == "ana"]
    assert any("hit 1 of 3 closed KPIs" in r for r in cand["reasons"]), cand["reasons"]


def test_scorecard_in_the_terminal_and_html(run, at):
    result = at("2027-01-01T08:00:00Z", "people", "add", "ana", "--name", "Ana")
    result = at("2027-01-01T08:00:00Z", "assign", "q.x", "--to", "ana", "--every", "quarter",
                "--target", "10", "--aggregate", "sum", "--due", "2027-12-31")
    assert "every quarter" in result.stderr and "from 2027-Q1, through 2027-Q4" in result.stderr
    at("2027-02-01T08:00:00Z", "checkin", "q.x", "12")
    text = at("2027-05-01T08:00:00Z", "report", "q.x").stdout
    assert "Periods (quarter, sum)" in text and "streak: 1 achieved in a row" in text
    line = next(li for li in text.splitlines() if li.startswith("2027-Q1"))
    assert "10" in line and "12" in line and "achieved" in line and "ana" in line
    assert "open" in next(li for li in text.splitlines() if li.startswith("2027-Q2"))
    page = at("2027-05-01T08:00:00Z", "report", "q.x", "--format", "html").stdout
    assert "<h2>Periods</h2>" in page and "<td>2027-Q1</td><td>10</td><td>12</td>" in page
    # The window is the current period's, not the series' start to the period's end.
    window = next(li for li in text.splitlines() if li.startswith("Window"))
    assert "period 2027-Q2: 2027-04-01 → 2027-06-30 (due in " in window
    assert window.endswith("every quarter since 2027-01-01")
    assert "period 2027-Q2: 2027-04-01 → 2027-06-30, every quarter since 2027-01-01" in page


def test_period_end_forecast_from_the_cumulative_aggregate(at):
    at("2027-01-01T08:00:00Z", "people", "add", "ana", "--name", "Ana")
    at("2027-01-01T08:00:00Z", "assign", "m.s", "--to", "ana", "--every", "month",
       "--aggregate", "sum", "--target", "1000", "--start", "2027-01-01", "--cadence", "weekly")
    # The running sums 100, 200, 300 on days 1, 2, 3 of March (x = 0, 1, 2 at 00:00) lie on
    # a line of 100 a day from 100: on 2027-03-31 23:59:59 (x = 31 − 1/86400, March has 31
    # days) it reaches 100 + 100·x ≈ 3200 ≥ 1000 — an exact fit, so probability 1.
    for day in ("01", "02", "03"):
        at(f"2027-03-{day}T00:00:00Z", "checkin", "m.s", "100")
    row = _detail(at, "2027-03-03T12:00:00Z", "m.s")["kpi"]
    assert row["forecast"]["points"] == 3
    assert row["forecast"]["value_at_due"] == pytest.approx(100 + 100 * (31 - 1 / 86400))
    assert row["forecast"]["probability"] == 1.0
    # Two points of April are not enough: no forecast.
    at("2027-04-01T00:00:00Z", "checkin", "m.s", "100")
    at("2027-04-02T00:00:00Z", "checkin", "m.s", "100")
    assert _detail(at, "2027-04-02T12:00:00Z", "m.s")["kpi"]["forecast"] is None


def test_a_back_dated_series_takes_targets_for_its_past_periods_when_created(run, at,
                                                                            monkeypatch):
    at("2027-01-01T08:00:00Z", "people", "add", "ana", "--name", "Ana")
    now = "2027-04-10T08:00:00Z"
    at(now, "assign", "m.back", "--to", "ana", "--every", "month", "--aggregate", "sum",
       "--target", "4", "--start", "2027-01-01", "--target-for", "2027-02=5",
       "--target-for", "2027-04=7")
    at(now, "checkin", "m.back", "6", "--at", "2027-02-10")
    doc = _detail(at, now, "m.back")
    assert _periods(doc) == [("2027-01", 4.0, None, "no_data", "ana"),
                             ("2027-02", 5.0, 6.0, "achieved", "ana"),
                             ("2027-03", 4.0, None, "no_data", "ana"),
                             ("2027-04", 7.0, None, None, "ana")]
    # Once the KPI exists, a closed period keeps the target it closed with.
    monkeypatch.setenv("KPICTL_NOW", now)
    result = run("assign", "m.back", "--target-for", "2027-03=9")
    assert (result.exit_code, result.stderr) == (
        2, "kpictl: error: period 2027-03 has already closed: its target stays the one it "
           "closed with\n")
