"""Making user text inert before it reaches a terminal.

Titles, notes, names and blockers are data. Control characters (C0 and C1, which carry ANSI and
OSC escape sequences) and bidirectional overrides are replaced by visible ``\\xNN``/``\\uNNNN``
escapes, so text can neither restyle nor rewrite the screen. Rich markup is handled separately,
by building ``rich.text.Text`` objects (never markup strings) from the sanitized text.
"""

from __future__ import annotations

from functools import lru_cache

from kpictl.textforms import sanitize  # noqa: F401 - the renderers' name for it


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


def in_zone(value, tz):
    """``value`` in the viewer's zone, or in UTC where the zone would take it past year 1 or
    9999 (such an instant can only have been written around kpictl; it is shown, not fatal)."""
    try:
        return value.astimezone(tz)
    except (OverflowError, ValueError):
        return value


def own_zone(row, tz):
    """The KPI's own zone (its dates are days there, whoever looks), or ``tz`` without one."""
    zone = getattr(row, "zone", None)
    return _zone(zone) if zone else tz


@lru_cache(maxsize=256)
def _zone(name: str):
    from kpictl.timeparse import resolve_zone

    return resolve_zone(name)


def local_day(value, tz) -> str:
    """A day as people write it, in ``tz``: "Mon 1 Feb 2027"."""
    local = in_zone(value, tz)
    return f"{local:%a} {local.day} {local:%b %Y}"


def local_time(value, tz) -> str:
    """"Mon 1 Feb 2027 09:00" in ``tz``."""
    local = in_zone(value, tz)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def due_by(instant, zone: str, as_of=None) -> str:
    """ "by Sun 17 Jan": the last day a check-in is due, in the KPI's own zone (the JSON keeps
    the last instant of that day); the year is added when it is not the report's."""
    if instant is None:
        return "—"
    from kpictl.timeparse import resolve_zone

    local = in_zone(instant, resolve_zone(zone))
    text = f"by {local:%a} {local.day} {local:%b}"
    if as_of is not None and in_zone(as_of, resolve_zone(zone)).year != local.year:
        text += f" {local.year}"
    return text
