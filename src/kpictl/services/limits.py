"""The documented size limits of what kpictl reads, in one place (README "Limits").

A file of one endless line (``import /dev/zero``) must fail at once, not after it has eaten
the machine's memory; a KPI with a million milestones must not make `report KEY` take a
minute. Every input path (``import``, ``checkin --file``, ``assign --file``, options) uses
these numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kpictl.errors import InvalidInput

#: Characters (or bytes, for a binary stream) of one line of an input file.
MAX_LINE = 1_048_576
#: Milestones of one KPI.
MAX_MILESTONES = 1_000
#: Characters of one CSV field (the csv module's own limit, stated).
MAX_FIELD = 131_072


def bounded_lines(stream, *, name: str, first_line: int = 1,
                  limit: int = MAX_LINE) -> Iterator:
    """The lines of ``stream`` (text or bytes), refusing one longer than ``limit`` before
    it is read whole."""
    number = first_line
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit:
            raise InvalidInput(f"{name}: line {number} is longer than {limit:,} characters "
                               "(the limit of one line): not a kpictl input file?")
        yield line
        number += 1


def bounded(lines: Iterable, *, name: str, limit: int = MAX_LINE) -> Iterator:
    """:func:`bounded_lines` for an iterable that is already split into lines."""
    for number, line in enumerate(lines, 1):
        if len(line) > limit:
            raise InvalidInput(f"{name}: line {number} is longer than {limit:,} characters "
                               "(the limit of one line): not a kpictl input file?")
        yield line
