"""Hostile input at the edges: CSV that would silently lose data, endless lines, imports the
command line would refuse, data written around kpictl, terminal-unsafe CSV, and secrets in
URLs (issue 16)."""

from __future__ import annotations

import json
import os
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from tests.cli.conftest import assert_error, dump_db, ok, seeded, seeded_template  # noqa: F401
from tests.reliability.edges import kpictl, one_error_line


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- CSV that would lose data -------------------------------------------------------------


def test_a_duplicated_header_column_is_refused(seeded, tmp_path):
    path = write(tmp_path, "c.csv", "kpi,value,value\nsales.arr,5,7\n")
    before = dump_db()
    assert_error(seeded("checkin", "--file", path), 2,
                 f"{path}: column(s) 'value' appear more than once in the header; keep one "
                 "of each")
    assert dump_db() == before


def test_a_row_with_too_few_or_too_many_cells_is_invalid(seeded, tmp_path):
    path = write(tmp_path, "c.csv", "kpi,value,at\nsales.arr,5\nsales.arr,6,2026-11-20,x\n"
                                    "sales.arr,7,2026-11-21\n")
    before = dump_db()
    result = seeded("checkin", "--file", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "kpictl: line 2: 2 cells, but the header has 3 columns",
        "kpictl: line 3: 4 cells, but the header has 3 columns"]
    assert dump_db() == before


def test_an_unterminated_quote_names_the_line_where_it_opened(seeded, tmp_path):
    path = write(tmp_path, "c.csv", 'kpi,value,note\nsales.arr,5,fine\nsales.arr,6,"never '
                                    'closed\nsales.arr,7,lost\nsales.arr,8,lost too\n')
    assert_error(seeded("checkin", "--file", path), 2,
                 f"{path}: line 3: a quote opened in this row is never closed")


@pytest.mark.sqlite_only("one process per command; the database is not the point")
@pytest.mark.parametrize("args", [("import", "/dev/zero"), ("checkin", "--file", "/dev/zero"),
                                  ("assign", "--file", "/dev/zero")])
def test_an_endless_line_fails_fast(args):
    started = time.monotonic()
    proc = kpictl(*args, timeout=60)
    assert proc.returncode == 2
    assert one_error_line(proc) == ("kpictl: error: /dev/zero: line 1 is longer than "
                                    "1,048,576 characters (the limit of one line): not a "
                                    "kpictl input file?")
    assert time.monotonic() - started < 30


def test_a_csv_field_past_its_limit_is_one_line_and_writes_nothing(seeded, tmp_path):
    path = write(tmp_path, "c.csv", "kpi,value,note\nsales.arr,5," + "x" * 131_073 + "\n")
    before = dump_db()
    assert_error(seeded("checkin", "--file", path), 2, f"{path}: line 2: unreadable CSV "
                 "(field larger than field limit (131072))")
    assert dump_db() == before


# --- import as strict as the command line -------------------------------------------------

HEADER = '{"schema": "kpictl.export/1", "kpictl_version": "0", "schema_revision": "0002", ' \
         '"exported_at": "2026-11-27T12:00:00Z"}'


def _export(run) -> list[dict]:
    return [json.loads(line) for line in ok(run, "export").stdout.splitlines()]


