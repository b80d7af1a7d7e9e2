"""A KPI's own zone (issue 14, item 4): slots, dates and "end of day" in the KPI's zone, the
same for every viewer; calendar slots (ISO weeks, months, quarters) that never run past due;
tables say the last day a check-in is due; `assign --zone` changes it, logged and exported."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import assert_error, dump_db, ok


def row(run, key, *extra):
    return next(r for r in ok(run, "report", "--json", *extra).json()["kpis"] if r["key"] == key)


@pytest.fixture
def ana(run):
    ok(run, "people", "add", "ana", "--name", "Ana")
    return run


def test_report_is_the_same_for_every_viewer(ana, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", "2027-04-02T13:00:00Z")
    # Weekly across the European DST change (Mar 28) and monthly at a month's end: the old
    # slots followed the viewer's --tz, so Berlin, Kiritimati and Pago Pago disagreed.
    ok(ana, "assign", "ops.weekly", "--to", "ana", "--target", "100", "--start", "2027-03-01",
       "--due", "2027-06-30", "--cadence", "weekly")
    ok(ana, "checkin", "ops.weekly", "30", "--at", "2027-04-01T10:00Z")
    ok(ana, "assign", "ops.monthly", "--to", "ana", "--target", "100", "--start",
       "2027-01-01", "--due", "2027-06-30", "--cadence", "monthly")
    ok(ana, "checkin", "ops.monthly", "30", "--at", "2027-02-28T20:00Z")
    docs = {}
    for zone in ("UTC", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
        docs[zone] = ok(ana, "--tz", zone, "report", "--json").stdout
    assert len(set(docs.values())) == 1, docs
    weekly = row(ana, "ops.weekly")
    assert weekly["zone"] == "UTC"
    # Thu Apr 1 is in the ISO week of Mon Mar 29: the next is due by the end of Sun Apr 11.
    assert weekly["next_checkin_due"] == "2027-04-11T23:59:59Z"


def test_slots_and_end_of_day_follow_the_kpis_zone(run, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", "2027-01-08T12:00:00Z")
    monkeypatch.setenv("KPICTL_TZ", "Europe/Berlin")
    ok(run, "people", "add", "ana", "--name", "Ana")
    ok(run, "assign", "eu.sales", "--to", "ana", "--target", "100", "--start", "2027-01-04",
       "--due", "2027-03-31", "--cadence", "weekly")
    ok(run, "checkin", "eu.sales", "10", "--at", "2027-01-07T12:00")
    got = row(run, "eu.sales")
    assert got["zone"] == "Europe/Berlin"
    # The week after Jan 4–10 ends on Sun Jan 17 at 23:59:59 in Berlin (22:59:59Z).
    assert got["next_checkin_due"] == "2027-01-17T22:59:59Z"
    table = ok(run, "report", "eu.sales").stdout
    assert "next check-in by Sun 17 Jan" in table
    assert "2027-01-18" not in table
    # A UTC viewer sees the same instant and the same day.
    utc = next(r for r in ok(run, "--tz", "UTC", "report", "--json").json()["kpis"])
    assert utc["next_checkin_due"] == "2027-01-17T22:59:59Z"
    assert "by Sun 17 Jan" in ok(run, "--tz", "UTC", "report", "eu.sales").stdout


def test_monthly_slots_are_calendar_months_and_none_runs_past_due(ana, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", "2027-03-29T12:00:00Z")
    for key in ("q1.feb", "q1.jan", "q1.mar"):
        ok(ana, "assign", key, "--to", "ana", "--target", "100", "--start", "2027-01-01",
           "--due", "2027-03-31", "--cadence", "monthly")
    ok(ana, "checkin", "q1.feb", "50", "--at", "2027-02-10")
    ok(ana, "checkin", "q1.jan", "20", "--at", "2027-01-20")
    ok(ana, "checkin", "q1.mar", "90", "--at", "2027-03-05")
    got = {k: row(ana, k) for k in ("q1.feb", "q1.jan", "q1.mar")}
    # February's check-in: March's is due by the end of March, which is the due date.
    assert got["q1.feb"]["next_checkin_due"] == "2027-03-31T23:59:59Z"
    assert "stale" not in got["q1.feb"]["flags"]
    # January's check-in only: February's was due by Feb 28, + 2 days of grace: stale.
    assert got["q1.jan"]["next_checkin_due"] == "2027-02-28T23:59:59Z"
    assert "stale" in got["q1.jan"]["flags"]
    # March is the last slot: nothing is due after it.
    assert got["q1.mar"]["next_checkin_due"] is None


def test_quarterly_slots_are_calendar_quarters(ana, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", "2027-03-02T00:00:00Z")
    ok(ana, "assign", "y.q", "--to", "ana", "--target", "100", "--start", "2027-02-15",
       "--due", "2027-12-31", "--cadence", "quarterly")
    ok(ana, "checkin", "y.q", "10", "--at", "2027-03-01")
    # The first slot is Feb 15 – Mar 31 (the rest of Q1); the next is Q2, due by Jun 30.
    assert row(ana, "y.q")["next_checkin_due"] == "2027-06-30T23:59:59Z"


def test_assign_zone_changes_it_logged_and_exported(ana, tmp_path):
    ok(ana, "assign", "ops.z", "--to", "ana", "--target", "10", "--due", "+30d")
    assert row(ana, "ops.z")["zone"] == "UTC"
    ok(ana, "assign", "ops.z", "--zone", "asia/tokyo")
    doc = ok(ana, "report", "ops.z", "--json").json()
    assert doc["kpi"]["zone"] == "Asia/Tokyo"
    assert [(c["field"], c["old"], c["new"]) for c in doc["changes"]] == [
        ("zone", "UTC", "Asia/Tokyo")]
    # Before the change the report shows the zone it had.
    exported = ok(ana, "export").stdout
    kpi = next(json.loads(l) for l in exported.splitlines() if '"type": "kpi"' in l
               or '"type":"kpi"' in l)
    assert kpi["zone"] == "Asia/Tokyo"
    before = dump_db()
    assert_error(ana("assign", "ops.z", "--zone", "Mars/Olympus"), 2,
                 "unknown time zone 'Mars/Olympus': use an IANA name such as Europe/Berlin or "
                 "UTC")
    assert dump_db() == before


@pytest.mark.sqlite_only("a second SQLite file as the import target")
def test_import_restores_the_zone_and_defaults_old_exports_to_utc(ana, tmp_path):
    ok(ana, "assign", "ops.z", "--to", "ana", "--target", "10", "--due", "+30d", "--zone",
       "Europe/Berlin")
    lines = ok(ana, "export").stdout.splitlines()
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok(ana, "--db", str(tmp_path / "copy.db"), "import", str(path))
    got = ok(ana, "--db", str(tmp_path / "copy.db"), "report", "--json").json()["kpis"][0]
    assert got["zone"] == "Europe/Berlin"
    old = [json.dumps({k: v for k, v in json.loads(l).items() if k != "zone"})
           for l in lines]
    path.write_text("\n".join(old) + "\n", encoding="utf-8")
    ok(ana, "--db", str(tmp_path / "old.db"), "import", str(path))
    got = ok(ana, "--db", str(tmp_path / "old.db"), "report", "--json").json()["kpis"][0]
    assert got["zone"] == "UTC"
