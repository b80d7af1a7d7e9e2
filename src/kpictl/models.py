"""SQLModel tables, and nothing else.

Append-only history (assignments, check-ins, feedback, field changes) lives in its own tables;
``kpi.owner_id`` is the current owner, kept in step with the open assignment row so that the
portfolio report does not have to replay the log. Every time column is :class:`UTCDateTime`.

The tables here are the ones a single `kpictl checkin` touches (and the people and KPIs they
refer to); the others live in :mod:`kpictl.models_extra` and are defined on first use
(``from kpictl.models import Feedback`` works as before, through :func:`__getattr__`). Each
mapped class costs about 2 ms to define at start-up, and a check-in is the command that runs
most often. ``metadata`` holds every table: asking for it defines the rest.
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


class _Table(SQLModel):
    model_config = SQLModelConfig(defer_build=True)


def _time(*, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Person(_Table, table=True):
    __tablename__ = "person"
    # A unique index, not a constraint: adding it to a SQLite table that others reference
    # needs no copy of the table (which foreign keys forbid inside the migration's
    # transaction).
    __table_args__ = (sa.Index("ix_person_db_role", "db_role", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    email: str | None = Field(default=None, sa_column=sa.Column(sa.String(320)))
    capacity: int = Field(default=5)
    manager_id: int | None = Field(default=None, foreign_key="person.id")
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_column=_time())
    #: The PostgreSQL role that is this person on a shared server (migration 0012; default
    #: the handle). On SQLite it is kept (and exported) but means nothing.
    db_role: str | None = Field(default=None, sa_column=sa.Column(sa.String(63)))


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
    #: check-ins make its value (services/periods/); both None for a one-off KPI.
    every: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    aggregate: str | None = Field(default=None, sa_column=sa.Column(sa.String(8)))
    #: Objectives and roll-ups (migration 0010): the objective this KPI (or objective) counts
    #: towards, and its weight in that objective's weighted mean (services/rollup.py).
    parent_id: int | None = Field(default=None, foreign_key="kpi.id", index=True)
    weight: float = Field(default=1.0, sa_column=sa.Column(sa.Float, nullable=False,
                                                           server_default="1"))
    owner_id: int = Field(foreign_key="person.id", index=True)
    delegated_by_id: int | None = Field(default=None, foreign_key="person.id")
    state: str = Field(default="active", sa_column=sa.Column(sa.String(16), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    close_note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = Field(sa_column=_time())
    updated_at: datetime = Field(sa_column=_time())


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
    covered_id: int = Field(default=0, index=True)  # every check-in up to this id is counted


_EXTRA = frozenset({"PersonSkill", "KpiTag", "Milestone", "Assignment", "KpiChange", "Feedback",
                    "Away", "NudgeSent", "CheckinCorrection", "PersonChange", "SourceRun",
                    "PeriodTarget"})


def __getattr__(name: str):
    """The tables of :mod:`kpictl.models_extra`, and ``metadata`` with every table."""
    if name in _EXTRA or name == "metadata":
        from kpictl import models_extra

        return SQLModel.metadata if name == "metadata" else getattr(models_extra, name)
    raise AttributeError(f"module 'kpictl.models' has no attribute {name!r}")
