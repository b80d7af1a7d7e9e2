"""JSON, JSON Lines, CSV and Markdown, written with the standard library (never through Rich).

Every JSON document is an envelope ``{"schema": "kpictl.<name>/1", "generated_at": …, …}``;
times are UTC ISO-8601 with ``Z``; non-finite numbers become ``null``. CSV text cells that a
spreadsheet would run as a formula are prefixed with ``'`` (OWASP CSV injection); numbers stay
numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sys
from datetime import datetime
from enum import Enum
from json.encoder import encode_basestring
from operator import attrgetter
from typing import Any, TextIO

from kpictl.textforms import _iso, iso  # noqa: F401 - the renderers' name for it

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """Dataclasses, enums and datetimes → JSON-ready values.

    Called for every value of a 10,000-KPI report, so the common cases come first and each
    dataclass's field names are looked up once.
    """
    cls = type(value)
    if value is None or cls is str or cls is int or cls is bool:
        return value
    if cls is float:
        return value if math.isfinite(value) else None
    names = _FIELD_NAMES.get(cls)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        out = {}
        for name in names:
            v = getattr(value, name)
            t = type(v)
            out[name] = v if v is None or t is str or t is int or t is bool else plain(v)
        return out
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def envelope(schema: str, generated_at: datetime, **body: Any) -> dict:
    return {"schema": f"kpictl.{schema}/1", "generated_at": iso(generated_at), **plain(body)}


#: Dataclasses whose ``__dict__`` holds their fields in order.
_AS_DICT: set[type] = set()
#: Slotted dataclasses (no ``__dict__``): their field names, and a getter of their values.
_SLOTTED: dict[type, tuple[tuple[str, ...], Any]] = {}


def _encode_default(value: Any) -> Any:
    """What the C encoder cannot write itself: dataclasses (in field order) and datetimes.
    Called some 60,000 times for a 10,000-KPI report: the common types are tried first."""
    cls = type(value)
    if cls is datetime:
        return _iso(value)
    if cls in _AS_DICT:
        return value.__dict__
    slotted = _SLOTTED.get(cls)
    if slotted is not None:  # a dict of the fields made in C, dropped once written
        names, values = slotted
        return dict(zip(names, values(value)))
    if isinstance(value, datetime):
        return iso(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "__dict__"):
            _AS_DICT.add(cls)
            return value.__dict__
        names = tuple(f.name for f in dataclasses.fields(value))
        if len(names) > 1:  # attrgetter of one name gives the value, not a tuple
            _SLOTTED[cls] = (names, attrgetter(*names))
        return plain(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_envelope(schema: str, generated_at: datetime, out: TextIO | None = None,
                   **body: Any) -> None:
    """:func:`envelope` and :func:`write_json` in one, without first copying every value:
    the C encoder walks the read models and asks :func:`_encode_default` only for the types
    it does not know. A non-finite number (which JSON cannot hold) takes the slow, exact
    route of :func:`plain`, which writes it as null."""
    out = out or sys.stdout
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        write_json(envelope(schema, generated_at, **body), out)
        return
    document = {"schema": f"kpictl.{schema}/1", "generated_at": iso(generated_at), **body}
    chunks = _with_rows(document)
    if chunks is None:
        try:
            chunks = list(_ENCODER.iterencode(document, _one_shot=True))  # all, or the error
        except ValueError:  # NaN or infinity somewhere
            chunks = [dumps(envelope(schema, generated_at, **body), indent=None)]
    # The pieces as they were made (json.dumps would join them, and "+ newline" copy the
    # result: two more copies of a 10 MB portfolio, each paid in page faults).
    for chunk in chunks:
        out.write(chunk)
    out.write("\n")


def _with_rows(document: dict) -> list[str] | None:
    """The document's text in pieces, its lists of rows written by :mod:`rowjson` (the same
    text, faster); None when it has no such list or a value is not of its annotated kind
    (then the standard encoder writes it all)."""
    from kpictl.render import rowjson

    pieces, rows = [], False
    try:
        for key, value in document.items():
            text = rowjson.encode_rows(value) if type(value) is list else None
            rows = rows or text is not None
            pieces += [", " if pieces else "{", encode_basestring(key), ": "]
            pieces += [_ENCODER.encode(value)] if text is None else text
    except (rowjson.Unsupported, TypeError, ValueError, AttributeError):
        return None
    return pieces + ["}"] if rows else None


#: json.dumps's encoder for write_envelope: the C encoder (``_one_shot``: the whole document
#: at once, as json.dumps asks for it), never checking for cycles — read models are trees.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_encode_default,
                            check_circular=False)


def dumps(document: Any, *, indent: int | None = 2) -> str:
    return json.dumps(document, indent=indent, ensure_ascii=False, allow_nan=False)


def write_json(document: Any, out: TextIO | None = None) -> None:
    """Indented for a person at a terminal; compact for a program reading a pipe or file
    (the standard library's C encoder only runs without ``indent``: 10,000 KPIs encode in a
    tenth of the time)."""
    out = out or sys.stdout
    isatty = getattr(out, "isatty", None)
    out.write(dumps(document, indent=2 if isatty is not None and isatty() else None) + "\n")


def write_jsonl(records: list[dict], out: TextIO | None = None) -> None:
    """One record per line and nothing else (PRODUCT §4): no envelope line, so
    `kpictl report -f jsonl | jq -r .key` prints keys only. The schema and the instant are in
    the ``--format json`` document of the same view."""
    out = out or sys.stdout
    for record in records:
        out.write(dumps(record, indent=None) + "\n")


# What a spreadsheet may run as a formula: the ASCII signs, their full-width and small forms
# (some spreadsheets fold them to ASCII), and line breaks; zero-width characters before them
# do not hide them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\ufe66", "\uff0b",
                  "\ufe62", "\uff0d", "\ufe63", "\uff20", "\ufe6b")
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value if not isinstance(value, float) or math.isfinite(value) else ""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, allow_nan=False)
    from kpictl.render.text import sanitize

    # A CSV is read in terminals too (`… -f csv | less`): ESC, C1 and bidi controls become
    # visible escapes, as in every other view; line breaks inside a cell stay (CSV quotes them).
    text = sanitize(str(value), multiline=True)
    if text.lstrip(_ZERO_WIDTH).startswith(_FORMULA_START):
        text = "'" + text
    return text


def write_csv(columns: list[str], records: list[dict], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([csv_cell(record.get(c)) for c in columns])


def md_cell(value: Any) -> str:
    from kpictl.render.text import number, sanitize

    if value is None:
        return ""
    if isinstance(value, float):
        return number(value)
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = sanitize(str(value))
    for ch in "\\|`*_[]<>":
        text = text.replace(ch, "\\" + ch)
    return text


def write_md_table(headers: list[str], rows: list[list[Any]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    out.write("| " + " | ".join(headers) + " |\n")
    out.write("|" + "|".join("---" for _ in headers) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(md_cell(v) for v in row) + " |\n")
