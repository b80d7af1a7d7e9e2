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
import io
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from kpictl.errors import InvalidInput, KpictlError
from kpictl.models import Checkin, Kpi, Person
from kpictl.services import stats
from kpictl.services.checkins import FUTURE_SKEW
from kpictl.services.lookups import clean_text
from kpictl.timeparse import parse_when

CHECKIN_COLUMNS = ("kpi", "value", "at", "by", "confidence", "note", "blocker", "key")
KPI_COLUMNS = ("key", "to", "title", "target", "baseline", "kind", "low", "high", "unit",
               "start", "due", "cadence", "grace", "tags", "outcome", "by", "note")
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


def read_rows(stream: TextIO, *, name: str, fmt: str | None, columns: tuple[str, ...]):
    """Rows with their line numbers; unknown columns are refused (a typo must not vanish)."""
    text = stream.read()
    kind = detect_format(name, text[:1000], fmt)
    rows: list[Row] = []
    errors: list[str] = []
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        try:
            fieldnames = reader.fieldnames
        except csv.Error as exc:
            raise InvalidInput(f"{name}: line 1: unreadable CSV ({exc})") from None
        unknown = [c for c in (fieldnames or []) if c not in columns]
        if not fieldnames:
            return rows, errors, kind
        if unknown:
            raise InvalidInput(f"{name}: unknown column(s) {', '.join(map(repr, unknown))}; "
                               f"use {', '.join(columns)}")
        try:
            for record in reader:
                if None in record:
                    errors.append(f"line {reader.line_num}: more cells than columns")
                    continue
                rows.append(Row(reader.line_num, {k: (v if v != "" else None)
                                                  for k, v in record.items()}))
        except csv.Error as exc:  # e.g. a field beyond the CSV module's size limit
            raise InvalidInput(f"{name}: line {reader.line_num}: unreadable CSV ({exc})") \
                from None
        return rows, errors, kind
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc.msg})")
            continue
        except ValueError as exc:  # e.g. a 5,000-digit integer
            errors.append(f"line {number}: unreadable value ({str(exc).split(';')[0]})")
            continue
        except RecursionError:
            errors.append(f"line {number}: nested too deeply")
            continue
        try:  # "\ud800" escapes decode to lone surrogates, which no database can store
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            errors.append(f"line {number}: contains invalid text (a lone surrogate)")
            continue
        if not isinstance(record, dict):
            errors.append(f"line {number}: expected a JSON object")
            continue
        unknown = [k for k in record if k not in columns]
        if unknown:
            errors.append(f"line {number}: unknown field(s) {', '.join(map(repr, unknown))}")
            continue
        rows.append(Row(number, record))
    return rows, errors, kind


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
    """Date parsing with a fast path for ISO-8601 instants and a cache for repeated values."""

    def __init__(self, now: datetime, tz) -> None:
        self.now, self.tz, self.cache = now, tz, {}

    def __call__(self, value, what: str, bound: str = "start") -> datetime | None:
        if value is None:
            return None
        text = str(value)
        key = (text, bound)
        if key not in self.cache:
            parsed = None
            if len(text) > 10:
                try:
                    parsed = datetime.fromisoformat(text)
                except ValueError:
                    parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                from datetime import timezone

                self.cache[key] = parsed.astimezone(timezone.utc)
            else:
                try:
                    self.cache[key] = parse_when(text, now=self.now, tz=self.tz, bound=bound)
                except InvalidInput as exc:
                    raise InvalidInput(f"{what}: {exc.message}") from None
        return self.cache[key]


# --- check-ins -----------------------------------------------------------------------------


