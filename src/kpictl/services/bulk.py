"""Bulk check-ins and delegation from CSV or JSON Lines (`checkin --file`, `assign --file`).

A file is validated whole before anything is written: every bad row is reported with its line
number, and unless the caller allows skipping, one bad row means nothing is written. The
whole file is one transaction, so a crash or a kill mid-way leaves all or nothing.

Check-ins go in with set-based inserts (SQLAlchemy Core, many rows per statement) after the
KPIs, people and already-recorded idempotency keys they refer to were loaded once; a row whose
``key`` was recorded before is skipped and counted, so a cron job can re-send a file safely.
KPI rows go through the same ``assign`` service as the command line, each in a savepoint.
"""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from kpictl.errors import InvalidInput, KpictlError, did_you_mean
from kpictl.models import Checkin, Kpi, Person
from kpictl.services import events, stats
from kpictl.services.checkins import FUTURE_SKEW, before_start
from kpictl.services.lookups import clean_text
from kpictl.timeparse import _NUMBER_RE, MAX_NUMBER, MAX_YEAR, MIN_YEAR, parse_when

CHECKIN_COLUMNS = ("kpi", "value", "at", "by", "confidence", "note", "blocker", "key")
KPI_COLUMNS = ("key", "to", "title", "target", "baseline", "kind", "low", "high", "unit",
               "start", "due", "cadence", "grace", "tags", "outcome", "by", "note",
               "every", "aggregate")
FORMATS = ("csv", "jsonl")
CHUNK = 5_000
MAX_LISTED = 50


@dataclass
class Row:
    line: int
    fields: dict


@dataclass
class BulkResult:
    written: int = 0
    skipped: int = 0
    invalid: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self, what: str, skipped: str = "skipped (already recorded)") -> str:
        return f"{self.written} {what} written, {self.skipped} {skipped}, {self.invalid} invalid"


def detect_format(name: str, head: str, given: str | None) -> str:
    """``--input-format``, else the extension, else the content (``{`` starts JSON Lines)."""
    if given:
        if given not in FORMATS:
            raise InvalidInput(f"invalid --input-format {given!r}: use csv or jsonl")
        return given
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "jsonl" if head.lstrip().startswith("{") else "csv"


@dataclass
class RowError:
    """A line that could not be read as a record at all (it counts as an invalid row)."""

    line: int
    message: str


def iter_rows(stream: TextIO, *, name: str, fmt: str | None, columns: tuple[str, ...],
              keep_blank: bool = False) -> Iterator[Row | RowError]:
    """Records with their line numbers, read as the file streams in (a million-row file is
    never held in memory); unknown columns are refused (a typo must not vanish). An empty CSV
    cell is None, or stays "" with ``keep_blank`` (for a reader that treats both alike)."""
    from kpictl.services.limits import MAX_LINE, bounded_lines

    head = stream.read(1000).removeprefix("\ufeff")  # the byte-order mark Excel writes
    kind = detect_format(name, head, fmt)
    # The head may end mid-line; finish it, then go on line by line with the file itself,
    # no line longer than the documented limit (a file of one endless line fails at once).
    rest = stream.readline(MAX_LINE + 1) if head and not head.endswith("\n") else ""
    if len(head) + len(rest) > MAX_LINE and not rest.endswith("\n"):
        raise InvalidInput(f"{name}: line 1 is longer than {MAX_LINE:,} characters (the "
                           "limit of one line): not a kpictl input file?")
    start = io.StringIO(head + rest, newline="")
    first = len(start.getvalue().splitlines()) + 1
    lines = itertools.chain(start, bounded_lines(stream, name=name, first_line=first))
    if kind == "csv":
        yield from _csv_rows(lines, name, columns, keep_blank)
    else:
        yield from _jsonl_rows(lines, columns)


