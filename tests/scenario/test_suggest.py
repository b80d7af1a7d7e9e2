"""`suggest`: the ranking follows the evidence, and the score is the weighted mean it claims."""

from __future__ import annotations

import pytest

from kpictl.services.suggestions import DEFAULT_WEIGHTS


def _closed(run, key, owner, outcome, tags, unit="EUR"):
    args = ["assign", key, "--to", owner, "--target", "10", "--unit", unit, "--start",
            "2026-06-01", "--due", "2026-09-30"]
    for tag in tags:
        args += ["--tag", tag]
    assert run(*args).exit_code == 0
    assert run("close", key, "--outcome", outcome, "--at", "2026-09-30").exit_code == 0


@pytest.fixture
def team(run):
    for handle in ("hitter", "misser", "skilled", "busy", "fresh"):
        assert run("people", "add", handle, "--name", handle.title(), "--capacity", "4"
                   ).exit_code == 0
    for i in range(4):
        _closed(run, f"past.hit{i}", "hitter", "achieved", ["sales"])
        _closed(run, f"past.miss{i}", "misser", "missed", ["sales"])
    assert run("people", "edit", "skilled", "--skill", "sales:5").exit_code == 0
    for i in range(4):
        assert run("assign", f"load.k{i}", "--to", "busy", "--target", "5", "--due",
                   "+30d").exit_code == 0
    assert run("assign", "sales.new", "--to", "fresh", "--target", "100", "--unit", "EUR",
               "--tag", "sales", "--due", "+60d").exit_code == 0
    return run


def _ranking(run, *args):
    doc = run("suggest", *args, "--json").json()
    return doc, {c["handle"]: c for c in doc["candidates"]}


def test_suggest_track_record_follows_the_evidence(team):
    doc, by = _ranking(team, "sales.new")
    assert by["hitter"]["score"] > by["misser"]["score"]
    # 4 of 4 similar hits, smoothed toward 50 %: well above 1/2 but below 1.
    assert 0.75 < by["hitter"]["components"]["track_record"] < 1.0
    assert 0.0 < by["misser"]["components"]["track_record"] < 0.25
    assert by["fresh"]["components"]["track_record"] == 0.5
    assert "hit 4 of 4 similar KPIs" in by["hitter"]["reasons"]


def test_suggest_skills_and_capacity_matter(team):
    _, by = _ranking(team, "--tag", "sales", "--unit", "EUR")
    assert by["skilled"]["components"]["skill_match"] == 1.0
    assert by["fresh"]["components"]["skill_match"] == 0.0
    assert by["skilled"]["score"] > by["fresh"]["score"]
    assert by["busy"]["components"]["capacity"] == 0.0
    assert by["busy"]["overloaded"] is True  # listed, flagged, never dropped
    assert by["busy"]["score"] < by["fresh"]["score"]


def test_suggest_score_is_the_weighted_mean_of_its_components(team):
    doc, _ = _ranking(team, "sales.new", "--weight", "track=2", "--weight", "capacity=0")
    weights = doc["weights"]
    assert weights == {**DEFAULT_WEIGHTS, "track_record": 2.0, "capacity": 0.0}
    for c in doc["candidates"]:
        expected = sum(weights[k] * v for k, v in c["components"].items()) / sum(
            weights.values())
        assert c["score"] == pytest.approx(expected, abs=5e-5)
    scores = [c["score"] for c in doc["candidates"]]
    assert scores == sorted(scores, reverse=True)


def test_suggest_marks_the_current_owner_and_honours_top(team):
    doc, by = _ranking(team, "sales.new", "--top", "2")
    assert len(doc["candidates"]) == 2
    _, everyone = _ranking(team, "sales.new")
    assert everyone["fresh"]["current_owner"] is True
    assert sum(c["current_owner"] for c in everyone.values()) == 1
    assert doc["kpi"] == {"key": "sales.new", "title": "sales.new", "tags": ["sales"],
                          "unit": "EUR", "owner": "fresh"}


def test_suggest_explain_prints_the_evidence(team):
    out = team("suggest", "sales.new", "--explain").stdout
    line = next(line for line in out.splitlines() if line.split()[1:2] == ["hitter"])
    assert "hit 4 of 4 similar KPIs" in line
    assert "of 4 slots free" in line


@pytest.mark.parametrize(("args", "code", "message"), [
    (["nope.kpi"], 3, "no KPI 'nope.kpi'"),
    ([], 2, "tell me about the KPI"),
    (["sales.new", "--tag", "x"], 2, "give a KPI key, or describe a new KPI"),
    (["sales.new", "--weight", "luck=2"], 2, "invalid --weight 'luck=2'"),
    (["sales.new", "--weight", "track=-1"], 2, "invalid --weight 'track=-1'"),
    (["sales.new", "--top", "0"], 2, "invalid --top 0"),
    (["sales.new", "--rebalance"], 2, "--rebalance looks at the whole team"),
])
def test_suggest_errors(team, args, code, message):
    result = team("suggest", *args)
    assert (result.exit_code, result.stdout) == (code, "")
    assert result.stderr.startswith(f"kpictl: error: {message}")
    assert len(result.stderr.splitlines()) == 1


def test_suggest_rebalance_moves_work_off_an_overloaded_person(team):
    assert team("people", "edit", "busy", "--capacity", "2").exit_code == 0  # 4 KPIs, room 2
    doc = team("suggest", "--rebalance", "--json").json()
    assert doc["schema"] == "kpictl.rebalance/1"
    assert doc["overloaded"] == ["busy"]
    moves = [m for m in doc["moves"] if m["from_owner"] == "busy"]
    assert moves, doc
    for m in moves:
        assert m["gain"] > 0 and m["to"] != "busy"
        assert m["command"] == f"kpictl assign {m['key']} --to {m['to']}"
    # Applying a proposed move works as printed.
    first = moves[0]
    assert team(*first["command"].split()[1:]).exit_code == 0
