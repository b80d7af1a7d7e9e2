"""Per-KPI check-in aggregates (``checkin_stats``): why a report need not read all history.

The portfolio needs, per KPI, how many check-ins it has, how many fall in its window and met
the threshold, and the sums of the forecast's least squares. Computed from ``checkin`` that is
a scan of the whole history on every report, so report time would grow with history (PRODUCT
§5: doubling the check-ins must add < 15 %). Instead every writer adds its check-ins to the
KPI's row in its own transaction — an upsert whose arithmetic runs in SQL, so concurrent
writers on PostgreSQL add up instead of overwriting each other — and a change to a KPI's
definition (start, due, kind, baseline, target, bounds) rebuilds that KPI's row.

A report uses a row only where it is exact for the instant asked: the KPI's definition was
not changed after that instant, and none of its check-ins is measured after it
(``as_of >= last_at``). That is every KPI of the usual "now" report; ``--as-of`` in the past
reads the history of just the KPIs it has to.

A guard catches check-ins written around kpictl (a hand-made INSERT): ``max(checkin.id)``
must not exceed the largest ``covered_id``. If it does, reports read history for every KPI
and the next kpictl write rebuilds all rows. ``fit_distinct`` is capped at 3 because the
forecast only asks "at least three distinct times?": a writer looks up at most three existing
times, and only for a KPI that has fewer than three.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Integer, and_, case, delete, func, literal, select, text
from sqlalchemy.orm import Session

from kpictl.db import days_between, greatest, least
from kpictl.domain import Kind
from kpictl.models import Checkin, CheckinStats, Kpi
from kpictl.services.forecast import Sums

#: ``fit_distinct`` never exceeds this: the forecast needs three distinct times, no more.
DISTINCT_CAP = 3
_SUMS = ("sx", "sy", "sxx", "sxy", "syy")
_COUNTS = ("n", "in_window", "met", "fit_n")
_PG_REBUILD_LOCK = 0x6B7069637432  # "kpict2": the advisory lock of a rebuild


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)


def epoch_second(value: datetime) -> int:
    """The instant cut down to its whole second, as ``db.days_between`` counts in SQL."""
    return (value - _EPOCH) // _SECOND


def x_days(measured: datetime, start: datetime) -> float:
    """Days from start to the check-in, in whole seconds (see ``db.days_between``)."""
    return (epoch_second(measured) - epoch_second(start)) / 86400.0


class Delta:
    """What check-ins add to one KPI's row, for the KPI's definition (a ``Kpi`` row, or a
    ``KpiAt`` as it stood at some instant). Called once per row of a bulk file: lean."""

    def __init__(self, kpi) -> None:
        self.start, self.due = kpi.start, kpi.due
        self.n = self.in_window = self.met = self.fit_n = 0
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None
        self.recorded_last: datetime | None = None  # the writer's "now"
        self.times: set = set()  # distinct fit times, at most DISTINCT_CAP kept
        self.sx = self.sy = self.sxx = self.sxy = self.syy = 0.0
        inf = float("inf")
        # The threshold as a closed interval [lo, hi]; empty for kinds without one.
        self._lo, self._hi = {Kind.AT_LEAST: (kpi.target, inf), Kind.AT_MOST: (-inf, kpi.target),
                              Kind.RANGE: (kpi.low, kpi.high)}.get(Kind(kpi.kind), (inf, -inf))
        self._shift = kpi.baseline or 0.0
        self._start_second = epoch_second(kpi.start)

    def add(self, measured: datetime, value: float) -> None:
        self.n += 1
        if self.first_at is None:
            self.first_at = self.last_at = measured
        elif measured < self.first_at:
            self.first_at = measured
        elif measured > self.last_at:
            self.last_at = measured
        if measured < self.start:
            return
        if measured <= self.due:
            self.in_window += 1
            if self._lo <= value <= self._hi:
                self.met += 1
        self.fit_n += 1
        if len(self.times) < DISTINCT_CAP:
            self.times.add(measured)
        x = ((measured - _EPOCH) // _SECOND - self._start_second) / 86400.0  # x_days
        y = value - self._shift
        self.sx += x
        self.sy += y
        self.sxx += x * x
        self.sxy += x * y
        self.syy += y * y

    def sums(self) -> Sums:
        return Sums(n=self.fit_n, distinct_x=len(self.times), sx=self.sx, sy=self.sy,
                    sxx=self.sxx, sxy=self.sxy, syy=self.syy)


def _dialect(session) -> str:
    bind = session.get_bind() if hasattr(session, "get_bind") else session
    return bind.dialect.name


def _insert(session: Session):
    if _dialect(session) == "postgresql":  # ON CONFLICT is dialect-specific
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(CheckinStats)


def covered(session: Session) -> bool:
    """True when every check-in is counted in ``checkin_stats`` (the guard of the module doc)."""
    newest = session.execute(select(func.max(Checkin.id))).scalar()
    if newest is None:
        return True
    return (session.execute(select(func.max(CheckinStats.covered_id))).scalar() or 0) >= newest


def prepare(session: Session) -> None:
    """Before a writer adds check-ins: rebuild every row if check-ins were written around us."""
    if not covered(session):
        rebuild(session)


def _existing_distinct(session: Session, kpi_ids) -> dict[int, int]:
    """``fit_distinct`` of the KPIs that have a row."""
    ids = list(kpi_ids)
    result: dict[int, int] = {}
    for start in range(0, len(ids), 10_000):
        chunk = ids[start:start + 10_000]
        result.update(session.execute(select(CheckinStats.kpi_id, CheckinStats.fit_distinct)
                                      .where(CheckinStats.kpi_id.in_(chunk))).all())
    return result


def add(session: Session, deltas: dict[int, Delta]) -> None:
    """Add ``deltas`` (check-ins inserted in this transaction, before this call) to their
    KPIs' rows, by id."""
    if not deltas:
        return
    known = _existing_distinct(session, deltas)  # rows as they were: the upsert comes below
    newest = session.execute(select(func.max(Checkin.id))).scalar() or 0
    rows = []
    for kpi_id, d in deltas.items():
        before = known.get(kpi_id, 0)
        if before >= DISTINCT_CAP or len(d.times) >= DISTINCT_CAP:
            distinct = DISTINCT_CAP
        elif before == 0 and kpi_id not in known:
            distinct = len(d.times)
        else:  # few distinct times so far: count them, new ones included (≤ 3 rows read)
            distinct = len(session.execute(
                select(Checkin.measured_at).distinct()
                .where(Checkin.kpi_id == kpi_id, Checkin.measured_at >= d.start)
                .order_by(Checkin.measured_at).limit(DISTINCT_CAP)).all())
        rows.append({"kpi_id": kpi_id, "n": d.n, "first_at": d.first_at, "last_at": d.last_at,
                     "in_window": d.in_window, "met": d.met, "fit_n": d.fit_n,
                     "fit_distinct": distinct, "sx": d.sx, "sy": d.sy, "sxx": d.sxx,
                     "sxy": d.sxy, "syy": d.syy, "covered_id": newest,
                     "recorded_last": d.recorded_last})
    stmt = _insert(session)
    new = stmt.excluded
    t = CheckinStats.__table__.c
    update = {name: t[name] + new[name] for name in (*_COUNTS, *_SUMS)}
    update.update(first_at=least(t.first_at, new.first_at),
                  last_at=greatest(t.last_at, new.last_at),
                  fit_distinct=greatest(t.fit_distinct, new.fit_distinct),
                  covered_id=greatest(t.covered_id, new.covered_id),
                  recorded_last=greatest(func.coalesce(t.recorded_last, new.recorded_last),
                                         new.recorded_last))
    stmt = stmt.on_conflict_do_update(index_elements=[t.kpi_id], set_=update)
    for start in range(0, len(rows), 5_000):
        session.execute(stmt, rows[start:start + 5_000])


