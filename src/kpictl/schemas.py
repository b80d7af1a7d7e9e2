"""What services return: the read models behind every output format.

Plain dataclasses built inside the session (never ORM rows, which detach). Their field names
and order are the JSON/CSV contract of PRODUCT §4; renderers only format them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kpictl.results import WriteResult  # noqa: F401 - re-exported: one home for read models


@dataclass
class SkillView:
    skill: str
    level: int | None


@dataclass
class PersonView:
    handle: str
    name: str
    email: str | None
    skills: list[SkillView]
    capacity: int
    manager: str | None
    active: bool
    active_kpis: int
    created_at: datetime


@dataclass
class CalibrationView:
    """How well a person's stated confidence predicted outcomes (Brier score, bias, label)."""

    predictions: int
    brier: float | None
    bias: float | None
    label: str


@dataclass
class PersonDetail:
    person: PersonView
    calibration: CalibrationView
    kpis: list[KpiRow]
    away: list = field(default_factory=list)  # AwayView windows (`people away`), oldest first


@dataclass
class Forecast:
    method: str
    points: int
    value_at_due: float
    low: float
    high: float
    probability: float
    eta: datetime | None
    rate: float
    required_rate: float | None


@dataclass(slots=True)  # 36 fields: past the 30 that instances can share in a dict's keys
class KpiRow:
    """One KPI as seen at the report instant (a row of `report`, `kpictl.report/1`)."""

    key: str
    title: str
    owner: str | None
    kind: str
    unit: str | None
    baseline: float | None
    target: float | None
    low: float | None
    high: float | None
    start: datetime
    due: datetime
    cadence: str
    grace: str
    tags: list[str]
    state: str
    current: float | None
    last_checkin_at: datetime | None
    next_checkin_due: datetime | None
    checkins: int
    progress: float | None
    progress_raw: float | None
    expected_progress: float | None
    status: str
    flags: list[str]
    confidence: int | None
    blocker: str | None
    forecast: Forecast | None
    days_left: float
    #: PRODUCT §3 *Due passed*: what `close KEY` applies; null while not due or closed.
    suggested_outcome: str | None = None
    #: The KPI's own time zone: its slots, dates and "end of day".
    zone: str = "UTC"
    #: Ongoing KPIs (services/periods/): week|month|quarter|year, the aggregate, and the
    #: current period {label, start, end, target, low, high, value}; null for one-off KPIs.
    every: str | None = None
    aggregate: str | None = None
    period: dict | None = None
    #: Objectives and roll-ups (services/rollup.py): the objective this counts towards, its
    #: weight there (null without a parent), and the keys of the KPIs and objectives under it.
    parent: str | None = None
    weight: float | None = None
    children: list[str] = field(default_factory=list)


@dataclass
class Summary:
    total: int
    by_status: dict[str, int]


@dataclass
class Report:
    as_of: datetime
    generated_at: datetime
    kpis: list[KpiRow]
    summary: Summary
    filters: dict[str, str | None] = field(default_factory=dict)


@dataclass
class CorrectionView:
    """An amendment or retraction of a check-in: ``changes`` maps each field it changed to
    ``{"from": old, "to": new}`` (a retraction changes none)."""

    at: datetime
    by: str | None
    kind: str  # amend | retract
    reason: str
    changes: dict


@dataclass
class CheckinView:
    id: int
    status: str  # current | amended | retracted
    value: float
    measured_at: datetime
    recorded_at: datetime
    by: str | None
    confidence: int | None
    note: str | None
    blocker: str | None
    source: str
    key: str | None
    corrections: list[CorrectionView] = field(default_factory=list)


@dataclass
class AssignmentView:
    to: str
    by: str | None
    valid_from: datetime
    valid_until: datetime | None
    note: str | None


@dataclass
class ChangeView:
    at: datetime
    by: str | None
    field: str
    old: str | None
    new: str | None


@dataclass
class FeedbackView:
    at: datetime
    by: str | None
    text: str


@dataclass
class MilestoneView:
    at: datetime
    value: float


@dataclass
class KpiDetail:
    """`report KEY` (`kpictl.kpi/1`)."""

    as_of: datetime
    generated_at: datetime
    kpi: KpiRow
    outcome: str | None
    milestones: list[MilestoneView]
    checkins: list[CheckinView]
    assignments: list[AssignmentView]
    changes: list[ChangeView]
    feedback: list[FeedbackView]
    #: Ongoing KPIs: the scorecard, one entry per period begun (oldest first), and the
    #: streak of achieved closed periods; null for one-off KPIs.
    periods: list | None = None
    streak: int | None = None
    #: An objective: each child with its weight, progress and contribution to the roll-up
    #: (weight × progress ÷ Σ weights of the paced children); null for a KPI.
    children: list | None = None


