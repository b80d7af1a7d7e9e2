"""`kpictl assign`: create and delegate a KPI; change or reassign an existing one."""

from __future__ import annotations

import pytest

from .conftest import assert_error, dump_db, ok


def detail(run, key, *extra):
    doc = ok(run, "report", key, "--json", *extra).json()
    assert doc["schema"] == "kpictl.kpi/1"
    return doc


# --------------------------------------------------------------------------- create


def test_assign_creates_and_delegates(seeded):
    result = ok(seeded, "assign", "sales.new-arr", "--to", "ana", "--by", "maya", "--title",
                "New ARR", "--baseline", "0", "--target", "120000", "--unit", "EUR",
                "--start", "2026-11-01", "--due", "eoq", "--cadence", "biweekly", "--grace",
                "3d", "--tag", "sales", "--tag", "revenue", "--outcome", "Grow ARR")
    assert result.stdout == ""
    assert result.stderr == ("created sales.new-arr (increase) and delegated it to ana, "
                             "due 2026-12-31\n")
    doc = detail(seeded, "sales.new-arr")
    kpi = doc["kpi"]
    assert {k: kpi[k] for k in ("key", "title", "owner", "kind", "unit", "baseline", "target",
                                "low", "high", "start", "due", "cadence", "grace", "tags",
                                "status")} == {
        "key": "sales.new-arr", "title": "New ARR", "owner": "ana", "kind": "increase",
        "unit": "EUR", "baseline": 0, "target": 120000, "low": None, "high": None,
        "start": "2026-11-01T00:00:00Z", "due": "2026-12-31T23:59:59Z", "cadence": "biweekly",
        "grace": "3d", "tags": ["revenue", "sales"], "status": "no_data"}
    assert doc["assignments"] == [{"to": "ana", "by": "maya", "valid_from": "2026-11-01T00:00:00Z",
                                   "valid_until": None, "note": None}]


def test_assign_defaults_start_today_weekly_grace_2d_baseline_0(seeded):
    ok(seeded, "assign", "k.one", "--to", "bob", "--target", "10", "--due", "+4w")
    kpi = detail(seeded, "k.one")["kpi"]
    assert (kpi["start"], kpi["due"], kpi["cadence"], kpi["grace"], kpi["baseline"],
            kpi["title"]) == ("2026-11-27T00:00:00Z", "2026-12-25T23:59:59Z", "weekly", "2d", 0,
                              "k.one")


def test_assign_dates_are_read_in_the_given_zone(seeded):
    ok(seeded, "--tz", "Europe/Berlin", "assign", "k.one", "--to", "bob", "--target", "10",
       "--start", "2026-11-02", "--due", "2026-12-31")
    kpi = detail(seeded, "k.one")["kpi"]
    assert (kpi["start"], kpi["due"]) == ("2026-11-01T23:00:00Z", "2026-12-31T22:59:59Z")


@pytest.mark.parametrize(
    ("args", "kind"),
    [
        (["--baseline", "240", "--target", "60"], "decrease"),
        (["--baseline", "5", "--target", "-3"], "decrease"),
        (["--low", "99.9", "--high", "100"], "range"),
        (["--kind", "at-least", "--target", "25"], "at-least"),
        (["--kind", "AT-MOST", "--target", "300"], "at-most"),
    ],
)
def test_assign_kind(seeded, args, kind):
    ok(seeded, "assign", "k.one", "--to", "bob", "--due", "2026-12-31", *args)
    assert detail(seeded, "k.one")["kpi"]["kind"] == kind


def test_assign_milestones(seeded):
    ok(seeded, "assign", "k.one", "--to", "bob", "--target", "100", "--start", "2026-11-01",
       "--due", "2026-12-31", "--milestone", "2026-12-01=60")
    doc = detail(seeded, "k.one")
    assert doc["milestones"] == [{"at": "2026-12-01T23:59:59Z", "value": 60}]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "5", "--due", "next blursday"],
         ("--due: invalid date 'next blursday': use ISO-8601 (2026-12-31, 2026-12-31T17:00) or "
          "today, tomorrow, yesterday, a weekday, sow/eow/som/eom/soq/eoq/soy/eoy, or "
          "+3d/-2w/+1m")),
        (["--target", "12k", "--due", "2026-12-31"],
         "invalid --target '12k': expected a number such as 12.5"),
        (["--target", "1,5", "--due", "2026-12-31"],
         ("invalid --target '1,5': use a dot as decimal separator and no thousands separators, "
          "such as 12.5")),
        (["--target", "50", "--baseline", "50", "--due", "2026-12-31"],
         "--target equals --baseline (50): there is nothing to progress"),
        (["--kind", "increase", "--baseline", "100", "--target", "50", "--due", "2026-12-31"],
         ("--target 50 is below --baseline 100 for an 'increase' KPI; use --kind decrease for "
          "lower-is-better")),
        (["--low", "45", "--high", "30", "--due", "2026-12-31"], "--low 45 must be below --high 30"),
        (["--target", "5", "--start", "2026-12-31", "--due", "2026-12-01"],
         "--due must be after --start"),
        (["--target", "5"], "--due is required to create KPI 'k.one' (by when?)"),
        (["--target", "5", "--due", "2026-12-31", "--cadence", "hourly"],
         "invalid cadence 'hourly': use daily, weekly, biweekly, monthly, quarterly, Nd or Nw"),
        (["--target", "5", "--due", "2026-12-31", "--milestone", "2026-12-01"],
         "--milestone '2026-12-01': use DATE=VALUE, e.g. 2027-02-15=60000"),
    ],
)
def test_assign_invalid_input_is_exit_2(seeded, args, message):
    before = dump_db()
    assert_error(seeded("assign", "k.one", "--to", "bob", *args), 2, message)
    assert dump_db() == before


