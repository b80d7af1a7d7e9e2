"""Import: stream an export into an empty database, or compare it with a non-empty one (see
the package docstring). Every line is checked as it is read; nothing is written unless the
whole file is valid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.errors import Conflict, InvalidInput
from kpictl.models import Kpi, KpiTag, Milestone, Person, PersonSkill
from kpictl.schemas import WriteResult
from kpictl.services.transfer.checks import Checker
from kpictl.services.transfer.exports import data_records
from kpictl.services.transfer.records import (
    BATCH,
    END,
    FIELDS,
    SCHEMA,
    TABLES,
    TYPES,
    describe_counts,
    record,
)
from kpictl.services.transfer.values import json_reason, loads, show

MAX_LISTED = 20  # invalid lines named in the one-line error


def import_records(*, session: Session, lines: Iterable[str], source_name: str) -> WriteResult:
    """Load an export into an empty database; into a non-empty one only if nothing differs."""
    raw = _LastLine(lines)
    numbered = ((n, line) for n, line in enumerate(raw, 1) if line.strip())
    first = next(numbered, None)
    if first is None:
        raise InvalidInput(f"{source_name} is empty: expected a kpictl export, whose first "
                           f"line is {{\"schema\": \"{SCHEMA}\", …}}")
    _check_header(*first, source_name)
    empty = (session.execute(select(Person.id).limit(1)).first() is None
             and session.execute(select(Kpi.id).limit(1)).first() is None)
    checker = Checker()
    sink: _Inserter | _Comparer = _Inserter(session) if empty else _Comparer(
        data_records(session))
    current: str | None = None
    counts: Counter = Counter()
    end: tuple[int, dict] | None = None
    for n, line in numbered:
        if end is not None:
            raise InvalidInput(f"line {n} of {source_name} follows the end record (line "
                               f"{end[0]}): is this two exports joined together? Nothing was "
                               "imported")
        parsed = checker.check(n, line)
        if parsed is None:
            continue
        type_, values = parsed
        if type_ == END:
            end = (n, values)
            continue
        counts[type_] += 1
        if type_ != current:
            _close(checker, sink, current)
            current = type_
        if not checker.errors:
            sink.add(type_, values)
    _close(checker, sink, current)
    checker.finish()
    if checker.errors:
        total = len(checker.errors)
        shown = "; ".join(checker.errors[:MAX_LISTED])
        more = f"; and {total - MAX_LISTED} more" if total > MAX_LISTED else ""
        raise InvalidInput(f"{total} invalid record{'s' if total != 1 else ''} in "
                           f"{source_name} ({shown}{more}); nothing was imported")
    _check_end(end, counts, raw, source_name)
    return sink.result(source_name)


class _LastLine:
    """The lines of a file, remembering the last one (to see whether it ends the file)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines, self.last = lines, ""

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            if line.strip():
                self.last = line
            yield line


def _check_end(end, counts: Counter, raw: _LastLine, source_name: str) -> None:
    """The end record is there, ends the file, and counts what the file holds."""
    cut = f"{source_name} is cut short"
    if end is None:
        raise InvalidInput(f"{cut}: it has no end record (a complete export ends with "
                           "{\"type\": \"end\", …}); nothing was imported")
    n, expected = end
    if not raw.last.endswith("\n"):
        raise InvalidInput(f"{cut}: its end record (line {n}) has no line end; nothing was "
                           "imported")
    for type_ in TYPES:
        if expected.get(type_, 0) != counts[type_]:
            raise InvalidInput(
                f"{cut} or was edited: it holds {counts[type_]} {type_} record(s), its end "
                f"record (line {n}) says {expected.get(type_, 0)}; nothing was imported")


def _close(checker: Checker, sink, type_: str | None) -> None:
    if type_ is None:
        return
    checker.close(type_)
    if not checker.errors:
        sink.close(type_)


def _check_header(n: int, line: str, source_name: str) -> None:
    where = f"line {n} of {source_name}"
    try:
        document = loads(line.removeprefix("\ufeff"))  # a byte-order mark from Windows tools
    except ValueError as exc:
        raise InvalidInput(f"{where} is not JSON ({json_reason(exc)}); expected the "
                           f"{SCHEMA} header") from None
    schema = document.get("schema") if isinstance(document, dict) else None
    if schema != SCHEMA:
        found = f"schema {show(schema)}" if schema is not None else "no schema"
        raise InvalidInput(f"{where} has {found}: not a kpictl export (this kpictl reads "
                           f"{SCHEMA})")



