"""Domain vocabulary and the thresholds of PRODUCT §3, named in one place.

This module is imported by the CLI for option types, so it must stay cheap: no database,
no pendulum, no Rich.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    AT_LEAST = "at-least"
    AT_MOST = "at-most"
    RANGE = "range"

    #: The maintain kinds hold a threshold rather than move towards a target. A plain
    #: attribute of each member (set below), not a property: a portfolio asks it ~5 times a KPI.
    is_maintain: bool


for _kind in Kind:
    _kind.is_maintain = _kind in (Kind.AT_LEAST, Kind.AT_MOST, Kind.RANGE)
del _kind


class Status(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    OVERDUE = "overdue"
    NO_DATA = "no_data"
    ACHIEVED = "achieved"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Flag(StrEnum):
    STALE = "stale"
    OVERDUE = "overdue"
    BLOCKED = "blocked"
    LOW_CONFIDENCE = "low_confidence"
    FORECAST_MISS = "forecast_miss"
    NEEDS_CLOSE = "needs_close"
    UNRESPONSIVE = "unresponsive"  # `give_up` reminders sent with no check-in since
    SOURCE_FAILED = "source_failed"  # the KPI's latest `kpictl pull` failed (PRODUCT §6)
    CHILD_AT_RISK = "child_at_risk"  # an objective with a child blocked, off track or overdue


#: The ``kind`` of an objective (issue 21): a ``kpi`` row with no target of its own, whose
#: progress is the weighted mean of its children's (services/rollup.py). Not a :class:`Kind`:
#: ``--kind`` never takes it, ``--objective`` makes one.
OBJECTIVE = "objective"


class Outcome(StrEnum):
    ACHIEVED = "achieved"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MD = "md"
    HTML = "html"


@dataclass(frozen=True)
class Thresholds:
    """Defaults of PRODUCT §3; one object so that they can become settings."""

    on_track_gap: float = 0.10  # expected − progress at or below this: on_track
    at_risk_gap: float = 0.25  # … at or below this: at_risk; above: off_track
    low_confidence: int = 3  # latest confidence at or below this: low_confidence flag
    forecast_miss_probability: float = 0.5  # forecast probability below this: forecast_miss
    hold_share: float = 0.8  # a maintain KPI past due "held" (achieved) at this share of check-ins
    #: A zero-residual forecast meets its target when within this share of |target| (or of
    #: the baseline-to-target distance, if larger): floating-point noise decides nothing.
    exact_fit_tolerance: float = 1e-9
    default_grace: str = "2d"
    default_cadence: str = "weekly"
    default_capacity: int = 5


DEFAULTS = Thresholds()
#: PRODUCT §3 *Due passed*: the share of a maintain KPI's window check-ins that must have met
#: its threshold for the suggested outcome to be ``achieved``.
HOLD_SHARE = DEFAULTS.hold_share


class NudgeType(StrEnum):
    """What a nudge asks of its recipient (`kpictl nudge`)."""

    CHECKIN_DUE = "checkin_due"
    CHECKIN_LATE = "checkin_late"
    ESCALATION = "escalation"
    FEEDBACK_DUE = "feedback_due"
    CLOSE_DUE = "close_due"
    UNRESPONSIVE = "unresponsive"


#: The nudges that count as reminders to the owner towards `give_up`.
REMINDER_TYPES = (NudgeType.CHECKIN_DUE, NudgeType.CHECKIN_LATE)


@dataclass(frozen=True)
class NudgeSettings:
    """Defaults of `kpictl nudge` (PRODUCT §6), named in one place like the thresholds."""

    ahead: str = "1d"  # remind this long before a check-in's deadline
    escalate_after: str = "2d"  # late this long → the manager; twice as long → the skip-level
    give_up: int = 3  # reminders sent with no check-in since → the KPI is `unresponsive`


NUDGE_DEFAULTS = NudgeSettings()

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: A PostgreSQL role a person is linked to (``--db-role``): no quoting surprises for a DBA.
DB_ROLE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,63}$")

#: Portfolio order: what needs attention first.
STATUS_ORDER = {
    Status.OVERDUE: 0,
    Status.OFF_TRACK: 1,
    Status.AT_RISK: 2,
    Status.NO_DATA: 3,
    Status.ON_TRACK: 4,
    Status.ACHIEVED: 5,
    Status.MISSED: 6,
    Status.CANCELLED: 7,
}
