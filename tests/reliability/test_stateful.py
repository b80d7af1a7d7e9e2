"""A state machine drives the real CLI against a model small enough to be obviously right.

Hypothesis picks sequences of `people add`, `assign` (create or reassign), `checkin` (with and
without idempotency keys, and exact re-sends), `close`, `report` and `report KEY`, with keys and
handles in any letter case and a few that do not exist. After every command the exit code must
be the one the model predicts (0 ok, 3 not found, 4 duplicate or closed); the reports must agree
with the model on which KPIs exist, their owner and delegation history, their state, latest
value and number of check-ins. Each example starts from an empty database of its own.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

HANDLES = ["ana", "bob", "cy"]  # plus "nobody.here", valid but unknown until added
KEYS = ["sales.arr", "ops.sla", "mkt.leads"]
OUTCOMES = ["achieved", "missed", "cancelled"]
FIRST_AT = datetime(2026, 11, 2, tzinfo=UTC)  # after every KPI's start, before now


@dataclass
class Kpi:
    owners: list[str]  # the delegation history, oldest first
    state: str = "active"
    checkins: list[tuple[datetime, float]] = field(default_factory=list)
    keys: dict[str, tuple[float, datetime]] = field(default_factory=dict)


def any_case(word: str):
    return st.tuples(*[st.sampled_from([c.lower(), c.upper()]) for c in word]).map("".join)


def typed(words: list[str]):
    """One of ``words`` as a user might type it (any letter case), or one that does not exist."""
    known = st.sampled_from(words).flatmap(any_case)
    return st.one_of(known, known, known, st.just("nobody.here"))


@pytest.mark.sqlite_only("a fresh database per example: one new SQLite file each")
def test_commands_agree_with_a_simple_model(run, tmp_path):
    empty = tmp_path / "empty.db"
    result = run("--db", str(empty), "db", "upgrade")
    assert result.exit_code == 0, result.stderr
    examples = itertools.count()

    class Kpictl(RuleBasedStateMachine):
        checkins = Bundle("checkins")

        def __init__(self) -> None:
            super().__init__()
            self.db = tmp_path / f"example-{next(examples)}.db"
            shutil.copyfile(empty, self.db)
            self.people: set[str] = set()
            self.kpis: dict[str, Kpi] = {}
            self.minutes = itertools.count(1)

        # -- helpers -----------------------------------------------------------------------

        def kpictl(self, *args: str, expect: int):
            result = run("--db", str(self.db), *args)
            assert result.exit_code == expect, (args, result.exit_code, result.stderr)
            assert "Traceback" not in result.stderr
            if expect != 0:
                lines = result.stderr.splitlines()
                assert len(lines) == 1 and lines[0].startswith("kpictl: error: "), lines
                assert result.stdout == ""
            return result

        def tick(self) -> datetime:
            """A new, later measurement instant for each check-in and reassignment."""
            return FIRST_AT + timedelta(minutes=next(self.minutes))

        # -- rules -------------------------------------------------------------------------

        @initialize()
        def team(self):
            """Two people and two KPIs, so most sequences do more than meet "not found"."""
            for handle in ("ana", "bob"):
                self.add_person(handle)
            self.assign("sales.arr", "ana")
            self.assign("ops.sla", "bob")

        @rule(handle=typed(HANDLES))
        def add_person(self, handle):
            name = handle.lower()
            expect = 4 if name in self.people else 0  # handles are case-insensitive
            self.kpictl("people", "add", handle, "--name", f"Person {name}", expect=expect)
            if expect == 0:
                self.people.add(name)

        @rule(key=typed(KEYS), owner=typed(HANDLES))
        def assign(self, key, owner):
            k, o = key.lower(), owner.lower()
            kpi = self.kpis.get(k)
            args = ["assign", key, "--to", owner]
            if o not in self.people:
                expect = 3
            elif kpi is None:
                expect = 0
                args += ["--target", "100", "--start", "2026-11-01", "--due", "2026-12-31"]
            elif kpi.state != "active":
                expect = 4
            else:
                expect = 0
                args += ["--at", self.tick().isoformat()]
            self.kpictl(*args, expect=expect)
            if expect == 0:
                if kpi is None:
                    self.kpis[k] = Kpi(owners=[o])
                elif kpi.owners[-1] != o:
                    kpi.owners.append(o)

        @rule(target=checkins, key=typed(KEYS), value=st.integers(-1000, 1000),
              idem=st.one_of(st.none(), st.sampled_from(["k1", "k2"])))
        def checkin(self, key, value, idem):
            k = key.lower()
            kpi = self.kpis.get(k)
            at = self.tick()
            args = ["checkin", key, "--at", at.isoformat(), "--key" if idem else None, idem]
            args = [a for a in args if a is not None] + ["--", str(value)]
            if kpi is None:
                expect = 3
            elif kpi.state != "active":
                expect = 4  # closed KPIs take no more check-ins
            elif idem in kpi.keys:
                expect = 4  # the key was used for another value or instant
            else:
                expect = 0
            self.kpictl(*args, expect=expect)
            if expect == 0:
                kpi.checkins.append((at, float(value)))
                if idem:
                    kpi.keys[idem] = (float(value), at)
            return (k, value, at, idem)

        @rule(sent=checkins)
        def resend(self, sent):
            k, value, at, idem = sent
            kpi = self.kpis.get(k)
            args = ["checkin", k, "--at", at.isoformat(), *(["--key", idem] if idem else []),
                    "--", str(value)]
            repeat = idem is not None and kpi is not None and idem in kpi.keys
            if kpi is None:
                expect = 3
            elif kpi.state != "active":
                expect = 4
            elif repeat:
                # The same key again: harmless if it is the same measurement, else a conflict.
                expect = 0 if kpi.keys[idem] == (float(value), at) else 4
            else:
                expect = 0  # without a key (or with a new one) it is another check-in
            self.kpictl(*args, expect=expect)
            if expect == 0 and not repeat:
                kpi.checkins.append((at, float(value)))
                if idem:
                    kpi.keys[idem] = (float(value), at)

        @rule(key=typed(KEYS), outcome=st.sampled_from(OUTCOMES))
        def close(self, key, outcome):
            kpi = self.kpis.get(key.lower())
            expect = 3 if kpi is None else (4 if kpi.state != "active" else 0)
            self.kpictl("close", key, "--outcome", outcome, expect=expect)
            if expect == 0:
                kpi.state = outcome

        @rule(handle=typed(HANDLES))
        def show_person(self, handle):
            known = handle.lower() in self.people
            result = self.kpictl("people", "show", handle, "--json", expect=0 if known else 3)
            if known:
                doc = result.json()
                owned = sorted(k for k, kpi in self.kpis.items()
                               if kpi.owners[-1] == handle.lower() and kpi.state == "active")
                assert sorted(r["key"] for r in doc["kpis"]
                              if r["state"] == "active") == owned

        @rule(key=typed(KEYS))
        def report_key(self, key):
            kpi = self.kpis.get(key.lower())
            result = self.kpictl("report", key, "--json", expect=3 if kpi is None else 0)
            if kpi is not None:
                doc = result.json()
                assert [a["to"] for a in doc["assignments"]] == kpi.owners
                assert len(doc["checkins"]) == len(kpi.checkins)
                self.agree(doc["kpi"], key.lower(), kpi)

        @rule()
        def report(self):
            self.check_report()

        # -- the comparison ----------------------------------------------------------------

        def agree(self, row: dict, key: str, kpi: Kpi) -> None:
            assert row["key"] == key
            assert row["owner"] == kpi.owners[-1]
            assert row["state"] == kpi.state
            if kpi.state != "active":
                assert row["status"] == kpi.state
            else:
                assert row["status"] not in OUTCOMES or row["status"] == "achieved"
            assert row["checkins"] == len(kpi.checkins)
            latest = max(kpi.checkins)[1] if kpi.checkins else None
            assert row["current"] == latest
            if not kpi.checkins:
                assert row["status"] in ("no_data", *OUTCOMES)

        def check_report(self) -> None:
            doc = self.kpictl("report", "--json", expect=0).json()
            rows = {r["key"]: r for r in doc["kpis"]}
            assert sorted(rows) == sorted(self.kpis)
            for key, kpi in self.kpis.items():
                self.agree(rows[key], key, kpi)
            people = self.kpictl("people", "list", "--json", expect=0).json()
            assert sorted(p["handle"] for p in people["people"]) == sorted(self.people)

        def teardown(self) -> None:
            self.check_report()

    run_state_machine_as_test(Kpictl, settings=settings(
        max_examples=12, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
