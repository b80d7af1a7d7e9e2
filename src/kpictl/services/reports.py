"""Reports: the portfolio and one KPI in detail, at any instant (PRODUCT §3 "As of").

The cost grows with the number of KPIs, not with the length of their history: the counts, the
forecast moments and the latest check-in's id come from the per-KPI aggregates of
:mod:`kpictl.services.stats` — the row recorded by the instant, one index seek per KPI —
wherever they are exact for it (a "now" report, and ``--as-of`` a past instant as it was known
then); only the KPIs they cannot answer for (a check-in measured after the instant, the
hindsight view of ``--revised``, a change of definition after it) are counted from their
history (their latest check-in from an indexed correlated subquery). Status and flags are
then decided by :mod:`kpictl.services.status`, the one place the rules live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, case, or_, select, true
from sqlalchemy.orm import Session, aliased

from kpictl import collector_paused
from kpictl.domain import DEFAULTS, OBJECTIVE, STATUS_ORDER, Kind, Status, Thresholds
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
    CorrectionView,
    FeedbackView,
    KpiDetail,
    KpiRow,
    MilestoneView,
    Report,
    Summary,
)
from kpictl.services.lookups import get_kpi, get_person, handles_by_id, normalize_tag
from kpictl.services import corrections, rollup
from kpictl.services import stats as kpi_stats
from kpictl.services.cadence import next_checkin_due, stale_after
from kpictl.services.forecast import Fit, forecast, plan_value
from kpictl.services.history import KpiAt, changes_after, rewind
from kpictl.services.nudges import flag_unresponsive
from kpictl.services.status import KpiFacts, evaluate
from kpictl.timeparse import parse_cadence


def _owner_as_of(as_of: datetime, known: bool = False):
    """Handle of the person whose assignment covers ``as_of`` (correlated to Kpi); ``known``:
    among the assignments recorded by then (a reassignment recorded later, even back-dated,
    was not known)."""
    stmt = (
        select(Person.handle)
        .join(Assignment, Assignment.person_id == Person.id)
        .where(Assignment.kpi_id == Kpi.id, Assignment.valid_from <= as_of)
    )
    if known:  # the periods are contiguous: the latest one begun by then is the owner's
        stmt = stmt.where(Assignment.recorded_at <= as_of)
    else:
        stmt = stmt.where(or_(Assignment.valid_until.is_(None), Assignment.valid_until > as_of))
    return stmt.order_by(Assignment.valid_from.desc()).limit(1).correlate(Kpi).scalar_subquery()


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
    revised: bool = False,
) -> Report:
    """The portfolio at ``as_of``: as it was known then (what was recorded by then), or with
    ``revised`` in hindsight (everything recorded since that was effective by then)."""
    if owner:
        owner = get_person(session, owner).handle  # a typo must not read as "all is well"
    # A portfolio allocates a few objects per KPI and keeps them all: the cyclic collector
    # would only rescan the growing heap (a tenth of a 10,000-KPI report), as in bulk.py.
    with collector_paused():
        rows = _rows(session, as_of=as_of, tz=tz, owner=owner, tag=tag, keys=keys,
                     thresholds=thresholds, known=_known(as_of, now, revised))
    flag_unresponsive(session, rows, as_of)
    if status:
        wanted = {str(s) for s in status}
        rows = [r for r in rows if r.status in wanted]
    rows.sort(key=lambda r: (STATUS_ORDER[r.status], r.due, r.key))  # a Status is its str
    rows = rollup.arrange(rows)  # children under their parent
    by_status = {str(s): 0 for s in Status}
    for row in rows:
        by_status[row.status] += 1
    filters = {"owner": owner, "tag": tag, "status": ",".join(map(str, status or [])) or None}
    return Report(as_of=as_of, generated_at=now, kpis=rows,
                  summary=Summary(total=len(rows), by_status=by_status), filters=filters)


def _known(as_of: datetime, now: datetime, revised: bool) -> bool:
    """Whether to leave out what was recorded after ``as_of``: the known-then view, unless
    ``--revised``; at (or after) now nothing was recorded later, so there is nothing to omit."""
    return not revised and as_of < now


def _rows(session, *, as_of, tz, owner, tag, keys, thresholds, include_future=False,
          known=False, roll_up=True):
    owner_col = _owner_as_of(as_of, known).label("owner")
    exact = kpi_stats.covered(session)  # the aggregates count every check-in
    latest_id = select(Checkin.id).where(Checkin.kpi_id == Kpi.id, Checkin.measured_at <= as_of)
    if known:
        latest_id = latest_id.where(Checkin.recorded_at <= as_of)
    latest_id = (latest_id.order_by(Checkin.measured_at.desc(), Checkin.id.desc()).limit(1)
                 .correlate(Kpi).scalar_subquery())
    if exact:  # the latest check-in is the aggregates' where they are exact for the instant
        latest_id = case((CheckinStats.kpi_id.is_(None), None),
                         (CheckinStats.last_at <= as_of, CheckinStats.latest_id),
                         else_=latest_id)
    # KPIs redefined after the instant are rewound to their definition then (start and tags
    # included), so they are selected regardless and filtered once rewound; known-then, closes
    # and reopens recorded after it are undone too. KPIs with a correction in the view are
    # replayed from their corrected history (services/corrections.py).
    rewound = changes_after(session, as_of, lifecycle=known)
    corrected = corrections.kpis_with_corrections(session, as_of=as_of, known=known,
                                                  ids=None if keys is None else
                                                  select(Kpi.id).where(Kpi.key.in_(keys)))
    changed = list(rewound)
    latest = aliased(Checkin)
    # Plain columns, not ORM entities: a portfolio of 10,000 KPIs must not build 30,000
    # tracked objects it only reads.
    # The aggregates of what was recorded by the instant (known then), or of everything
    # recorded (now, and the hindsight view), with whether none of their check-ins is measured
    # after the instant, decided in SQL.
    exact_now = CheckinStats.last_at <= as_of
    stats_columns = (CheckinStats.n, exact_now.label("st_exact"), *_STATS_COLUMNS)
    stmt = (select(*_KPI_COLUMNS, owner_col, *_latest_columns(latest), *stats_columns)
            .select_from(Kpi)
            .outerjoin(CheckinStats, and_(
                CheckinStats.kpi_id == Kpi.id,
                CheckinStats.recorded_at == kpi_stats.row_at(as_of if known else None)))
            .outerjoin(latest, latest.id == latest_id))
    if not include_future:
        stmt = stmt.where(or_(Kpi.start <= as_of, Kpi.id.in_(changed)))
        if known:  # a KPI created later, even with an earlier start, was not known
            stmt = stmt.where(Kpi.created_at <= as_of)
    if keys is not None:
        stmt = stmt.where(Kpi.key.in_(keys))
    if tag:
        tag = normalize_tag(tag)
        stmt = stmt.where(or_(Kpi.id.in_(select(KpiTag.kpi_id).where(KpiTag.tag == tag)),
                              Kpi.id.in_(changed)))
    if owner:
        stmt = stmt.where(_owner_as_of(as_of, known) == owner)
    # Core rows (the session's connection): plain columns need none of the ORM's machinery.
    connection = session.connection()
    result = connection.execute(stmt).fetchall()  # Rows slice as tuples; see _KPI_COLUMNS
    ids = [r[0] for r in result]
    if not ids:
        return []

    # Tags and milestones of these KPIs; of a large portfolio, simply all of them (the rows
    # of KPIs not shown are never looked up): binding thousands of ids costs more than
    # reading a few rows too many. The ids as one expanding parameter otherwise.
    tag_stmt = select(KpiTag.kpi_id, KpiTag.tag).order_by(KpiTag.tag)
    milestone_stmt = select(Milestone.kpi_id, Milestone.at, Milestone.value)
    params = {}
    if len(ids) <= 1_000:
        in_ids = bindparam("ids", expanding=True)
        tag_stmt = tag_stmt.where(KpiTag.kpi_id.in_(in_ids))
        milestone_stmt = milestone_stmt.where(Milestone.kpi_id.in_(in_ids))
        params = {"ids": ids}
    tags: dict[int, list[str]] = {}
    for kpi_id, value in connection.execute(tag_stmt, params).fetchall():
        tags.setdefault(kpi_id, []).append(value)
    milestones: dict[int, list[tuple[datetime, float]]] = {}
    for kpi_id, at, value in connection.execute(milestone_stmt, params).fetchall():
        milestones.setdefault(kpi_id, []).append((at, value))
    n_kpi = len(_KPI_COLUMNS)
    i_latest, i_stats = n_kpi + 1, n_kpi + 5
    replayed = {r[0] for r in result if r[0] in rewound or r[0] in corrected}
    from_history = {r[0]: KpiAt(*r[:n_kpi]) for r in result if r[0] not in replayed and not (
        exact and (r[i_stats] is None or r[i_stats + 1]))}
    counts = {}
    if from_history:
        counts = {kpi_id: _aggregates(delta) for kpi_id, delta in kpi_stats.from_history(
            session, from_history, as_of, known=known, rows=exact).items()}
    histories = corrections.points(session, sorted(replayed), as_of=as_of, known=known) \
        if replayed else {}

    from kpictl.services.pull import failing_kpis

    failing = failing_kpis(session, as_of, ids)
    built = []
    for r in result:
        kpi_id = r[0]
        kpi = KpiAt(*r[:n_kpi], tags=tuple(tags.get(kpi_id, ())),
                    milestones=tuple(sorted(milestones.get(kpi_id, ()))))
        last = _Latest(*r[i_latest:i_stats]) if r[i_latest + 1] is not None else None
        if kpi_id in replayed:
            if kpi_id in rewound:
                kpi = rewind(kpi, rewound[kpi_id])
                if (not include_future and kpi.start > as_of) or (tag and tag not in kpi.tags):
                    continue
            last, agg = _replay(kpi, histories[kpi_id]) if kpi.kind != OBJECTIVE \
                else (None, _Aggregates())
        elif kpi_id in from_history:
            agg = counts.get(kpi_id, _Aggregates())
        elif r[i_stats] is None:  # no check-in yet
            agg = _Aggregates()
        else:
            n, _exact, in_window, met, *moments = r[i_stats:]
            agg = _Aggregates(n, in_window, met, kpi_stats.fit_from(*moments))
        built.append((kpi, r[n_kpi], last, agg))
    points = _fit_points(session, [kpi for kpi, _o, last, agg in built
                                   if _needs_points(kpi, last, agg)], as_of)
    rows = [_row(kpi, owner, last, agg, as_of, tz, thresholds, points.get(kpi.id))
            if kpi.kind != OBJECTIVE else rollup.placeholder_row(kpi, owner, as_of)
            for kpi, owner, last, agg in built]
    from kpictl.services import periods  # ongoing KPIs: judged on their current period

    periods.apply_rows(session, rows, [b[0] for b in built], as_of=as_of, known=known,
                       thresholds=thresholds)
    for row, (kpi, *_rest) in zip(rows, built):
        if kpi.id in failing and row.state == "active":  # its latest pull failed
            row.flags.append("source_failed")
    if roll_up:  # objectives: from their children's rows, built here if filtered out
        rollup.apply(session, rows, as_of=as_of, thresholds=thresholds, build=lambda keys: _rows(
            session, as_of=as_of, tz=tz, owner=None, tag=None, keys=keys, thresholds=thresholds,
            known=known, roll_up=False))
    return rows


def _needs_points(kpi: KpiAt, last, agg: _Aggregates) -> bool:
    """A forecast that the aggregates cannot give: a plan to fit the deviation from
    (milestones)."""
    if not kpi.milestones or kpi.kind == OBJECTIVE:  # no plan; no check-ins of its own
        return False
    fit = agg.fit
    return not (_KINDS[kpi.kind].is_maintain or last is None or fit is None or fit.n < 3
                or fit.distinct_x < 3)


def _fit_points(session, kpis: list[KpiAt], as_of) -> dict[int, list[tuple[float, float]]]:
    """The forecast's points ``(x, value)`` of ``kpis``, from their check-ins, in one query per
    chunk: x counted as the aggregates count it (``stats.x_days``)."""
    result: dict[int, list[tuple[float, float]]] = {}
    by_id = {kpi.id: kpi for kpi in kpis}
    ids = list(by_id)
    for begin in range(0, len(ids), 10_000):
        for kpi_id, measured, value in session.execute(
                select(Checkin.kpi_id, Checkin.measured_at, Checkin.value)
                .where(Checkin.kpi_id.in_(ids[begin:begin + 10_000]),
                       Checkin.measured_at <= as_of)):
            kpi = by_id[kpi_id]
            if measured >= kpi.start:
                result.setdefault(kpi_id, []).append((kpi_stats.x_days(measured, kpi.start),
                                                      value))
    return result


#: In the order of :class:`KpiAt`'s fields, so that a result row slices into one.
_KPI_COLUMNS = (Kpi.id, Kpi.key, Kpi.title, Kpi.outcome, Kpi.unit, Kpi.kind, Kpi.baseline,
                Kpi.target, Kpi.low, Kpi.high, Kpi.start, Kpi.due, Kpi.cadence, Kpi.grace,
                Kpi.state, Kpi.closed_at, Kpi.zone)
_STATS_COLUMNS = tuple(getattr(CheckinStats, name) for name in (
    "in_window", "met", *kpi_stats.FIT_COLUMNS))


def _latest_columns(latest):
    return (latest.value.label("last_value"), latest.measured_at.label("last_measured_at"),
            latest.confidence.label("last_confidence"), latest.blocker.label("last_blocker"))


@dataclass(slots=True)  # one per KPI: slotted, like the rows they make
class _Latest:
    """The latest check-in at the instant: what the report row shows of it."""

    value: float
    measured_at: datetime
    confidence: int | None
    blocker: str | None


@dataclass(slots=True)
class _Aggregates:
    total: int = 0
    window: int = 0
    met: int = 0
    fit: Fit | None = None  # y is measured relative to the baseline


def _aggregates(delta: kpi_stats.Delta) -> _Aggregates:
    return _Aggregates(delta.n, delta.in_window, delta.met,
                       delta.fit() if delta.fit_n else None)


def _replay(kpi: KpiAt, points) -> tuple[_Latest | None, _Aggregates]:
    """The latest check-in and the aggregates of one KPI from its (corrected) history
    (:func:`corrections.points`), counted as writers count them."""
    delta = kpi_stats.Delta(kpi)
    add = delta.add
    for measured, _id, value, _confidence, _blocker in points:
        add(measured, value)
    if not points:
        return None, _aggregates(delta)
    measured, _id, value, confidence, blocker = points[-1]
    return _Latest(value, measured, confidence, blocker), _aggregates(delta)


def _forecast(kpi: KpiAt, agg: _Aggregates, last: _Latest | None, as_of, cadence,
              points=None, kind: Kind | None = None) -> Forecast | None:
    kind = kind or Kind(kpi.kind)
    if kind.is_maintain or agg.fit is None or last is None:
        return None
    shift = kpi.baseline
    fit, plan = agg.fit, ()
    if points is not None:  # values relative to the baseline, like the aggregates' moments
        if kpi.milestones:
            plan = _plan(kpi)
        try:
            fit = Fit.of_points([(x, v - shift - _plan_at(plan, x)) for x, v in points],
                                scale=max(abs(v) for _, v in points))
        except (OverflowError, ZeroDivisionError):  # values near ±1.7e308 (data written
            return None  # around kpictl): no forecast rather than a made-up one, or a crash
    try:
        result = forecast(fit, increase=kind is Kind.INCREASE, target=kpi.target - shift,
                          start=kpi.start, due=kpi.due, as_of=as_of,
                          latest_value=last.value - shift,
                          period_days=cadence.approx_days(), plan=plan)
    except OverflowError:
        return None
    if result is None:
        return None
    # Back from the baseline-relative fit, at full precision (PRODUCT §4): tables round for
    # people, JSON and CSV never do. The forecast is ours: shifted in place.
    result.value_at_due += shift
    result.low += shift
    result.high += shift
    return result


def _plan(kpi: KpiAt) -> tuple[tuple[float, float], ...]:
    """The plan of PRODUCT §3 in the forecast's terms: (days since start, value − baseline)
    through the start, each milestone inside the window, and due."""
    def days(at):
        return (at - kpi.start).total_seconds() / 86400.0

    inner = [(days(at), v - kpi.baseline) for at, v in kpi.milestones
             if kpi.start < at < kpi.due]
    return ((0.0, 0.0), *inner, (days(kpi.due), kpi.target - kpi.baseline))


def _plan_at(plan, x: float) -> float:
    return plan_value(plan, x) if plan else 0.0


#: Kind by its stored name, without the enum's lookup machinery (once per KPI and step).
_KINDS = {str(kind): kind for kind in Kind}


def _row(kpi: KpiAt, owner, last: _Latest | None, agg: _Aggregates, as_of, tz,
         thresholds, points=None) -> KpiRow:
    closed = kpi.state if kpi.state != "active" and kpi.closed_at <= as_of else None
    kind = _KINDS[kpi.kind]
    next_due = stale = projection = None
    if last is None:
        value = at = confidence = blocker = None
    else:
        value, at, confidence, blocker = last.value, last.measured_at, last.confidence, \
            last.blocker
    if closed is None:
        cadence = parse_cadence(kpi.cadence)
        # A target already reached is done work: nothing left to forecast.
        reached = (value is not None and not kind.is_maintain
                   and (value - kpi.baseline) / (kpi.target - kpi.baseline) >= 1.0)
        if not reached:
            projection = _forecast(kpi, agg, last, as_of, cadence, points, kind)
        # Slots and "end of day" in the KPI's own zone: the same for every viewer.
        next_due = next_checkin_due(kpi.start, kpi.due, at, cadence, kpi.zone)
        if next_due is not None:
            stale = stale_after(kpi.grace, next_due, kpi.zone)
    # KpiFacts's fields in order (positional: a third of the cost of keywords, per KPI):
    # kind, baseline, target, low, high, start, due, closed_outcome, latest_value, latest_at,
    # latest_confidence, latest_blocker, window_checkins, window_met, milestones,
    # next_checkin_due, stale_after, forecast_probability.
    ev = evaluate(KpiFacts(
        kind, kpi.baseline, kpi.target, kpi.low, kpi.high, kpi.start, kpi.due, closed, value,
        at, confidence, blocker, agg.window, agg.met, kpi.milestones, next_due, stale,
        projection.probability if projection else None,
    ), as_of, thresholds)
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
        current=value,
        last_checkin_at=at,
        next_checkin_due=next_due,
        checkins=agg.total,
        progress=ev.progress,
        progress_raw=ev.progress_raw,
        expected_progress=ev.expected_progress,
        status=str(ev.status),
        flags=[str(f) for f in ev.flags],
        suggested_outcome=ev.suggested_outcome,
        zone=kpi.zone,
        confidence=confidence,
        blocker=blocker,
        forecast=projection,
        days_left=round((kpi.due - as_of).total_seconds() / 86400, 1),
    )


def build_kpi_detail(*, session: Session, key: str, as_of: datetime, now: datetime, tz,
                     thresholds: Thresholds = DEFAULTS, revised: bool = False) -> KpiDetail:
    kpi = get_kpi(session, key)
    known = _known(as_of, now, revised)
    rows = _rows(session, as_of=as_of, tz=tz, owner=None, tag=None, keys=[kpi.key],
                 thresholds=thresholds, include_future=True, known=known)
    if not rows:  # pragma: no cover - the KPI exists, so it has a row
        raise InvalidInput(f"KPI '{kpi.key}' has no data")
    flag_unresponsive(session, rows, as_of)
    handles = handles_by_id(session)
    shown = corrections.history(session, [kpi.id], as_of=as_of, known=known,
                                retracted=True)[kpi.id]
    checkins = [_checkin_view(c, handles) for c in shown]
    assignments = [
        AssignmentView(to=handles[a.person_id], by=handles.get(a.assigned_by_id),
                       valid_from=a.valid_from,
                       valid_until=a.valid_until if a.valid_until and a.valid_until <= as_of
                       else None, note=a.note)
        for a in session.execute(
            select(Assignment).where(Assignment.kpi_id == kpi.id, Assignment.valid_from <= as_of,
                                     Assignment.recorded_at <= as_of if known else true())
            .order_by(Assignment.valid_from, Assignment.id)
        ).scalars()
    ]
    if known and assignments and assignments[-1].valid_until is not None:
        # the reassignment that ended it was recorded later: then, it was still open
        last = assignments[-1]
        assignments[-1] = AssignmentView(to=last.to, by=last.by, valid_from=last.valid_from,
                                         valid_until=None, note=last.note)
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
    from kpictl.services import periods

    scorecard, streak = periods.scorecard(session, kpi, as_of=as_of, known=known)
    children = None
    if row.kind == OBJECTIVE:
        by_key = {r.key: r for r in _rows(session, as_of=as_of, tz=tz, owner=None, tag=None,
                                          keys=row.children, thresholds=thresholds,
                                          known=known)} if row.children else {}
        children = rollup.contributions(row, [by_key[k] for k in row.children if k in by_key])
    return KpiDetail(as_of=as_of, generated_at=now, kpi=row,
                     outcome=row.state if row.state != "active" else None,
                     milestones=milestones, checkins=checkins, assignments=assignments,
                     changes=changes, feedback=feedback, periods=scorecard, streak=streak,
                     children=children)


def _checkin_view(c: corrections.Effective, handles) -> CheckinView:
    fixes = [CorrectionView(at=fix.recorded_at, by=handles.get(fix.by_id), kind=fix.kind,
                            reason=fix.reason, changes=changed)
             for fix, changed in corrections.versions(c)]
    return CheckinView(id=c.id, status=c.status, value=c.value, measured_at=c.measured_at,
                       recorded_at=c.recorded_at, by=handles.get(c.author_id),
                       confidence=c.confidence, note=c.note, blocker=c.blocker, source=c.source,
                       key=c.idem_key, corrections=fixes)
