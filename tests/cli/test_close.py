"""`kpictl close`: close a KPI with its outcome."""

from __future__ import annotations

import pytest

from .conftest import assert_error, dump_db, ok


def row(run, *extra):
    [kpi] = ok(run, "report", "--json", *extra).json()["kpis"]
    return kpi


@pytest.mark.parametrize("outcome", ["achieved", "missed", "cancelled"])
def test_close_sets_status_to_outcome(seeded, outcome):
    result = ok(seeded, "close", "sales.arr", "--outcome", outcome, "--note", "done")
    assert result.stdout == ""
    assert result.stderr == f"closed sales.arr as {outcome}\n"
    kpi = row(seeded)
    assert (kpi["status"], kpi["state"], kpi["flags"]) == (outcome, outcome, [])
    doc = ok(seeded, "report", "sales.arr", "--json").json()
    assert doc["outcome"] == outcome


def test_close_at_past_instant_and_report_before_it(seeded):
    ok(seeded, "close", "sales.arr", "--outcome", "cancelled", "--at", "2026-11-20")
    assert row(seeded)["status"] == "cancelled"
    before_close = row(seeded, "--as-of", "2026-11-19", "--revised")  # recorded later
    assert (before_close["state"], before_close["status"]) == ("active", "no_data")


def test_close_outcome_is_case_insensitive(seeded):
    ok(seeded, "close", "sales.arr", "--outcome", "MISSED")
    assert row(seeded)["status"] == "missed"


def test_close_twice_is_exit_4(seeded):
    ok(seeded, "close", "sales.arr", "--outcome", "achieved")
    before = dump_db()
    assert_error(seeded("close", "sales.arr", "--outcome", "missed"), 4,
                 "KPI 'sales.arr' is already closed (achieved)")
    assert dump_db() == before


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["sales.arx", "--outcome", "missed"], 3, "no KPI 'sales.arx'; did you mean 'sales.arr'"),
        (["sales.arr", "--outcome", "won"], 2, "'--outcome'"),
        (["sales.arr"], 2, "KPI 'sales.arr' is not past due yet, so there is no suggested "
                           "outcome: give --outcome achieved, missed or cancelled"),
        (["sales.arr", "--outcome", "missed", "--at", "+2d"], 2, "--at is in the future"),
        (["sales.arr", "--outcome", "missed", "--at", "2026-10-01"], 2,
         "--at is before the KPI's start"),
        (["sales.arr", "--outcome", "missed", "--at", "31/12/2026"], 2,
         "--at: invalid date '31/12/2026'"),
    ],
)
def test_close_errors_change_nothing(seeded, args, code, fragment):
    before = dump_db()
    line = assert_error(seeded("close", *args), code)
    assert fragment in line
    assert dump_db() == before