def _csv_rows(lines, name: str, columns: tuple[str, ...],
              keep_blank: bool) -> Iterator[Row | RowError]:
    # strict: a quote never closed is an error, not the rest of the file read as one cell
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InvalidInput(f"{name}: line 1: unreadable CSV ({exc})") from None
    if not header:
        return
    unknown = [c for c in header if c not in columns]
    if unknown:
        raise InvalidInput(f"{name}: unknown column(s) {', '.join(map(repr, unknown))}; "
                           f"use {', '.join(columns)}")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise InvalidInput(f"{name}: column(s) {', '.join(map(repr, twice))} appear more than "
                           "once in the header; keep one of each")
    width = len(header)
    opened = reader.line_num + 1
    try:
        for record in reader:
            if not record:
                opened = reader.line_num + 1
                continue  # a blank line, as csv.DictReader skips it
            opened = reader.line_num + 1
            if len(record) != width:
                yield RowError(reader.line_num, f"{len(record)} cells, but the header has "
                                                f"{width} columns")
                continue
            if keep_blank:
                yield Row(reader.line_num, dict(zip(header, record)))
            else:
                yield Row(reader.line_num, {k: (v if v != "" else None)
                                            for k, v in zip(header, record)})
    except csv.Error as exc:  # e.g. a field beyond the CSV module's size limit
        if "unexpected end of data" in str(exc):
            raise InvalidInput(f"{name}: line {opened}: a quote opened in this row is never "
                               "closed") from None
        raise InvalidInput(f"{name}: line {reader.line_num}: unreadable CSV ({exc})") from None


def _jsonl_rows(lines, columns: tuple[str, ...]) -> Iterator[Row | RowError]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RowError(number, f"not valid JSON ({exc.msg})")
            continue
        except ValueError as exc:  # e.g. a 5,000-digit integer
            yield RowError(number, f"unreadable value ({str(exc).split(';')[0]})")
            continue
        except RecursionError:
            yield RowError(number, "nested too deeply")
            continue
        try:  # "\ud800" escapes decode to lone surrogates, which no database can store
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            yield RowError(number, "contains invalid text (a lone surrogate)")
            continue
        if not isinstance(record, dict):
            yield RowError(number, "expected a JSON object")
            continue
        unknown = [k for k in record if k not in columns]
        if unknown:
            yield RowError(number, f"unknown field(s) {', '.join(map(repr, unknown))}")
            continue
        yield Row(number, record)


def read_rows(stream: TextIO, *, name: str, fmt: str | None, columns: tuple[str, ...]):
    """All of :func:`iter_rows` at once: (rows, errors as "line N: …" texts)."""
    rows: list[Row] = []
    errors: list[str] = []
    for item in iter_rows(stream, name=name, fmt=fmt, columns=columns):
        if isinstance(item, RowError):
            errors.append(f"line {item.line}: {item.message}")
        else:
            rows.append(item)
    return rows, errors


# --- values --------------------------------------------------------------------------------


