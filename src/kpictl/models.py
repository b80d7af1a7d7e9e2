"""SQLModel tables, and nothing else.

Append-only history (assignments, check-ins, feedback, field changes) lives in its own tables;
``kpi.owner_id`` is the current owner, kept in step with the open assignment row so that the
portfolio report does not have to replay the log. Every time column is :class:`UTCDateTime`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from kpictl.db import UTCDateTime

# Named constraints so that Alembic batch mode can alter them on SQLite.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = SQLModel.metadata


class _Table(SQLModel):
    model_config = SQLModelConfig(defer_build=True)


def _time(*, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Person(_Table, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    email: str | None = Field(default=None, sa_column=sa.Column(sa.String(320)))
    capacity: int = Field(default=5)
    manager_id: int | None = Field(default=None, foreign_key="person.id")
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_column=_time())


class PersonSkill(_Table, table=True):
    __tablename__ = "person_skill"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    skill: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    level: int | None = Field(default=None)


class Kpi(_Table, table=True):
    __tablename__ = "kpi"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, unique=True))
    title: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    outcome: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    unit: str | None = Field(default=None, sa_column=sa.Column(sa.String(40)))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    baseline: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    target: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    low: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    high: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    start: datetime = Field(sa_column=_time())
    due: datetime = Field(sa_column=_time())
    cadence: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    grace: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    #: The KPI's own IANA zone: its slots, dates and "end of day" (migration 0003).
    zone: str = Field(default="UTC", sa_column=sa.Column(sa.String(64), nullable=False,
                                                         server_default="UTC"))
    #: Ongoing KPIs (migration 0009): week | month | quarter | year, and how a period's
    #: check-ins make its value (services/periods.py); both None for a one-off KPI.
    every: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    aggregate: str | None = Field(default=None, sa_column=sa.Column(sa.String(8)))
    owner_id: int = Field(foreign_key="person.id", index=True)
    delegated_by_id: int | None = Field(default=None, foreign_key="person.id")
    state: str = Field(default="active", sa_column=sa.Column(sa.String(16), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    close_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = Field(sa_column=_time())
    updated_at: datetime = Field(sa_column=_time())


class KpiTag(_Table, table=True):
    __tablename__ = "kpi_tag"

    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True, index=True))


class Milestone(_Table, table=True):
    __tablename__ = "milestone"

    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), primary_key=True))
    value: float = Field(sa_column=sa.Column(sa.Float, nullable=False))


class Assignment(_Table, table=True):
    """The delegation log: one row per period a person owned a KPI."""

    __tablename__ = "assignment"

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    assigned_by_id: int | None = Field(default=None, foreign_key="person.id")
    valid_from: datetime = Field(sa_column=_time())
    valid_until: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    recorded_at: datetime = Field(sa_column=_time())


class KpiChange(_Table, table=True):
    """Field changes made to a KPI after it was created (old and new value as text)."""

    __tablename__ = "kpi_change"

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", index=True)
    at: datetime = Field(sa_column=_time())
    by_id: int | None = Field(default=None, foreign_key="person.id")
    field: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    old_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    new_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))  # e.g. of a reopen


class Checkin(_Table, table=True):
    __tablename__ = "checkin"
    __table_args__ = (
        sa.UniqueConstraint("kpi_id", "idem_key"),
        sa.Index("ix_checkin_kpi_measured", "kpi_id", "measured_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id")
    value: float = Field(sa_column=sa.Column(sa.Float, nullable=False))
    measured_at: datetime = Field(sa_column=_time())
    recorded_at: datetime = Field(sa_column=_time())
    author_id: int | None = Field(default=None, foreign_key="person.id")
    confidence: int | None = Field(default=None)
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    blocker: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # "cli", "file", "pull:<kpi key>" (a KPI key is up to 100 characters)
    source: str = Field(default="cli", sa_column=sa.Column(sa.String(120), nullable=False))
    idem_key: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))


class CheckinStats(_Table, table=True):
    """Per-KPI aggregates of its check-ins, a row per instant check-ins were recorded, each
    counting every check-in of the KPI recorded up to then; kept by every writer in the
    writer's transaction.

    Derived data (never exported): :mod:`kpictl.services.stats` explains when the report may
    use a row instead of reading the KPI's history, and rebuilds rows from ``checkin``. Counts
    and moments are relative to the KPI's current definition (start, due, baseline,
    thresholds); a change of definition rebuilds the KPI's rows.
    """

    __tablename__ = "checkin_stats"

    kpi_id: int = Field(foreign_key="kpi.id", primary_key=True, ondelete="CASCADE")
    # The check-ins counted here are those recorded at or before this instant.
    recorded_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), primary_key=True))
    n: int = Field(default=0)  # all check-ins
    first_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    last_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    in_window: int = Field(default=0)  # measured in [start, due]
    met: int = Field(default=0)  # … of which met the threshold (maintain kinds)
    fit_n: int = Field(default=0)  # measured at or after start: the forecast's points
    fit_distinct: int = Field(default=0)  # distinct measured times among them, capped at 3
    # The latest of them (by measured_at, then id): the report's current value.
    latest_id: int | None = Field(default=None)
    # The exact sums of the points (services/forecast.py Moments), and the centred moments
    # rounded once from them (x in days since the start, y relative to the baseline); null
    # without points, or beyond a double.
    sums: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    x_mean: float | None = Field(default=None, sa_column=sa.Column(sa.Float, nullable=True))
    y_mean: float | None = Field(default=None, sa_column=sa.Column(sa.Float, nullable=True))
    sxx: float | None = Field(default=None, sa_column=sa.Column(sa.Float, nullable=True))
    sxy: float | None = Field(default=None, sa_column=sa.Column(sa.Float, nullable=True))
    syy: float | None = Field(default=None, sa_column=sa.Column(sa.Float, nullable=True))
    sse: float | None = Field(default=None, sa_column=sa.Column(sa.Float, nullable=True))
    exact_fit: bool | None = Field(default=None)  # the residuals are rounding noise
    covered_id: int = Field(default=0)  # every check-in up to this id is counted


class Feedback(_Table, table=True):
    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="person.id")
    at: datetime = Field(sa_column=_time())
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))


class Away(_Table, table=True):
    """A person's away window (`people away`): no nudges to them, their slots not charged,
    their nudges to ``cover`` (else their manager). ``ends`` is inclusive."""

    __tablename__ = "away"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    starts: datetime = Field(sa_column=_time())
    ends: datetime = Field(sa_column=_time())
    cover_id: int | None = Field(default=None, foreign_key="person.id")
    by_id: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: datetime = Field(sa_column=_time())


class NudgeSent(_Table, table=True):
    """One nudge that reached its recipient (`nudge --send`): each is sent once."""

    __tablename__ = "nudge_sent"
    __table_args__ = (sa.UniqueConstraint("recipient_id", "type", "kpi_id", "slot", "level"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="person.id")
    type: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    kpi_id: int = Field(foreign_key="kpi.id", index=True, ondelete="CASCADE")
    slot: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    level: int = Field(default=0)
    sent_at: datetime = Field(sa_column=_time())


class CheckinCorrection(_Table, table=True):
    """An amendment or retraction of a check-in: append-only, the check-in row stays as it was
    recorded. Each row holds the check-in's fields as they are *after* this correction, so the
    version known at any instant is the newest correction recorded by then (or the original);
    what changed is the difference from the version before (see services/corrections.py)."""

    __tablename__ = "checkin_correction"

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkin.id", index=True)
    kpi_id: int = Field(foreign_key="kpi.id", index=True)
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # amend | retract
    recorded_at: datetime = Field(sa_column=_time())
    by_id: int | None = Field(default=None, foreign_key="person.id")
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    value: float = Field(sa_column=sa.Column(sa.Float, nullable=False))
    measured_at: datetime = Field(sa_column=_time())
    confidence: int | None = Field(default=None)
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    blocker: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class PersonChange(_Table, table=True):
    """Changes to a person after they were added (old and new value as text), for the log."""

    __tablename__ = "person_change"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    at: datetime = Field(sa_column=_time())
    by_id: int | None = Field(default=None, foreign_key="person.id")
    field: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    old_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    new_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class SourceRun(_Table, table=True):
    """Pulls of a KPI's source that failed, and the first success after them (`kpictl pull`).

    Append-only and small: a failure is always logged, a success only when it ends a run of
    failures, so the latest row at an instant says whether the source was failing then (the
    ``source_failed`` flag) and a healthy hourly cron adds nothing. Check-ins themselves are
    the record of successful pulls.
    """

    __tablename__ = "source_run"
    __table_args__ = (sa.Index("ix_source_run_kpi_at", "kpi_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", ondelete="CASCADE")
    at: datetime = Field(sa_column=_time())
    ok: bool = Field(default=False)
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    seconds: float | None = Field(default=None, sa_column=sa.Column(sa.Float))


class PeriodTarget(_Table, table=True):
    """A per-period target of an ongoing KPI (`assign --target-for`, `targets --file`):
    append-only, the newest row recorded by an instant is the period's target then."""

    __tablename__ = "period_target"
    __table_args__ = (sa.Index("ix_period_target_kpi_period", "kpi_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kpi_id: int = Field(foreign_key="kpi.id", ondelete="CASCADE")
    period: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # 2027-03, 2027-Q2, …
    target: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    low: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    high: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    by_id: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: datetime = Field(sa_column=_time())
