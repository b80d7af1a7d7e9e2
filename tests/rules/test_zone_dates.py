"""A KPI's dates are days in its own zone (issue 14, item 4), for every viewer: the portfolio's
Due column and a KPI's window, and the dates `assign --due/--start/--milestone` are read in.

The viewer is in Kiritimati (UTC+14), the KPI in Pago Pago (UTC−11): 25 hours apart, so a day
read or shown in the wrong one of the two is always another calendar day."""

from __future__ import annotations

import pytest

from tests.cli.conftest import ok

VIEWER = "Pacific/Kiritimati"
KPI_ZONE = "Pacific/Pago_Pago"
# End of Mar 31 in Pago Pago (UTC−11) is Apr 1 10:59:59Z: Apr 1, in Kiritimati (UTC+14).
DUE_MAR_31 = "2027-04-01T10:59:59"


def kpi(run, key):
    return next(r for r in ok(run, "report", "--json").json()["kpis"] if r["key"] == key)


@pytest.fixture
def viewer(run, monkeypatch):
    monkeypatch.setenv("KPICTL_NOW", "2027-03-01T12:00:00Z")
    monkeypatch.setenv("KPICTL_TZ", VIEWER)
    ok(run, "people", "add", "ana", "--name", "Ana")
    return run


def test_due_given_at_creation_is_read_in_the_kpis_zone(viewer):
    created = ok(viewer, "assign", "pp.sales", "--to", "ana", "--target", "100", "--zone",
                 KPI_ZONE, "--start", "2027-03-01", "--due", "2027-03-31", "--milestone",
                 "2027-03-15=50")
    assert created.stderr.strip().endswith("due 2027-03-31"), created.stderr
    got = kpi(viewer, "pp.sales")
    assert got["zone"] == KPI_ZONE
    assert got["due"].startswith(DUE_MAR_31), got["due"]
    # Start of Mar 1 in Pago Pago is 11:00Z.
    assert got["start"].startswith("2027-03-01T11:00:00"), got["start"]
    detail = ok(viewer, "report", "pp.sales", "--json").json()
    assert [m["at"][:19] for m in detail["milestones"]] == ["2027-03-16T10:59:59"]


def test_due_changed_on_an_existing_kpi_is_read_in_the_kpis_zone(viewer):
    # Created by someone in Pago Pago: that is the KPI's zone.
    ok(viewer, "--tz", KPI_ZONE, "assign", "pp.ops", "--to", "ana", "--target", "100",
       "--start", "2027-03-01", "--due", "2027-03-20")
    assert kpi(viewer, "pp.ops")["zone"] == KPI_ZONE
    # The Kiritimati viewer moves the deadline to Mar 31: Mar 31 where the KPI is.
    ok(viewer, "assign", "pp.ops", "--due", "2027-03-31")
    assert kpi(viewer, "pp.ops")["due"].startswith(DUE_MAR_31)


def test_the_portfolio_shows_due_as_a_day_in_the_kpis_zone(viewer, monkeypatch):
    ok(viewer, "--tz", KPI_ZONE, "assign", "pp.sales", "--to", "ana", "--target", "100",
       "--start", "2027-03-01", "--due", "2027-03-31")
    assert kpi(viewer, "pp.sales")["due"].startswith(DUE_MAR_31)
    monkeypatch.setenv("COLUMNS", "200")
    for fmt in ("table", "md", "html"):
        out = ok(viewer, "report", "-f", fmt).stdout
        assert "2027-03-31" in out, (fmt, out)
        assert "2027-04-01" not in out, (fmt, out)
    for fmt in ("table", "md", "html"):
        out = ok(viewer, "report", "pp.sales", "-f", fmt).stdout
        assert "2027-03-31" in out, (fmt, out)
        assert "2027-04-01" not in out, (fmt, out)
    # A viewer in the KPI's zone sees the same day.
    assert "2027-03-31" in ok(viewer, "--tz", KPI_ZONE, "report").stdout