def _text(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _number(value, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number, not {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            raise InvalidInput(f"{what} must be a finite number")
        return number
    from kpictl.timeparse import parse_number

    return parse_number(str(value), what=what)


class _Times:
    """Date parsing with a fast path for ISO-8601 instants and a (bounded) cache for repeated
    values; anything else goes through the full grammar of :func:`parse_when`."""

    CACHE = 50_000

    def __init__(self, now: datetime, tz) -> None:
        self.now, self.tz, self.cache = now, tz, {}

    def __call__(self, value, what: str, bound: str = "start") -> datetime | None:
        if value is None:
            return None
        text = value if type(value) is str else str(value)
        key = (text, bound)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        parsed = None
        if len(text) > 10:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                parsed = None
        if parsed is not None and parsed.tzinfo is not None \
                and MIN_YEAR <= parsed.year <= MAX_YEAR:
            result = parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)
        else:
            try:
                result = parse_when(text, now=self.now, tz=self.tz, bound=bound)
            except InvalidInput as exc:
                raise InvalidInput(f"{what}: {exc.message}") from None
        if len(self.cache) < self.CACHE:
            self.cache[key] = result
        return result


# --- check-ins -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """What a check-in row needs of its KPI."""

    id: int
    key: str
    state: str
    owner_id: int
    definition: Kpi  # what its aggregates are counted by


class _Targets:
    """KPIs by key, loaded a chunk of keys at a time; also by the key as the file spells it,
    so each spelling is normalised once, not once per row."""

    def __init__(self, session: Session) -> None:
        self.session, self.by_key, self.by_raw = session, {}, {}
        self.all_keys: list[str] | None = None

    def load(self, raw_keys: set) -> None:
        keys = {str(k).strip().lower() for k in raw_keys if k not in self.by_raw}
        wanted = [k for k in keys if k not in self.by_key]
        for start in range(0, len(wanted), 10_000):
            chunk = wanted[start:start + 10_000]
            # Locked (PostgreSQL; SQLite's writer already holds the database) so that no
            # redefinition can commit between reading the definition and adding the rows'
            # aggregates under it; in id order, as every locking writer takes them.
            stmt = select(Kpi).where(Kpi.key.in_(chunk)).order_by(Kpi.id).with_for_update()
            for kpi in self.session.execute(stmt).scalars():
                self.by_key[kpi.key] = _Target(kpi.id, kpi.key, kpi.state, kpi.owner_id, kpi)
            for key in chunk:
                self.by_key.setdefault(key, None)

    def hint(self, raw) -> str:
        """`` (did you mean 'sales.arr'?)`` for an unknown key, from every KPI's key (read
        once, on the first unknown key); at most a few dozen distinct keys get one."""
        if self.all_keys is None:
            self.all_keys = self.session.execute(select(Kpi.key)).scalars().all()
            self.hints = {}
        text = str(raw).strip().lower()
        if text not in self.hints:
            if len(self.hints) >= MAX_LISTED:
                return ""
            found = did_you_mean(text, self.all_keys)
            self.hints[text] = f" ({found[2:]})" if found else ""
        return self.hints[text]

    def get(self, raw) -> _Target | None:
        try:
            return self.by_raw[raw]
        except KeyError:
            hit = self.by_raw[raw] = self.by_key.get(str(raw).strip().lower())
            return hit
        except TypeError:  # an unhashable JSON value: no such KPI
            return None


_INSERT_SQLITE = ("INSERT INTO checkin (kpi_id, value, measured_at, recorded_at, author_id, "
                  "confidence, note, blocker, source, idem_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                  "?, ?)")


def _sqlite_time(value: datetime) -> str:
    """How the UTC column type stores a time on SQLite (naive UTC, microseconds)."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


class _Writer:
    """Inserts accepted rows in chunks. On SQLite the rows go to the driver as plain tuples
    (one ``executemany`` per chunk, times pre-formatted as the column type stores them), which
    is what makes a million rows cheap; PostgreSQL takes the same rows through SQLAlchemy."""

    def __init__(self, session: Session, now: datetime, source: str) -> None:
        self.session, self.source = session, source
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.recorded = _sqlite_time(now) if self.sqlite else now
        self.pending: list = []
        self.written = 0

    def add(self, kpi_id, value, measured, author, confidence, note, blocker, idem_key):
        if self.sqlite:
            self.pending.append((kpi_id, value, _sqlite_time(measured), self.recorded, author,
                                 confidence, note, blocker, self.source, idem_key))
        else:
            self.pending.append({"kpi_id": kpi_id, "value": value, "measured_at": measured,
                                 "recorded_at": self.recorded, "author_id": author,
                                 "confidence": confidence, "note": note, "blocker": blocker,
                                 "source": self.source, "idem_key": idem_key})

    def flush(self) -> None:
        if not self.pending:
            return
        if self.sqlite:
            self.session.connection().exec_driver_sql(_INSERT_SQLITE, self.pending)
        else:
            self.session.execute(insert(Checkin.__table__), self.pending)
        self.written += len(self.pending)
        self.pending = []


def _value(text, what: str) -> float | None:
    """:func:`_number` with a fast path for the plain decimal numbers files are made of."""
    if type(text) is str and _NUMBER_RE.fullmatch(text):
        number = float(text)
        if abs(number) <= MAX_NUMBER:
            return number + 0.0
    return _number(text, what)


def import_checkins(*, session: Session, now: datetime, tz, rows: Iterable[Row | RowError],
                    errors: list[str] = (), skip_invalid: bool, source: str = "file",
                    progress: Callable[[int], None] | None = None) -> BulkResult:
    # A million rows allocate tens of millions of short-lived objects and no reference
    # cycles: the cyclic collector would only rescan the heap (5-10 % of the run).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _import_checkins(session=session, now=now, tz=tz, rows=rows, errors=errors,
                                skip_invalid=skip_invalid, source=source, progress=progress)
    finally:
        if enabled:
            gc.enable()


def _import_checkins(*, session, now, tz, rows, errors, skip_invalid, source,
                     progress) -> BulkResult:
    """Validate and write check-in rows as they stream in, in one transaction.

    Every row is validated, so every bad one is reported with its line; the first bad row
    (unless ``skip_invalid``) stops the writing, and the caller's transaction is rolled back.
    """
    bad: list[tuple[int, str]] = []
    result = BulkResult(errors=list(errors))
    targets = _Targets(session)
    people = dict(session.execute(select(Person.handle, Person.id)).all())
    seen: dict[tuple[int, str], float] = {}
    when = _Times(now, tz)
    latest_allowed = now + FUTURE_SKEW
    deltas: dict[int, stats.Delta] = {}
    writer = _Writer(session, now, source)
    stats.prepare(session)
    savepoint = session.begin_nested()  # what a bad row undoes (the caller's work stays)
    writing = not errors or skip_invalid
    done = 0
    hooked = events.wants(session, "checkin")  # the hooks hear of each row written
    handles = {v: k for k, v in people.items()} if hooked else {}
    for chunk in _chunks(rows, CHUNK):
        fields = [r.fields for r in chunk if isinstance(r, Row)]
        targets.load({k for f in fields if (k := f.get("kpi")) not in (None, "")
                      and isinstance(k, (str, int, float))})
        events.touch(session, [t for t in targets.by_key.values() if t is not None])
        _load_keys(session, targets, fields, seen)
        for row in chunk:
            done += 1
            if isinstance(row, RowError):
                bad.append((row.line, row.message))
                writing = writing and skip_invalid
                continue
            try:
                kpi, value, measured, author, confidence, note, blocker, idem_key = \
                    _checkin_row(row.fields, targets, people, when, now, latest_allowed)
            except KpictlError as exc:
                bad.append((row.line, exc.message))
                writing = writing and skip_invalid
                continue
            if idem_key is not None:
                previous = seen.get((kpi.id, idem_key))
                if previous is not None:
                    if previous != value:
                        bad.append((row.line, f"key {idem_key!r} was already used on {kpi.key} "
                                              f"for value {previous:.15g}"))
                        writing = writing and skip_invalid
                    else:
                        result.skipped += 1
                    continue
                seen[(kpi.id, idem_key)] = value
            if not writing:
                continue
            writer.add(kpi.id, value, measured, author, confidence, note, blocker, idem_key)
            if hooked:
                events.emit(session, "checkin", kpi=kpi.key, by=handles.get(author), value=value,
                            measured_at=measured, confidence=confidence, note=note,
                            blocker=blocker, source=source, key=idem_key)
            delta = deltas.get(kpi.id)
            if delta is None:
                delta = deltas[kpi.id] = stats.Delta(kpi.definition)
            delta.add(measured, value)
        if writing:
            writer.flush()
        if progress:
            progress(done)
    bad.sort()
    result.errors += [f"line {line}: {message}" for line, message in bad]
    result.invalid = len(result.errors)
    if result.errors and not skip_invalid:
        savepoint.rollback()
        return result
    writer.flush()
    stats.add(session, deltas, now)
    savepoint.commit()
    result.written = writer.written
    return result


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _load_keys(session: Session, targets: _Targets, fields: list[dict], seen: dict) -> None:
    """The idempotency keys of these rows that were recorded before, with their values."""
    wanted = set()
    for f in fields:
        key = f.get("key")
        if key is None or key == "" or f.get("kpi") is None:
            continue
        target = targets.get(f["kpi"])
        try:  # the key as the row will be checked and stored (see _checkin_row)
            key = clean_text(_text(key), what="key", limit=200)
        except KpictlError:
            continue  # the row itself reports it
        if target is not None and key is not None and (target.id, key) not in seen:
            wanted.add((target.id, key))
    if not wanted:
        return
    stmt = select(Checkin.kpi_id, Checkin.idem_key, Checkin.value)
    if len(wanted) <= 500:
        stmt = stmt.where(tuple_(Checkin.kpi_id, Checkin.idem_key).in_(wanted))
    else:
        stmt = stmt.where(Checkin.kpi_id.in_({k for k, _ in wanted}),
                          Checkin.idem_key.in_({key for _, key in wanted}))
    for kpi_id, key, value in session.execute(stmt):
        seen[(kpi_id, key)] = value


class _Problems(list):
    """Every problem of one file row, so a user fixing a file sees them all at once."""

    def check(self, convert, *args):
        """``convert(*args)``, or None with its error noted."""
        try:
            return convert(*args)
        except KpictlError as exc:
            self.append(exc.message)
            return None


def _checkin_row(f: dict, targets: _Targets, people: dict, when, now, latest_allowed):
    """One row's values, or :class:`KpictlError` naming *every* problem of the row (a user
    fixing a file should not discover them one run at a time). An empty value ("", as an
    empty CSV cell) is the same as a missing one."""
    key, value, at, by, confidence, note, blocker, idem_key = map(f.get, CHECKIN_COLUMNS)
    problems = _Problems()
    check = problems.check

    kpi = None
    if key is None or key == "":
        problems.append("kpi is required")
    else:
        kpi = targets.get(key)
        if kpi is None:
            problems.append(f"no KPI {str(key)!r}{targets.hint(key)}")
        elif kpi.state != "active":
            problems.append(f"KPI '{kpi.key}' is closed ({kpi.state})")
    if value is None or value == "":
        problems.append("value is required")
        value = None
    else:
        value = check(_value, value, "value")
    measured = check(when, at, "at") if at is not None and at != "" else now
    if measured is not None and measured > latest_allowed:
        problems.append(f"at {_in_zone(measured, when.tz)} is in the future")
    if measured is not None and kpi is not None and measured < kpi.definition.start:
        problems.append(before_start("at", measured, kpi.key, kpi.definition.start))
    author = kpi.owner_id if kpi is not None else None
    if by is not None and by != "":
        handle = str(by).strip().lower()
        author = people.get(handle)
        if author is None:
            hint = did_you_mean(handle, people) if len(people) <= 10_000 else ""
            problems.append(f"no person {str(by)!r}" + (f" ({hint[2:]})" if hint else ""))
    if confidence == "":
        confidence = None
    elif type(confidence) is str and len(confidence) <= 2 and confidence.isdigit() \
            and confidence.isascii():
        confidence = int(confidence)
        if confidence > 10:
            problems.append(f"confidence {str(confidence)!r} must be a whole number 0-10")
    elif confidence is not None:
        try:
            number = _number(confidence, "confidence")
        except KpictlError:
            number = None
        if number is None or number != int(number) or not 0 <= number <= 10:
            problems.append(f"confidence {confidence!r} must be a whole number 0-10")
        else:
            confidence = int(number)
    note = check(lambda v: clean_text(v, what="note"), _text(note)) if note is not None and note != "" else None
    blocker = check(lambda v: clean_text(v, what="blocker"), _text(blocker)) \
        if blocker is not None and blocker != "" else None
    idem_key = check(lambda v: clean_text(v, what="key", limit=200), _text(idem_key)) \
        if idem_key is not None and idem_key != "" else None
    if problems:
        raise InvalidInput("; ".join(problems))
    return kpi, value, measured, author, confidence, note, blocker, idem_key


def _in_zone(value: datetime, tz) -> str:
    from kpictl.services.checkins import in_zone

    return in_zone(value, tz)


# --- KPIs ----------------------------------------------------------------------------------


def import_kpis(*, session: Session, now: datetime, tz, rows: list[Row], errors: list[str],
                skip_invalid: bool, default_by: str | None = None,
                progress: Callable[[int], None] | None = None) -> BulkResult:
    """Each row is one `kpictl assign`; ``{to}`` in key, title or outcome is the row's owner,
    so one file can hand the same KPI set to many people."""
    from kpictl.domain import Kind
    from kpictl.services.kpis import KpiSpec, assign
    from kpictl.services.lookups import find_person

    handles = None  # every handle, read on the first unknown one (for "did you mean")

    result = BulkResult(errors=list(errors))
    result.invalid = len(errors)
    when = _Times(now, tz)
    default_start = parse_when("today", now=now, tz=tz, bound="start")
    for index, row in enumerate(rows):
        f = {k: _text(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else v
             for k, v in row.fields.items()}
        owner = (f.get("to") or "").strip().lower()

        def fill(value):
            return value.replace("{to}", owner) if isinstance(value, str) else value

        problems = _Problems()
        check = problems.check

        kind = f.get("kind")
        if kind is not None:
            try:
                kind = Kind(str(kind).strip().lower())
            except ValueError:
                problems.append(f"kind {kind!r}: use increase, decrease, at-least, at-most or "
                                "range")
                kind = None
        if not f.get("key"):
            problems.append("key is required")
        for role in ("to", "by"):  # every problem of the row at once, hints included
            handle = f.get(role) if role == "to" else (f.get("by") or default_by)
            if handle and not isinstance(handle, (int, float)) \
                    and find_person(session, str(handle)) is None:
                if handles is None:
                    handles = session.execute(select(Person.handle)).scalars().all()
                hint = did_you_mean(str(handle).strip().lower(), handles)
                problems.append(f"no person {str(handle)!r}" + (f" ({hint[2:]})" if hint else ""))
        tags = f.get("tags")
        spec = KpiSpec(
            title=fill(f.get("title")), outcome=fill(f.get("outcome")), unit=f.get("unit"),
            kind=kind, baseline=check(_number, f.get("baseline"), "baseline"),
            target=check(_number, f.get("target"), "target"),
            low=check(_number, f.get("low"), "low"), high=check(_number, f.get("high"), "high"),
            start=check(when, f.get("start"), "start", "start"),
            due=check(when, f.get("due"), "due", "end"),
            cadence=f.get("cadence"), grace=f.get("grace"),
            tags=[t for t in str(tags).split(";") if t.strip()] if tags else None,
            every=f.get("every"), aggregate=f.get("aggregate"),  # ongoing KPIs (issue 18)
        )
        try:
            if problems:
                raise InvalidInput("; ".join(problems))
            with session.begin_nested():
                outcome = assign(session=session, now=now, key=fill(f["key"]), spec=spec,
                                 to=owner or None, by=f.get("by") or default_by,
                                 note=f.get("note"), default_start=default_start,
                                 default_zone=tz)
        except KpictlError as exc:
            result.invalid += 1
            result.errors.append(f"line {row.line}: {exc.message}")
            continue
        if outcome.action == "kpi.unchanged":
            result.skipped += 1
        else:
            result.written += 1
        if progress:
            progress(index)
    return result


def listed(errors: Iterable[str]) -> list[str]:
    errors = list(errors)
    shown = errors[:MAX_LISTED]
    if len(errors) > MAX_LISTED:
        shown.append(f"… and {len(errors) - MAX_LISTED} more")
    return shown


