"""`suggest --rebalance` chooses its moves as a set (issue 14, item 7): never more than brings
each person back within capacity, never a move to the owner, never past a receiver's room."""

from __future__ import annotations

from collections import Counter

from tests.cli.conftest import ok


def plan(run):
    return ok(run, "suggest", "--rebalance", "--json").json()


def test_rebalance_stops_at_balance(run):
    ok(run, "people", "add", "x", "--name", "X", "--capacity", "1")
    ok(run, "people", "add", "y", "--name", "Y", "--capacity", "3")
    ok(run, "assign", "a.one", "--to", "x", "--target", "10", "--due", "+30d")
    ok(run, "assign", "a.two", "--to", "x", "--target", "10", "--due", "+30d")
    doc = plan(run)
    assert doc["overloaded"] == ["x"]
    assert [(m["from_owner"], m["to"]) for m in doc["moves"]] == [("x", "y")]  # one, not two
    # Applied, x is within capacity and nothing more is proposed.
    ok(run, *doc["moves"][0]["command"].split()[1:])
    again = plan(run)
    assert (again["overloaded"], again["moves"]) == ([], [])


def test_rebalance_respects_every_capacity_at_once(run):
    ok(run, "people", "add", "x", "--name", "X", "--capacity", "1")
    ok(run, "people", "add", "y", "--name", "Y", "--capacity", "1")
    ok(run, "people", "add", "z", "--name", "Z", "--capacity", "2")
    for i in range(4):  # x holds 4 with room for 1: three must go, and y and z have 1 + 2
        ok(run, "assign", f"b.k{i}", "--to", "x", "--target", "10", "--due", "+30d")
    doc = plan(run)
    moves = doc["moves"]
    assert len(moves) == 3
    assert len({m["key"] for m in moves}) == 3
    assert all(m["from_owner"] == "x" and m["to"] != m["from_owner"] for m in moves)
    assert Counter(m["to"] for m in moves) == {"y": 1, "z": 2}
