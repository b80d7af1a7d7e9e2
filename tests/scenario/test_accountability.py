"""Per-owner accountability and the digest, on a small history with known answers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from kpictl.services.cadence import judge_slots, owner_at
from kpictl.timeparse import parse_cadence, parse_grace

UTC = timezone.utc
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def _judge(measured, recorded=None, *, as_of, end=None, cadence="weekly", grace="2d"):
    return [s.outcome for s in judge_slots(
        start=T0, end=end or T0 + timedelta(days=365), as_of=as_of,
        cadence=parse_cadence(cadence), grace=parse_grace(grace), tz="UTC",
        measured=measured, recorded=recorded or measured)]


def test_slots_are_judged_only_after_their_deadline():
    # Slot 1 is the rest of T0's ISO week, due by the end of Sunday Nov 8, judged after the
    # grace (2 days): from Nov 10 23:59:59.
    deadline = datetime(2026, 11, 10, 23, 59, 59, tzinfo=UTC)
    assert _judge([], as_of=deadline - timedelta(seconds=1)) == []
    assert _judge([], as_of=deadline) == ["missed"]


def test_slot_outcomes_on_time_late_and_missed():
    measured = [T0 + timedelta(days=3), T0 + timedelta(days=8), T0 + timedelta(days=25)]
    recorded = [T0 + timedelta(days=3), T0 + timedelta(days=30), T0 + timedelta(days=25)]
    # slot 1 [0,7)+2d: check-in at day 3 → on time; slot 2 [7,14)+2d: day 8 measured but
    # recorded at day 30 → late; slot 3 [14,21)+2d: nothing → missed; slot 4 [21,28)+2d: day 25.
    assert _judge(measured, recorded, as_of=T0 + timedelta(days=31)) == [
        "on_time", "late", "missed", "on_time"]


def test_a_checkin_counts_once_for_the_slot_it_was_measured_in():
    # Measured on day 8, inside the grace of slot 1 but in slot 2: slot 1 is missed.
    assert _judge([T0 + timedelta(days=8)], as_of=T0 + timedelta(days=16)) == [
        "missed", "on_time"]


def test_slot_index_and_next_checkin_due_follow_the_calendar():
    from kpictl.services.cadence import next_checkin_due, slot_index

    # Monthly slots are calendar months: a KPI starting Jan 31 has a one-day first slot.
    monthly = parse_cadence("monthly")
    jan31 = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    assert slot_index(jan31, jan31, monthly, "UTC") == 0
    assert slot_index(jan31, datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC), monthly, "UTC") == 0
    assert slot_index(jan31, datetime(2027, 2, 1, tzinfo=UTC), monthly, "UTC") == 1
    assert slot_index(jan31, datetime(2027, 2, 28, 9, 0, tzinfo=UTC), monthly, "UTC") == 1
    assert slot_index(jan31, jan31 - timedelta(seconds=1), monthly, "UTC") == -1
    weekly = parse_cadence("weekly")
    due = datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC)
    sunday = datetime(2026, 11, 8, 23, 59, 59, tzinfo=UTC)  # the end of T0's ISO week
    assert next_checkin_due(T0, due, None, weekly, "UTC") == sunday
    assert next_checkin_due(T0, due, T0 + timedelta(days=3), weekly, "UTC") == \
        sunday + timedelta(days=7)
    assert next_checkin_due(T0, due, T0 - timedelta(days=3), weekly, "UTC") == sunday
    # No slot runs past due: the last one ends at due, and there is none after it.
    early = datetime(2026, 11, 12, 18, 0, tzinfo=UTC)
    assert next_checkin_due(T0, early, T0, weekly, "UTC") == early
    assert next_checkin_due(T0, early, early, weekly, "UTC") is None


def test_slots_stop_at_the_end_of_the_kpi():
    # Two whole ISO weeks and the last, cut short at the end (Monday Nov 16, 09:00).
    assert _judge([], as_of=T0 + timedelta(days=60), end=T0 + timedelta(days=14)) == [
        "missed", "missed", "missed"]


def test_owner_at_follows_the_assignment_log():
    log = [(T0, T0 + timedelta(days=10), "ana"), (T0 + timedelta(days=10), None, "ben")]
    assert owner_at(log, T0 + timedelta(days=9)) == "ana"
    assert owner_at(log, T0 + timedelta(days=10)) == "ben"


def _setup(run):
    for handle in ("ana", "ben"):
        assert run("people", "add", handle, "--name", handle.title()).exit_code == 0
    # Pinned clock: 2026-11-27T12:00Z. Weekly slots are ISO weeks (UTC, the KPIs' zone):
    # [10-30 12:00, 11-01], then Mon 11-02 … Sun 11-08, 11-09 … 11-15, 11-16 … 11-22, each due
    # by the end of its Sunday; with 2 days of grace deadlines 11-03, 11-10, 11-17 and 11-24
    # (23:59:59Z) have passed; 12-01 has not.
    ok = run("assign", "a.kpi", "--to", "ana", "--target", "100", "--start", "2026-10-30T12:00Z",
             "--due", "2026-12-30T12:00Z")
    assert ok.exit_code == 0, ok.stderr
    assert run("checkin", "a.kpi", "10", "--at", "2026-11-02T12:00Z").exit_code == 0
    assert run("checkin", "a.kpi", "40", "--at", "2026-11-19T12:00Z").exit_code == 0
    assert run("assign", "b.kpi", "--to", "ben", "--target", "10", "--start", "2026-10-30T12:00Z",
               "--due", "2026-11-25T12:00Z").exit_code == 0
    assert run("checkin", "b.kpi", "10", "--at", "2026-11-20T12:00Z").exit_code == 0
    assert run("close", "b.kpi", "--outcome", "achieved", "--at", "2026-11-21T12:00Z").exit_code == 0


def test_report_by_owner_counts_statuses_punctuality_and_hit_rate(run):
    _setup(run)
    doc = run("report", "--by", "owner", "--json").json()
    assert doc["schema"] == "kpictl.owners/1"
    owners = {o["handle"]: o for o in doc["owners"]}
    ana, ben = owners["ana"], owners["ben"]
    # a.kpi: slot 1 missed, slot 2 has 11-02, slot 3 missed, slot 4 has 11-19; recorded at
    # the pinned now, i.e. after their deadlines → the two measured ones are late back-fills.
    assert (ana["checkins_on_time"], ana["checkins_late"], ana["checkins_missed"]) == (0, 2, 2)
    assert ana["hit_rate"] is None
    assert ana["by_status"]["on_track"] + ana["by_status"]["at_risk"] == 1
    # b.kpi closed on 11-21: its slots ending by then (to 11-01, 11-08 and 11-15) are judged;
    # its one check-in (11-20) was measured after them.
    assert (ben["checkins_on_time"], ben["checkins_late"], ben["checkins_missed"]) == (0, 0, 3)
    assert (ben["closed_achieved"], ben["closed_missed"], ben["hit_rate"]) == (1, 0, 1.0)
    assert ben["by_status"]["achieved"] == 1


def test_report_digest_of_a_window(run):
    _setup(run)
    doc = run("report", "--since", "2026-11-16", "--as-of", "2026-11-23T00:00Z", "--json", "--revised").json()
    assert doc["schema"] == "kpictl.digest/1"
    assert [(c["key"], c["value"]) for c in doc["checkins"]] == [("a.kpi", 40.0), ("b.kpi", 10.0)]
    # The week of 11-09 (deadline 11-17 23:59:59Z) had no check-in on either KPI.
    assert [(m["key"], m["owner"], m["due_by"]) for m in doc["missed_checkins"]] == [
        ("a.kpi", "ana", "2026-11-17T23:59:59Z"), ("b.kpi", "ben", "2026-11-17T23:59:59Z")]
    assert [(c["key"], c["detail"]) for c in doc["closed"]] == [("b.kpi", "achieved")]
    changes = {c["key"]: (c["before"], c["after"]) for c in doc["status_changes"]}
    assert changes["b.kpi"][1] == "achieved"
    assert doc["summary"]["checkins"] == 2


def test_report_week_last_and_conflicting_views(run):
    _setup(run)
    result = run("report", "--week", "last", "--json", "--revised")
    assert result.exit_code == 0
    doc = result.json()
    assert (doc["since"], doc["until"]) == ("2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z")
    clash = run("report", "--week", "last", "--by", "owner")
    assert clash.exit_code == 2
    assert clash.stdout == ""
    assert clash.stderr.startswith("kpictl: error: --by and --week are different views")
    md = run("report", "--week", "last", "--format", "md")
    assert md.exit_code == 0
    assert md.stdout.startswith("# Digest 2026-11-16 00:00 → 2026-11-23 00:00")


def test_report_digest_lists_missed_checkins(run):
    _setup(run)
    doc = run("report", "--since", "2026-11-02", "--as-of", "2026-11-16T00:00Z", "--json", "--revised").json()
    assert [(m["key"], m["owner"], m["due_by"]) for m in doc["missed_checkins"]] == [
        ("a.kpi", "ana", "2026-11-03T23:59:59Z"),
        ("b.kpi", "ben", "2026-11-03T23:59:59Z"),
        ("b.kpi", "ben", "2026-11-10T23:59:59Z"),  # a.kpi's 11-02 check-in is late, not missed
    ]
    assert doc["summary"]["missed_checkins"] == 3
