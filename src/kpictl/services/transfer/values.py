"""What each field kind accepts in an export file: a check returns the Python value or raises
:class:`Bad` with the reason (the caller adds the field name and the line number).

The limits are the command line's (``MAX_NUMBER``, years ``MIN_YEAR``–``MAX_YEAR``,
``MAX_MILESTONES``), so a value means the same in a file as in an option.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from kpictl.domain import DB_ROLE_RE, HANDLE_RE, KEY_RE, TAG_RE
from kpictl.errors import InvalidInput
from kpictl.services.limits import MAX_MILESTONES
from kpictl.services.transfer.records import F
from kpictl.timeparse import MAX_NUMBER, MAX_YEAR, MIN_YEAR


class Bad(Exception):
    """One reason a record is invalid (becomes ``line N: reason``)."""


class Consequence(Exception):
    """A reference that may be to a record on an unreadable line: not reported on its own."""



def _reject_constant(token: str):
    raise ValueError(f"{token} is not a JSON number")


def loads(line: str):
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def json_reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return str(exc)


def show(value, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _text(f: F, value) -> str:
    if not isinstance(value, str):
        raise Bad(f"must be text, not {show(value)}")
    if "\x00" in value:
        raise Bad("contains a NUL byte")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Bad("is not valid text (lone surrogate)") from None
    if f.limit is not None and len(value) > f.limit:
        raise Bad(f"is too long ({len(value)} characters; at most {f.limit})")
    if f.required and not value.strip():
        raise Bad("is empty")
    return value


def _pattern(regex, what: str):
    def check(f: F, value) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise Bad(f"{show(value)} is not a valid {what}")
        return value
    return check


def _number(f: F, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Bad(f"must be a number, not {show(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:  # as the command line
        raise Bad(f"is out of range (at most {MAX_NUMBER:g} in magnitude)")
    return number + 0.0


def _integer(f: F, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not f.lo <= value <= f.hi:
        raise Bad(f"must be a whole number from {f.lo} to {f.hi}, not {show(value)}")
    return value


def _boolean(f: F, value) -> bool:
    if not isinstance(value, bool):
        raise Bad(f"must be true or false, not {show(value)}")
    return value


def _time(f: F, value) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Bad(f"{show(value)} is not an ISO-8601 time")
    if parsed.tzinfo is None:
        raise Bad(f"{show(value)} has no time zone (add Z for UTC)")
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        parsed = None
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:  # as the command line
        raise Bad(f"{show(value)} is out of range: years {MIN_YEAR} to {MAX_YEAR}")
    return parsed


def _choice(f: F, value) -> str:
    if value not in f.choices:
        raise Bad(f"{show(value)} is not one of {', '.join(f.choices)}")
    return value


def _period(parse):
    def check(f: F, value) -> str:
        if not isinstance(value, str):
            raise Bad(f"{show(value)} is not a period")
        try:
            label = parse(value).label
        except InvalidInput as exc:
            raise Bad(str(exc)) from None
        if label != value:
            raise Bad(f"{show(value)} is not in canonical form ({label})")
        return value
    return check


def _list(f: F, value) -> list:
    if not isinstance(value, list):
        raise Bad(f"must be a list, not {show(value)}")
    return value


def _skills(f: F, value) -> list[tuple[str, int | None]]:
    result = {}
    for item in _list(f, value):
        if not isinstance(item, dict) or set(item) - {"skill", "level"}:
            raise Bad(f"items are {{\"skill\", \"level\"}}, not {show(item)}")
        skill = _pattern(TAG_RE, "skill")(f, item.get("skill"))
        level = item.get("level")
        if level is not None:
            level = _integer(F("level", None, "int", lo=1, hi=5), level)
        if skill in result:
            raise Bad(f"lists skill {skill} twice")
        result[skill] = level
    return sorted(result.items())


def _tags(f: F, value) -> list[str]:
    tags = [_pattern(TAG_RE, "tag")(f, item) for item in _list(f, value)]
    if len(set(tags)) < len(tags):
        raise Bad("lists a tag twice")
    return sorted(tags)


def _milestones(f: F, value) -> list[tuple[datetime, float]]:
    result = {}
    if len(_list(f, value)) > MAX_MILESTONES:
        raise Bad(f"lists {len(value)} milestones; at most {MAX_MILESTONES} per KPI")
    for item in _list(f, value):
        if not isinstance(item, dict) or set(item) != {"at", "value"}:
            raise Bad(f"items are {{\"at\", \"value\"}}, not {show(item)}")
        at = _time(f, item["at"])
        if at in result:
            raise Bad(f"lists {item['at']} twice")
        result[at] = _number(f, item["value"])
    return sorted(result.items())


def _cadence(f: F, value):
    from kpictl.timeparse import parse_cadence

    return _period(parse_cadence)(f, value)


def _grace(f: F, value):
    from kpictl.timeparse import parse_grace

    return _period(parse_grace)(f, value)


def _zone_value(f: F, value):
    from kpictl.timeparse import zone_name

    if not isinstance(value, str):
        raise Bad("is not a time zone name")
    try:
        return zone_name(value)
    except InvalidInput as exc:
        raise Bad(exc.message) from None


def _db_role(f: F, value) -> str:
    if not isinstance(value, str) or not DB_ROLE_RE.fullmatch(value) \
            or value.lower().startswith("pg_"):
        raise Bad(f"{show(value)} is not a valid database role")
    return value


VALUE_CHECKS = {
    "text": _text, "handle": _pattern(HANDLE_RE, "handle"), "key": _pattern(KEY_RE, "KPI key"),
    "person": _pattern(HANDLE_RE, "handle"), "kpi": _pattern(KEY_RE, "KPI key"),
    "choice": _choice, "float": _number, "int": _integer, "bool": _boolean, "time": _time,
    "cadence": _cadence, "grace": _grace, "skills": _skills, "tags": _tags,
    "milestones": _milestones, "zone": _zone_value,
    "db_role": _db_role,
}
