"""Recent check-in values per KPI: the data behind the sparklines of the table and HTML views.

One windowed query (``ROW_NUMBER() OVER (PARTITION BY kpi_id ORDER BY measured_at DESC)``)
fetches the last few values of every shown KPI at once, on SQLite and PostgreSQL alike, using
the ``(kpi_id, measured_at)`` index. Only the human views call it: the JSON/CSV report never
pays for it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kpictl.models import Checkin, Kpi

#: Keys per statement: well under SQLite's bound-parameter limit, whatever its build.
_CHUNK = 2000


def recent_values(*, session: Session, keys: list[str], as_of: datetime,
                  points: int = 12) -> dict[str, list[float]]:
    """The last ``points`` values of each KPI measured at or before ``as_of``, oldest first.

    KPIs without a check-in by then are absent from the result.
    """
    if points < 1:
        raise ValueError("points must be at least 1")
    result: dict[str, list[float]] = {}
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), _CHUNK):
        chunk = unique[i:i + _CHUNK]
        rank = func.row_number().over(
            partition_by=Checkin.kpi_id,
            order_by=(Checkin.measured_at.desc(), Checkin.id.desc()),
        ).label("rank")
        ranked = (
            select(Kpi.key.label("key"), Checkin.id.label("id"),
                   Checkin.measured_at.label("measured_at"), Checkin.value.label("value"), rank)
            .join(Kpi, Kpi.id == Checkin.kpi_id)
            .where(Kpi.key.in_(chunk), Checkin.measured_at <= as_of)
            .subquery()
        )
        stmt = (
            select(ranked.c.key, ranked.c.value)
            .where(ranked.c.rank <= points)
            .order_by(ranked.c.key, ranked.c.measured_at, ranked.c.id)
        )
        for key, value in session.execute(stmt):
            result.setdefault(key, []).append(float(value))
    return result
