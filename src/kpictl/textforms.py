"""The text forms that services and renderers share, so that neither imports the other.

``iso``: an instant as UTC ISO-8601 with ``Z`` (microseconds only when there are some), the
form of every time in JSON output, exports, hook events and pull keys. ``sanitize``: user text
made inert. Control characters (C0 and C1, which carry ANSI and OSC escape sequences) and
bidirectional overrides become visible ``\\xNN``/``\\uNNNN`` escapes, so text can neither
restyle nor rewrite a screen or a one-line message. Standard library only: cheap to import.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

# C0 controls except tab/newline, DEL, C1 controls, line/paragraph separators (they split a
# one-line message for many readers), bidi embeddings/overrides/isolates and marks.
_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"[\t\n]")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _iso(value)


@lru_cache(maxsize=4096)  # due dates, starts and slot ends repeat across a portfolio
def _iso(value: datetime) -> str:
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    text = value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")
    return text.replace("+00:00", "Z")


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
