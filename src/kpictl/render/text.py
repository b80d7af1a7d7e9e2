"""Making user text inert before it reaches a terminal.

Titles, notes, names and blockers are data. Control characters (C0 and C1, which carry ANSI and
OSC escape sequences) and bidirectional overrides are replaced by visible ``\\xNN``/``\\uNNNN``
escapes, so text can neither restyle nor rewrite the screen. Rich markup is handled separately,
by building ``rich.text.Text`` objects (never markup strings) from the sanitized text.
"""

from __future__ import annotations

import re

# C0 controls except tab/newline, DEL, C1 controls, line/paragraph separators (they split a
# one-line message for many readers), bidi embeddings/overrides/isolates and marks.
_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_MULTILINE = _UNSAFE
_NEWLINES = re.compile(r"[\t\n]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize(text: str | None, *, multiline: bool = False) -> str:
    """Visible, inert text. Single-line (the default) also folds tabs and newlines to spaces."""
    if text is None:
        return ""
    text = _UNSAFE.sub(_escape, text)
    if not multiline:
        text = _NEWLINES.sub(" ", text)
    return text


def number(value: float | None, unit: str | None = None) -> str:
    """Readable, not exact (JSON has the exact value): 374,366 · 99.92 · 12.5."""
    if value is None:
        return "—"
    if abs(value) >= 1000 or value == int(value):
        s = f"{value:,.0f}"
    elif abs(value) < 1:
        s = f"{value:.3g}"  # 0.00012 stays visible
    else:
        s = f"{value:,.{2 if abs(value) < 100 else 1}f}".rstrip("0").rstrip(".")
    return f"{s} {unit_for(value, unit)}" if unit else s


def unit_for(value: float, unit: str) -> str:
    """The unit agreeing with the count: ``1 bug``, ``2 bugs``; ``1 day``; ``1 sign-up``.
    Only plural-looking words change (``%``, ``ms``, ``EUR`` and ``class`` never do)."""
    if abs(value) != 1 or len(unit) <= 3 or not unit.endswith("s") or unit.endswith("ss"):
        return unit
    word = unit.replace("-", "")
    if not word.isalpha() or not word.islower():
        return unit
    return unit[:-1]