class _Inserter:
    """Writes validated records into the empty database, in file order, in batches."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: list[dict] = []
        self.ids: dict[str, dict[str, int]] = {"person": {}, "kpi": {}}
        self.counts: Counter = Counter()

    def add(self, type_: str, values: dict) -> None:
        self.pending.append(values)
        self.counts[type_] += 1
        if type_ not in ("person", "kpi") and len(self.pending) >= BATCH:
            self._write(type_)

    def close(self, type_: str) -> None:
        self._write(type_)
        if type_ in ("person", "kpi"):
            column = Person.handle if type_ == "person" else Kpi.key
            self.ids[type_] = {name: id_ for id_, name in self.session.execute(
                select(TABLES[type_].id, column))}
            getattr(self, f"_after_{type_}")()
        self.pending = []

    def _write(self, type_: str) -> None:
        if not self.pending:
            return
        rows = [self._row(type_, v) for v in self.pending]
        self.session.execute(TABLES[type_].__table__.insert(), rows)
        if type_ not in ("person", "kpi"):
            self.pending = []

    def _row(self, type_: str, values: dict) -> dict:
        row = {}
        for f in FIELDS[type_]:
            if f.column is None or (type_ == "person" and f.name == "manager"):
                continue  # lists go to their own tables; managers once everyone has an id
            value = values[f.name]
            if f.column == "id" and value is None:
                continue  # an export from before check-ins kept their ids: the database picks
            if f.kind in ("person", "kpi") and value is not None:
                value = self.ids[f.kind][value]
            row[f.column] = value
        return row

    def _after_person(self) -> None:
        people, table = self.ids["person"], Person.__table__
        managed = [{"pid": people[v["handle"]], "mid": people[v["manager"]]}
                   for v in self.pending if v["manager"] is not None]
        if managed:
            self.session.execute(
                table.update().where(table.c.id == sa.bindparam("pid"))
                .values(manager_id=sa.bindparam("mid")), managed)
        skills = [{"person_id": people[v["handle"]], "skill": s, "level": level}
                  for v in self.pending for s, level in v["skills"]]
        if skills:
            self.session.execute(PersonSkill.__table__.insert(), skills)

    def _after_kpi(self) -> None:
        kpis = self.ids["kpi"]
        tags = [{"kpi_id": kpis[v["key"]], "tag": t} for v in self.pending for t in v["tags"]]
        marks = [{"kpi_id": kpis[v["key"]], "at": at, "value": value}
                 for v in self.pending for at, value in v["milestones"]]
        if tags:
            self.session.execute(KpiTag.__table__.insert(), tags)
        if marks:
            self.session.execute(Milestone.__table__.insert(), marks)

    def result(self, source_name: str) -> WriteResult:
        from kpictl.services import stats

        if self.session.get_bind().dialect.name == "postgresql" and self.counts["checkin"]:
            # check-ins came with their ids: the next id the server hands out follows them
            self.session.execute(sa.text(
                "SELECT setval(pg_get_serial_sequence('checkin', 'id'), "
                "(SELECT max(id) FROM checkin))"))
        stats.rebuild(self.session)  # derived data: computed, never imported
        return WriteResult("import.done",
                           f"imported {describe_counts(self.counts)} from {source_name}",
                           {"imported": {t: self.counts[t] for t in TYPES}})


class _Comparer:
    """Compares validated records with the database's own export, in lockstep."""

    def __init__(self, existing: Iterator[dict]) -> None:
        self.existing = existing
        self.differs = False

    def add(self, type_: str, values: dict) -> None:
        if not self.differs and next(self.existing, None) != record(type_, values):
            self.differs = True

    def close(self, type_: str) -> None:
        pass

    def result(self, source_name: str) -> WriteResult:
        if self.differs or next(self.existing, None) is not None:
            raise Conflict(f"the database is not empty and differs from {source_name}; import "
                           f"only into a new database (kpictl --db new.db import {source_name})")
        return WriteResult("import.identical",
                           f"already identical, nothing imported ({source_name} holds the "
                           "records this database has)", {"imported": {t: 0 for t in TYPES}})
