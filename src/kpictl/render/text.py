"""Making user text inert before it reaches a terminal.

Titles, notes, names and blockers are data. Control characters (C0 and C1, which carry ANSI and
OSC escape sequences) and bidirectional overrides are replaced by visible ``\\xNN``/``\\uNNNN``
escapes, so text can neither restyle nor rewrite the screen. Rich markup is handled separately,
by building ``rich.text.Text`` objects (never markup strings) from the sanitized text.
"""

from __future__ import annotations

import re

# C0 controls except tab/newline, DEL, C1 controls, bidi embeddings/overrides/isolates, marks.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
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
