"""Derived data, checked against the history it is derived from, and rebuilt from it.

``checkin_stats`` (see :mod:`kpictl.services.stats`) is the one derived table: per KPI, counts
and least-squares sums of its check-ins, kept by every kpictl writer. A check-in changed or
deleted around kpictl (``UPDATE``/``DELETE`` in sqlite3 or psql) leaves it stale, and a
``now`` report would show the old count and forecast. :func:`stale_kpis` recomputes every
row from ``checkin`` and names the KPIs whose stored row differs; :func:`rebuild_all`
recomputes every derived row in the caller's (one) transaction.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kpictl.models import Checkin, CheckinStats, Kpi
from kpictl.services import stats

_FIELDS = ("n", "first_at", "last_at", "in_window", "met", "fit_n", "fit_distinct",
           "sx", "sy", "sxx", "sxy", "syy")


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        # The database and a rebuild add the same terms in different orders.
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return a == b


def stale_kpis(session: Session) -> list[str]:
    """Keys of the KPIs whose stored aggregates differ from their check-ins, sorted."""
    expected = {row[0]: row[1:] for row in session.execute(stats.aggregate_query())}
    columns = [getattr(CheckinStats, name) for name in _FIELDS]
    stored = {row[0]: row[1:] for row in session.execute(select(CheckinStats.kpi_id, *columns))}
    zero = (0, None, None, 0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    differing = []
    for kpi_id in expected.keys() | stored.keys():
        want = expected.get(kpi_id, zero)
        have = stored.get(kpi_id, zero)
        if not all(_same(w, h) for w, h in zip(want, have)):
            differing.append(kpi_id)
    if not differing:
        return []
    keys = session.execute(select(Kpi.key).where(Kpi.id.in_(differing))).scalars()
    return sorted(keys)


def rebuild_all(session: Session) -> int:
    """Recompute every derived row from the history; returns the number of KPIs with
    check-ins. The caller's write transaction makes it all or nothing."""
    stats.rebuild(session)
    return session.execute(select(func.count(func.distinct(Checkin.kpi_id)))).scalar() or 0
