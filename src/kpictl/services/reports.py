"""Reports: the portfolio and one KPI in detail, at any instant (PRODUCT §3 "As of").

The cost grows with the number of KPIs, not with the length of their history: the latest
check-in per KPI comes from an indexed correlated subquery, and the counts and forecast sums
from the per-KPI aggregates of :mod:`kpictl.services.stats` wherever they are exact for the
instant (always for a "now" report); only the KPIs they cannot answer for (``--as-of`` before
their newest check-in, or before a change of their definition) are aggregated from history.
Status and flags are then decided by :mod:`kpictl.services.status`, the one place the rules
live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from kpictl.domain import DEFAULTS, STATUS_ORDER, Kind, Status, Thresholds
from kpictl.errors import InvalidInput
from kpictl.models import (
    Assignment,
    Checkin,
    CheckinStats,
    Feedback,
    Kpi,
    KpiChange,
    KpiTag,
    Milestone,
    Person,
)
from kpictl.schemas import (
    AssignmentView,
    Forecast,
    ChangeView,
    CheckinView,
    FeedbackView,
    KpiDetail,
    KpiRow,
    MilestoneView,
    Report,
    Summary,
)
from kpictl.services.lookups import get_kpi, get_person, handles_by_id, normalize_tag
from kpictl.services import stats as kpi_stats
from kpictl.services.cadence import next_checkin_due
from kpictl.services.forecast import Sums, forecast
from kpictl.services.history import KpiAt, changes_after, rewind
from kpictl.services.status import KpiFacts, evaluate
from kpictl.timeparse import parse_cadence, parse_grace


def _owner_as_of(as_of: datetime):
    """Handle of the person whose assignment covers ``as_of`` (correlated to Kpi)."""
    return (
        select(Person.handle)
        .join(Assignment, Assignment.person_id == Person.id)
        .where(
            Assignment.kpi_id == Kpi.id,
            Assignment.valid_from <= as_of,
            or_(Assignment.valid_until.is_(None), Assignment.valid_until > as_of),
        )
        .order_by(Assignment.valid_from.desc())
        .limit(1)
        .correlate(Kpi)
        .scalar_subquery()
    )


def build_report(
    *,
    session: Session,
    as_of: datetime,
    now: datetime,
    tz,
    owner: str | None = None,
    tag: str | None = None,
    status: list[Status] | None = None,
    keys: list[str] | None = None,
    thresholds: Thresholds = DEFAULTS,
) -> Report:
    if owner:
        owner = get_person(session, owner).handle  # a typo must not read as "all is well"
    rows = _rows(session, as_of=as_of, tz=tz, owner=owner, tag=tag, keys=keys,
                 thresholds=thresholds)
    if status:
        wanted = {str(s) for s in status}
        rows = [r for r in rows if r.status in wanted]
    rows.sort(key=lambda r: (STATUS_ORDER[Status(r.status)], r.due, r.key))
    by_status = {str(s): 0 for s in Status}
    for row in rows:
        by_status[row.status] += 1
    filters = {"owner": owner, "tag": tag, "status": ",".join(map(str, status or [])) or None}
    return Report(as_of=as_of, generated_at=now, kpis=rows,
                  summary=Summary(total=len(rows), by_status=by_status), filters=filters)


def _rows(session, *, as_of, tz, owner, tag, keys, thresholds, include_future=False):
    owner_col = _owner_as_of(as_of).label("owner")
    latest_id = (
        select(Checkin.id)
        .where(Checkin.kpi_id == Kpi.id, Checkin.measured_at <= as_of)
        .order_by(Checkin.measured_at.desc(), Checkin.id.desc())
        .limit(1)
        .correlate(Kpi)
        .scalar_subquery()
    )
    # KPIs redefined after the instant are rewound to their definition then (start and tags
    # included), so they are selected regardless and filtered once rewound.
    rewound = changes_after(session, as_of)
    changed = list(rewound)
    latest = aliased(Checkin)
    # Plain columns, not ORM entities: a portfolio of 10,000 KPIs must not build 30,000
    # tracked objects it only reads.
    # With whether the aggregates hold no check-in measured after the instant, decided in SQL.
    stats_columns = (CheckinStats.n, (CheckinStats.last_at <= as_of).label("st_exact"),
                     *_STATS_COLUMNS)
    stmt = (select(*_KPI_COLUMNS, owner_col, *_latest_columns(latest), *stats_columns)
            .select_from(Kpi)
            .outerjoin(latest, latest.id == latest_id)
            .outerjoin(CheckinStats, CheckinStats.kpi_id == Kpi.id))
    if not include_future:
        stmt = stmt.where(or_(Kpi.start <= as_of, Kpi.id.in_(changed)))
    if keys is not None:
        stmt = stmt.where(Kpi.key.in_(keys))
    if tag:
        tag = normalize_tag(tag)
        stmt = stmt.where(or_(Kpi.id.in_(select(KpiTag.kpi_id).where(KpiTag.tag == tag)),
                              Kpi.id.in_(changed)))
    if owner:
        stmt = stmt.where(_owner_as_of(as_of) == owner)
    result = [tuple(r) for r in session.execute(stmt)]  # positions: see _KPI_COLUMNS
    ids = [r[0] for r in result]
    if not ids:
        return []
    exact = kpi_stats.covered(session)

    tags: dict[int, list[str]] = {}
    for kpi_id, value in session.execute(
        select(KpiTag.kpi_id, KpiTag.tag).where(KpiTag.kpi_id.in_(ids)).order_by(KpiTag.tag)
    ):
        tags.setdefault(kpi_id, []).append(value)
    milestones: dict[int, list[tuple[datetime, float]]] = {}
    for kpi_id, at, value in session.execute(
        select(Milestone.kpi_id, Milestone.at, Milestone.value).where(Milestone.kpi_id.in_(ids))
    ):
        milestones.setdefault(kpi_id, []).append((at, value))
    n_kpi = len(_KPI_COLUMNS)
    i_latest, i_stats = n_kpi + 1, n_kpi + 5
    from_history = [r[0] for r in result if r[0] not in rewound and not (
        exact and (r[i_stats] is None or r[i_stats + 1]))]
    counts = _counts(session, from_history, as_of) if from_history else {}
    from_history = set(from_history)

    from kpictl.services.pull import failing_kpis

    failing = failing_kpis(session, as_of, ids)
    rows = []
    for r in result:
        kpi_id = r[0]
        kpi = KpiAt(*r[:n_kpi], tags=tuple(tags.get(kpi_id, ())),
                    milestones=tuple(sorted(milestones.get(kpi_id, ()))))
        last = _Latest(*r[i_latest:i_stats]) if r[i_latest + 1] is not None else None
        if kpi_id in rewound:
            kpi = rewind(kpi, rewound[kpi_id])
            if (not include_future and kpi.start > as_of) or (tag and tag not in kpi.tags):
                continue
            agg = _aggregates_of(session, kpi, as_of)
        elif kpi_id in from_history:
            agg = counts.get(kpi_id, _Aggregates())
        elif r[i_stats] is None:  # no check-in yet
            agg = _Aggregates()
        else:
            n, _exact, in_window, met, fit_n, distinct, sx, sy, sxx, sxy, syy = r[i_stats:]
            agg = _Aggregates(n, in_window, met, Sums(n=fit_n, distinct_x=distinct, sx=sx,
                                                      sy=sy, sxx=sxx, sxy=sxy, syy=syy))
        rows.append(_row(kpi, r[n_kpi], last, agg, as_of, tz, thresholds))
        if kpi_id in failing and rows[-1].state == "active":  # its latest pull failed
            rows[-1].flags.append("source_failed")
    return rows


#: In the order of :class:`KpiAt`'s fields, so that a result row slices into one.
_KPI_COLUMNS = (Kpi.id, Kpi.key, Kpi.title, Kpi.outcome, Kpi.unit, Kpi.kind, Kpi.baseline,
                Kpi.target, Kpi.low, Kpi.high, Kpi.start, Kpi.due, Kpi.cadence, Kpi.grace,
                Kpi.state, Kpi.closed_at)
_STATS_COLUMNS = tuple(getattr(CheckinStats, name) for name in (
    "in_window", "met", "fit_n", "fit_distinct", "sx", "sy", "sxx", "sxy", "syy"))


def _latest_columns(latest):
    return (latest.value.label("last_value"), latest.measured_at.label("last_measured_at"),
            latest.confidence.label("last_confidence"), latest.blocker.label("last_blocker"))


@dataclass(frozen=True)
class _Latest:
    """The latest check-in at the instant: what the report row shows of it."""

    value: float
    measured_at: datetime
    confidence: int | None
    blocker: str | None


@dataclass(frozen=True)
class _Aggregates:
    total: int = 0
    window: int = 0
    met: int = 0
    fit: Sums | None = None  # y is measured relative to the baseline, for numeric headroom


def _counts(session, ids, as_of) -> dict[int, _Aggregates]:
    """The aggregates of ``ids`` from their history up to ``as_of``, in one grouped query."""
    result = {}
    for start in range(0, len(ids), 10_000):
        query = kpi_stats.aggregate_query(ids=ids[start:start + 10_000], as_of=as_of)
        for kpi_id, n, _first, _last, w, m, nf, distinct, sx, sy, sxx, sxy, syy in \
                session.execute(query):
            fit = Sums(n=int(nf), distinct_x=int(distinct), sx=sx, sy=sy, sxx=sxx, sxy=sxy,
                       syy=syy)
            result[kpi_id] = _Aggregates(int(n), int(w), int(m), fit)
    return result


def _aggregates_of(session, kpi: KpiAt, as_of) -> _Aggregates:
    """The aggregates of one rewound KPI, counted from its check-ins as writers count them."""
    delta = kpi_stats.Delta(kpi)
    for at, value in session.execute(select(Checkin.measured_at, Checkin.value).where(
            Checkin.kpi_id == kpi.id, Checkin.measured_at <= as_of)):
        delta.add(at, value)
    return _Aggregates(delta.n, delta.in_window, delta.met, delta.sums())


def _forecast(kpi: KpiAt, agg: _Aggregates, last: _Latest | None, as_of, cadence) -> Forecast | None:
    kind = Kind(kpi.kind)
    if kind.is_maintain or agg.fit is None or last is None:
        return None
    result = forecast(agg.fit, increase=kind is Kind.INCREASE, target=kpi.target - kpi.baseline,
                      start=kpi.start, due=kpi.due, as_of=as_of,
                      latest_value=last.value - kpi.baseline, period_days=cadence.approx_days())
    if result is None:
        return None
    shift = kpi.baseline
    return Forecast(method=result.method, points=result.points,
                    value_at_due=_round(result.value_at_due + shift),
                    low=_round(result.low + shift), high=_round(result.high + shift),
                    probability=_round(result.probability), eta=result.eta,
                    rate=_round(result.rate), required_rate=_round(result.required_rate))


def _row(kpi: KpiAt, owner, last: _Latest | None, agg: _Aggregates, as_of, tz,
         thresholds) -> KpiRow:
    closed = kpi.state if kpi.state != "active" and kpi.closed_at <= as_of else None
    cadence = parse_cadence(kpi.cadence)
    next_due = stale_after = projection = None
    if closed is None:
        projection = _forecast(kpi, agg, last, as_of, cadence)
        next_due = next_checkin_due(kpi.start, last.measured_at if last else None, cadence, tz)
        stale_after = parse_grace(kpi.grace).add(next_due, tz=tz)
    facts = KpiFacts(
        kind=Kind(kpi.kind),
        baseline=kpi.baseline,
        target=kpi.target,
        low=kpi.low,
        high=kpi.high,
        start=kpi.start,
        due=kpi.due,
        closed_outcome=closed,
        latest_value=last.value if last else None,
        latest_at=last.measured_at if last else None,
        latest_confidence=last.confidence if last else None,
        latest_blocker=last.blocker if last else None,
        window_checkins=agg.window,
        window_met=agg.met,
        milestones=kpi.milestones,
        next_checkin_due=next_due,
        stale_after=stale_after,
        forecast_probability=projection.probability if projection else None,
    )
    ev = evaluate(facts, as_of, thresholds)
    return KpiRow(
        key=kpi.key,
        title=kpi.title,
        owner=owner,
        kind=kpi.kind,
        unit=kpi.unit,
        baseline=kpi.baseline,
        target=kpi.target,
        low=kpi.low,
        high=kpi.high,
        start=kpi.start,
        due=kpi.due,
        cadence=kpi.cadence,
        grace=kpi.grace,
        tags=list(kpi.tags),
        state=closed or "active",
        current=last.value if last else None,
        last_checkin_at=last.measured_at if last else None,
        next_checkin_due=next_due,
        checkins=agg.total,
        progress=_round(ev.progress),
        progress_raw=_round(ev.progress_raw),
        expected_progress=_round(ev.expected_progress),
        status=str(ev.status),
        flags=[str(f) for f in ev.flags],
        confidence=last.confidence if last else None,
        blocker=last.blocker if last else None,
        forecast=projection,
        days_left=round((kpi.due - as_of).total_seconds() / 86400, 1),
    )


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def build_kpi_detail(*, session: Session, key: str, as_of: datetime, now: datetime, tz,
                     thresholds: Thresholds = DEFAULTS) -> KpiDetail:
    kpi = get_kpi(session, key)
    rows = _rows(session, as_of=as_of, tz=tz, owner=None, tag=None, keys=[kpi.key],
                 thresholds=thresholds, include_future=True)
    if not rows:  # pragma: no cover - the KPI exists, so it has a row
        raise InvalidInput(f"KPI '{kpi.key}' has no data")
    handles = handles_by_id(session)
    checkins = [
        CheckinView(value=c.value, measured_at=c.measured_at, recorded_at=c.recorded_at,
                    by=handles.get(c.author_id), confidence=c.confidence, note=c.note,
                    blocker=c.blocker, source=c.source, key=c.idem_key)
        for c in session.execute(
            select(Checkin).where(Checkin.kpi_id == kpi.id, Checkin.measured_at <= as_of)
            .order_by(Checkin.measured_at, Checkin.id)
        ).scalars()
    ]
    assignments = [
        AssignmentView(to=handles[a.person_id], by=handles.get(a.assigned_by_id),
                       valid_from=a.valid_from,
                       valid_until=a.valid_until if a.valid_until and a.valid_until <= as_of
                       else None, note=a.note)
        for a in session.execute(
            select(Assignment).where(Assignment.kpi_id == kpi.id, Assignment.valid_from <= as_of)
            .order_by(Assignment.valid_from, Assignment.id)
        ).scalars()
    ]
    changes = [
        ChangeView(at=c.at, by=handles.get(c.by_id), field=c.field, old=c.old_value,
                   new=c.new_value)
        for c in session.execute(
            select(KpiChange).where(KpiChange.kpi_id == kpi.id, KpiChange.at <= as_of)
            .order_by(KpiChange.at, KpiChange.id)
        ).scalars()
    ]
    feedback = [
        FeedbackView(at=f.at, by=handles.get(f.author_id), text=f.text)
        for f in session.execute(
            select(Feedback).where(Feedback.kpi_id == kpi.id, Feedback.at <= as_of)
            .order_by(Feedback.at, Feedback.id)
        ).scalars()
    ]
    milestones = [
        MilestoneView(at=m.at, value=m.value)
        for m in session.execute(
            select(Milestone).where(Milestone.kpi_id == kpi.id).order_by(Milestone.at)
        ).scalars()
    ]
    row = rows[0]
    return KpiDetail(as_of=as_of, generated_at=now, kpi=row,
                     outcome=row.state if row.state != "active" else None,
                     milestones=milestones, checkins=checkins, assignments=assignments,
                     changes=changes, feedback=feedback)
