"""The README's five-minute tour, end to end, and its "mistakes" section: one line on stderr,
nothing changed, a documented exit code."""

from __future__ import annotations

import pytest

from .conftest import assert_error, build_template, dump_db, ok, use_template

TOUR = [
    ["people", "add", "maya", "--name", "Maya Okafor", "--skill", "leadership:5"],
    ["people", "add", "ana", "--name", "Ana Lima", "--skill", "sales:4", "--capacity", "4",
     "--manager", "maya"],
    ["people", "add", "ben", "--name", "Ben Carter", "--skill", "sales:3", "--manager", "maya"],
    ["assign", "sales.new-arr", "--to", "ana", "--title", "New ARR", "--baseline", "0",
     "--target", "120000", "--unit", "EUR", "--due", "eoq", "--cadence", "weekly", "--tag",
     "sales", "--outcome", "Grow recurring revenue from new logos"],
    ["assign", "support.first-response", "--to", "ben", "--baseline", "240", "--target", "60",
     "--unit", "min", "--due", "+8w"],
    ["assign", "eng.uptime", "--to", "ben", "--kind", "range", "--low", "99.9", "--high", "100",
     "--unit", "%", "--due", "eoy"],
    ["checkin", "sales.new-arr", "42000", "--confidence", "7", "--note", "two deals signed"],
    ["checkin", "support.first-response", "180", "--blocker", "waiting for the new chat tool"],
    ["assign", "sales.new-arr", "--to", "ben", "--note", "Ana on leave"],
    ["feedback", "sales.new-arr", "Great pipeline work; focus on closing"],
    ["close", "eng.uptime", "--outcome", "cancelled", "--note", "moved to the SRE team"],
    ["assign", "growth", "--objective", "--to", "maya", "--title", "Grow the business"],
    ["assign", "sales.new-arr", "--parent", "growth", "--weight", "2"],
    ["assign", "support.first-response", "--parent", "growth"],
]


@pytest.fixture(scope="module")
def tour_template(tmp_path_factory, backend, pg):
    return build_template(tmp_path_factory.mktemp("tour"), TOUR, backend=backend, pg=pg,
                          KPICTL_TZ="Europe/Berlin", KPICTL_USER="maya")


@pytest.fixture
def tour(run, monkeypatch, tour_template):
    """The README tour's commands, run once per module, as this test's database."""
    monkeypatch.setenv("KPICTL_TZ", "Europe/Berlin")
    monkeypatch.setenv("KPICTL_USER", "maya")
    use_template(tour_template)
    return run


def test_tour_report_tells_the_story(tour):
    doc = ok(tour, "report", "--json").json()
    rows = {k["key"]: k for k in doc["kpis"]}
    assert set(rows) == {"growth", "sales.new-arr", "support.first-response", "eng.uptime"}
    arr = rows["sales.new-arr"]
    # "eoq" in Berlin: 2026-12-31 23:59:59 CET; today starts at 00:00 CET.
    assert (arr["start"], arr["due"]) == ("2026-11-26T23:00:00Z", "2026-12-31T22:59:59Z")
    assert (arr["owner"], arr["current"], arr["progress"]) == ("ben", 42000, 0.35)
    frt = rows["support.first-response"]
    assert (frt["kind"], frt["progress"], frt["flags"]) == (
        "decrease", pytest.approx(1 / 3, rel=1e-12), ["blocked"])  # full precision
    assert rows["eng.uptime"]["status"] == "cancelled"
    # growth = (2·0.35 + 1·(1/3))/3 = 1.033333/3 = 0.344444, support.first-response blocked
    growth = rows["growth"]
    assert growth["progress"] == pytest.approx((2 * 0.35 + 1 / 3) / 3)
    assert (growth["children"], growth["flags"]) == (
        ["sales.new-arr", "support.first-response"], ["child_at_risk"])
    detail = ok(tour, "report", "sales.new-arr", "--json").json()
    assert [a["to"] for a in detail["assignments"]] == ["ana", "ben"]
    assert [(f["by"], f["text"]) for f in detail["feedback"]] == [
        ("maya", "Great pipeline work; focus on closing")]


def test_tour_report_variants_run(tour):
    assert "sales.new-arr" in ok(tour, "report", "sales.new-arr").stdout
    md = ok(tour, "report", "--owner", "ben", "--format", "md").stdout
    assert md.startswith("# KPI report — 2026-11-27 13:00 (Europe/Berlin)")
    assert ok(tour, "report", "--as-of", "-2w", "--json").json()["kpis"] == []


def test_tour_fail_on_for_cron(tour):
    result = tour("-q", "report", "--fail-on", "overdue,stale")
    assert result.exit_code == 0
    assert result.stderr == ""
    result = tour("-q", "report", "--fail-on", "blocked")
    assert result.exit_code == 5
    assert "support.first-response" in result.stdout
    assert result.stderr == ""  # -q: cron mails only what the report printed
    loud = tour("report", "--fail-on", "blocked")
    assert loud.stderr == "kpictl: --fail-on matched 1 KPI: support.first-response (exit 5)\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        # unknown KPI
        (["checkin", "sales.new-ar", "42000"], 3,
         "no KPI 'sales.new-ar'; did you mean 'sales.new-arr'? See `kpictl report`."),
        # unknown person
        (["assign", "sales.x", "--to", "anna", "--target", "5", "--due", "eoq"], 3,
         "no person 'anna'; did you mean 'ana'? See `kpictl people list`."),
        # non-numeric value
        (["checkin", "sales.new-arr", "42k"], 2,
         "invalid VALUE '42k': expected a number such as 12.5"),
        # bad date
        (["assign", "sales.x", "--to", "ana", "--target", "5", "--due", "next blursday"], 2,
         ("--due: invalid date 'next blursday': use ISO-8601 (2026-12-31, 2026-12-31T17:00) or "
          "today, tomorrow, yesterday, a weekday, sow/eow/som/eom/soq/eoq/soy/eoy, or "
          "+3d/-2w/+1m")),
        # duplicate handle
        (["people", "add", "ana", "--name", "Ana Again"], 4,
         "person 'ana' already exists; use `kpictl people edit ana`"),
        # closed KPI
        (["checkin", "eng.uptime", "99.95"], 4,
         "KPI 'eng.uptime' is closed (cancelled); it takes no more check-ins (reopen it "
         "with `kpictl reopen eng.uptime --reason TEXT`)"),
    ],
)
def test_tour_mistakes_are_one_line_and_change_nothing(tour, args, code, message):
    before = dump_db()
    assert_error(tour(*args), code, message)
    assert dump_db() == before
