"""Export and import: the whole database as JSON Lines (``kpictl.export/1``), losslessly.

Design decisions:

* One header line, then one record per line in a fixed order of types: people, KPIs,
  assignments, field changes (the ``kpi_change`` log that ``--as-of`` rewinds through),
  check-ins, feedback. People and KPIs are sorted by handle and key; history records by their
  own time and then by database id. An import inserts in file order, so new ids keep that
  order: every tie that a report breaks "by time, then id" comes back the same way, and a
  second export is byte-identical after the header.
* References are handles and keys, never ids. Times are UTC ISO-8601 with ``Z`` (microseconds
  kept); floats are JSON numbers, which round-trip exactly. The field specs below drive both
  directions, so export and import cannot disagree on a field.
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
from kpictl.domain import HANDLE_RE, KEY_RE, TAG_RE, Kind, Outcome
from kpictl.errors import Conflict, InvalidInput
from kpictl.models import (
    Assignment,
    Checkin,
    Feedback,
    Kpi,
    KpiChange,
    KpiTag,
    Milestone,
    Person,
    PersonSkill,
)
from kpictl.render.machine import iso
from kpictl.schemas import WriteResult

SCHEMA = "kpictl.export/1"
TYPES = ("person", "kpi", "assignment", "change", "checkin", "feedback")
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
        F("owner", "owner_id", "person"),
        F("delegated_by", "delegated_by_id", "person", False),
        F("state", "state", "choice", choices=STATES),
        F("closed_at", "closed_at", "time", False),
        F("close_note", "close_note", "text", False),
        F("created_at", "created_at", "time"),
        F("updated_at", "updated_at", "time"),
        F("tags", None, "tags", False),
        F("milestones", None, "milestones", False),
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
    ),
    "checkin": (
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
    "feedback": (
        F("kpi", "kpi_id", "kpi"),
        F("by", "author_id", "person", False),
        F("at", "at", "time"),
        F("text", "text", "text"),
    ),
}
TABLES = {"person": Person, "kpi": Kpi, "assignment": Assignment, "change": KpiChange,
          "checkin": Checkin, "feedback": Feedback}
#: History tables in file order: by their own time, then by id (see the module docstring).
HISTORY_ORDER = {"assignment": "valid_from", "change": "at", "checkin": "measured_at",
                 "feedback": "at"}


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
    yield from data_records(session)


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


def describe_counts(counts: Counter) -> str:
    """``8 people, 20 KPIs, 23 assignments, … and 5 feedback notes``."""
    words = {"person": ("person", "people"), "kpi": ("KPI", "KPIs"),
             "assignment": ("assignment", "assignments"), "change": ("change", "changes"),
             "checkin": ("check-in", "check-ins"), "feedback": ("feedback note", "feedback notes")}
    parts = [f"{counts[t]} {words[t][counts[t] != 1]}" for t in TYPES]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# --------------------------------------------------------------------------- import

class _Bad(Exception):
    """One reason a record is invalid (becomes ``line N: reason``)."""


class _Consequence(Exception):
    """A reference that may be to a record on an unreadable line: not reported on its own."""


def import_records(*, session: Session, lines: Iterable[str], source_name: str) -> WriteResult:
    """Load an export into an empty database; into a non-empty one only if nothing differs."""
    numbered = ((n, line) for n, line in enumerate(lines, 1) if line.strip())
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
    for n, line in numbered:
        parsed = checker.check(n, line)
        if parsed is None:
            continue
        type_, values = parsed
        if type_ != current:
            _close(checker, sink, current)
            current = type_
        if not checker.errors:
            sink.add(type_, values)
    _close(checker, sink, current)
    if checker.errors:
        total = len(checker.errors)
        shown = "; ".join(checker.errors[:MAX_LISTED])
        more = f"; and {total - MAX_LISTED} more" if total > MAX_LISTED else ""
        raise InvalidInput(f"{total} invalid record{'s' if total != 1 else ''} in "
                           f"{source_name} ({shown}{more}); nothing was imported")
    return sink.result(source_name)


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
        if (v["state"] == "active") != (v["closed_at"] is None):
            raise _Bad(f"KPI {key}: \"closed_at\" must be set exactly when \"state\" is closed")

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

    def _checkin(self, v: dict, n: int) -> None:
        self._kpi_ref(v)
        self._people(v, "by")
        if v["key"] is not None:
            seen = self.idem_keys[v["kpi"]]
            if v["key"] in seen:
                raise _Bad(f"check-in key {_show(v['key'])} is used twice on KPI {v['kpi']}")
            seen.add(v["key"])

    def _feedback(self, v: dict, n: int) -> None:
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
    if not math.isfinite(number):
        raise _Bad("is out of range")
    return number


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
    return parsed.astimezone(UTC)


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


_VALUE = {
    "text": _text, "handle": _pattern(HANDLE_RE, "handle"), "key": _pattern(KEY_RE, "KPI key"),
    "person": _pattern(HANDLE_RE, "handle"), "kpi": _pattern(KEY_RE, "KPI key"),
    "choice": _choice, "float": _number, "int": _integer, "bool": _boolean, "time": _time,
    "cadence": _cadence, "grace": _grace, "skills": _skills, "tags": _tags,
    "milestones": _milestones,
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
