"""Recent check-in values per KPI: the data behind the sparklines of the table and HTML views.

One windowed query (``ROW_NUMBER() OVER (PARTITION BY kpi_id ORDER BY measured_at DESC)``)
fetches the last few values of every shown KPI at once, on SQLite and PostgreSQL alike, using
the ``(kpi_id, measured_at)`` index. Only the human views call it: the JSON/CSV report never
pays for it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from kpictl.models import Checkin, Kpi
from kpictl.services import corrections

#: Keys per statement: well under SQLite's bound-parameter limit, whatever its build.
_CHUNK = 2000


def recent_values(*, session: Session, keys: list[str], as_of: datetime,
                  points: int = 12, known: bool = False) -> dict[str, list[float]]:
    """The last ``points`` values of each KPI measured at or before ``as_of``, oldest first;
    ``known``: only check-ins and corrections recorded by then. Corrected values replace the
    originals, retracted check-ins are left out (services/corrections.py).

    KPIs without a check-in by then are absent from the result.
    """
    if points < 1:
        raise ValueError("points must be at least 1")
    result: dict[str, list[float]] = {}
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), _CHUNK):
        chunk = unique[i:i + _CHUNK]
        corrected = dict(session.execute(select(Kpi.id, Kpi.key).where(Kpi.id.in_(
            corrections.kpis_with_corrections(session, as_of=as_of, known=known,
                                              ids=select(Kpi.id).where(Kpi.key.in_(chunk))))))
                         .all()) if chunk else {}
        for kpi_id, items in corrections.history(session, corrected, as_of=as_of,
                                                 known=known).items():
            if items:
                result[corrected[kpi_id]] = [float(c.value) for c in items[-points:]]
        plain = [k for k in chunk if k not in set(corrected.values())]
        if not plain:
            continue
        rank = func.row_number().over(
            partition_by=Checkin.kpi_id,
            order_by=(Checkin.measured_at.desc(), Checkin.id.desc()),
        ).label("rank")
        ranked = (
            select(Kpi.key.label("key"), Checkin.id.label("id"),
                   Checkin.measured_at.label("measured_at"), Checkin.value.label("value"), rank)
            .join(Kpi, Kpi.id == Checkin.kpi_id)
            .where(Kpi.key.in_(plain), Checkin.measured_at <= as_of,
                   Checkin.recorded_at <= as_of if known else true())
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
