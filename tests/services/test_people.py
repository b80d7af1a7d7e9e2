"""services/people.py: adding, editing, deactivating and listing people."""

from __future__ import annotations

import pytest

from kpictl.errors import Conflict, InvalidInput, NotFound
from kpictl.models import Person
from kpictl.schemas import SkillView
from kpictl.services.people import (
    add_person,
    deactivate_person,
    edit_person,
    list_people,
    show_person,
)


def people(svc, include_inactive=False):
    with svc.db.session() as s:
        return {p.handle: p for p in list_people(session=s, include_inactive=include_inactive)}


def test_people_add_stores_every_field(svc, now):
    svc.person("maya", "Maya Okafor")
    result = svc.call(add_person, handle="ana", name="  Ana Lima ", email="ana@example.com",
                      skills=["sales:4", "Negotiation"], capacity=3, manager="maya")
    assert result.action == "person.added"
    assert result.data == {"handle": "ana"}
    ana = people(svc)["ana"]
    assert ana.name == "Ana Lima"
    assert ana.email == "ana@example.com"
    assert ana.skills == [SkillView("negotiation", None), SkillView("sales", 4)]
    assert ana.capacity == 3
    assert ana.manager == "maya"
    assert ana.active is True
    assert ana.active_kpis == 0
    assert ana.created_at == now


def test_people_add_defaults_capacity_to_five(svc):
    svc.person("ana")
    assert people(svc)["ana"].capacity == 5


def test_people_add_normalizes_handle_to_lowercase(svc):
    svc.person("Ana.Lima")
    assert list(people(svc)) == ["ana.lima"]


def test_people_add_duplicate_handle_is_conflict(svc):
    svc.person("ana", "Ana Lima")
    with pytest.raises(Conflict, match=r"person 'ana' already exists"):
        svc.person("ANA", "Someone Else")
    assert [p.name for p in svc.rows(Person)] == ["Ana Lima"]


@pytest.mark.parametrize("handle", ["ana lima", "-ana", "ana!", "", "a" * 65, "ána"])
def test_people_add_bad_handle_is_invalid(svc, handle):
    with pytest.raises(InvalidInput, match="invalid handle"):
        svc.person(handle, "Name")
    assert svc.rows(Person) == []


def test_people_add_unknown_manager_is_not_found_with_suggestion(svc):
    svc.person("maya")
    with pytest.raises(NotFound) as info:
        svc.person("ana", manager="mya")
    assert str(info.value) == "no person 'mya'; did you mean 'maya'? See `kpictl people list`."
    assert [p.handle for p in svc.rows(Person)] == ["maya"]


def test_people_add_unknown_manager_without_close_match(svc):
    svc.person("maya")
    with pytest.raises(NotFound, match=r"^no person 'zed'\. See `kpictl people list`\.$"):
        svc.person("ana", manager="zed")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"skills": ["sales:9"]}, "invalid skill level"),
        ({"skills": ["sales:x"]}, "invalid skill level"),
        ({"skills": ["bad skill"]}, "invalid skill"),
        ({"email": "not-an-address"}, "invalid --email"),
        ({"capacity": -1}, "invalid --capacity"),
        ({"name": "   "}, "--name must not be empty"),
        ({"name": "x" * 201}, "--name is too long"),
    ],
)
def test_people_add_invalid_fields(svc, kw, message):
    kw.setdefault("name", "Ana")
    with pytest.raises(InvalidInput, match=message):
        svc.call(add_person, handle="ana", **kw)
    assert svc.rows(Person) == []


def test_people_edit_changes_fields(svc):
    svc.person("maya")
    svc.person("ana", skills=["sales:2", "ops"])
    result = svc.call(edit_person, with_now=False, handle="ana", name="Ana L.",
                      email="a@example.com", add_skills=["sales:5", "finance"],
                      remove_skills=["ops"], capacity=7, manager="maya")
    assert result.action == "person.edited"
    ana = people(svc)["ana"]
    assert (ana.name, ana.email, ana.capacity, ana.manager) == ("Ana L.", "a@example.com", 7,
                                                                "maya")
    assert ana.skills == [SkillView("finance", None), SkillView("sales", 5)]


