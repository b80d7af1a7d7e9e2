"""An export cut short anywhere is refused whole (PRODUCT §4), and one with corrections and
reopens round-trips: export → import → export is byte-identical after the header."""

from __future__ import annotations

from tests.cli.conftest import assert_error, ok
from tests.transfer.test_export_import import (  # noqa: F401 - fixtures
    EMPTY,
    export_text,
    new_db,
    records,
    rich,
    rich_template,
    write,
)


def test_every_prefix_of_an_export_is_refused_and_writes_nothing(rich, tmp_path, new_db):
    text = export_text(rich)
    lines = text.splitlines(keepends=True)
    assert '"type": "correction"' in text and '"type": "end"' in lines[-1]
    target = new_db()
    prefixes = []
    for n in range(1, len(lines)):  # every line boundary, the header alone included
        prefixes.append("".join(lines[:n]))
    for n, line in enumerate(lines):  # inside every line: half-way, and just before its end
        for cut in {len(line) // 2, len(line) - 1}:
            prefixes.append("".join(lines[:n]) + line[:cut])
    assert text[:-1] in prefixes  # the complete file but for its final line end
    for i, prefix in enumerate(prefixes):
        path = write(tmp_path, prefix, f"cut{i}.jsonl")
        message = assert_error(rich("--db", target, "import", path), 2)
        assert "nothing was imported" in message or "header" in message, message
    assert records(export_text(rich, target)) == EMPTY


def test_a_cut_export_piped_into_import_is_refused(rich, tmp_path, new_db):
    lines = export_text(rich).splitlines(keepends=True)
    target = new_db()
    message = assert_error(rich("--db", target, "import", "-", input="".join(lines[:12])), 2)
    assert message == ("kpictl: error: stdin is cut short: it has no end record (a complete export "
                       'ends with {"type": "end", …}); nothing was imported')
    assert records(export_text(rich, target)) == EMPTY


def test_an_edited_count_or_records_after_the_end_are_refused(rich, tmp_path, new_db):
    text = export_text(rich)
    lines = text.splitlines(keepends=True)
    target = new_db()
    edited = lines[:-1] + [lines[-1].replace('"checkin": 7', '"checkin": 8')]
    path = write(tmp_path, "".join(edited), "edited.jsonl")
    assert_error(rich("--db", target, "import", path), 2,
                 f"{path} is cut short or was edited: it holds 7 checkin record(s), its end "
                 f"record (line {len(lines)}) says 8; nothing was imported")
    joined = write(tmp_path, text + lines[1], "joined.jsonl")
    assert_error(rich("--db", target, "import", joined), 2,
                 f"line {len(lines) + 1} of {joined} follows the end record (line {len(lines)}):"
                 " is this two exports joined together? Nothing was imported")
    assert records(export_text(rich, target)) == EMPTY


def test_corrections_and_reopens_round_trip_byte_for_byte(rich, tmp_path, new_db):
    first = export_text(rich)
    target = new_db()
    ok(rich, "--db", target, "import", write(tmp_path, first))
    second = export_text(rich, target)
    assert second.split("\n", 1)[1] == first.split("\n", 1)[1]
    # …and the imported database tells the same story: ids, corrections, the reopen.
    for args in (("report", "ops.uptime", "--json"), ("report", "eng.latency", "--json"),
                 ("report", "--json"), ("log", "--json")):
        original = rich(*args).json()
        copy = rich("--db", target, *args).json()
        assert copy == original, args
    uptime = rich("--db", target, "report", "ops.uptime", "--json").json()
    assert [(c["id"], c["status"], c["value"]) for c in uptime["checkins"]] == [
        (3, "amended", 99.4)]
    # the ids go on where they left off: a new check-in after import gets the next one
    ok(rich, "--db", target, "checkin", "ops.uptime", "99.9")
    again = rich("--db", target, "report", "ops.uptime", "--json").json()
    assert [c["id"] for c in again["checkins"]] == [3, 8]


def test_a_check_in_before_its_kpi_start_is_refused_on_import(rich, tmp_path, new_db):
    lines = export_text(rich).splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if '"checkin", "id": 2,' in line)
    lines[n] = lines[n].replace('"measured_at": "2026-10-20T00:00:00Z"',
                                '"measured_at": "2026-09-20T00:00:00Z"')
    path = write(tmp_path, "".join(lines), "early.jsonl")
    target = new_db()
    assert_error(rich("--db", target, "import", path), 2,
                 f"1 invalid record in {path} (line {n + 1}: a check-in measured "
                 "2026-09-20T00:00:00Z, before the start of KPI support.backlog "
                 "(2026-10-01T00:00:00Z) when it was recorded); nothing was imported")
    assert records(export_text(rich, target)) == EMPTY
