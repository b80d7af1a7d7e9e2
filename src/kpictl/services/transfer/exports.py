"""Export: the header, every record in the stable order of the package docstring, the end
record."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import zip_longest

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl import __version__
from kpictl.db import SCHEMA_REVISION
from kpictl.models import Kpi, KpiTag, Milestone, Person, PersonSkill
from kpictl.services.transfer.records import (
    BATCH,
    END,
    FIELDS,
    HISTORY_ORDER,
    SCHEMA,
    TABLES,
    TYPES,
    F,
    record,
)
from kpictl.textforms import iso


def header(now: datetime) -> dict:
    return {"schema": SCHEMA, "generated_at": iso(now), "kpictl_version": __version__,
            "schema_revision": SCHEMA_REVISION}


def export_records(*, session: Session, now: datetime) -> Iterator[dict]:
    """The header, then every record, in the stable order of the module docstring."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # One snapshot for the several queries of an export, as SQLite's read transaction gives.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    yield header(now)
    counts: Counter = Counter()
    for item in data_records(session):
        counts[item["type"]] += 1
        yield item
    yield trailer(counts)


def trailer(counts: Counter) -> dict:
    """The end record: how many records of each type the file holds (see the module doc)."""
    return {"type": END, "counts": {t: counts[t] for t in TYPES}}


def same_records(a: Iterable[dict], b: Iterable[dict]) -> bool:
    """Two exports hold the same records (the header's ``generated_at`` is ignored)."""
    def strip(record: dict) -> dict:
        return {k: v for k, v in record.items() if k != "generated_at"} if "schema" in record \
            else record

    missing = object()
    return all(x is not missing and y is not missing and strip(x) == strip(y)
               for x, y in zip_longest(a, b, fillvalue=missing))


def data_records(session: Session) -> Iterator[dict]:
    handles = dict(session.execute(select(Person.id, Person.handle)).all())
    keys = dict(session.execute(select(Kpi.id, Kpi.key)).all())
    refs = {"person": handles, "kpi": keys}

    skills = defaultdict(list)
    for pid, skill, level in session.execute(
            select(PersonSkill.person_id, PersonSkill.skill, PersonSkill.level)):
        skills[pid].append((skill, level))
    people = session.execute(select(*Person.__table__.c)).all()
    for row in sorted(people, key=lambda r: r.handle):
        yield record("person", _values("person", row, refs) | {"skills": skills[row.id]})

    tags, milestones = defaultdict(list), defaultdict(list)
    for kid, tag in session.execute(select(KpiTag.kpi_id, KpiTag.tag)):
        tags[kid].append(tag)
    for kid, at, value in session.execute(select(Milestone.kpi_id, Milestone.at,
                                                 Milestone.value)):
        milestones[kid].append((at, value))
    kpis = session.execute(select(*Kpi.__table__.c)).all()
    for row in sorted(kpis, key=lambda r: r.key):
        yield record("kpi", _values("kpi", row, refs)
                     | {"tags": tags[row.id], "milestones": milestones[row.id]})

    for type_, time_column in HISTORY_ORDER.items():
        table = TABLES[type_].__table__
        fields = [f for f in FIELDS[type_] if f.column is not None]
        convert = [_converter(f, refs) for f in fields]
        names = ["type", *(f.name for f in fields)]
        stmt = (select(*(table.c[f.column] for f in fields))
                .order_by(table.c[time_column], table.c.id).execution_options(yield_per=BATCH))
        # The hot loop of a large export (a million check-ins): positional and precomputed.
        for row in session.execute(stmt):
            yield dict(zip(names, (type_, *(c(v) if c and v is not None else v
                                            for c, v in zip(convert, row)))))


def _converter(f: F, refs: dict[str, dict[int, str]]):
    """How a non-null column value becomes its file form (None: as it is)."""
    if f.kind == "time":
        return iso
    if f.kind in ("person", "kpi"):
        return refs[f.kind].__getitem__
    return float if f.kind == "float" else None


def _values(type_: str, row, refs: dict[str, dict[int, str]]) -> dict:
    """A table row as the record's values (ids resolved to handles and keys)."""
    values = {}
    for f in FIELDS[type_]:
        if f.column is None:
            continue
        value = getattr(row, f.column)
        if f.kind in ("person", "kpi") and value is not None:
            value = refs[f.kind][value]
        values[f.name] = value
    return values

