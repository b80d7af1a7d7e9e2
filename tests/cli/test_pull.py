"""`kpictl pull` and `kpictl sources` with real sources: commands that succeed, print garbage,
exit 1 or hang; a SQLite file and the PostgreSQL test server queried read-only; and the
security rule (a sources file anyone but you could have written is refused)."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from kpictl import jsonschemas
from tests.backends import PG_ENV

from .conftest import assert_error, dump_db, ok

KPIS = ["ops.uptime", "ops.tickets", "ops.deploys", "ops.cost"]


@pytest.fixture
def team(seeded):
    for key in KPIS:
        ok(seeded, "assign", key, "--to", "bob", "--target", "1000", "--start", "2026-11-01",
           "--due", "2026-12-31")
    return seeded


def write_sources(monkeypatch, directory: Path, text: str, mode: int = 0o600) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = directory / "sources.toml"
    path.write_text(text)
    path.chmod(mode)
    monkeypatch.setenv("KPICTL_SOURCES", str(path))
    return path


def command_source(kpi: str, script: str, timeout: str | None = None) -> str:
    extra = f'\ntimeout = "{timeout}"' if timeout else ""
    return (f'[[source]]\nkpi = "{kpi}"\ncommand = {json.dumps([sys.executable, "-c", script])}'
            f"{extra}\n\n")


def metrics_db(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript("CREATE TABLE tickets (minutes REAL, at TEXT);"
                           "INSERT INTO tickets VALUES (30, '2026-11-26 08:00:00'), "
                           "(50, '2026-11-26 09:30:00');")
    conn.close()
    return path


def checkins(run, key: str) -> list[dict]:
    return ok(run, "report", key, "--json").json()["checkins"]


def pull_json(run, *args):
    result = run("pull", "--json", *args)
    doc = json.loads(result.stdout)
    Draft202012Validator(jsonschemas.load("pull")).validate(doc)
    return result, doc


def test_pull_records_a_command_and_a_sqlite_query_once_per_slot(team, monkeypatch, tmp_path):
    (tmp_path / "conf").mkdir()
    metrics_db(tmp_path / "conf" / "metrics.db")
    write_sources(monkeypatch, tmp_path / "conf",
                  command_source("sales.arr", "print(42.5)")
                  + '[[source]]\nkpi = "ops.tickets"\nurl = "sqlite:///metrics.db"\n'
                    'sql = "select avg(minutes), max(at) from tickets"\nby = "maya"\n')
    first, doc = pull_json(team)
    assert first.exit_code == 0, first.stderr
    assert [(r["kpi"], r["ok"], r["value"], r["at"], r["action"], r["error"])
            for r in doc["results"]] == [
        ("sales.arr", True, 42.5, None, "recorded", None),
        ("ops.tickets", True, 40.0, "2026-11-26T09:30:00Z", "recorded", None)]
    again, doc = pull_json(team)
    assert again.exit_code == 0 and [r["action"] for r in doc["results"]] == ["unchanged"] * 2
    (arr,) = checkins(team, "sales.arr")
    assert (arr["value"], arr["source"], arr["by"]) == (42.5, "pull:sales.arr", "ana")
    assert arr["key"].startswith("pull:2026-11-")
    (tickets,) = checkins(team, "ops.tickets")
    assert (tickets["value"], tickets["measured_at"], tickets["by"], tickets["source"]) == (
        40.0, "2026-11-26T09:30:00Z", "maya", "pull:ops.tickets")
    # A week later the next cadence slot takes the next value.
    monkeypatch.setenv("KPICTL_NOW", "2026-12-04T12:00:00+00:00")
    _, doc = pull_json(team, "sales.arr")
    assert [r["action"] for r in doc["results"]] == ["recorded"]
    assert [c["value"] for c in checkins(team, "sales.arr")] == [42.5, 42.5]


def test_a_changed_value_in_the_same_slot_amends_its_checkin(team, monkeypatch, tmp_path):
    value = tmp_path / "value.txt"
    value.write_text("10")
    write_sources(monkeypatch, tmp_path / "conf", command_source(
        "sales.arr", f"print(open({str(value)!r}).read())"))
    assert pull_json(team)[1]["results"][0]["action"] == "recorded"
    value.write_text("12")
    monkeypatch.setenv("KPICTL_NOW", "2026-11-27T13:00:00+00:00")
    assert pull_json(team)[1]["results"][0]["action"] == "changed"
    assert pull_json(team)[1]["results"][0]["action"] == "unchanged"
    assert ok(team, "report", "sales.arr", "--json").json()["kpi"]["current"] == 12
    (pulled,) = [c for c in checkins(team, "sales.arr") if c["source"] == "pull:sales.arr"]
    assert (pulled["value"], pulled["status"]) == (12, "amended")
    (fix,) = pulled["corrections"]
    assert fix["reason"] == "pulled value changed from 10 to 12"
    assert fix["changes"]["value"] == {"from": 10, "to": 12}
    # Known then: a report of before the amendment still shows the pulled 10.
    before = ok(team, "report", "sales.arr", "--json", "--as-of",
                "2026-11-27T12:30:00Z").json()["kpi"]
    assert before["current"] == 10
    logged = ok(team, "log", "sales.arr", "--json").json()["events"]
    assert any(e["type"] == "checkin.amended" for e in logged)


def test_failing_sources_never_stop_the_others(team, monkeypatch, tmp_path):
    write_sources(monkeypatch, tmp_path / "conf",
                  command_source("sales.arr", "print(7)")
                  + command_source("ops.uptime", "print('n/a (maintenance)')")
                  + command_source("ops.tickets", "import sys; print('boom', file=sys.stderr); "
                                                  "sys.exit(1)")
                  + command_source("ops.deploys", "import time; time.sleep(30)", "0.5s")
                  + '[[source]]\nkpi = "ops.cost"\nurl = "postgresql://x@127.0.0.1:9/none"\n'
                    'sql = "select 1"\ntimeout = "3s"\n')
    started = time.monotonic()
    result, doc = pull_json(team)
    assert time.monotonic() - started < 20  # the hung one was stopped at its timeout
    assert result.exit_code == 1
    errors = {r["kpi"]: r["error"] for r in doc["results"]}
    assert errors["sales.arr"] is None
    assert errors["ops.uptime"] == "printed 'n/a (maintenance)', not a number"
    assert errors["ops.tickets"] == "exited with status 1: boom"
    assert errors["ops.deploys"] == "timed out after 0.5s (stopped)"
    assert errors["ops.cost"].startswith("query failed at postgresql://x@127.0.0.1:9/none: ")
    lines = result.stderr.splitlines()
    assert [ln for ln in lines if ln.startswith("kpictl: pull ")] == [
        f"kpictl: pull {k}: {errors[k]}" for k in ("ops.uptime", "ops.tickets", "ops.deploys",
                                                    "ops.cost")]
    flags = {r["key"]: r["flags"] for r in ok(team, "report", "--json").json()["kpis"]}
    assert [k for k, f in flags.items() if "source_failed" in f] == sorted(
        ["ops.uptime", "ops.tickets", "ops.deploys", "ops.cost"], key=list(flags).index)
    assert "source_failed" not in flags["sales.arr"]
    assert [c["value"] for c in checkins(team, "sales.arr")] == [7]
    digest = ok(team, "report", "--since", "2026-11-27", "--json").json()
    Draft202012Validator(jsonschemas.load("digest")).validate(digest)
    assert {f["key"]: (f["failures"], f["error"]) for f in digest["source_failures"]} == {
        k: (1, errors[k]) for k in ("ops.uptime", "ops.tickets", "ops.deploys", "ops.cost")}
    md = ok(team, "report", "--since", "2026-11-27", "-f", "md").stdout
    assert "## Source failures" in md and "| ops.deploys | bob | 1 |" in md
    # Fixed: the next pull clears the flag (and the report before it still shows it).
    write_sources(monkeypatch, tmp_path / "conf", command_source("ops.uptime", "print(99.9)"))
    monkeypatch.setenv("KPICTL_NOW", "2026-11-27T14:00:00+00:00")
    assert pull_json(team)[0].exit_code == 0
    assert "source_failed" not in ok(team, "report", "ops.uptime", "--json").json()["kpi"]["flags"]
    before = ok(team, "report", "ops.uptime", "--json", "--as-of", "2026-11-27T13:00:00Z").json()
    assert "source_failed" in before["kpi"]["flags"]


def test_a_hung_command_and_its_children_are_killed(team, monkeypatch, tmp_path):
    marker = tmp_path / "survived"
    write_sources(monkeypatch, tmp_path / "conf",
                  f'[[source]]\nkpi = "sales.arr"\ntimeout = "1s"\ncommand = ["sh", "-c", '
                  f'"(sleep 3; touch {marker}) & sleep 30"]\n')
    result, doc = pull_json(team)
    assert result.exit_code == 1 and doc["results"][0]["error"] == "timed out after 1s (stopped)"
    time.sleep(4)
    assert not marker.exists()  # the grandchild died with its process group


def test_queries_run_read_only_on_sqlite(team, monkeypatch, tmp_path):
    (tmp_path / "conf").mkdir()
    db = metrics_db(tmp_path / "conf" / "metrics.db")
    write_sources(monkeypatch, tmp_path / "conf",
                  '[[source]]\nkpi = "ops.tickets"\nurl = "sqlite:///metrics.db"\n'
                  'sql = "delete from tickets returning 1"\n')
    result, doc = pull_json(team)
    assert result.exit_code == 1
    assert "readonly" in doc["results"][0]["error"] or "read-only" in doc["results"][0]["error"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from tickets").fetchone() == (2,)
    conn.close()


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"needs {PG_ENV}")
def test_queries_on_the_postgresql_server_are_read_only(team, monkeypatch, tmp_path):
    from sqlalchemy.engine import make_url

    url = make_url(os.environ[PG_ENV])
    password = url.password
    monkeypatch.setenv("PULL_PG_PASSWORD", password)
    template = (f"postgresql://{url.username}:${{PULL_PG_PASSWORD}}@{url.host or 'localhost'}"
                f"{':' + str(url.port) if url.port else ''}/{url.database}")
    write_sources(monkeypatch, tmp_path / "conf",
                  f'[[source]]\nkpi = "sales.arr"\nurl = "{template}"\n'
                  "sql = \"select 61.25, timestamptz '2026-11-26 10:00:00+00'\"\n\n"
                  f'[[source]]\nkpi = "ops.cost"\nurl = "{template}"\n'
                  'sql = "create table kpictl_pull_probe (x int)"\n')
    result, doc = pull_json(team)
    assert result.exit_code == 1
    arr, cost = doc["results"]
    assert (arr["value"], arr["at"], arr["action"]) == (61.25, "2026-11-26T10:00:00Z",
                                                        "recorded")
    assert "read-only transaction" in cost["error"]
    assert f":{password}@" not in result.stdout + result.stderr
    listed = ok(team, "sources", "--json").stdout
    assert f":{password}@" not in listed
    assert [(s["runs"].split("@")[0], s["variables"]) for s in json.loads(listed)["sources"]] == [
        (f"postgresql://{url.username}:***", ["PULL_PG_PASSWORD"])] * 2


def test_an_insecure_sources_file_is_refused_and_nothing_runs(team, monkeypatch, tmp_path):
    marker = tmp_path / "ran"
    path = write_sources(monkeypatch, tmp_path / "conf", command_source(
        "sales.arr", f"open({str(marker)!r}, 'w'); print(1)"), mode=0o620)
    before = dump_db()
    result = team("pull")
    assert_error(result, 2, f"refusing sources file: {path} is writable by group or others; "
                            f"fix: chmod go-w {path}")
    path.chmod(0o600)
    path.parent.chmod(0o777)
    assert "which group or others can write; fix: chmod go-w" in team("pull").stderr
    path.parent.chmod(0o700)
    if os.geteuid() == 0:  # only root can give a file away
        os.chown(path, 4242, -1)
        result = team("sources")
        assert result.exit_code == 2
        assert f"{path} is owned by uid 4242, not by you (uid 0); fix: chown 0" in result.stderr
    assert not marker.exists()
    assert dump_db() == before


def test_invalid_sources_files_are_refused_with_the_reason(team, monkeypatch, tmp_path):
    cases = {
        'source = "x"': "write each source as a [[source]] table",
        '[[source]]\nkpi = "sales.arr"\ncomand = ["echo"]': "unknown key(s) 'comand'",
        '[[source]]\nkpi = "sales.arr"\ncommand = "echo 1"':
            "command is a list of arguments run without a shell",
        '[[source]]\nkpi = "sales.arr"\nurl = "sqlite:///x.db"': "give a command, or both url",
        '[[source]]\nkpi = "sales.arr"\ncommand = ["echo"]\ntimeout = "soon"':
            "timeout 'soon': use a duration",
        '[[source]]\nkpi = "sales.arr"\ncommand = ["echo"]\n[[source]]\nkpi = "sales.arr"\n'
        'command = ["echo"]': "a second source for KPI 'sales.arr'",
        "[[source]\n": "invalid TOML",
    }
    for text, reason in cases.items():
        write_sources(monkeypatch, tmp_path / "conf", text)
        line = assert_error(team("pull"), 2)
        assert reason in line, (text, line)
    monkeypatch.setenv("KPICTL_SOURCES", str(tmp_path / "missing.toml"))
    assert "no sources file at" in assert_error(team("pull"), 2)
    write_sources(monkeypatch, tmp_path / "conf", command_source("sales.arr", "print(1)"))
    assert_error(team("pull", "sales.ar"), 3,
                 f"no source for KPI 'sales.ar' in {tmp_path / 'conf' / 'sources.toml'}; did "
                 "you mean 'sales.arr'?")


def test_secrets_are_never_printed(team, monkeypatch, tmp_path):
    monkeypatch.setenv("TOKEN", "s3cr3t-token")
    write_sources(monkeypatch, tmp_path / "conf",
                  '[[source]]\nkpi = "sales.arr"\ncommand = ["sh", "-c", '
                  '"echo failed with $0 >&2; exit 3", "${TOKEN}"]\n\n'
                  '[[source]]\nkpi = "ops.cost"\n'
                  'url = "postgresql://reader:hunter22@127.0.0.1:9/db"\nsql = "select 1"\n'
                  'timeout = "2s"\n\n'
                  '[[source]]\nkpi = "ops.uptime"\ncommand = ["echo", "${NOT_SET_ANYWHERE}"]\n')
    result, doc = pull_json(team)
    text = result.stdout + result.stderr
    assert "s3cr3t-token" not in text and "hunter22" not in text
    errors = [r["error"] for r in doc["results"]]
    assert errors[0] == "exited with status 3: failed with ***"
    assert "reader:***@127.0.0.1" in errors[1]
    assert errors[2] == "environment variable NOT_SET_ANYWHERE is not set"
    listed = team("sources", "--json")
    assert listed.exit_code == 1
    assert "s3cr3t-token" not in listed.stdout and "hunter22" not in listed.stdout
    doc = json.loads(listed.stdout)
    Draft202012Validator(jsonschemas.load("sources")).validate(doc)
    runs = {s["kpi"]: (s["runs"], s["problems"]) for s in doc["sources"]}
    assert runs["sales.arr"] == ("sh -c 'echo failed with $0 >&2; exit 3' '${TOKEN}'", [])
    assert runs["ops.cost"] == ("postgresql://reader:***@127.0.0.1:9/db", [])
    assert runs["ops.uptime"] == ("echo '${NOT_SET_ANYWHERE}'",
                                  ["environment variable(s) not set: NOT_SET_ANYWHERE"])


def test_sources_checks_kpis_people_and_programs(team, monkeypatch, tmp_path):
    ok(team, "close", "ops.cost", "--outcome", "cancelled")
    write_sources(monkeypatch, tmp_path / "conf",
                  command_source("sales.arr", "print(1)")
                  + '[[source]]\nkpi = "ops.gone"\ncommand = ["echo", "1"]\n\n'
                  + '[[source]]\nkpi = "ops.cost"\ncommand = ["no-such-program-x"]\nby = "zed"\n')
    result = team("sources", "--json")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("kpictl: error: 2 of 3 source(s) in ")
    problems = {s["kpi"]: s["problems"] for s in json.loads(result.stdout)["sources"]}
    assert problems == {"sales.arr": [], "ops.gone": ["no KPI 'ops.gone'"],
                        "ops.cost": ["KPI 'ops.cost' is closed (cancelled)",
                                     "no person 'zed' (by)",
                                     "command not found: no-such-program-x"]}
    table = team("sources").stdout
    assert "sales.arr" in table and "no KPI 'ops.gone'" in table


def test_dry_run_writes_nothing(team, monkeypatch, tmp_path):
    write_sources(monkeypatch, tmp_path / "conf", command_source("sales.arr", "print(5)")
                  + command_source("ops.uptime", "print('x')"))
    before = dump_db()
    result = team("pull", "--dry-run")
    assert result.exit_code == 1
    assert "would be recorded" in result.stdout
    assert dump_db() == before


@pytest.mark.sqlite_only("the pool's concurrency, not the backend")
def test_a_hundred_slow_sources_pull_in_well_under_their_sum(team, monkeypatch, tmp_path):
    many = [f"load.k{i:03d}" for i in range(95)]
    kpis = tmp_path / "kpis.csv"
    kpis.write_text("key,to,target,start,due\n" + "".join(
        f"{k},bob,9,2026-11-01,2026-12-31\n" for k in many))
    ok(team, "assign", "--file", str(kpis))
    text = "".join(f'[[source]]\nkpi = "{k}"\ncommand = ["sh", "-c", "sleep 0.2; echo {i}"]\n\n'
                   for i, k in enumerate(["sales.arr", *KPIS, *many]))
    write_sources(monkeypatch, tmp_path / "conf", text)
    started = time.monotonic()
    result, doc = pull_json(team)
    elapsed = time.monotonic() - started
    assert len(doc["results"]) == 100
    assert result.exit_code == 0, result.stderr
    assert [r["action"] for r in doc["results"]] == ["recorded"] * 100
    assert all(r["seconds"] >= 0.2 for r in doc["results"])
    assert elapsed < 100 * 0.2 / 2, elapsed  # 4 at a time: about 5 s, not 20 s


def test_a_source_for_an_objective_fails_naming_its_children(team, monkeypatch, tmp_path):
    ok(team, "assign", "ops", "--objective", "--to", "bob", "--title", "Ops")
    ok(team, "assign", "ops.uptime", "--parent", "ops")
    write_sources(monkeypatch, tmp_path / "conf", command_source("ops", "print(5)"))
    for args in (("--dry-run",), ()):
        result, doc = pull_json(team, *args)
        assert result.exit_code == 1
        assert doc["results"][0]["error"] == (
            "'ops' is an objective: it takes no check-ins; its progress comes from its "
            "children (ops.uptime): check in on those")
    assert checkins(team, "ops") == []
