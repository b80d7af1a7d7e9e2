"""services/reports.py: the portfolio and one KPI at any instant (PRODUCT §3 "As of")."""

from __future__ import annotations


import pytest

from kpictl.domain import Kind, Outcome, Status
from kpictl.errors import InvalidInput, NotFound
from kpictl.services.checkins import record_checkin
from kpictl.services.kpis import add_feedback, close_kpi

from .conftest import DUE, START, utc


def checkin(svc, key, value, at, **kw):
    return svc.call(record_checkin, key=key, value=value, at=at, **kw)


def keys(report):
    return [r.key for r in report.kpis]


# --------------------------------------------------------------------------- one row


def test_report_row_for_increase_kpi(team, now):
    team.kpi("sales.arr", to="ana", title="ARR", unit="EUR", tags=["sales"])
    checkin(team, "sales.arr", 40.0, utc(2026, 11, 25), confidence=7)
    report = team.report()
    assert (report.as_of, report.generated_at) == (now, now)
    [row] = report.kpis
    assert (row.key, row.title, row.owner, row.kind, row.unit, row.tags) == (
        "sales.arr", "ARR", "ana", "increase", "EUR", ["sales"])
    assert (row.baseline, row.target, row.low, row.high) == (0.0, 100.0, None, None)
    assert (row.start, row.due, row.state) == (START, DUE, "active")
    assert (row.current, row.checkins, row.confidence) == (40.0, 1, 7)
    assert row.last_checkin_at == utc(2026, 11, 25)
    # Weekly slots are ISO weeks in the KPI's zone: the check-in is in the week of Mon Nov 23,
    # the next is due in the week after, by the end of Sun Dec 6.
    assert row.next_checkin_due == utc(2026, 12, 6, 23, 59, 59)
    assert (row.progress, row.progress_raw) == (0.4, 0.4)
    # 26.5 days of 60.99999 elapsed
    # Full precision (PRODUCT §4): JSON never rounds.
    assert row.expected_progress == pytest.approx(26.5 * 86400 / (DUE - START).total_seconds(),
                                                  rel=1e-12)
    assert row.status == "on_track"
    assert row.flags == []
    assert row.forecast is None
    assert row.days_left == 34.5


def test_report_no_checkins_is_no_data_and_stale_after_first_slot_plus_grace(team):
    # Weekly from Sun Nov 1: the first slot is the rest of that ISO week, that one day; its
    # check-in is due by the end of Nov 1, stale after Nov 3 23:59:59.
    team.kpi("k.one")
    row = team.row("k.one")
    assert (row.status, row.flags, row.current, row.progress) == ("no_data", ["stale"], None,
                                                                  None)
    assert row.next_checkin_due == utc(2026, 11, 1, 23, 59, 59)
    assert team.row("k.one", as_of=utc(2026, 11, 3, 23, 59, 59)).flags == []
    assert team.row("k.one", as_of=utc(2026, 11, 4)).flags == ["stale"]


def test_report_stale_on_track_kpi_is_at_risk(team):
    team.kpi("k.one")
    # In the week of Mon Nov 9: the next check-in is due by the end of Sun Nov 22, stale
    # after Nov 24 23:59:59.
    checkin(team, "k.one", 60.0, utc(2026, 11, 10))
    row = team.row("k.one")
    assert (row.status, row.flags) == ("at_risk", ["stale"])
    assert row.next_checkin_due == utc(2026, 11, 22, 23, 59, 59)
    assert team.row("k.one", as_of=utc(2026, 11, 24)).status == "on_track"


def test_report_low_confidence_on_track_kpi_is_at_risk(team):
    team.kpi("k.one")
    checkin(team, "k.one", 60.0, utc(2026, 11, 26), confidence=3)
    row = team.row("k.one")
    assert (row.status, row.flags) == ("at_risk", ["low_confidence"])


def test_report_overdue_kpi(team):
    team.kpi("k.one", start=utc(2026, 10, 1), due=utc(2026, 11, 20, 23, 59, 59))
    checkin(team, "k.one", 70.0, utc(2026, 11, 26))
    row = team.row("k.one")
    assert (row.status, row.flags, row.expected_progress) == ("overdue", ["overdue", "needs_close"], 1.0)
    assert row.suggested_outcome == "missed"
    assert row.days_left == -6.5


def test_report_decrease_kpi_progress(team):
    team.kpi("support.frt", baseline=240.0, target=60.0)
    checkin(team, "support.frt", 150.0, utc(2026, 11, 26))
    row = team.row("support.frt")
    assert (row.kind, row.progress, row.progress_raw) == ("decrease", 0.5, 0.5)


