"""A portfolio's rows as JSON text, byte for byte what ``json.dumps`` writes of them, faster.

The standard library's C encoder cannot write a dataclass: for each of a report's 10,000 rows
it asks back for a dict of the fields (a Python call, a dict built and dropped) and for each
time in it (four more calls), then escapes the same 36 keys again. Here each row class gets
an encoder generated once from its fields, as :mod:`dataclasses` generates ``__init__``: the
keys are constant text and each value is written by the C function json uses for its kind
(``encode_basestring`` for text, ``float.__repr__``, ``int.__repr__``, the ISO form of times),
chosen by the field's annotation. About a third less time than the C encoder's round trips.

The output must be exactly json.dumps's (``ensure_ascii=False``, ``", "`` and ``": "``, the
ISO ``Z`` form of times): a value that is not of its annotated kind, or not finite, raises
:class:`Unsupported`, and the caller writes the whole document the standard way instead
(tests/contract pins the equality on every kind of value).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

from kpictl.textforms import _iso

_INF = float("inf")


class Unsupported(Exception):
    """A value this encoder does not write as json.dumps would: use json.dumps."""


def _refuse(*_args) -> str:
    raise Unsupported


#: Per class: its encoder, or None when a field's annotation is not one of ours.
_ENCODERS: dict[type, Callable[[Any], str] | None] = {}


def encoder_for(cls: type) -> Callable[[Any], str] | None:
    """The JSON text function of dataclass ``cls`` (None if it has no such function)."""
    try:
        return _ENCODERS[cls]
    except KeyError:
        pass
    _ENCODERS[cls] = None  # while building it: a class that contains itself has none
    _ENCODERS[cls] = _build(cls)
    return _ENCODERS[cls]


def _build(cls: type) -> Callable[[Any], str] | None:
    if not dataclasses.is_dataclass(cls):
        return None
    env: dict[str, Any] = {"S": encode_basestring, "F": float.__repr__, "I": int.__repr__,
                           "D": _iso, "V": _dumps, "X": _refuse, "INF": _INF, "N": "null",
                           "Q": '"', "L": "[", "R": "]", "C": ", "}
    module = vars(sys.modules[cls.__module__])
    pieces = []
    for i, field in enumerate(dataclasses.fields(cls)):
        value = f"r.{field.name}"
        kind = str(field.type).replace(" ", "")
        optional = kind.endswith("|None")
        kind = kind.removesuffix("|None")
        if kind == "str":
            text = f"S({value})"
        elif kind == "float":  # float.__repr__ refuses ints and bools; the test, NaN and inf
            text = f"(F(v) if -INF < (v := {value}) < INF else X())"
        elif kind == "int":  # not a bool (json writes true), never a float
            text = f"(I(v) if (v := {value}).__class__ is int else X())"
        elif kind == "datetime":
            text = f"Q + D({value}) + Q"
        elif kind in ("list[str]", "tuple[str,...]"):
            text = f"L + C.join(map(S, {value})) + R"
        elif kind in module and dataclasses.is_dataclass(module[kind]):
            nested = encoder_for(module[kind])
            if nested is None:
                return None
            env[f"E{i}"] = nested
            text = f"E{i}({value})"
        else:  # e.g. a dict: json.dumps's own text of it
            text = f"V({value})"
        if optional:
            text = f"(N if {value} is None else {text})"
        # One f-string: the keys as constant text (braces doubled), each value an expression
        # (no quote of the f-string's own kind inside, as Python 3.11 requires).
        pieces.append(("{{" if not pieces else ", ") + json.dumps(field.name) + ": {" + text + "}")
    if not pieces:
        return None
    source = "def encode(r):\n    return f'" + "".join(pieces) + "}}'\n"
    exec(source, env)  # noqa: S102 - made of the class's own field names, as dataclasses does
    return env["encode"]


def _dumps(value: Any) -> str:
    from kpictl.render.machine import _encode_default

    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_encode_default,
                      check_circular=False)


def encode_rows(items: list) -> list[str] | None:
    """``json.dumps(items)`` (as write_envelope would write it), in pieces of about a
    megabyte, for a list of one row class that has an encoder; None for any other list.
    Raises :class:`Unsupported` or the error of a value that is not of its kind, for the
    caller to write it the standard way."""
    if not items:
        return None
    cls = items[0].__class__
    encode = encoder_for(cls) if dataclasses.is_dataclass(cls) else None
    if encode is None:
        return None
    for item in items:
        if item.__class__ is not cls:
            return None
    # Joined a thousand rows at a time: no row's text outlives its piece, and no one string
    # (with its encoded copy on the way out) holds the whole portfolio.
    pieces = ["["]
    for start in range(0, len(items), _PIECE):
        if start:
            pieces.append(", ")
        pieces.append(", ".join(map(encode, items[start:start + _PIECE])))
    pieces.append("]")
    return pieces


_PIECE = 1_000
