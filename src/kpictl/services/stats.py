"""Per-KPI check-in aggregates (``checkin_stats``): why a report need not read all history.

The portfolio needs, per KPI, how many check-ins it has, how many fall in its window and met
the threshold, and the moments of the forecast's least squares. Computed from ``checkin`` that
is a scan of the whole history on every report, so report time would grow with history
(PRODUCT §5: doubling the check-ins must add < 15 %). Instead the aggregates are kept as a
*running log in recorded order*: one row per KPI and per instant check-ins were recorded
(``recorded_at``: a single check-in, or a whole bulk file, which is recorded at one instant),
holding the aggregates of every check-in of that KPI recorded up to then.

So the aggregates can be read at any instant with one index seek per KPI: the "now" report
takes each KPI's newest row, and a report ``--as-of`` a past instant — which shows what was
*known* then (PRODUCT §3), the check-ins recorded by then — takes the newest row recorded by
that instant. A row is used only where it is exact for the view: none of its check-ins is
measured after the instant (``last_at <= as_of``), the KPI's definition was not changed after
it, and no correction is in the view (services/corrections.py replays those KPIs). Everything
else — the hindsight view ``--revised`` of a past instant, which also counts what was
back-filled later — is counted from the history of just those KPIs (:func:`from_history`),
by the same code as the writers, so both roads give the same bits.

The moments are exact sums (:class:`~kpictl.services.forecast.Moments`), kept as text, beside
the centred moments rounded once from them (the columns the report reads). Exact sums do not
depend on the order of addition, so a writer that adds a bulk file, a rebuild, an import, and
SQLite or PostgreSQL all store the same bits: the same data gives the same report JSON byte for
byte. The arithmetic runs in Python at write time, under the KPI's row lock (every writer takes
it: ``SELECT … FOR UPDATE`` on PostgreSQL, the one writer of SQLite), so concurrent writers
add up instead of overwriting each other. A write recorded before a row that already exists
(a clock behind another machine's) recounts that KPI's rows (:func:`rebuild`), as a change to
a KPI's definition (start, due, kind, baseline, target, bounds) does.

A guard catches check-ins written around kpictl (a hand-made INSERT): ``max(checkin.id)``
must not exceed the largest ``covered_id``. If it does, reports read history for every KPI
and the next kpictl write rebuilds all rows. ``fit_distinct`` is capped at 3 because the
forecast only asks "at least three distinct times?": a writer looks up at most three existing
times, and only for a KPI that has fewer than three.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from kpictl.domain import Kind
from kpictl.models import Checkin, CheckinStats, Kpi
from kpictl.services.forecast import Fit, Moments

#: ``fit_distinct`` never exceeds this: the forecast needs three distinct times, no more.
DISTINCT_CAP = 3
#: Seconds per day: the forecast's x is in days since the start, the sums in whole seconds.
DAY = 86400
CHUNK = 500  # KPIs per history query: bounded memory whatever the history's length
_FIT = ("x_mean", "y_mean", "sxx", "sxy", "syy", "sse", "exact_fit")
#: The stored columns, in order (what ``db check`` compares).
COLUMNS = ("kpi_id", "recorded_at", "n", "first_at", "last_at", "in_window", "met", "fit_n",
           "fit_distinct", "latest_id", "sums", *_FIT)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)


def epoch_second(value: datetime) -> int:
    """The instant cut down to its whole second, as ``db.days_between`` counts in SQL."""
    return (value - _EPOCH) // _SECOND


def x_days(measured: datetime, start: datetime) -> float:
    """Days from start to the check-in, in whole seconds (see ``db.days_between``)."""
    return (epoch_second(measured) - epoch_second(start)) / 86400.0


class Delta:
    """What check-ins add to one KPI's aggregates, for the KPI's definition (a ``Kpi`` row, or
    a ``KpiAt`` as it stood at some instant). Called once per row of a bulk file: lean."""

    def __init__(self, kpi) -> None:
        self.start, self.due = kpi.start, kpi.due
        self.n = self.in_window = self.met = 0
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None
        self.times: set = set()  # distinct fit times, at most DISTINCT_CAP kept
        self.saturated = False  # merged a row that had DISTINCT_CAP distinct times
        self.latest: tuple | None = None  # (measured_at, id) of the latest, when ids are known
        self.moments = Moments()  # x in whole seconds since the start, y the value
        inf = float("inf")
        # The threshold as a closed interval [lo, hi]; empty for kinds without one.
        self._lo, self._hi = {Kind.AT_LEAST: (kpi.target, inf), Kind.AT_MOST: (-inf, kpi.target),
                              Kind.RANGE: (kpi.low, kpi.high)}.get(Kind(kpi.kind), (inf, -inf))
        self.shift = kpi.baseline or 0.0
        self._start_second = epoch_second(kpi.start)

    @property
    def fit_n(self) -> int:
        return self.moments.n

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
        if len(self.times) < DISTINCT_CAP:
            self.times.add(measured)
        self.moments.add_seconds((measured - _EPOCH) // _SECOND - self._start_second, value)

    def fit(self, distinct: int | None = None) -> Fit | None:
        """The forecast's moments, y relative to the baseline; None without points."""
        if distinct is None:
            distinct = DISTINCT_CAP if self.saturated else len(self.times)
        return self.moments.fit(distinct, shift=self.shift, unit=DAY)

    def merge(self, row) -> None:
        """Add the check-ins counted in a stored row (``COLUMNS``) to these."""
        self.n += row.n
        if row.first_at is not None:
            self.first_at = row.first_at if self.first_at is None else min(self.first_at,
                                                                          row.first_at)
            self.last_at = row.last_at if self.last_at is None else max(self.last_at,
                                                                       row.last_at)
        self.in_window += row.in_window
        self.met += row.met
        self.moments.merge(Moments.decode(row.fit_n, row.sums))
        if row.fit_distinct >= DISTINCT_CAP:
            self.saturated = True

    def row(self, kpi_id: int, recorded_at: datetime, distinct: int, covered_id: int,
            latest_id: int | None) -> dict:
        fit = self.fit(distinct) if self.fit_n else None
        values = dict.fromkeys(_FIT) if fit is None else {
            "x_mean": fit.x_mean, "y_mean": fit.y_mean, "sxx": fit.sxx, "sxy": fit.sxy,
            "syy": fit.syy, "sse": fit.sse, "exact_fit": fit.exact}
        return {"kpi_id": kpi_id, "recorded_at": recorded_at, "n": self.n,
                "first_at": self.first_at, "last_at": self.last_at,
                "in_window": self.in_window, "met": self.met, "fit_n": self.fit_n,
                "fit_distinct": distinct, "latest_id": latest_id,
                "sums": self.moments.encode() if self.fit_n else None,
                "covered_id": covered_id, **values}