# --------------------------------------------------------------------------- maintain kinds


def test_report_maintain_progress_is_share_of_window_checkins_meeting_threshold(team):
    team.kpi("sales.win", kind=Kind.AT_LEAST, target=25.0, start=utc(2026, 10, 1))
    checkin(team, "sales.win", 99.0, utc(2026, 10, 30))  # before the start it is moved to:
    team.update("sales.win", start=START)  # outside the window
    for day, value in [(5, 30.0), (10, 20.0), (15, 25.0), (20, 27.0)]:
        checkin(team, "sales.win", value, utc(2026, 11, day))
    row = team.row("sales.win")
    assert (row.progress, row.progress_raw, row.checkins) == (0.75, 0.75, 5)
    assert (row.status, row.flags) == ("on_track", [])


def test_report_maintain_kind_latest_miss_is_off_track(team):
    team.kpi("eng.p95", kind=Kind.AT_MOST, target=300.0)
    checkin(team, "eng.p95", 280.0, utc(2026, 11, 20))
    checkin(team, "eng.p95", 320.0, utc(2026, 11, 26))
    row = team.row("eng.p95")
    assert (row.status, row.progress) == ("off_track", 0.5)


def test_report_range_kind_meeting_bounds_is_on_track(team):
    team.kpi("eng.uptime", low=99.9, high=100.0)
    checkin(team, "eng.uptime", 99.95, utc(2026, 11, 26))
    row = team.row("eng.uptime")
    assert (row.kind, row.low, row.high, row.target) == ("range", 99.9, 100.0, None)
    assert (row.status, row.progress, row.flags) == ("on_track", 1.0, [])


def test_report_maintain_window_ends_at_due(team):
    team.kpi("fin.dso", low=30.0, high=45.0, start=utc(2026, 10, 1),
              due=utc(2026, 11, 15, 23, 59, 59))
    checkin(team, "fin.dso", 40.0, utc(2026, 11, 1))  # met, in window
    checkin(team, "fin.dso", 50.0, utc(2026, 11, 10))  # missed, in window
    checkin(team, "fin.dso", 35.0, utc(2026, 11, 26))  # met, after due
    row = team.row("fin.dso")
    assert row.progress == 0.5
    assert row.status == "on_track"  # latest value meets the range


# --------------------------------------------------------------------------- as of


def test_report_as_of_excludes_kpi_not_started_yet(team):
    team.kpi("k.now")
    team.kpi("k.later", start=utc(2026, 12, 1))
    assert keys(team.report()) == ["k.now"]
    assert sorted(keys(team.report(as_of=utc(2026, 12, 1)))) == ["k.later", "k.now"]
    assert keys(team.report(as_of=utc(2026, 10, 31))) == []


def test_report_as_of_ignores_checkins_measured_later(team):
    team.kpi("k.one")
    checkin(team, "k.one", 10.0, utc(2026, 11, 10))
    checkin(team, "k.one", 40.0, utc(2026, 11, 20))
    row = team.row("k.one", as_of=utc(2026, 11, 15))
    assert (row.current, row.checkins, row.last_checkin_at) == (10.0, 1, utc(2026, 11, 10))
    assert team.report(as_of=utc(2026, 11, 15)).as_of == utc(2026, 11, 15)


def test_report_as_of_before_first_checkin_is_no_data(team):
    team.kpi("k.one")
    checkin(team, "k.one", 10.0, utc(2026, 11, 10))
    assert team.row("k.one", as_of=utc(2026, 11, 9)).status == "no_data"


def test_report_as_of_before_close_shows_kpi_active(team):
    team.kpi("k.one")
    checkin(team, "k.one", 100.0, utc(2026, 11, 20))
    team.call(close_kpi, key="k.one", outcome=Outcome.MISSED, at=utc(2026, 11, 25))
    before = team.row("k.one", as_of=utc(2026, 11, 24))
    assert (before.state, before.status) == ("active", "achieved")
    after = team.row("k.one", as_of=utc(2026, 11, 25))
    assert (after.state, after.status, after.flags) == ("missed", "missed", [])
    assert after.next_checkin_due is None


def test_report_as_of_before_close_has_flags_again(team):
    team.kpi("k.one")
    team.call(close_kpi, key="k.one", outcome=Outcome.CANCELLED)
    assert team.row("k.one").flags == []
    assert team.row("k.one", as_of=utc(2026, 11, 26)).flags == ["stale"]


