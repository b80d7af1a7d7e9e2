"""Derived data, checked against the history it is derived from, and rebuilt from it.

``checkin_stats`` (see :mod:`kpictl.services.stats`) is the one derived table: per KPI and per
instant check-ins were recorded, the counts and exact moments of its check-ins recorded by
then, kept by every kpictl writer. A check-in changed or deleted around kpictl
(``UPDATE``/``DELETE`` in sqlite3 or psql) leaves it stale, and a report would show the old
count and forecast. :func:`stale_kpis` recomputes every row from ``checkin`` and names the
KPIs whose stored rows differ — exactly: the moments are exact sums, so a recount gives the
same bits; :func:`rebuild_all` recomputes every derived row in the caller's (one) transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kpictl.models import Checkin, CheckinStats, Kpi
from kpictl.services import stats


def _key(value):
    if isinstance(value, datetime):  # aware from the database, aware from a recount
        return value.replace(tzinfo=None)
    if isinstance(value, bool):
        return int(value)
    return value


def _rows(rows) -> dict[int, list[tuple]]:
    result: dict[int, list[tuple]] = {}
    for row in rows:
        result.setdefault(row[0], []).append(tuple(_key(v) for v in row))
    return result


def stale_kpis(session: Session) -> list[str]:
    """Keys of the KPIs whose stored aggregates differ from their check-ins, sorted; a chunk
    of KPIs at a time (a KPI may have a row per check-in)."""
    t = CheckinStats.__table__.c
    columns = [t[name] for name in stats.COLUMNS]
    ids = sorted(set(session.execute(select(Checkin.kpi_id).distinct()).scalars())
                 | set(session.execute(select(t.kpi_id).distinct()).scalars()))
    differing = []
    for begin in range(0, len(ids), stats.CHUNK):
        chunk = ids[begin:begin + stats.CHUNK]
        stored = _rows(session.execute(select(*columns).where(t.kpi_id.in_(chunk))
                                       .order_by(t.kpi_id, t.recorded_at)))
        expected: dict[int, list[tuple]] = {}
        for rows in stats.expected_rows(session, chunk, batch=None):
            expected.update(_rows(tuple(row[name] for name in stats.COLUMNS) for row in rows))
        differing += [kpi_id for kpi_id in chunk if expected.get(kpi_id) != stored.get(kpi_id)]
    if not differing:
        return []
    keys = session.execute(select(Kpi.key).where(Kpi.id.in_(differing))).scalars()
    return sorted(keys)


def rebuild_all(session: Session) -> int:
    """Recompute every derived row from the history; returns the number of KPIs with
    check-ins. The caller's write transaction makes it all or nothing."""
    stats.rebuild(session)
    return session.execute(select(func.count(func.distinct(Checkin.kpi_id)))).scalar() or 0
