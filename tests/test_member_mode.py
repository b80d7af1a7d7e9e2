"""The suite's member mode (tests/backends.py): on PostgreSQL, commands that a non-admin may
run connect as one — so the whole suite's PostgreSQL half checks that the server's rules let
people do what the tests do. These tests keep the routing honest: it happens, as whom, and
only where the action allows it."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

from tests import backends

pytestmark = pytest.mark.postgres_only


@pytest.fixture(autouse=True)
def _member_mode():
    if not backends.member_mode():
        pytest.skip(f"{backends.READER_ENV}=0: every command runs as the owner")
    backends.ROUTED.clear()


def test_an_owners_checkin_and_a_managers_change_run_as_their_own_roles(run):
    for args in (("people", "add", "maya", "--name", "Maya"),
                 ("people", "add", "ana", "--name", "Ana", "--manager", "maya"),
                 ("assign", "sales.arr", "--to", "ana", "--title", "ARR", "--target", "10",
                  "--due", "2026-12-31")):
        assert run(*args).exit_code == 0, args
    assert backends.ROUTED == []  # people and a delegation by nobody: the owner's
    assert run("checkin", "sales.arr", "4").exit_code == 0
    assert run("amend", "1", "--value", "5", "--reason", "typo").exit_code == 0
    assert run("assign", "sales.arr", "--target", "12", "--by", "maya").exit_code == 0
    assert backends.ROUTED == [("checkin", "ana", "member"), ("amend", "ana", "member"),
                               ("assign", "maya", "manager")]
    # The server filled in the member as the author: the owner's write would have left none.
    history = run("report", "sales.arr", "--json").json()
    assert [c["by"] for c in history["checkins"]] == ["ana"]
    # A routed command runs at exactly the level it says: maya, a manager a moment ago, is
    # only a member when she checks in on her own KPI.
    assert run("assign", "maya.own", "--to", "maya", "--title", "Own", "--target", "3",
               "--due", "2026-12-31").exit_code == 0
    assert run("checkin", "maya.own", "1").exit_code == 0
    assert backends.ROUTED[-1] == ("checkin", "maya", "member")
    database = make_url(os.environ["KPICTL_DB"]).database
    with backends._connect(os.environ["KPICTL_DB"]) as conn:
        groups = {g for (g,) in conn.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'maya'").fetchall()}
    assert groups == {backends.group_roles(database)[0]}


def test_actions_the_roles_may_not_take_stay_with_the_owner(run):
    for args in (("people", "add", "maya", "--name", "Maya"),
                 ("people", "add", "ana", "--name", "Ana"),
                 ("assign", "sales.arr", "--to", "ana", "--title", "ARR", "--target", "10",
                  "--due", "2026-12-31")):
        assert run(*args).exit_code == 0, args
    # maya is not ana's manager, nor the KPI's owner: as herself the server would refuse.
    assert run("checkin", "sales.arr", "4", "--by", "maya").exit_code == 0
    assert run("assign", "sales.arr", "--target", "12", "--by", "maya").exit_code == 0
    assert backends.ROUTED == []
    assert os.environ.get(backends.READER_DB)  # reads still run as a member