def test_report_as_of_owner_follows_the_assignment_log(team):
    team.kpi("k.one", to="ana")
    team.update("k.one", to="bob", at=utc(2026, 11, 20))
    assert keys(team.report(owner="ana")) == []
    assert keys(team.report(owner="bob")) == ["k.one"]
    assert keys(team.report(as_of=utc(2026, 11, 19), owner="ana")) == ["k.one"]
    assert keys(team.report(as_of=utc(2026, 11, 19), owner="bob")) == []


def test_report_detail_as_of_hides_later_history(team):
    team.kpi("k.one", to="ana")
    checkin(team, "k.one", 10.0, utc(2026, 11, 10))
    team.update("k.one", to="bob", at=utc(2026, 11, 20))
    checkin(team, "k.one", 40.0, utc(2026, 11, 25))
    team.call(add_feedback, key="k.one", text="later feedback")
    past = team.detail("k.one", as_of=utc(2026, 11, 15))
    assert [c.value for c in past.checkins] == [10.0]
    assert [(a.to, a.valid_until) for a in past.assignments] == [("ana", None)]
    assert past.feedback == []
    assert past.kpi.owner == "ana"
    now_ = team.detail("k.one")
    assert [c.value for c in now_.checkins] == [10.0, 40.0]
    assert [(a.to, a.valid_until) for a in now_.assignments] == [
        ("ana", utc(2026, 11, 20)), ("bob", None)]
    assert [f.text for f in now_.feedback] == ["later feedback"]
    assert now_.kpi.owner == "bob"


def test_report_detail_of_closed_kpi_has_outcome(team):
    team.kpi("k.one")
    team.call(close_kpi, key="k.one", outcome=Outcome.ACHIEVED)
    detail = team.detail("k.one")
    assert detail.outcome == "achieved"
    assert [(c.field, c.old, c.new) for c in detail.changes] == [
        ("state", "active", "achieved"), ("closed_at", None, "2026-11-27T12:00:00Z")]


def test_report_detail_unknown_kpi_is_not_found(team):
    team.kpi("k.one")
    with pytest.raises(NotFound, match="did you mean 'k.one'"):
        team.detail("k.onee")


def test_the_portfolio_replays_corrected_histories_as_their_history_reads(team):
    """A KPI with a correction in the view is replayed from its history: the portfolio reads
    the lean form (corrections.points) of exactly what corrections.history shows, in every
    view — check-ins moved in time (before another, past the instant), amended twice,
    retracted, and corrections recorded after the instant."""
    from sqlalchemy import select

    from kpictl.models import Checkin, Kpi
    from kpictl.services import corrections
    from kpictl.services.corrections import amend_checkin, retract_checkin

    team.kpi("k.fix")
    team.kpi("k.plain")
    for day, value in [(2, 10.0), (5, 20.0), (9, 30.0), (12, 40.0), (20, 50.0)]:
        checkin(team, "k.fix", value, utc(2026, 11, day), confidence=5, now=utc(2026, 11, day, 9))
    checkin(team, "k.plain", 1.0, utc(2026, 11, 3), now=utc(2026, 11, 3, 9))
    with team.db.session() as s:
        ids = list(s.execute(select(Checkin.id).order_by(Checkin.id)).scalars())
    team.call(amend_checkin, checkin_id=ids[0], at=utc(2026, 11, 10), reason="a week late",
              now=utc(2026, 11, 21))
    team.call(amend_checkin, checkin_id=ids[1], value=21.0, blocker="vendor", reason="typo",
              now=utc(2026, 11, 22))
    team.call(amend_checkin, checkin_id=ids[1], value=22.0, confidence=2, reason="again",
              now=utc(2026, 11, 24))
    team.call(retract_checkin, checkin_id=ids[3], reason="not ours", now=utc(2026, 11, 23))
    team.call(amend_checkin, checkin_id=ids[4], at=utc(2026, 11, 25), reason="later",
              now=utc(2026, 11, 26))
    with team.db.session() as s:
        kpi_ids = sorted(s.execute(select(Kpi.id)).scalars())
        for as_of in (utc(2026, 11, 4), utc(2026, 11, 9, 12), utc(2026, 11, 21, 12),
                      utc(2026, 11, 22, 12), utc(2026, 11, 24, 12), utc(2026, 11, 27, 12)):
            for known in (True, False):
                expected = {kpi_id: [(c.measured_at, c.id, c.value, c.confidence, c.blocker)
                                     for c in items]
                            for kpi_id, items in corrections.history(
                                s, kpi_ids, as_of=as_of, known=known).items()}
                assert corrections.points(s, kpi_ids, as_of=as_of, known=known) == expected
        # Now: the retracted 40 is gone, 20 became 22, 10 moved after 30, 50 to Nov 25.
        now = corrections.points(s, kpi_ids, as_of=team.now, known=False)
    assert [p[2] for p in now[kpi_ids[0]]] == [22.0, 30.0, 10.0, 50.0]
    row = team.row("k.fix")
    assert (row.current, row.last_checkin_at, row.checkins) == (50.0, utc(2026, 11, 25), 4)