@dataclass
class OwnerRow:
    """One person in `report --by owner` (`kpictl.owners/1`)."""

    handle: str
    name: str
    active: bool
    kpis: int
    by_status: dict[str, int]
    checkins_on_time: int
    checkins_late: int
    checkins_missed: int
    on_time_rate: float | None
    closed_achieved: int
    closed_missed: int
    hit_rate: float | None
    confidence_predictions: int
    confidence_brier: float | None
    confidence_bias: float | None
    calibration: str


@dataclass
class OwnersReport:
    as_of: datetime
    generated_at: datetime
    owners: list[OwnerRow]


@dataclass
class DigestCheckin:
    key: str
    value: float
    measured_at: datetime
    by: str | None
    note: str | None
    blocker: str | None


@dataclass
class StatusChange:
    key: str
    owner: str | None
    before: str | None
    after: str


@dataclass
class MissedCheckin:
    key: str
    owner: str | None
    due_by: datetime


@dataclass
class KpiEvent:
    key: str
    owner: str | None
    at: datetime
    detail: str | None


@dataclass
class SourceFailure:
    """A KPI whose pulls failed in the digest's window (`kpictl pull`)."""

    key: str
    owner: str | None
    failures: int
    first_at: datetime
    last_at: datetime
    error: str | None


@dataclass
class Digest:
    """`report --since D` / `--week this|last` (`kpictl.digest/1`)."""

    since: datetime
    until: datetime
    generated_at: datetime
    checkins: list[DigestCheckin]
    status_changes: list[StatusChange]
    missed_checkins: list[MissedCheckin]
    new_kpis: list[KpiEvent]
    reassigned: list[KpiEvent]
    closed: list[KpiEvent]
    summary: dict[str, int]
    source_failures: list[SourceFailure] = field(default_factory=list)
    #: Periods of ongoing KPIs that closed in the window: detail is "LABEL OUTCOME".
    periods_closed: list[KpiEvent] = field(default_factory=list)


@dataclass
class SuggestComponents:
    track_record: float
    skill_match: float
    capacity: float
    reliability: float


@dataclass
class Candidate:
    handle: str
    name: str
    score: float
    components: SuggestComponents
    active_kpis: int
    capacity: int
    overloaded: bool
    current_owner: bool
    reasons: list[str]


@dataclass
class SuggestTarget:
    """What is being staffed: an existing KPI, or one described by tags and unit."""

    key: str | None
    title: str | None
    tags: list[str]
    unit: str | None
    owner: str | None


@dataclass
class Suggestion:
    """`suggest` (`kpictl.suggest/1`)."""

    generated_at: datetime
    kpi: SuggestTarget
    weights: dict[str, float]
    candidates: list[Candidate]


@dataclass
class Move:
    key: str
    title: str
    status: str
    from_owner: str
    to: str
    score_from: float
    score_to: float
    gain: float
    reason: str
    command: str


@dataclass
class Rebalance:
    """`suggest --rebalance` (`kpictl.rebalance/1`)."""

    generated_at: datetime
    weights: dict[str, float]
    overloaded: list[str]
    moves: list[Move]


@dataclass
class NudgeItem:
    """One thing a recipient should do now (`kpictl nudge`, `kpictl.nudge/1`)."""

    type: str  # checkin_due | checkin_late | escalation | feedback_due | close_due | unresponsive
    kpi: str
    title: str
    owner: str | None
    level: int  # 0 the owner's own; 1 their manager; 2 the skip-level; …
    deadline: datetime | None
    late_by_s: int | None  # seconds past the deadline (null when not late)
    status: str
    covering: str | None  # the person away whose nudge this is, when it was passed on
    sent_at: datetime | None  # when this very nudge was sent (null: not yet)
    zone: str = "UTC"  # the KPI's own zone: the day its deadline falls on
    slot: str = field(default="", repr=False)  # what makes it new: the slot, the level


@dataclass
class NudgeRecipient:
    handle: str
    name: str
    email: str | None
    items: list[NudgeItem]


@dataclass
class NudgeReport:
    as_of: datetime
    generated_at: datetime
    recipients: list[NudgeRecipient]