#: The row's columns that :func:`fit_from` takes, in order.
FIT_COLUMNS = ("fit_n", "fit_distinct", *_FIT)


def fit_from(fit_n, distinct, x_mean, y_mean, sxx, sxy, syy, sse, exact) -> Fit | None:
    """The forecast's moments from a stored row's :data:`FIT_COLUMNS` (None without points,
    or beyond a double)."""
    if not fit_n or x_mean is None:
        return None
    return Fit(fit_n, distinct, x_mean, y_mean, sxx, sxy, syy, sse, bool(exact))


def fit_of(row) -> Fit | None:
    """The forecast's moments of a stored row."""
    return fit_from(*(getattr(row, name) for name in FIT_COLUMNS))


def covered(session: Session) -> bool:
    """True when every check-in is counted in ``checkin_stats`` (the guard of the module doc)."""
    newest = session.execute(select(func.max(Checkin.id))).scalar()
    if newest is None:
        return True
    return (session.execute(select(func.max(CheckinStats.covered_id))).scalar() or 0) >= newest


def prepare(session: Session) -> bool:
    """Before a writer adds check-ins: rebuild every row if check-ins were written around us.

    False when they were and this writer may not recount every KPI (a non-admin on a shared
    server, whose rows the server limits to their own KPIs): it then leaves the aggregates
    alone — the guard keeps every report reading history — and the next admin's write, or
    ``kpictl db rebuild``, recounts them all."""
    if covered(session):
        return True
    from kpictl.services.access import may_recount

    if not may_recount(session):
        return False
    rebuild(session)
    return True


def row_at(instant: datetime | None = None):
    """Correlated to ``Kpi``: the ``recorded_at`` of the KPI's newest row (recorded by
    ``instant``, when given) — the aggregates of what was recorded then."""
    inner = select(func.max(CheckinStats.recorded_at)).where(CheckinStats.kpi_id == Kpi.id)
    if instant is not None:
        inner = inner.where(CheckinStats.recorded_at <= instant)
    return inner.correlate(Kpi).scalar_subquery()