def test_people_edit_clears_manager_and_email(svc):
    svc.person("maya")
    svc.person("ana", manager="maya", email="a@example.com")
    svc.call(edit_person, with_now=False, handle="ana", manager="", email="")
    ana = people(svc)["ana"]
    assert ana.manager is None
    assert ana.email is None


def test_people_edit_nothing_is_invalid(svc):
    svc.person("ana")
    with pytest.raises(InvalidInput, match="nothing to change"):
        svc.call(edit_person, with_now=False, handle="ana")


def test_people_edit_own_manager_is_invalid(svc):
    svc.person("ana")
    with pytest.raises(InvalidInput, match="cannot be their own manager"):
        svc.call(edit_person, with_now=False, handle="ana", manager="ana")
    assert people(svc)["ana"].manager is None


def test_people_edit_unknown_person_is_not_found(svc):
    svc.person("ana")
    with pytest.raises(NotFound, match="did you mean 'ana'"):
        svc.call(edit_person, with_now=False, handle="anna", name="X")


def test_people_edit_failure_changes_nothing(svc):
    svc.person("ana", "Ana Lima")
    with pytest.raises(InvalidInput):
        svc.call(edit_person, with_now=False, handle="ana", name="New Name", capacity=-5)
    assert people(svc)["ana"].name == "Ana Lima"


def test_people_deactivate_hides_from_default_list(svc):
    svc.person("ana")
    svc.person("bob")
    result = svc.call(deactivate_person, with_now=False, handle="bob")
    assert result.action == "person.deactivated"
    assert result.message == "deactivated bob"
    assert list(people(svc)) == ["ana"]
    everyone = people(svc, include_inactive=True)
    assert list(everyone) == ["ana", "bob"]
    assert everyone["bob"].active is False


def test_people_deactivate_twice_is_unchanged(svc):
    svc.person("bob")
    svc.call(deactivate_person, with_now=False, handle="bob")
    result = svc.call(deactivate_person, with_now=False, handle="bob")
    assert result.action == "person.unchanged"


def test_people_deactivate_owner_warns_about_active_kpis(svc):
    svc.person("ana")
    svc.kpi("sales.arr", to="ana")
    svc.kpi("sales.leads", to="ana")
    result = svc.call(deactivate_person, with_now=False, handle="ana")
    assert "still own 2 active KPI(s)" in result.message
    assert people(svc, include_inactive=True)["ana"].active_kpis == 2


def test_people_deactivate_unknown_is_not_found(svc):
    with pytest.raises(NotFound):
        svc.call(deactivate_person, with_now=False, handle="ghost")


def test_people_reactivate_with_edit(svc):
    svc.person("bob")
    svc.call(deactivate_person, with_now=False, handle="bob")
    svc.call(edit_person, with_now=False, handle="bob", activate=True)
    assert people(svc)["bob"].active is True


def test_people_list_counts_only_active_kpis(svc):
    from kpictl.domain import Outcome
    from kpictl.services.kpis import close_kpi

    svc.person("ana")
    svc.kpi("a.one")
    svc.kpi("a.two")
    svc.call(close_kpi, key="a.two", outcome=Outcome.CANCELLED)
    assert people(svc)["ana"].active_kpis == 1


def test_people_show_lists_their_kpis(svc, now):
    svc.person("ana")
    svc.person("bob")
    svc.kpi("a.one", to="ana")
    svc.kpi("b.one", to="bob")
    with svc.db.session() as s:
        detail = show_person(session=s, handle="ana", as_of=now, tz=svc.tz)
    assert detail.person.handle == "ana"
    assert [k.key for k in detail.kpis] == ["a.one"]


def test_people_edit_refuses_a_management_cycle(svc):
    svc.person("maya")
    svc.person("ana", manager="maya")
    svc.person("bob", manager="ana")
    with pytest.raises(Conflict, match="maya cannot report to bob: bob → ana → maya would"):
        svc.call(edit_person, with_now=False, handle="maya", manager="bob")
    assert people(svc)["maya"].manager is None
