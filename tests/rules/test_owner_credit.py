"""Credit where it is due (issue 14, item 5): a punctual or late check-in is credited to who
owned the KPI when it was recorded; a missed slot is charged to who owned it at the deadline."""

from __future__ import annotations

from tests.cli.conftest import ok


def owners(run, now, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", now)
    doc = ok(run, "report", "--by", "owner", "--json").json()
    return {o["handle"]: (o["checkins_on_time"], o["checkins_late"], o["checkins_missed"])
            for o in doc["owners"]}


def test_checkin_credit_stays_with_who_recorded_it(run, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", "2027-02-20T09:00:00Z")
    ok(run, "people", "add", "ana", "--name", "Ana")
    ok(run, "people", "add", "ben", "--name", "Ben")
    ok(run, "assign", "ops.sla", "--to", "ana", "--target", "100", "--start", "2027-03-01",
       "--due", "2027-03-31", "--cadence", "weekly")
    monkeypatch.setenv("KPICTL_NOW", "2027-03-12T10:00:00Z")  # on time, in the 2nd week
    ok(run, "checkin", "ops.sla", "40", "--by", "ana")
    monkeypatch.setenv("KPICTL_NOW", "2027-03-15T10:00:00Z")
    ok(run, "assign", "ops.sla", "--to", "ben")
    got = owners(run, "2027-03-20T12:00:00Z", monkeypatch)
    # Week 1 (no check-in) was missed while ana owned it; week 2 was ana's punctual check-in,
    # although its deadline fell after the move to ben.
    assert got["ana"] == (1, 0, 1)
    assert got["ben"] == (0, 0, 0)
