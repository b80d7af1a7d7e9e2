"""Bulk check-ins (`checkin --file`): validated and written as the file streams in.

Check-ins go in with set-based inserts (SQLAlchemy Core, many rows per statement) after the
KPIs, people and already-recorded idempotency keys they refer to were loaded once; a row whose
``key`` was recorded before is skipped and counted, so a cron job can re-send a file safely.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from kpictl.domain import OBJECTIVE
from kpictl.errors import InvalidInput, KpictlError, did_you_mean
from kpictl.models import Checkin, Kpi, Person
from kpictl.services import events, stats
from kpictl.services.bulk.rows import (
    MAX_LISTED,
    BulkResult,
    Problems,
    Row,
    RowError,
    Times,
    cell_number,
    cell_text,
    fast_number,
)
from kpictl.services.checkins import FUTURE_SKEW, before_start
from kpictl.services.lookups import clean_text

CHECKIN_COLUMNS = ("kpi", "value", "at", "by", "confidence", "note", "blocker", "key")
CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class _Target:
    """What a check-in row needs of its KPI: plain values, read once per KPI (an ORM
    attribute costs a descriptor call on every one of a million rows)."""

    id: int
    key: str
    state: str
    owner_id: int
    kind: str
    start: datetime
    definition: Kpi  # what its aggregates are counted by


class _Targets:
    """KPIs by key, loaded a chunk of keys at a time; also by the key as the file spells it,
    so each spelling is normalised once, not once per row."""

    def __init__(self, session: Session) -> None:
        self.session, self.by_key, self.by_raw = session, {}, {}
        self.refusals: dict[int, str] = {}  # objective id → why it takes no check-ins
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
                self.by_key[kpi.key] = _Target(kpi.id, kpi.key, kpi.state, kpi.owner_id,
                                               kpi.kind, kpi.start, kpi)
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
        if self.sqlite:  # _sqlite_time, written out for the common case (UTC) of each row
            text = measured.isoformat(" ", "microseconds")[:26] if measured.tzinfo is UTC \
                else _sqlite_time(measured)
            self.pending.append((kpi_id, value, text, self.recorded, author, confidence, note,
                                 blocker, self.source, idem_key))
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
    when = Times(now, tz)
    latest_allowed = now + FUTURE_SKEW
    deltas: dict[int, stats.Delta] = {}
    writer = _Writer(session, now, source)
    counted = stats.prepare(session)
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
    if counted:
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
            key = clean_text(cell_text(key), what="key", limit=200)
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


def _checkin_row(f: dict, targets: _Targets, people: dict, when, now, latest_allowed):
    """One row's values, or :class:`KpictlError` naming *every* problem of the row (a user
    fixing a file should not discover them one run at a time). An empty value ("", as an
    empty CSV cell) is the same as a missing one."""
    key, value, at, by, confidence, note, blocker, idem_key = map(f.get, CHECKIN_COLUMNS)
    problems = Problems()

    kpi = None
    if key is None or key == "":
        problems.append("kpi is required")
    else:
        kpi = targets.get(key)
        if kpi is None:
            problems.append(f"no KPI {str(key)!r}{targets.hint(key)}")
        elif kpi.kind == OBJECTIVE:  # its progress is its children's
            from kpictl.services.objectives import children_keys, objective_checkin_message

            if kpi.id not in targets.refusals:  # once per objective, however many rows
                targets.refusals[kpi.id] = objective_checkin_message(
                    kpi.key, children_keys(targets.session, kpi.id))
            problems.append(targets.refusals[kpi.id])
        elif kpi.state != "active":
            problems.append(f"KPI '{kpi.key}' is closed ({kpi.state})")
    if value is None or value == "":
        problems.append("value is required")
        value = None
    else:  # problems.check(fast_number, …) written out: twice a row, a million rows
        try:
            value = fast_number(value, "value")
        except KpictlError as exc:
            problems.append(exc.message)
            value = None
    if at is None or at == "":
        measured = now
    else:
        try:
            measured = when(at, "at")
        except KpictlError as exc:
            problems.append(exc.message)
            measured = None
    if measured is not None and measured > latest_allowed:
        problems.append(f"at {_in_zone(measured, when.tz)} is in the future")
    if measured is not None and kpi is not None and measured < kpi.start:
        problems.append(before_start("at", measured, kpi.key, kpi.start))
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
            number = cell_number(confidence, "confidence")
        except KpictlError:
            number = None
        if number is None or number != int(number) or not 0 <= number <= 10:
            problems.append(f"confidence {confidence!r} must be a whole number 0-10")
        else:
            confidence = int(number)
    note = _text(problems, note, "note") if note is not None and note != "" else None
    blocker = _text(problems, blocker, "blocker") \
        if blocker is not None and blocker != "" else None
    idem_key = _text(problems, idem_key, "key", 200) \
        if idem_key is not None and idem_key != "" else None
    if problems:
        raise InvalidInput("; ".join(problems))
    return kpi, value, measured, author, confidence, note, blocker, idem_key


def _text(problems: Problems, cell, what: str, limit: int = 10_000) -> str | None:
    """A text cell as stored (clean_text's limit by default), or None with its problem
    noted (problems.check written out: no closure made per row)."""
    text = cell_text(cell)
    try:
        return clean_text(text, what=what, limit=limit)
    except KpictlError as exc:
        problems.append(exc.message)
        return None


def _in_zone(value: datetime, tz) -> str:
    from kpictl.services.checkins import in_zone

    return in_zone(value, tz)
