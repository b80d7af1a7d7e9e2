"""services/kpis.py: assign (create, update, reassign), close and feedback."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kpictl.domain import Kind, Outcome
from kpictl.errors import Conflict, InvalidInput, NotFound
from kpictl.models import Assignment, Kpi, KpiChange, KpiTag, Milestone
from kpictl.services.checkins import record_checkin
from kpictl.services.kpis import add_feedback, close_kpi
from kpictl.services.people import deactivate_person

from .conftest import DUE, START, utc


def kpi_row(svc, key):
    rows = svc.rows(Kpi, Kpi.key == key)
    assert len(rows) == 1
    return rows[0]


def changes(svc, key):
    kpi = kpi_row(svc, key)
    return [(c.field, c.old_value, c.new_value)
            for c in svc.rows(KpiChange, KpiChange.kpi_id == kpi.id, order_by=KpiChange.id)]


# --------------------------------------------------------------------------- create


def test_assign_creates_kpi_with_fields_and_first_assignment(team, now):
    result = team.kpi("sales.new-arr", to="ana", by="maya", title="New ARR", baseline=0.0,
                      target=120000.0, unit="EUR", cadence="biweekly", grace="3d",
                      tags=["Sales", "revenue"], outcome="Grow ARR", note="yours now")
    assert result.action == "kpi.created"
    assert result.message == ("created sales.new-arr (increase) and delegated it to ana, "
                              "due 2026-12-31")
    assert result.data == {"key": "sales.new-arr", "owner": "ana"}
    kpi = kpi_row(team, "sales.new-arr")
    assert (kpi.title, kpi.kind, kpi.baseline, kpi.target, kpi.unit) == (
        "New ARR", "increase", 0.0, 120000.0, "EUR")
    assert (kpi.start, kpi.due, kpi.cadence, kpi.grace, kpi.state) == (
        START, DUE, "biweekly", "3d", "active")
    assert kpi.outcome == "Grow ARR"
    assert [t.tag for t in team.rows(KpiTag, KpiTag.kpi_id == kpi.id, order_by=KpiTag.tag)] == [
        "revenue", "sales"]
    [a] = team.rows(Assignment, Assignment.kpi_id == kpi.id)
    assert (a.valid_from, a.valid_until, a.note, a.recorded_at) == (START, None, "yours now", now)
    assert changes(team, "sales.new-arr") == []


def test_assign_create_defaults(team, now):
    today = utc(2026, 11, 27)
    team.kpi("a.kpi", start=None, default_start=today)
    kpi = kpi_row(team, "a.kpi")
    assert (kpi.title, kpi.baseline, kpi.cadence, kpi.grace, kpi.start) == (
        "a.kpi", 0.0, "weekly", "2d", today)


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ({"baseline": 0.0, "target": 100.0}, "increase"),
        ({"baseline": 240.0, "target": 60.0}, "decrease"),
        ({"baseline": 5.0, "target": -3.0}, "decrease"),
        ({"low": 30.0, "high": 45.0}, "range"),
        ({"kind": Kind.AT_LEAST, "target": 25.0}, "at-least"),
        ({"kind": Kind.AT_MOST, "target": 300.0}, "at-most"),
    ],
)
def test_assign_infers_kind(team, spec, kind):
    team.kpi("k.one", **spec)
    assert kpi_row(team, "k.one").kind == kind


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"baseline": 50.0, "target": 50.0}, "--target equals --baseline"),
        ({"kind": Kind.INCREASE, "baseline": 100.0, "target": 50.0},
         "--target 50 is below --baseline 100 for an 'increase' KPI"),
        ({"kind": Kind.DECREASE, "baseline": 50.0, "target": 100.0},
         "is above --baseline 50 for a 'decrease' KPI"),
        ({"low": 45.0, "high": 30.0}, "--low 45 must be below --high 30"),
        ({"low": 30.0, "high": 30.0}, "--low 30 must be below --high 30"),
        ({"low": 30.0}, "--kind range needs --low and --high"),
        ({"kind": Kind.AT_LEAST}, "--target is required"),
        ({"kind": Kind.RANGE, "low": 1.0, "high": 2.0, "target": 5.0}, "not --target"),
        ({"kind": Kind.AT_MOST, "target": 5.0, "low": 1.0, "high": 9.0},
         "--low/--high apply only to 'range'"),
        ({"due": START}, "--due must be after --start"),
        ({"due": START - timedelta(days=1)}, "--due must be after --start"),
        ({"cadence": "fortnightly"}, "invalid cadence"),
        ({"grace": "2 days"}, "invalid grace"),
        ({"milestones": [(utc(2027, 2, 1), 50.0)]}, "outside the KPI's start..due window"),
        ({"kind": Kind.AT_LEAST, "target": 5.0, "milestones": [(utc(2026, 12, 1), 5.0)]},
         "milestones apply to 'increase' and 'decrease'"),
        ({"tags": ["bad tag"]}, "invalid tag"),
        ({"title": "x" * 301}, "--title is too long"),
    ],
)
def test_assign_create_refuses_invalid_definition(team, spec, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        team.kpi("k.bad", **spec)
    assert team.rows(Kpi) == []
    assert team.rows(Assignment) == []


def test_assign_create_without_to_is_invalid(team):
    with pytest.raises(InvalidInput, match=r"--to is required to create KPI 'k\.one'"):
        team.kpi("k.one", to=None)
    assert team.rows(Kpi) == []


def test_assign_create_without_due_is_invalid(team):
    with pytest.raises(InvalidInput, match=r"--due is required to create KPI 'k\.one'"):
        team.kpi("k.one", due=None)
    assert team.rows(Kpi) == []


def test_assign_create_unknown_owner_is_not_found(team):
    with pytest.raises(NotFound, match="no person 'anaa'; did you mean 'ana'"):
        team.kpi("k.one", to="anaa")
    assert team.rows(Kpi) == []


def test_assign_to_inactive_person_is_conflict(team):
    team.call(deactivate_person, with_now=False, handle="bob")
    with pytest.raises(Conflict, match="person 'bob' is inactive"):
        team.kpi("k.one", to="bob")
    assert team.rows(Kpi) == []


@pytest.mark.parametrize("key", ["Sales ARR", "sales/arr", ".sales", "x" * 101])
def test_assign_bad_key_is_invalid(team, key):
    with pytest.raises(InvalidInput, match="invalid KPI key"):
        team.kpi(key)
    assert team.rows(Kpi) == []


def test_assign_key_is_lowercased(team):
    team.kpi("Sales.ARR")
    assert kpi_row(team, "sales.arr").key == "sales.arr"


def test_assign_create_stores_milestones(team):
    team.kpi("k.one", milestones=[(utc(2026, 12, 15), 80.0), (utc(2026, 11, 20), 30.0)])
    kpi = kpi_row(team, "k.one")
    ms = team.rows(Milestone, Milestone.kpi_id == kpi.id, order_by=Milestone.at)
    assert [(m.at, m.value) for m in ms] == [(utc(2026, 11, 20), 30.0), (utc(2026, 12, 15), 80.0)]


# --------------------------------------------------------------------------- update


def test_assign_update_logs_each_changed_field(team, now):
    team.kpi("k.one", title="Old", target=100.0)
    result = team.update("k.one", by="maya", title="New", target=150.0, cadence="monthly")
    assert result.action == "kpi.updated"
    assert result.data == {"key": "k.one", "changes": ["title", "target", "cadence"]}
    assert changes(team, "k.one") == [("title", "Old", "New"), ("target", "100.0", "150.0"),
                                      ("cadence", "weekly", "monthly")]
    kpi = kpi_row(team, "k.one")
    assert (kpi.title, kpi.target, kpi.cadence, kpi.updated_at) == ("New", 150.0, "monthly", now)
    [c] = [c for c in team.rows(KpiChange) if c.field == "title"]
    assert c.at == now
    assert c.by_id is not None


def test_assign_update_due_logs_iso_times(team):
    team.kpi("k.one")
    team.update("k.one", due=utc(2027, 1, 31, 23, 59, 59))
    assert changes(team, "k.one") == [("due", "2026-12-31T23:59:59Z", "2027-01-31T23:59:59Z")]


def test_assign_update_replaces_tags(team):
    team.kpi("k.one", tags=["a", "b"])
    result = team.update("k.one", tags=["c", "B"])
    assert result.data["changes"] == ["tags"]
    kpi = kpi_row(team, "k.one")
    assert sorted(t.tag for t in team.rows(KpiTag, KpiTag.kpi_id == kpi.id)) == ["b", "c"]
    assert changes(team, "k.one") == [("tags", "a;b", "b;c")]


def test_assign_update_with_nothing_new_is_unchanged(team):
    team.kpi("k.one", title="Same", target=100.0, tags=["a"])
    result = team.update("k.one", title="Same", target=100.0, tags=["a"], to="ana")
    assert result.action == "kpi.unchanged"
    assert result.message == "k.one unchanged"
    assert changes(team, "k.one") == []
    assert len(team.rows(Assignment)) == 1


def test_assign_update_invalid_change_is_refused_and_changes_nothing(team):
    team.kpi("k.one", baseline=0.0, target=100.0)
    with pytest.raises(InvalidInput, match="--target equals --baseline"):
        team.update("k.one", title="New title", target=0.0)
    kpi = kpi_row(team, "k.one")
    assert (kpi.title, kpi.target) == ("k.one", 100.0)
    assert changes(team, "k.one") == []


def test_assign_update_kind_to_range_needs_bounds(team):
    team.kpi("k.one")
    with pytest.raises(InvalidInput, match="--kind range needs --low and --high"):
        team.update("k.one", kind=Kind.RANGE)
    team.update("k.one", kind=Kind.RANGE, low=10.0, high=20.0)
    kpi = kpi_row(team, "k.one")
    assert (kpi.kind, kpi.target, kpi.low, kpi.high) == ("range", None, 10.0, 20.0)
    assert ("kind", "increase", "range") in changes(team, "k.one")


def test_assign_update_closed_kpi_is_conflict(team):
    team.kpi("k.one")
    team.call(close_kpi, key="k.one", outcome=Outcome.MISSED)
    with pytest.raises(Conflict, match="closed"):
        team.update("k.one", title="Reopen?")


# --------------------------------------------------------------------------- reassign


def test_assign_reassign_closes_old_row_and_opens_new(team, now):
    team.kpi("k.one", to="ana")
    at = utc(2026, 11, 20, 9)
    result = team.update("k.one", to="bob", by="maya", at=at, note="Ana on leave")
    assert result.data["changes"] == ["owner → bob"]
    rows = team.rows(Assignment, order_by=Assignment.id)
    assert [(r.valid_from, r.valid_until) for r in rows] == [(START, at), (at, None)]
    assert rows[1].note == "Ana on leave"
    assert rows[1].recorded_at == now
    assert team.row("k.one").owner == "bob"


def test_assign_reassign_without_at_takes_effect_now(team, now):
    team.kpi("k.one", to="ana")
    team.update("k.one", to="bob")
    rows = team.rows(Assignment, order_by=Assignment.id)
    assert [(r.valid_from, r.valid_until) for r in rows] == [(START, now), (now, None)]


def test_assign_reassign_report_as_of_shows_owner_of_the_time(team):
    team.kpi("k.one", to="ana")
    at = utc(2026, 11, 20, 9)
    team.update("k.one", to="bob", at=at)
    assert team.row("k.one", as_of=at - timedelta(seconds=1)).owner == "ana"
    assert team.row("k.one", as_of=at).owner == "bob"
    assert team.row("k.one").owner == "bob"


def test_assign_reassign_keeps_checkin_authors(team):
    team.kpi("k.one", to="ana")
    team.call(record_checkin, key="k.one", value=10.0, at=utc(2026, 11, 10))
    team.update("k.one", to="bob", at=utc(2026, 11, 20))
    team.call(record_checkin, key="k.one", value=20.0, at=utc(2026, 11, 25))
    assert [c.by for c in team.detail("k.one").checkins] == ["ana", "bob"]


def test_assign_reassign_at_before_current_period_is_invalid(team):
    team.kpi("k.one", to="ana")
    with pytest.raises(InvalidInput, match="is not after the current assignment began"):
        team.update("k.one", to="bob", at=START)
    assert len(team.rows(Assignment)) == 1
    assert team.row("k.one").owner == "ana"


def test_assign_reassign_at_in_future_is_invalid(team, now):
    team.kpi("k.one", to="ana")
    with pytest.raises(InvalidInput, match="--at is in the future"):
        team.update("k.one", to="bob", at=now + timedelta(days=1))
    assert len(team.rows(Assignment)) == 1


def test_assign_reassign_twice_keeps_the_log(team):
    team.kpi("k.one", to="ana")
    team.update("k.one", to="bob", at=utc(2026, 11, 10))
    team.update("k.one", to="ana", at=utc(2026, 11, 20))
    log = [(a.to, a.valid_from, a.valid_until) for a in team.detail("k.one").assignments]
    assert log == [("ana", START, utc(2026, 11, 10)),
                   ("bob", utc(2026, 11, 10), utc(2026, 11, 20)),
                   ("ana", utc(2026, 11, 20), None)]


# --------------------------------------------------------------------------- close


def test_close_sets_outcome_and_logs_state(team, now):
    team.kpi("k.one")
    result = team.call(close_kpi, key="k.one", outcome=Outcome.ACHIEVED, note="done", by="maya")
    assert result.action == "kpi.closed"
    assert result.message == "closed k.one as achieved"
    kpi = kpi_row(team, "k.one")
    assert (kpi.state, kpi.closed_at, kpi.close_note) == ("achieved", now, "done")
    # the close logs its effective time too, so a report of what was known rewinds it exactly
    assert changes(team, "k.one") == [("state", "active", "achieved"),
                                      ("closed_at", None, "2026-11-27T12:00:00Z")]
    assert team.row("k.one").status == "achieved"


def test_close_already_closed_is_conflict(team, now):
    team.kpi("k.one")
    team.call(close_kpi, key="k.one", outcome=Outcome.CANCELLED)
    with pytest.raises(Conflict, match=r"KPI 'k\.one' is already closed \(cancelled\)"):
        team.call(close_kpi, key="k.one", outcome=Outcome.ACHIEVED)
    assert kpi_row(team, "k.one").state == "cancelled"


def test_close_unknown_kpi_is_not_found(team):
    team.kpi("k.one")
    with pytest.raises(NotFound, match="no KPI 'k.on'; did you mean 'k.one'"):
        team.call(close_kpi, key="k.on", outcome=Outcome.MISSED)


def test_close_at_in_future_or_before_start_is_invalid(team, now):
    team.kpi("k.one")
    with pytest.raises(InvalidInput, match="in the future"):
        team.call(close_kpi, key="k.one", outcome=Outcome.MISSED, at=now + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="before the KPI's start"):
        team.call(close_kpi, key="k.one", outcome=Outcome.MISSED, at=START - timedelta(days=1))
    assert kpi_row(team, "k.one").state == "active"


def test_checkin_on_closed_kpi_is_conflict(team):
    team.kpi("k.one")
    team.call(close_kpi, key="k.one", outcome=Outcome.MISSED)
    with pytest.raises(Conflict, match="is closed"):
        team.call(record_checkin, key="k.one", value=5.0)


# --------------------------------------------------------------------------- feedback


def test_feedback_is_recorded_with_author(team, now):
    team.kpi("k.one")
    result = team.call(add_feedback, key="k.one", text="  Keep going  ", by="maya")
    assert result.action == "feedback.added"
    [fb] = team.detail("k.one").feedback
    assert (fb.at, fb.by, fb.text) == (now, "maya", "Keep going")


def test_feedback_empty_text_is_invalid(team):
    team.kpi("k.one")
    with pytest.raises(InvalidInput, match="feedback text must not be empty"):
        team.call(add_feedback, key="k.one", text="   ")
    assert team.detail("k.one").feedback == []


def test_feedback_unknown_kpi_or_author_is_not_found(team):
    team.kpi("k.one")
    with pytest.raises(NotFound, match="no KPI"):
        team.call(add_feedback, key="k.two", text="hi")
    with pytest.raises(NotFound, match="no person 'mayaa'"):
        team.call(add_feedback, key="k.one", text="hi", by="mayaa")
    assert team.detail("k.one").feedback == []


def test_assign_refuses_two_milestones_on_one_date(team):
    from datetime import datetime, timezone

    day = datetime(2026, 11, 20, tzinfo=timezone.utc)
    with pytest.raises(InvalidInput, match="two --milestone values for the same date"):
        team.kpi("k.ms", milestones=[(day, 10.0), (day, 20.0)])
