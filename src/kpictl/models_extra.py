"""The tables that a single check-in does not touch: history logs, tags, skills, milestones,
corrections, away windows, nudges sent, source runs and per-period targets. Defined on first
use through ``kpictl.models`` (see its docstring); import them from there."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from kpictl.db import UTCDateTime
from kpictl.models import _Table, _time


class PersonSkill(_Table, table=True):
    __tablename__ = "person_skill"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    skill: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    level: int | None = Field(default=None)


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