def add(session: Session, deltas: dict[int, Delta], recorded: datetime) -> None:
    """Add ``deltas`` — check-ins recorded at ``recorded``, inserted in this transaction before
    this call, their KPIs locked — to their KPIs' rows, by id."""
    if not deltas:
        return
    newest = session.execute(select(func.max(Checkin.id))).scalar() or 0
    ids = list(deltas)
    t = CheckinStats.__table__.c
    previous, later, latest = {}, set(), {}
    for begin in range(0, len(ids), 10_000):
        chunk = ids[begin:begin + 10_000]
        stored = CheckinStats.__table__.alias("stored")
        newest_before = (select(func.max(t.recorded_at))
                         .where(t.kpi_id == stored.c.kpi_id, t.recorded_at <= recorded)
                         .correlate(stored).scalar_subquery())
        previous.update((r.kpi_id, r) for r in session.execute(
            select(*[stored.c[name] for name in COLUMNS])
            .where(stored.c.kpi_id.in_(chunk), stored.c.recorded_at == newest_before)))
        later.update(session.execute(select(t.kpi_id).distinct().where(
            t.kpi_id.in_(chunk), t.recorded_at > recorded)).scalars())
        latest.update(session.execute(select(Kpi.id, select(Checkin.id).where(
            Checkin.kpi_id == Kpi.id).order_by(Checkin.measured_at.desc(), Checkin.id.desc())
            .limit(1).correlate(Kpi).scalar_subquery()).where(Kpi.id.in_(chunk))).all())
    if later:
        from kpictl.services.access import may_recount

        if not may_recount(session):
            # Rows filed after this write (a faster clock's, or a transaction that began
            # later but committed first): recounting them is not this writer's to do. Adding
            # nothing leaves the guard short of this write's check-ins, so reports read the
            # history until an admin's write recounts every KPI.
            return
    inserts, updates = [], []
    for kpi_id, d in deltas.items():
        if kpi_id in later:
            continue  # recorded before an existing row: recounted below
        before = previous.get(kpi_id)
        if before is None:
            distinct = len(d.times)
        else:
            distinct = _distinct(session, kpi_id, d, before.fit_distinct, recorded)
            d.merge(before)
        # No check-in is recorded after this write (else it is recounted below): the latest
        # of them all is the latest of the row.
        row = d.row(kpi_id, recorded, distinct, newest, latest.get(kpi_id))
        if before is not None and before.recorded_at == recorded:
            updates.append({f"b_{k}": v for k, v in row.items()})
        else:
            inserts.append(row)
    for begin in range(0, len(inserts), 5_000):
        session.execute(CheckinStats.__table__.insert(), inserts[begin:begin + 5_000])
    if updates:
        names = [c for c in COLUMNS if c not in ("kpi_id", "recorded_at")] + ["covered_id"]
        stmt = (update(CheckinStats.__table__)
                .where(t.kpi_id == bindparam("b_kpi_id"),
                       t.recorded_at == bindparam("b_recorded_at"))
                .values({name: bindparam(f"b_{name}") for name in names}))
        session.execute(stmt, updates)
    if later:
        rebuild(session, sorted(later))


def _distinct(session: Session, kpi_id: int, d: Delta, before: int, recorded) -> int:
    """``fit_distinct`` after adding ``d`` to a row that had ``before`` (≤ 3 times read)."""
    if before >= DISTINCT_CAP or len(d.times) >= DISTINCT_CAP:
        return DISTINCT_CAP
    return len(session.execute(
        select(Checkin.measured_at).distinct()
        .where(Checkin.kpi_id == kpi_id, Checkin.measured_at >= d.start,
               Checkin.recorded_at <= recorded)
        .order_by(Checkin.measured_at).limit(DISTINCT_CAP)).all())


#: A KPI's definition as the aggregates read it: explicit columns, so that a migration can run
#: this before later revisions add theirs.
_DEFINITION = (Kpi.id, Kpi.start, Kpi.due, Kpi.kind, Kpi.target, Kpi.low, Kpi.high,
               Kpi.baseline)


class _Definition:
    __slots__ = ("id", "start", "due", "kind", "target", "low", "high", "baseline")

    def __init__(self, row) -> None:
        for name, value in zip(self.__slots__, row):
            setattr(self, name, value)


def expected_rows(session: Session, kpi_ids=None, *, batch: int | None = 5_000):
    """The rows ``checkin_stats`` should hold, recomputed from ``checkin``, per KPI in
    ``recorded_at`` order (all KPIs when ``kpi_ids`` is None): in lists of about ``batch``
    rows, or (``batch`` None) one list per chunk of :data:`CHUNK` KPIs, each KPI whole."""
    newest = session.execute(select(func.max(Checkin.id))).scalar() or 0
    if kpi_ids is None:
        kpi_ids = session.execute(select(Checkin.kpi_id).distinct()).scalars().all()
    ids = sorted(kpi_ids)
    for begin in range(0, len(ids), CHUNK):
        chunk = ids[begin:begin + CHUNK]
        kpis = {r[0]: _Definition(r) for r in session.execute(
            select(*_DEFINITION).where(Kpi.id.in_(chunk)))}
        delta, current, at = None, None, None
        rows = []
        for checkin_id, kpi_id, recorded, measured, value in session.execute(
                select(Checkin.id, Checkin.kpi_id, Checkin.recorded_at, Checkin.measured_at,
                       Checkin.value)
                .where(Checkin.kpi_id.in_(chunk))
                .order_by(Checkin.kpi_id, Checkin.recorded_at, Checkin.id)):
            if kpi_id != current or recorded != at:
                if delta is not None:
                    rows.append(_snapshot(delta, current, at, newest))
                if kpi_id != current:
                    delta, current = Delta(kpis[kpi_id]), kpi_id
                at = recorded
            delta.add(measured, value)
            if delta.latest is None or (measured, checkin_id) > delta.latest:
                delta.latest = (measured, checkin_id)
            if batch and len(rows) >= batch:  # bounded memory: a row per check-in, maybe
                yield rows
                rows = []
        if delta is not None:
            rows.append(_snapshot(delta, current, at, newest))
        yield rows