def met_expression():
    return case(
        (Kpi.kind == str(Kind.AT_LEAST), Checkin.value >= Kpi.target),
        (Kpi.kind == str(Kind.AT_MOST), Checkin.value <= Kpi.target),
        (Kpi.kind == str(Kind.RANGE), and_(Checkin.value >= Kpi.low, Checkin.value <= Kpi.high)),
        else_=False,
    )


def aggregate_query(*, ids=None, as_of: datetime | None = None, known: bool = False):
    """Per KPI, from ``checkin``: the columns of ``checkin_stats`` (but ``covered_id`` and
    ``recorded_last``) over the check-ins measured up to ``as_of`` (all of them when None);
    ``known``: only those also recorded by then (what a report showed at that instant)."""
    in_window = and_(Checkin.measured_at >= Kpi.start, Checkin.measured_at <= Kpi.due)
    fitted = Checkin.measured_at >= Kpi.start
    x = days_between(Checkin.measured_at, Kpi.start)
    y = Checkin.value - func.coalesce(Kpi.baseline, 0.0)

    def fit_sum(expr):
        return func.coalesce(func.sum(case((fitted, expr), else_=0.0)), 0.0)

    stmt = (
        select(
            Checkin.kpi_id,
            func.count(),
            func.min(Checkin.measured_at),
            func.max(Checkin.measured_at),
            func.coalesce(func.sum(case((in_window, 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(in_window, met_expression()), 1), else_=0)), 0),
            func.coalesce(func.sum(case((fitted, 1), else_=0)), 0),
            least(func.count(func.distinct(case((fitted, Checkin.measured_at)))), DISTINCT_CAP),
            fit_sum(x), fit_sum(y), fit_sum(x * x), fit_sum(x * y), fit_sum(y * y),
        )
        .select_from(Checkin)
        .join(Kpi, Kpi.id == Checkin.kpi_id)
        .group_by(Checkin.kpi_id)
    )
    if ids is not None:
        stmt = stmt.where(Checkin.kpi_id.in_(ids))
    if as_of is not None:
        stmt = stmt.where(Checkin.measured_at <= as_of)
        if known:
            stmt = stmt.where(Checkin.recorded_at <= as_of)
    return stmt


_COLUMNS = ("kpi_id", "n", "first_at", "last_at", "in_window", "met", "fit_n", "fit_distinct",
            *_SUMS)


def rebuild(session: Session, kpi_ids=None, *, recorded: bool = True) -> None:
    """Recompute rows from ``checkin``: all of them, or those of ``kpi_ids``.

    ``recorded=False`` leaves ``recorded_last`` out, for migration 0002 (the column comes with
    0004, which fills it)."""
    if _dialect(session) == "postgresql":  # two rebuilds at once must not collide
        session.execute(text(f"SELECT pg_advisory_xact_lock({_PG_REBUILD_LOCK})"))
    newest = session.execute(select(func.max(Checkin.id))).scalar() or 0
    if kpi_ids is None:
        session.execute(delete(CheckinStats))
    else:
        kpi_ids = list(kpi_ids)
        if not kpi_ids:
            return
        session.execute(delete(CheckinStats).where(CheckinStats.kpi_id.in_(kpi_ids)))
    query = aggregate_query(ids=kpi_ids)
    query = query.add_columns(literal(newest, Integer))
    columns = [*_COLUMNS, "covered_id"]
    if recorded:
        query = query.add_columns(func.max(Checkin.recorded_at))
        columns.append("recorded_last")
    session.execute(CheckinStats.__table__.insert().from_select(columns, query))
