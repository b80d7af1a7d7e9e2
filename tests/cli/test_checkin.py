"""`kpictl checkin`: an owner records progress."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import assert_error, dump_db, ok


def checkins(run, key="sales.arr"):
    return ok(run, "report", key, "--json").json()["checkins"]


def test_checkin_records_value(seeded):
    result = ok(seeded, "checkin", "sales.arr", "42", "--confidence", "7", "--note",
                "two deals signed", "--at", "2026-11-26T10:00Z")
    assert result.stdout == ""
    assert result.stderr == "recorded sales.arr = 42 EUR\n"
    assert checkins(seeded) == [{
        "id": 1, "status": "current", "value": 42, "measured_at": "2026-11-26T10:00:00Z",
        "recorded_at": "2026-11-27T12:00:00Z", "by": "ana", "confidence": 7,
        "note": "two deals signed", "blocker": None, "source": "cli", "key": None,
        "corrections": []}]
    [row] = ok(seeded, "report", "--json").json()["kpis"]
    assert (row["current"], row["progress"], row["confidence"]) == (42, 0.42, 7)


LOADED = """
import atexit, sys
watched = ("kpictl.models_extra", "kpictl.schemas", "kpictl.services.sources",
           "kpictl.services.reports", "alembic")
atexit.register(lambda: sys.stderr.write(
    "loaded:" + ",".join(m for m in watched if m in sys.modules) + "\\n"))
from kpictl.cli import main
main(["checkin", "sales.arr", "42"])
"""


def test_a_single_checkin_loads_only_what_it_writes_with(seeded):
    """Start-up is most of a check-in's cost (README, benchmark): it defines only the tables
    it touches and does not import the read models, the sources or the report."""
    proc = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True,
                          timeout=60, check=False)
    assert (proc.returncode, proc.stderr) == (0, "recorded sales.arr = 42 EUR\nloaded:\n")
    assert checkins(seeded)[0]["value"] == 42


AS_PROGRAM = """
import sys
sys.argv = ["kpictl", "checkin", "sales.arr", "42"]  # as the console script starts
import gc
import kpictl
paused = not gc.isenabled()
import atexit
atexit.register(lambda: sys.stderr.write(f"paused {paused}, running {gc.isenabled()}\\n"))
from kpictl.cli import main
main()
"""


def test_the_program_pauses_the_garbage_collector_only_while_it_starts(seeded):
    proc = subprocess.run([sys.executable, "-c", AS_PROGRAM], capture_output=True, text=True,
                          timeout=60, check=False)
    assert (proc.returncode, proc.stderr) == (
        0, "recorded sales.arr = 42 EUR\npaused True, running True\n")


def test_checkin_defaults_to_now(seeded):
    ok(seeded, "checkin", "sales.arr", "10")
    assert checkins(seeded)[0]["measured_at"] == "2026-11-27T12:00:00Z"


def test_checkin_by_other_person(seeded):
    ok(seeded, "checkin", "sales.arr", "10", "--by", "maya")
    assert checkins(seeded)[0]["by"] == "maya"


def test_checkin_by_from_environment(seeded, monkeypatch):
    monkeypatch.setenv("KPICTL_USER", "bob")
    ok(seeded, "checkin", "sales.arr", "10")
    assert checkins(seeded)[0]["by"] == "bob"


@pytest.mark.parametrize(("text", "value"), [("1e3", 1000), ("+7", 7), (".5", 0.5), ("0", 0)])
def test_checkin_number_forms(seeded, text, value):
    ok(seeded, "checkin", "sales.arr", text)
    assert checkins(seeded)[0]["value"] == value


def test_checkin_negative_value_after_double_dash(seeded):
    ok(seeded, "checkin", "sales.arr", "--", "-3.5")
    assert checkins(seeded)[0]["value"] == -3.5


def test_checkin_negative_value(seeded):
    # KPIs may live below zero (PRODUCT §3: a decrease from 5 to -3); an owner must be able to
    # type `kpictl checkin KEY -2` without knowing about `--`.
    ok(seeded, "assign", "cost.delta", "--to", "ana", "--baseline", "5", "--target", "-3",
       "--due", "2026-12-31")
    result = seeded("checkin", "cost.delta", "-2")
    assert result.exit_code == 0, result.stderr
    assert checkins(seeded, "cost.delta")[0]["value"] == -2


def test_checkin_quiet_is_silent(seeded):
    result = ok(seeded, "-q", "checkin", "sales.arr", "10")
    assert (result.stdout, result.stderr) == ("", "")
    assert len(checkins(seeded)) == 1


def test_checkin_blocker_flags_kpi_blocked(seeded):
    ok(seeded, "checkin", "sales.arr", "45", "--blocker", "waiting for legal")
    [row] = ok(seeded, "report", "--json").json()["kpis"]
    assert (row["blocker"], row["flags"], row["status"]) == ("waiting for legal", ["blocked"],
                                                             "at_risk")


def test_checkin_idempotency_key_records_once(seeded):
    ok(seeded, "checkin", "sales.arr", "42", "--key", "push-1")
    before = dump_db()
    again = ok(seeded, "checkin", "sales.arr", "42", "--key", "push-1")
    assert again.stdout == ""
    assert again.stderr == "already recorded: sales.arr = 42 (key push-1)\n"
    assert dump_db() == before
    assert [c["key"] for c in checkins(seeded)] == ["push-1"]


def test_checkin_idempotency_key_with_other_value_is_exit_4(seeded):
    ok(seeded, "checkin", "sales.arr", "42", "--key", "push-1")
    before = dump_db()
    assert_error(seeded("checkin", "sales.arr", "43", "--key", "push-1"), 4,
                 "check-in key 'push-1' was already used on sales.arr for value 42; use a new "
                 "--key for a new value")
    assert dump_db() == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["sales.ar", "42"], 3,
         "no KPI 'sales.ar'; did you mean 'sales.arr'? See `kpictl report`."),
        (["sales.arr", "42k"], 2, "invalid VALUE '42k': expected a number such as 12.5"),
        (["sales.arr", "nan"], 2, "invalid VALUE 'nan': expected a number such as 12.5"),
        (["sales.arr", "42", "--at", "2026-02-30"], 2,
         ("--at: invalid date '2026-02-30': February 2026 has 28 days "
          "(use 2026-02-01 to 2026-02-28)")),
        (["sales.arr", "42", "--at", "tomorrow"], 2,
         "--at 2026-11-28 00:00 UTC is in the future (it is now 2026-11-27 12:00 UTC)"),
        (["sales.arr", "42", "--by", "anaa"], 3,
         "no person 'anaa'; did you mean 'ana'? See `kpictl people list`."),
    ],
)
def test_checkin_errors_change_nothing(seeded, args, code, message):
    before = dump_db()
    assert_error(seeded("checkin", *args), code, message)
    assert dump_db() == before


@pytest.mark.parametrize("args", [["sales.arr", "42", "--confidence", "11"],
                                  ["sales.arr", "42", "--confidence", "high"],
                                  ["sales.arr"]])
def test_checkin_usage_errors_are_exit_2(seeded, args):
    before = dump_db()
    assert_error(seeded("checkin", *args), 2)
    assert dump_db() == before


def test_checkin_on_closed_kpi_is_exit_4(seeded):
    ok(seeded, "close", "sales.arr", "--outcome", "achieved")
    before = dump_db()
    assert_error(seeded("checkin", "sales.arr", "42"), 4,
                 "KPI 'sales.arr' is closed (achieved); it takes no more check-ins (reopen it "
                 "with `kpictl reopen sales.arr --reason TEXT`)")
    assert dump_db() == before