# --------------------------------------------------------------------------- filters, summary


@pytest.fixture
def portfolio(team):
    """Four KPIs with known statuses at now (2026-11-27 12:00)."""
    team.kpi("a.ontrack", to="ana", tags=["sales"])
    checkin(team, "a.ontrack", 50.0, utc(2026, 11, 26))  # expected ≈ 0.43
    team.kpi("a.offtrack", to="ana", tags=["sales", "q4"])
    checkin(team, "a.offtrack", 5.0, utc(2026, 11, 26))
    team.kpi("b.nodata", to="bob", tags=["ops"], start=utc(2026, 11, 25))
    team.kpi("b.overdue", to="bob", start=utc(2026, 10, 1), due=utc(2026, 11, 20))
    checkin(team, "b.overdue", 20.0, utc(2026, 11, 26))
    team.kpi("b.closed", to="bob", tags=["q4"])
    team.call(close_kpi, key="b.closed", outcome=Outcome.CANCELLED)
    return team


def test_report_orders_by_attention_first(portfolio):
    assert keys(portfolio.report()) == ["b.overdue", "a.offtrack", "b.nodata", "a.ontrack",
                                        "b.closed"]


def test_report_summary_counts_every_status(portfolio):
    summary = portfolio.report().summary
    assert summary.total == 5
    assert summary.by_status == {"on_track": 1, "at_risk": 0, "off_track": 1, "overdue": 1,
                                 "no_data": 1, "achieved": 0, "missed": 0, "cancelled": 1}


def test_report_filter_by_owner(portfolio):
    assert sorted(keys(portfolio.report(owner="ana"))) == ["a.offtrack", "a.ontrack"]
    assert sorted(keys(portfolio.report(owner=" BOB "))) == ["b.closed", "b.nodata",
                                                             "b.overdue"]
    with pytest.raises(NotFound, match="no person 'nobody'"):
        portfolio.report(owner="nobody")


def test_report_filter_by_tag(portfolio):
    assert sorted(keys(portfolio.report(tag="q4"))) == ["a.offtrack", "b.closed"]
    assert keys(portfolio.report(tag="none")) == []


def test_report_filter_by_bad_tag_is_invalid(portfolio):
    with pytest.raises(InvalidInput, match="invalid tag"):
        portfolio.report(tag="bad tag")


def test_report_filter_by_status(portfolio):
    report = portfolio.report(status=[Status.OFF_TRACK, Status.OVERDUE])
    assert keys(report) == ["b.overdue", "a.offtrack"]
    assert report.summary.total == 2
    assert report.summary.by_status["off_track"] == 1
    assert report.summary.by_status["on_track"] == 0
    assert report.filters == {"owner": None, "tag": None, "status": "off_track,overdue"}


def test_report_filters_combine(portfolio):
    assert keys(portfolio.report(owner="ana", tag="q4", status=[Status.OFF_TRACK])) == [
        "a.offtrack"]
    assert keys(portfolio.report(owner="bob", tag="sales")) == []


def test_report_empty_database_is_empty_report(svc):
    report = svc.report()
    assert report.kpis == []
    assert report.summary.total == 0
    assert set(report.summary.by_status.values()) == {0}


def test_report_as_of_instant_moves_expected_progress(team):
    team.kpi("k.one", start=utc(2026, 11, 1), due=utc(2026, 12, 1))
    checkin(team, "k.one", 10.0, utc(2026, 11, 2))
    assert team.row("k.one", as_of=utc(2026, 11, 4)).expected_progress == 0.1
    assert team.row("k.one", as_of=utc(2026, 11, 4)).status == "on_track"
    assert team.row("k.one", as_of=utc(2026, 11, 16)).expected_progress == 0.5
    assert team.row("k.one", as_of=utc(2026, 11, 16)).status == "off_track"
    # Checked in during the week of Mon Nov 2: the next is due by the end of Sun Nov 15,
    # stale after Nov 17 23:59:59.
    assert team.row("k.one", as_of=utc(2026, 11, 17, 23, 59, 59)).flags == []
    assert team.row("k.one", as_of=utc(2026, 11, 18)).flags == ["stale"]
