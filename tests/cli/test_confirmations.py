"""Every write confirms what it did in one line on stderr; `-q` silences it; stdout stays
empty for data (PRODUCT §1: cron wants silence on success, scripts want clean stdout)."""

from __future__ import annotations

import pytest

from kpictl.db import SCHEMA_REVISION

from .conftest import dump_db, ok

# (command, confirmation); {tmp} is this test's directory, {db} its database.
WRITES = [
    (["people", "add", "zoe", "--name", "Zoe Park"], "added zoe (Zoe Park)"),
    (["people", "edit", "ana", "--capacity", "6"], "updated ana: capacity"),
    (["people", "deactivate", "bob"], "deactivated bob"),
    (["assign", "ops.tickets", "--to", "bob", "--target", "10", "--due", "2026-12-31"],
     "created ops.tickets (increase) and delegated it to bob, due 2026-12-31"),
    (["assign", "sales.arr", "--to", "bob", "--by", "maya"], "updated sales.arr: owner → bob"),
    (["checkin", "sales.arr", "42"], "recorded sales.arr = 42 EUR"),
    (["checkin", "--file", "{tmp}/checkins.csv"],
     "{tmp}/checkins.csv: 1 check-ins written, 0 skipped (already recorded), 0 invalid"),
    (["assign", "--file", "{tmp}/kpis.csv"], "{tmp}/kpis.csv: 1 KPIs written, 0 unchanged, "
                                             "0 invalid"),
    (["feedback", "sales.arr", "Good start", "--by", "maya"], "feedback recorded on sales.arr"),
    (["close", "sales.arr", "--outcome", "cancelled"], "closed sales.arr as cancelled"),
    (["amend", "1", "--value", "8", "--reason", "typo"],
     "amended check-in 1 of sales.arr: value 7 → 8"),
    (["retract", "1", "--reason", "wrong KPI"],
     "retracted check-in 1 of sales.arr (7 at 2026-11-20 00:00 UTC)"),
    (["export", "--output", "{tmp}/out.jsonl"],
     "exported 3 people, 1 KPI, 1 assignment, 0 changes, 1 check-in, 0 corrections, 0 "
     "feedback notes and 0 person changes to {tmp}/out.jsonl"),
    (["--db", "{tmp}/new.db", "import", "{tmp}/export.jsonl"],
     "imported 3 people, 1 KPI, 1 assignment, 0 changes, 1 check-in, 0 corrections, 0 "
     "feedback notes and 0 person changes from {tmp}/export.jsonl"),
    (["db", "upgrade"], f"already at schema {SCHEMA_REVISION}: {{db}}"),
    (["db", "backup", "{tmp}/backup.db"], "backed up {db} to {tmp}/backup.db"),
    (["demo", "--path", "{tmp}/demo.db"],
     "Demo database: {tmp}/demo.db (8 people, 23 KPIs, 133 check-ins). Explore it:"),
]


def _prepare(run, tmp_path):
    (tmp_path / "checkins.csv").write_text("kpi,value,at\nsales.arr,7,2026-11-20\n")
    (tmp_path / "kpis.csv").write_text("key,to,target,due\nops.calls,ana,50,2026-12-31\n")
    ok(run, "-q", "checkin", "--file", str(tmp_path / "checkins.csv"))  # check-in 1
    ok(run, "export", "--output", str(tmp_path / "export.jsonl"))


@pytest.mark.sqlite_only("the messages name the SQLite file; the code path is shared")
@pytest.mark.parametrize("quiet", [False, True], ids=["confirmed", "quiet"])
@pytest.mark.parametrize(("args", "message"), WRITES, ids=[" ".join(a[:2]) for a, _ in WRITES])
def test_every_write_confirms_on_stderr_unless_quiet(seeded, tmp_path, args, message, quiet):
    import os

    run = seeded
    _prepare(run, tmp_path)
    fill = {"tmp": str(tmp_path), "db": os.environ["KPICTL_DB"]}
    args = [a.format(**fill) for a in args]
    before = dump_db()
    result = run(*(["-q"] if quiet else []), *args)
    assert result.exit_code == 0, result.stderr
    if args[0] == "demo":
        assert "KPIs as of" in result.stdout  # the demo shows its report: that is its output
    else:
        assert result.stdout == ""
    if quiet:
        assert result.stderr == ""
    else:
        lines = result.stderr.strip("\n").splitlines()
        if args[0] == "demo":  # the confirmation, then how to explore it
            lines = lines[:1]
        assert lines == [message.format(**fill)]
    if args[0] not in ("export", "db", "demo", "--db"):  # quiet still writes
        assert dump_db() != before