def test_assign_create_without_to_is_exit_2(seeded):
    before = dump_db()
    assert_error(seeded("assign", "k.one", "--target", "5", "--due", "2026-12-31"), 2,
                 "--to is required to create KPI 'k.one' (who will own it?)")
    assert dump_db() == before


def test_assign_unknown_kind_is_exit_2(seeded):
    before = dump_db()
    line = assert_error(seeded("assign", "k.one", "--to", "bob", "--kind", "more",
                               "--target", "5", "--due", "2026-12-31"), 2)
    assert "'--kind'" in line
    assert dump_db() == before


def test_assign_unknown_person_is_exit_3(seeded):
    before = dump_db()
    assert_error(seeded("assign", "k.one", "--to", "bobby", "--target", "5", "--due",
                        "2026-12-31"), 3,
                 "no person 'bobby'; did you mean 'bob'? See `kpictl people list`.")
    assert dump_db() == before


# --------------------------------------------------------------------------- update, reassign


def test_assign_update_changes_fields_and_logs_them(seeded):
    result = ok(seeded, "assign", "sales.arr", "--title", "Net new ARR", "--target", "150",
                "--tag", "q4", "--by", "maya")
    assert result.stderr == "updated sales.arr: title, target, tags\n"
    doc = detail(seeded, "sales.arr")
    assert (doc["kpi"]["title"], doc["kpi"]["target"], doc["kpi"]["tags"]) == (
        "Net new ARR", 150, ["q4"])
    assert [(c["field"], c["old"], c["new"], c["by"]) for c in doc["changes"]] == [
        ("title", "New ARR", "Net new ARR", "maya"), ("target", "100.0", "150.0", "maya"),
        ("tags", "sales", "q4", "maya")]


def test_assign_update_with_same_values_is_unchanged(seeded):
    before = dump_db()
    result = ok(seeded, "assign", "sales.arr", "--to", "ana", "--target", "100")
    assert result.stderr == "sales.arr unchanged\n"
    assert dump_db() == before


def test_assign_reassign_keeps_both_periods(seeded):
    result = ok(seeded, "assign", "sales.arr", "--to", "bob", "--at", "2026-11-20",
                "--note", "Ana on leave", "--by", "maya")
    assert result.stderr == "updated sales.arr: owner → bob\n"
    doc = detail(seeded, "sales.arr")
    assert doc["kpi"]["owner"] == "bob"
    assert doc["assignments"] == [
        {"to": "ana", "by": "maya", "valid_from": "2026-11-01T00:00:00Z",
         "valid_until": "2026-11-20T00:00:00Z", "note": None},
        {"to": "bob", "by": "maya", "valid_from": "2026-11-20T00:00:00Z", "valid_until": None,
         "note": "Ana on leave"},
    ]


def test_assign_reassign_report_as_of_shows_owner_of_the_time(seeded):
    ok(seeded, "assign", "sales.arr", "--to", "bob", "--at", "2026-11-20T09:00Z")

    def owner(as_of):
        # the KPI and the back-dated reassignment were recorded "now": in hindsight
        [row] = ok(seeded, "report", "--json", "--as-of", as_of, "--revised").json()["kpis"]
        return row["owner"]

    assert owner("2026-11-20T08:59Z") == "ana"
    assert owner("2026-11-20T09:00Z") == "bob"
    assert owner("2026-11-19") == "ana"  # end of that day
    assert owner("now") == "bob"
    assert ok(seeded, "report", "--json", "--as-of", "2026-11-20T09:00Z").json()["kpis"] == []


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--to", "bob", "--at", "2026-10-01"], 2, "is not after the current assignment began"),
        (["--to", "bob", "--at", "+1d"], 2, "--at is in the future"),
        (["--target", "0"], 2, "--target equals --baseline"),
        (["--to", "zed"], 3, "no person 'zed'"),
    ],
)
def test_assign_update_errors_change_nothing(seeded, args, code, fragment):
    before = dump_db()
    line = assert_error(seeded("assign", "sales.arr", *args), code)
    assert fragment in line
    assert dump_db() == before


def test_assign_update_closed_kpi_is_exit_4(seeded):
    ok(seeded, "close", "sales.arr", "--outcome", "missed")
    before = dump_db()
    assert_error(seeded("assign", "sales.arr", "--to", "bob"), 4,
                 "KPI 'sales.arr' is closed (missed); closed KPIs cannot change: reopen it "
                 "first with `kpictl reopen sales.arr --reason TEXT`")
    assert dump_db() == before