def import_checkins(*, session: Session, now: datetime, tz, rows: list[Row],
                    errors: list[str], skip_invalid: bool, source: str = "file",
                    progress: Callable[[int], None] | None = None) -> BulkResult:
    result = BulkResult(errors=list(errors))
    keys = {str(r.fields.get("kpi")).strip().lower() for r in rows if r.fields.get("kpi")}
    kpis = {k.key: k for k in session.execute(select(Kpi).where(Kpi.key.in_(keys))).scalars()} \
        if len(keys) < 30_000 else {k.key: k for k in session.execute(select(Kpi)).scalars()}
    people = dict(session.execute(select(Person.handle, Person.id)).all())
    seen: dict[tuple[int, str], tuple[float, datetime]] = {}
    idem = {(str(r.fields.get("kpi")).strip().lower(), str(r.fields["key"]))
            for r in rows if r.fields.get("key") not in (None, "")}
    if idem:
        wanted = {(kpis[k].id, key) for k, key in idem if k in kpis}
        if wanted:
            stmt = select(Checkin.kpi_id, Checkin.idem_key, Checkin.value, Checkin.measured_at)
            if len(wanted) <= 500:
                stmt = stmt.where(tuple_(Checkin.kpi_id, Checkin.idem_key).in_(wanted))
            else:
                stmt = stmt.where(Checkin.kpi_id.in_({k for k, _ in wanted}),
                                  Checkin.idem_key.is_not(None))
            for kpi_id, key, value, measured in session.execute(stmt):
                seen[(kpi_id, key)] = (value, measured)
    when = _Times(now, tz)
    latest_allowed = now + FUTURE_SKEW
    batch: list[dict] = []
    deltas: dict[int, stats.Delta] = {}
    for index, row in enumerate(rows):
        f = row.fields
        try:
            key = f.get("kpi")
            if key is None:
                raise InvalidInput("kpi is required")
            kpi = kpis.get(str(key).strip().lower())
            if kpi is None:
                raise InvalidInput(f"no KPI {str(key)!r}")
            if kpi.state != "active":
                raise InvalidInput(f"KPI '{kpi.key}' is closed ({kpi.state})")
            value = _number(f.get("value"), "value")
            if value is None:
                raise InvalidInput("value is required")
            measured = when(f.get("at"), "at") or now
            if measured > latest_allowed:
                raise InvalidInput(f"at {measured:%Y-%m-%d %H:%M} UTC is in the future")
            by = f.get("by")
            author = kpi.owner_id
            if by is not None:
                author = people.get(str(by).strip().lower())
                if author is None:
                    raise InvalidInput(f"no person {str(by)!r}")
            confidence = f.get("confidence")
            if confidence is not None:
                number = _number(confidence, "confidence")
                if number is None or number != int(number) or not 0 <= number <= 10:
                    raise InvalidInput(f"confidence {confidence!r} must be a whole number 0-10")
                confidence = int(number)
            idem_key = clean_text(_text(f.get("key")), what="key", limit=200)
            record = {
                "kpi_id": kpi.id, "value": value, "measured_at": measured, "recorded_at": now,
                "author_id": author, "confidence": confidence,
                "note": clean_text(_text(f.get("note")), what="note"),
                "blocker": clean_text(_text(f.get("blocker")), what="blocker"),
                "source": source, "idem_key": idem_key,
            }
        except KpictlError as exc:
            result.invalid += 1
            result.errors.append(f"line {row.line}: {exc.message}")
            continue
        if idem_key is not None:
            previous = seen.get((kpi.id, idem_key))
            if previous is not None:
                if previous[0] != value:
                    result.invalid += 1
                    result.errors.append(
                        f"line {row.line}: key {idem_key!r} was already used on {kpi.key} for "
                        f"value {previous[0]:.15g}")
                else:
                    result.skipped += 1
                continue
            seen[(kpi.id, idem_key)] = (value, measured)
        batch.append(record)
        delta = deltas.get(kpi.id)
        if delta is None:
            delta = deltas[kpi.id] = stats.Delta(stats.KpiDef.of(kpi))
        delta.add(measured, value)
        if progress and index % 1000 == 0:
            progress(index)
    result.invalid += len(errors)
    if result.errors and not skip_invalid:
        return result
    table = Checkin.__table__
    stats.prepare(session)
    for start in range(0, len(batch), CHUNK):
        session.execute(insert(table), batch[start:start + CHUNK])
    stats.add(session, deltas)
    result.written = len(batch)
    if progress:
        progress(len(rows))
    return result


# --- KPIs ----------------------------------------------------------------------------------


def import_kpis(*, session: Session, now: datetime, tz, rows: list[Row], errors: list[str],
                skip_invalid: bool, default_by: str | None = None,
                progress: Callable[[int], None] | None = None) -> BulkResult:
    """Each row is one `kpictl assign`; ``{to}`` in key, title or outcome is the row's owner,
    so one file can hand the same KPI set to many people."""
    from kpictl.domain import Kind
    from kpictl.services.kpis import KpiSpec, assign

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

        try:
            kind = f.get("kind")
            if kind is not None:
                try:
                    kind = Kind(str(kind).strip().lower())
                except ValueError:
                    raise InvalidInput(f"kind {kind!r}: use increase, decrease, at-least, "
                                       "at-most or range") from None
            tags = f.get("tags")
            spec = KpiSpec(
                title=fill(f.get("title")), outcome=fill(f.get("outcome")), unit=f.get("unit"),
                kind=kind, baseline=_number(f.get("baseline"), "baseline"),
                target=_number(f.get("target"), "target"), low=_number(f.get("low"), "low"),
                high=_number(f.get("high"), "high"),
                start=when(f.get("start"), "start", "start"),
                due=when(f.get("due"), "due", "end"),
                cadence=f.get("cadence"), grace=f.get("grace"),
                tags=[t for t in str(tags).split(";") if t.strip()] if tags else None,
            )
            if not f.get("key"):
                raise InvalidInput("key is required")
            with session.begin_nested():
                outcome = assign(session=session, now=now, key=fill(f["key"]), spec=spec,
                                 to=owner or None, by=f.get("by") or default_by,
                                 note=f.get("note"), default_start=default_start)
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