def _snapshot(delta: Delta, kpi_id: int, recorded: datetime, newest: int) -> dict:
    return delta.row(kpi_id, recorded, min(len(delta.times), DISTINCT_CAP), newest,
                     delta.latest[1])


def rebuild(session: Session, kpi_ids=None) -> None:
    """Recompute rows from ``checkin``: all of them, or those of ``kpi_ids``."""
    if _dialect(session) == "postgresql":  # two rebuilds at once must not collide
        from sqlalchemy import text

        session.execute(text(f"SELECT pg_advisory_xact_lock({_PG_REBUILD_LOCK})"))
    if kpi_ids is None:
        session.execute(delete(CheckinStats))
    else:
        kpi_ids = list(kpi_ids)
        if not kpi_ids:
            return
        session.execute(delete(CheckinStats).where(CheckinStats.kpi_id.in_(kpi_ids)))
    for rows in expected_rows(session, kpi_ids):
        for begin in range(0, len(rows), 5_000):
            session.execute(CheckinStats.__table__.insert(), rows[begin:begin + 5_000])


_PG_REBUILD_LOCK = 0x6B7069637432  # "kpict2": the advisory lock of a rebuild


def _dialect(session) -> str:
    bind = session.get_bind() if hasattr(session, "get_bind") else session
    return bind.dialect.name


def from_history(session: Session, kpis: dict, as_of: datetime, *, known: bool,
                 rows: bool = True) -> dict:
    """The aggregates of ``kpis`` (id → definition at ``as_of``) from their check-ins measured
    by ``as_of`` (and, ``known``, recorded by then): id → :class:`Delta`, counted as writers
    count them.

    In hindsight (not ``known``) a KPI whose row recorded by the instant is exact for it (none
    of its check-ins measured later; three distinct times already, or none) starts from that
    row — everything recorded by the instant — and reads only the check-ins recorded since
    that are measured by then: the back-fills (``rows``: the aggregates count every check-in,
    :func:`covered`)."""
    result: dict[int, Delta] = {}
    ids = sorted(kpis)
    t = CheckinStats.__table__.c
    for begin in range(0, len(ids), CHUNK):
        chunk = ids[begin:begin + CHUNK]
        resumed = []
        if rows and not known:
            newest_by_then = (select(func.max(CheckinStats.recorded_at))
                              .where(CheckinStats.kpi_id == t.kpi_id,
                                     CheckinStats.recorded_at <= as_of).scalar_subquery())
            for row in session.execute(select(*[t[name] for name in COLUMNS]).where(
                    t.kpi_id.in_(chunk), t.recorded_at == newest_by_then)):
                if row.last_at <= as_of and (row.fit_distinct >= DISTINCT_CAP
                                             or row.fit_n == 0):
                    delta = result[row.kpi_id] = Delta(kpis[row.kpi_id])
                    delta.merge(row)
                    resumed.append(row.kpi_id)
        full = sorted(set(chunk).difference(resumed))
        queries = []
        if full:
            stmt = (select(Checkin.kpi_id, Checkin.measured_at, Checkin.value)
                    .where(Checkin.kpi_id.in_(full), Checkin.measured_at <= as_of))
            if known:
                stmt = stmt.where(Checkin.recorded_at <= as_of)
            queries.append(stmt)
        if resumed:  # everything recorded by the instant is in the row resumed from
            queries.append(select(Checkin.kpi_id, Checkin.measured_at, Checkin.value)
                           .where(Checkin.kpi_id.in_(resumed), Checkin.measured_at <= as_of,
                                  Checkin.recorded_at > as_of))
        for stmt in queries:
            for kpi_id, measured, value in session.execute(stmt):
                delta = result.get(kpi_id)
                if delta is None:
                    delta = result[kpi_id] = Delta(kpis[kpi_id])
                delta.add(measured, value)
    return result
