"""A bulk file read as rows, and the values of its cells: what `checkin --file` and
`assign --file` share. Rows stream in with their line numbers; a line that is not a record at
all is a :class:`RowError`, which counts as an invalid row."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from kpictl.errors import InvalidInput, KpictlError
from kpictl.timeparse import _NUMBER_RE, MAX_NUMBER, MAX_YEAR, MIN_YEAR, parse_when

FORMATS = ("csv", "jsonl")
MAX_LISTED = 50


@dataclass(slots=True)  # one per line of a file
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


def listed(errors: Iterable[str]) -> list[str]:
    errors = list(errors)
    shown = errors[:MAX_LISTED]
    if len(errors) > MAX_LISTED:
        shown.append(f"… and {len(errors) - MAX_LISTED} more")
    return shown


# --- the values of cells -------------------------------------------------------------------


def cell_text(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def cell_number(value, what: str) -> float | None:
    """A cell's number, as the command line reads it (:func:`~kpictl.timeparse.parse_number`:
    the same grammar and limits); a JSON number is taken as it is, within the same limits."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number, not {value!r}")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a JSON integer beyond any float
            number = math.inf
        if math.isfinite(number) and abs(number) <= MAX_NUMBER:
            return number + 0.0
        value = str(value)  # refused below, in the command line's words
    from kpictl.timeparse import parse_number

    return parse_number(str(value), what=what)


class Times:
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


def fast_number(text, what: str) -> float | None:
    """:func:`cell_number` with a fast path for the plain decimal numbers files are made of."""
    if type(text) is str and _NUMBER_RE.fullmatch(text):
        number = float(text)
        if abs(number) <= MAX_NUMBER:
            return number + 0.0
    return cell_number(text, what)


class Problems(list):
    """Every problem of one file row, so a user fixing a file sees them all at once."""

    def check(self, convert, *args):
        """``convert(*args)``, or None with its error noted."""
        try:
            return convert(*args)
        except KpictlError as exc:
            self.append(exc.message)
            return None
