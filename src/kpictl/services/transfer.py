"""Export and import: the whole database as JSON Lines (``kpictl.export/1``), losslessly.

Design decisions:

* One header line, then one record per line in a fixed order of types: people, KPIs,
  assignments, field changes (the ``kpi_change`` log that ``--as-of`` rewinds through),
  check-ins, feedback, away windows, and the log of nudges sent. People and KPIs are sorted by handle and key; history records by their
  own time and then by database id. An import inserts in file order, so new ids keep that
  order: every tie that a report breaks "by time, then id" comes back the same way, and a
  second export is byte-identical after the header.
* References are handles and keys, never ids. Times are UTC ISO-8601 with ``Z`` (microseconds
  kept); floats are JSON numbers, which round-trip exactly. The field specs below drive both
  directions, so export and import cannot disagree on a field.
* The last line is an end record, ``{"type": "end", "counts": {…}}``, with the number of
  records of each type. An import refuses a file without it, with anything after it, or whose
  counts differ: an export cut short anywhere — at a line boundary or inside a line — is
  refused whole, with nothing written.
* Check-ins keep their ids (the ids `kpictl amend` and `retract` take); corrections refer to
  the check-in they correct by that id.
* Import writes only into an empty database, streaming, in the caller's one transaction: every
  line is validated as it is read, and any invalid line rolls everything back. A non-empty
  database is compared with the file record by record: identical is a no-op success, anything
  else a conflict (merging two histories is not something a file format can decide).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import zip_longest

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl import __version__
from kpictl.db import SCHEMA_REVISION
from kpictl.domain import HANDLE_RE, KEY_RE, TAG_RE, Kind, NudgeType, Outcome
from kpictl.errors import Conflict, InvalidInput
from kpictl.models import (
    Assignment,
    Away,
    Checkin,
    CheckinCorrection,
    Feedback,
    Kpi,
    KpiChange,
    KpiTag,
    Milestone,
    PeriodTarget,
    NudgeSent,
    Person,
    PersonChange,
    PersonSkill,
)
from kpictl.render.machine import iso
from kpictl.schemas import WriteResult
from kpictl.services.limits import MAX_MILESTONES
from kpictl.services.periods import AGGREGATES, EVERY
from kpictl.timeparse import MAX_NUMBER, MAX_YEAR, MIN_YEAR

SCHEMA = "kpictl.export/1"
TYPES = ("person", "kpi", "assignment", "change", "checkin", "correction", "feedback",
         "person_change", "away", "nudge", "period_target")
END = "end"  # the type of the trailer record
STATES = ("active", *(o.value for o in Outcome))
BATCH = 5_000  # rows per INSERT … executemany while streaming an import
MAX_LISTED = 20  # invalid lines named in the one-line error


@dataclass(frozen=True)
class F:
    """One field of a record: its name in the file, its column, and what values it takes."""

    name: str
    column: str | None
    kind: str  # a key of _VALUE: text, handle, time, person (a reference), tags, …
    required: bool = True  # False: may be null or left out
    limit: int | None = None  # most characters of a text
    lo: int | None = None  # bounds of an int
    hi: int | None = None
    choices: tuple[str, ...] = ()


FIELDS: dict[str, tuple[F, ...]] = {
    "person": (
        F("handle", "handle", "handle"),
        F("name", "name", "text", limit=200),
        F("email", "email", "text", False, limit=320),
        F("capacity", "capacity", "int", lo=0, hi=1000),
        F("manager", "manager_id", "person", False),
        F("active", "active", "bool"),
        F("created_at", "created_at", "time"),
        F("skills", None, "skills", False),
    ),
    "kpi": (
        F("key", "key", "key"),
        F("title", "title", "text", limit=300),
        F("outcome", "outcome", "text", False),
        F("unit", "unit", "text", False, limit=40),
        F("kind", "kind", "choice", choices=tuple(k.value for k in Kind)),
        F("baseline", "baseline", "float", False),
        F("target", "target", "float", False),
        F("low", "low", "float", False),
        F("high", "high", "float", False),
        F("start", "start", "time"),
        F("due", "due", "time"),
        F("cadence", "cadence", "cadence"),
        F("grace", "grace", "grace"),
        F("zone", "zone", "zone", False),  # left out by exports before 0003: UTC
        F("owner", "owner_id", "person"),
        F("delegated_by", "delegated_by_id", "person", False),
        F("state", "state", "choice", choices=STATES),
        F("closed_at", "closed_at", "time", False),
        F("close_note", "close_note", "text", False),
        F("created_at", "created_at", "time"),
        F("updated_at", "updated_at", "time"),
        F("tags", None, "tags", False),
        F("milestones", None, "milestones", False),
        # Ongoing KPIs (migration 0009); left out by older exports: a one-off KPI.
        F("every", "every", "choice", False, choices=EVERY),
        F("aggregate", "aggregate", "choice", False, choices=AGGREGATES),
    ),
    "assignment": (
        F("kpi", "kpi_id", "kpi"),
        F("to", "person_id", "person"),
        F("by", "assigned_by_id", "person", False),
        F("valid_from", "valid_from", "time"),
        F("valid_until", "valid_until", "time", False),
        F("note", "note", "text", False),
        F("recorded_at", "recorded_at", "time"),
    ),
    "change": (
        F("kpi", "kpi_id", "kpi"),
        F("at", "at", "time"),
        F("by", "by_id", "person", False),
        F("field", "field", "text", limit=32),
        F("old", "old_value", "text", False),
        F("new", "new_value", "text", False),
        F("reason", "reason", "text", False),
    ),
    "checkin": (
        F("id", "id", "int", False, lo=1, hi=2**62),
        F("kpi", "kpi_id", "kpi"),
        F("value", "value", "float"),
        F("measured_at", "measured_at", "time"),
        F("recorded_at", "recorded_at", "time"),
        F("by", "author_id", "person", False),
        F("confidence", "confidence", "int", False, lo=0, hi=10),
        F("note", "note", "text", False),
        F("blocker", "blocker", "text", False),
        F("source", "source", "text", limit=120),
        F("key", "idem_key", "text", False, limit=200),
    ),
    "correction": (
        F("kpi", "kpi_id", "kpi"),
        F("checkin", "checkin_id", "int", lo=1, hi=2**62),
        F("kind", "kind", "choice", choices=("amend", "retract")),
        F("at", "recorded_at", "time"),
        F("by", "by_id", "person", False),
        F("reason", "reason", "text"),
        F("value", "value", "float"),
        F("measured_at", "measured_at", "time"),
        F("confidence", "confidence", "int", False, lo=0, hi=10),
        F("note", "note", "text", False),
        F("blocker", "blocker", "text", False),
    ),
    "feedback": (
        F("kpi", "kpi_id", "kpi"),
        F("by", "author_id", "person", False),
        F("at", "at", "time"),
        F("text", "text", "text"),
    ),
    "person_change": (
        F("person", "person_id", "person"),
        F("at", "at", "time"),
        F("by", "by_id", "person", False),
        F("field", "field", "text", limit=32),
        F("old", "old_value", "text", False),
        F("new", "new_value", "text", False),
    ),
    "away": (
        F("person", "person_id", "person"),
        F("starts", "starts", "time"),
        F("ends", "ends", "time"),
        F("cover", "cover_id", "person", False),
        F("by", "by_id", "person", False),
        F("recorded_at", "recorded_at", "time"),
    ),
    "nudge": (  # the log of nudges sent, so an imported database does not send them again
        F("to", "recipient_id", "person"),
        F("nudge", "type", "choice", choices=tuple(t.value for t in NudgeType)),
        F("kpi", "kpi_id", "kpi"),
        F("slot", "slot", "text", limit=64),
        F("level", "level", "int", lo=0, hi=1000),
        F("sent_at", "sent_at", "time"),
    ),
    "period_target": (  # an ongoing KPI's per-period targets, as recorded (append-only)
        F("kpi", "kpi_id", "kpi"),
        F("period", "period", "text", limit=16),
        F("target", "target", "float", False),
        F("low", "low", "float", False),
        F("high", "high", "float", False),
        F("by", "by_id", "person", False),
        F("recorded_at", "recorded_at", "time"),
    ),
}
TABLES = {"person": Person, "kpi": Kpi, "assignment": Assignment, "change": KpiChange,
          "checkin": Checkin, "correction": CheckinCorrection, "feedback": Feedback,
          "person_change": PersonChange, "away": Away, "nudge": NudgeSent,
          "period_target": PeriodTarget}
#: History tables in file order: by their own time, then by id (see the module docstring).
HISTORY_ORDER = {"assignment": "valid_from", "change": "at", "checkin": "measured_at",
                 "correction": "recorded_at", "feedback": "at", "person_change": "at",
                 "away": "starts", "nudge": "sent_at", "period_target": "recorded_at"}


# --------------------------------------------------------------------------- export

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


def record(type_: str, values: dict) -> dict:
    """The canonical record for ``values`` (datetimes, floats and lists in their file form)."""
    out: dict = {"type": type_}
    for f in FIELDS[type_]:
        value = values.get(f.name)
        if f.kind == "time":
            value = iso(value)
        elif f.kind == "float" and value is not None:
            value = float(value)
        elif f.kind == "skills":
            value = [{"skill": s, "level": lv} for s, lv in sorted(value or ())]
        elif f.kind == "tags":
            value = sorted(value or ())
        elif f.kind == "milestones":
            value = [{"at": iso(at), "value": float(v)} for at, v in sorted(value or ())]
        out[f.name] = value
    return out


_ONLY_IF_ANY = ("away", "nudge", "period_target")  # named in the summary only when the file has some


def describe_counts(counts: Counter) -> str:
    """``8 people, 20 KPIs, 23 assignments, … and 5 feedback notes``."""
    words = {"person": ("person", "people"), "kpi": ("KPI", "KPIs"),
             "assignment": ("assignment", "assignments"), "change": ("change", "changes"),
             "checkin": ("check-in", "check-ins"), "correction": ("correction", "corrections"),
             "feedback": ("feedback note", "feedback notes"),
             "person_change": ("person change", "person changes"),
             "away": ("away window", "away windows"), "nudge": ("nudge sent", "nudges sent"),
             "period_target": ("period target", "period targets")}
    parts = [f"{counts[t]} {words[t][counts[t] != 1]}" for t in TYPES
             if counts[t] or t not in _ONLY_IF_ANY]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# --------------------------------------------------------------------------- import

class _Bad(Exception):
    """One reason a record is invalid (becomes ``line N: reason``)."""


class _Consequence(Exception):
    """A reference that may be to a record on an unreadable line: not reported on its own."""


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
    checker = _Checker()
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


def _close(checker: _Checker, sink, type_: str | None) -> None:
    if type_ is None:
        return
    checker.close(type_)
    if not checker.errors:
        sink.close(type_)


def _check_header(n: int, line: str, source_name: str) -> None:
    where = f"line {n} of {source_name}"
    try:
        document = _loads(line.removeprefix("\ufeff"))  # a byte-order mark from Windows tools
    except ValueError as exc:
        raise InvalidInput(f"{where} is not JSON ({_json_reason(exc)}); expected the "
                           f"{SCHEMA} header") from None
    schema = document.get("schema") if isinstance(document, dict) else None
    if schema != SCHEMA:
        found = f"schema {_show(schema)}" if schema is not None else "no schema"
        raise InvalidInput(f"{where} has {found}: not a kpictl export (this kpictl reads "
                           f"{SCHEMA})")


def _reject_constant(token: str):
    raise ValueError(f"{token} is not a JSON number")


def _loads(line: str):
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _json_reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return str(exc)


def _show(value, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class _Checker:
    """Validates records one line at a time and remembers what later lines may refer to."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.unreadable = False  # a line whose person or KPI could not even be identified
        self.rank = 0  # index in TYPES of the latest valid record: the file keeps TYPES order
        self.handles: set[str] = set()
        self.managers: dict[str, tuple[int, str]] = {}
        self.keys: set[str] = set()
        self.open_assignment: set[str] = set()
        self.idem_keys: dict[str, set[str]] = defaultdict(set)
        self.starts: dict[str, datetime] = {}  # each KPI's start as the file ends
        self.start_changes: dict[str, list] = defaultdict(list)  # (at, start before), by at
        self.checkins: dict[int, str] = {}  # id → KPI key
        self.with_ids: bool | None = None  # whether check-in records carry ids
        self.early: dict[int, tuple[int, str]] = {}  # measured before the start: id → line
        self.nudges: set[tuple] = set()  # (to, nudge, kpi, slot, level): each sent once

    def check(self, n: int, line: str) -> tuple[str, dict] | None:
        try:
            return self._check(line.rstrip("\r\n"), n)
        except _Consequence:
            return None
        except _Bad as exc:
            self.errors.append(f"line {n}: {exc}")
            return None

    def _check(self, line: str, n: int) -> tuple[str, dict]:
        try:
            document = _loads(line)
        except ValueError as exc:
            self.unreadable = True
            raise _Bad(f"not valid JSON ({_json_reason(exc)})") from None
        if not isinstance(document, dict):
            self.unreadable = True
            raise _Bad("expected a JSON object")
        type_ = document.get("type")
        if type_ == END:
            return END, self._end(document)
        if type_ not in FIELDS:
            self.unreadable = True
            if "schema" in document and type_ is None:
                raise _Bad("a second header; is this two exports joined together?")
            raise _Bad(f"unknown type {_show(type_)}; use one of {', '.join(TYPES)}"
                       if type_ is not None else "no \"type\"")
        # A person or KPI is known to later lines even when its record is invalid, so that
        # one bad line is reported once, not once more for every line that refers to it.
        names = {"person": self.handles, "kpi": self.keys}.get(type_)
        name = document.get("handle" if type_ == "person" else "key")
        if names is not None and isinstance(name, str) and name in names:
            raise _Bad(f"{'person' if type_ == 'person' else 'KPI'} {_show(name)} appears twice")
        try:
            if TYPES.index(type_) < self.rank:
                raise _Bad(f"a {type_} record after {TYPES[self.rank]} records; records "
                           f"follow the export order {', '.join(TYPES)}")
            fields = FIELDS[type_]
            unknown = sorted(set(document) - {"type"} - {f.name for f in fields})
            if unknown:
                raise _Bad(f"unknown field {_show(unknown[0])} in a {type_} record")
            values = {f.name: self._field(f, document, type_) for f in fields}
            getattr(self, f"_{type_}")(values, n)
        finally:
            if names is not None:
                if isinstance(name, str):
                    names.add(name)
                else:
                    self.unreadable = True
        self.rank = TYPES.index(type_)
        return type_, values

    def _end(self, document: dict) -> dict:
        counts = document.get("counts")
        if set(document) != {"type", "counts"} or not isinstance(counts, dict) or any(
                t not in TYPES or isinstance(c, bool) or not isinstance(c, int) or c < 0
                for t, c in counts.items()):
            raise _Bad("an end record is {\"type\": \"end\", \"counts\": {TYPE: N, …}}")
        return counts

    def _field(self, f: F, document: dict, type_: str):
        value = document.get(f.name)
        if value is None:
            if f.required:
                raise _Bad(f"{type_} record without \"{f.name}\"" if f.name not in document
                           else f"\"{f.name}\" is null in a {type_} record")
            return [] if f.kind in ("skills", "tags", "milestones") else None
        try:
            return _VALUE[f.kind](f, value)
        except _Bad as exc:
            raise _Bad(f"\"{f.name}\" {exc}") from None

    def _person(self, v: dict, n: int) -> None:
        if v["manager"] is not None:
            self.managers[v["handle"]] = (n, v["manager"])

    def _kpi(self, v: dict, n: int) -> None:
        key = v["key"]
        if v.get("zone") is None:
            v["zone"] = "UTC"
        self._people(v, "owner", "delegated_by")
        if v["due"] <= v["start"]:
            raise _Bad(f"KPI {key}: \"due\" is not after \"start\"")
        kind, b, t, low, high = (v[k] for k in ("kind", "baseline", "target", "low", "high"))
        if kind in ("increase", "decrease"):
            if b is None or t is None:
                raise _Bad(f"KPI {key}: a {kind} KPI needs \"baseline\" and \"target\"")
            if b == t:
                raise _Bad(f"KPI {key}: \"target\" equals \"baseline\"")
        elif kind in ("at-least", "at-most") and t is None:
            raise _Bad(f"KPI {key}: an {kind} KPI needs \"target\"")
        elif kind == "range" and (low is None or high is None or low >= high or t is not None):
            raise _Bad(f"KPI {key}: a range KPI needs \"low\" below \"high\" and no \"target\"")
        if (v["every"] is None) != (v["aggregate"] is None):
            raise _Bad(f"KPI {key}: \"every\" and \"aggregate\" are set together (ongoing) "
                       "or not at all")
        if (v["state"] == "active") != (v["closed_at"] is None):
            raise _Bad(f"KPI {key}: \"closed_at\" must be set exactly when \"state\" is closed")
        self.starts[key] = v["start"]

    def _assignment(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "to", "by")
        if v["valid_until"] is None:
            if v["kpi"] in self.open_assignment:
                raise _Bad(f"a second open assignment (no \"valid_until\") of KPI {v['kpi']}")
            self.open_assignment.add(v["kpi"])
        elif v["valid_until"] < v["valid_from"]:
            raise _Bad("\"valid_until\" is before \"valid_from\"")

    def _change(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")
        if v["field"] == "start" and v["old"]:
            try:
                before = datetime.fromisoformat(v["old"].replace("Z", "+00:00"))
            except ValueError:
                raise _Bad(f"\"old\" {_show(v['old'])} is not a start time") from None
            self.start_changes[v["kpi"]].append((v["at"], before))

    def _start_at(self, key: str, instant: datetime) -> datetime | None:
        """The KPI's start as it was at ``instant`` (the change log undone after it)."""
        for at, before in self.start_changes.get(key, ()):
            if at > instant:
                return before
        return self.starts.get(key)

    def _before_start(self, key: str, measured: datetime, recorded: datetime) -> str | None:
        start = self._start_at(key, recorded)
        if start is not None and measured < start:
            return (f"measured {iso(measured)}, before the start of KPI {key} "
                    f"({iso(start)}) when it was recorded")
        return None

    def _checkin(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")
        has_id = v["id"] is not None
        if self.with_ids is None:
            self.with_ids = has_id
        elif self.with_ids != has_id:
            raise _Bad("some check-in records have an \"id\" and some do not")
        if has_id:
            if v["id"] in self.checkins:
                raise _Bad(f"check-in id {v['id']} appears twice")
            self.checkins[v["id"]] = v["kpi"]
        early = self._before_start(v["kpi"], v["measured_at"], v["recorded_at"])
        if early:
            if not has_id:
                raise _Bad(f"a check-in {early}")
            self.early[v["id"]] = (n, early)  # unless a correction below puts it right
        if v["key"] is not None:
            seen = self.idem_keys[v["kpi"]]
            if v["key"] in seen:
                raise _Bad(f"check-in key {_show(v['key'])} is used twice on KPI {v['kpi']}")
            seen.add(v["key"])

    def _correction(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")
        if self.checkins.get(v["checkin"]) != v["kpi"]:
            raise _Bad(f"\"checkin\" {v['checkin']} is not a check-in of KPI {v['kpi']} in "
                       "this file")
        if v["kind"] == "retract":
            self.early.pop(v["checkin"], None)
            return
        early = self._before_start(v["kpi"], v["measured_at"], v["at"])
        if early:
            raise _Bad(f"a correction {early}")
        self.early.pop(v["checkin"], None)

    def _person_change(self, v: dict, n: int) -> None:
        self._people(v, "person", "by")

    def finish(self) -> None:
        """Checks that needed the whole file: check-ins measured before their KPI's start
        (refused, unless corrected or retracted)."""
        for n, reason in sorted(self.early.values()):
            self.errors.append(f"line {n}: a check-in {reason}")

    def _feedback(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")

    def _away(self, v: dict, n: int) -> None:
        self._people(v, "person", "cover", "by")
        if v["ends"] < v["starts"]:
            raise _Bad("\"ends\" is before \"starts\"")

    def _nudge(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "to")
        identity = (v["to"], v["nudge"], v["kpi"], v["slot"], v["level"])
        if identity in self.nudges:
            raise _Bad("the same nudge is recorded twice")
        self.nudges.add(identity)

    def _period_target(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")

    def _kpi_ref(self, v: dict) -> None:
        if v["kpi"] not in self.keys:
            if self.unreadable:
                raise _Consequence
            raise _Bad(f"\"kpi\" {_show(v['kpi'])} is not a KPI of this file")

    def _people(self, v: dict, *names: str) -> None:
        for name in names:
            if v[name] is not None and v[name] not in self.handles:
                if self.unreadable:
                    raise _Consequence
                raise _Bad(f"\"{name}\" {_show(v[name])} is not a person of this file")

    def close(self, type_: str) -> None:
        """Checks that need the whole section: managers exist, and no one manages themself."""
        if type_ != "person":
            return
        for handle, (n, manager) in self.managers.items():
            if manager not in self.handles:
                if self.unreadable:
                    continue
                self.errors.append(f"line {n}: \"manager\" {_show(manager)} is not a person "
                                   "of this file")
                continue
            seen, boss = {handle}, manager
            while boss is not None and boss not in seen:
                seen.add(boss)
                boss = self.managers.get(boss, (0, None))[1]
            if boss == handle:
                self.errors.append(f"line {n}: {handle} is their own (indirect) manager")


# Value checks by field kind: return the Python value or raise _Bad with the reason.

def _text(f: F, value) -> str:
    if not isinstance(value, str):
        raise _Bad(f"must be text, not {_show(value)}")
    if "\x00" in value:
        raise _Bad("contains a NUL byte")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad("is not valid text (lone surrogate)") from None
    if f.limit is not None and len(value) > f.limit:
        raise _Bad(f"is too long ({len(value)} characters; at most {f.limit})")
    if f.required and not value.strip():
        raise _Bad("is empty")
    return value


def _pattern(regex, what: str):
    def check(f: F, value) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise _Bad(f"{_show(value)} is not a valid {what}")
        return value
    return check


def _number(f: F, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(f"must be a number, not {_show(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:  # as the command line
        raise _Bad(f"is out of range (at most {MAX_NUMBER:g} in magnitude)")
    return number + 0.0


def _integer(f: F, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not f.lo <= value <= f.hi:
        raise _Bad(f"must be a whole number from {f.lo} to {f.hi}, not {_show(value)}")
    return value


def _boolean(f: F, value) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"must be true or false, not {_show(value)}")
    return value


def _time(f: F, value) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise _Bad(f"{_show(value)} is not an ISO-8601 time")
    if parsed.tzinfo is None:
        raise _Bad(f"{_show(value)} has no time zone (add Z for UTC)")
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        parsed = None
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:  # as the command line
        raise _Bad(f"{_show(value)} is out of range: years {MIN_YEAR} to {MAX_YEAR}")
    return parsed


def _choice(f: F, value) -> str:
    if value not in f.choices:
        raise _Bad(f"{_show(value)} is not one of {', '.join(f.choices)}")
    return value


def _period(parse):
    def check(f: F, value) -> str:
        if not isinstance(value, str):
            raise _Bad(f"{_show(value)} is not a period")
        try:
            label = parse(value).label
        except InvalidInput as exc:
            raise _Bad(str(exc)) from None
        if label != value:
            raise _Bad(f"{_show(value)} is not in canonical form ({label})")
        return value
    return check


def _list(f: F, value) -> list:
    if not isinstance(value, list):
        raise _Bad(f"must be a list, not {_show(value)}")
    return value


def _skills(f: F, value) -> list[tuple[str, int | None]]:
    result = {}
    for item in _list(f, value):
        if not isinstance(item, dict) or set(item) - {"skill", "level"}:
            raise _Bad(f"items are {{\"skill\", \"level\"}}, not {_show(item)}")
        skill = _pattern(TAG_RE, "skill")(f, item.get("skill"))
        level = item.get("level")
        if level is not None:
            level = _integer(F("level", None, "int", lo=1, hi=5), level)
        if skill in result:
            raise _Bad(f"lists skill {skill} twice")
        result[skill] = level
    return sorted(result.items())


def _tags(f: F, value) -> list[str]:
    tags = [_pattern(TAG_RE, "tag")(f, item) for item in _list(f, value)]
    if len(set(tags)) < len(tags):
        raise _Bad("lists a tag twice")
    return sorted(tags)


def _milestones(f: F, value) -> list[tuple[datetime, float]]:
    result = {}
    if len(_list(f, value)) > MAX_MILESTONES:
        raise _Bad(f"lists {len(value)} milestones; at most {MAX_MILESTONES} per KPI")
    for item in _list(f, value):
        if not isinstance(item, dict) or set(item) != {"at", "value"}:
            raise _Bad(f"items are {{\"at\", \"value\"}}, not {_show(item)}")
        at = _time(f, item["at"])
        if at in result:
            raise _Bad(f"lists {item['at']} twice")
        result[at] = _number(f, item["value"])
    return sorted(result.items())


def _cadence(f: F, value):
    from kpictl.timeparse import parse_cadence

    return _period(parse_cadence)(f, value)


def _grace(f: F, value):
    from kpictl.timeparse import parse_grace

    return _period(parse_grace)(f, value)


def _zone_value(f: F, value):
    from kpictl.errors import InvalidInput
    from kpictl.timeparse import zone_name

    if not isinstance(value, str):
        raise _Bad("is not a time zone name")
    try:
        return zone_name(value)
    except InvalidInput as exc:
        raise _Bad(exc.message) from None


_VALUE = {
    "text": _text, "handle": _pattern(HANDLE_RE, "handle"), "key": _pattern(KEY_RE, "KPI key"),
    "person": _pattern(HANDLE_RE, "handle"), "kpi": _pattern(KEY_RE, "KPI key"),
    "choice": _choice, "float": _number, "int": _integer, "bool": _boolean, "time": _time,
    "cadence": _cadence, "grace": _grace, "skills": _skills, "tags": _tags,
    "milestones": _milestones, "zone": _zone_value,
}


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