@pytest.mark.sqlite_only("the import goes into a second database: one SQLite file suffices")
@pytest.mark.parametrize("field,value,reason", [
    ("baseline", -1.7e308, "is out of range (at most 1e+15 in magnitude)"),
    ("target", 1.7e308, "is out of range (at most 1e+15 in magnitude)"),
    ("due", "9999-12-31T23:59:59Z", "is out of range: years 1900 to 2999"),
    ("start", "0001-01-01T00:00:00Z", "is out of range: years 1900 to 2999"),
])
def test_import_refuses_values_the_cli_refuses(seeded, run, tmp_path, field, value, reason):
    records = _export(seeded)
    for record in records:
        if record.get("type") == "kpi":
            record[field] = value
    path = write(tmp_path, "x.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    line = assert_error(run("--db", f"{os.environ['KPICTL_DB']}.copy", "import", path), 2)
    assert f'"{field}" ' in line and reason in line


@pytest.mark.sqlite_only("the import goes into a second database: one SQLite file suffices")
def test_import_limits_milestones(seeded, run, tmp_path):
    records = _export(seeded)
    for record in records:
        if record.get("type") == "kpi":
            record["milestones"] = [{"at": f"2026-11-{1 + n % 28:02}T{n % 24:02}:{n % 60:02}:"
                                          f"{n // 60 % 60:02}Z", "value": n} for n in range(1001)]
    path = write(tmp_path, "x.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    line = assert_error(run("--db", f"{os.environ['KPICTL_DB']}.copy", "import", path), 2)
    assert "lists 1001 milestones; at most 1000 per KPI" in line


def test_assign_limits_milestones(seeded):
    many = [f"--milestone=2026-11-{2 + n % 28:02}T{n % 24:02}:{n // 24:02}:00Z={n}"
            for n in range(1001)]
    assert_error(seeded("assign", "sales.arr", *many), 2,
                 "1001 milestones: at most 1000 per KPI")


def test_no_command_crashes_on_data_written_around_kpictl(seeded, monkeypatch):
    """Values and instants that no kpictl path accepts, written with SQL by hand."""
    run = seeded
    ok(run, "-q", "checkin", "sales.arr", "5", "--at", "2026-11-10")
    ok(run, "-q", "checkin", "sales.arr", "6", "--at", "2026-11-11")
    ok(run, "-q", "checkin", "sales.arr", "7", "--at", "2026-11-12")
    target = os.environ["KPICTL_DB"]
    url = target.replace("postgresql://", "postgresql+psycopg://", 1) if "://" in target \
        else f"sqlite:///{target}"
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE kpi SET baseline = -1.7e308, target = 1.7e308")
        due = "'9999-12-31 23:59:59+00'" if "://" in target else "'9999-12-31 23:59:59.000000'"
        conn.exec_driver_sql(f"UPDATE kpi SET due = {due}")
    engine.dispose()
    monkeypatch.setenv("KPICTL_TZ", "Pacific/Kiritimati")  # +14: 9999-12-31 overflows
    for args in (("report",), ("report", "sales.arr"), ("report", "-f", "html"),
                 ("report", "sales.arr", "-f", "html"), ("report", "-f", "md"),
                 ("report", "--by", "owner"), ("people", "show", "ana"), ("export",),
                 ("report", "--week", "last"), ("suggest", "sales.arr")):
        result = run(*args)
        assert result.exit_code == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr


# --- terminal-safe CSV --------------------------------------------------------------------


def test_every_csv_is_terminal_safe_and_formula_safe(seeded):
    run = seeded
    ok(run, "-q", "assign", "sales.arr", "--title", "\x1b]0;pwned\x07\x1b[31mred\u202etxt")
    ok(run, "-q", "checkin", "sales.arr", "5", "--note", "\uff1dHYPERLINK(1)")
    ok(run, "-q", "people", "add", "zed", "--name", "\u200b=cmd|' /C calc'!A0")
    ok(run, "-q", "people", "add", "fw", "--name", "\ufe66SUM(A1)")
    outputs = [ok(run, *args, "-f", "csv").stdout for args in (
        ("report",), ("report", "sales.arr"), ("people", "list"), ("report", "--by", "owner"),
        ("report", "--week", "last"), ("suggest", "sales.arr"))]
    for text in outputs:
        assert not any(ch in text for ch in "\x1b\x07\x9b\u202e"), text
    joined = "\n".join(outputs)
    assert "\\x1b]0;pwned\\x07\\x1b[31mred\\u202etxt" in joined
    assert "'\uff1dHYPERLINK(1)" in joined
    assert "'\u200b=cmd" in joined and "'\ufe66SUM(A1)" in joined


# --- secrets ------------------------------------------------------------------------------


@pytest.mark.backend_free
@pytest.mark.parametrize("url,secret", [
    ("postgresql://u:se@cret@db.example.com/x", "cret"),
    ("postgresql://u:pw@db.example.com/x?sslpassword=T0PSECRET&sslmode=require", "T0PSECRET"),
    ("postgresql://u@db.example.com/x?password=hunter2", "hunter2"),
])
def test_db_path_masks_every_credential(run, url, secret):
    result = ok(run, "--db", url, "db", "path")
    assert secret not in result.stdout and "***" in result.stdout
    assert "db.example.com" in result.stdout


@pytest.mark.backend_free
def test_a_password_with_at_signs_is_the_password(run):
    from kpictl.db import redact, resolve_url

    url = resolve_url("postgresql://u:se@cret@127.0.0.1:1/x")
    assert (url.password, url.host) == ("se@cret", "127.0.0.1")
    result = run("--db", "postgresql://u:se@cret@127.0.0.1:1/x", "report")
    line = assert_error(result, 1)
    assert "cret" not in line and "se@" not in line
    assert redact("host=h password=p1 sslpassword='p 2'") == "host=h password=*** sslpassword=***"
