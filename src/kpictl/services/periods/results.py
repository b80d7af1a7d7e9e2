"""A series judged at an instant: each period's value, target and outcome, the current
period as the report's row, the scorecard, and the closed periods that hit rates count."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.domain import Kind
from kpictl.models import Assignment, Kpi, KpiChange, PeriodTarget
from kpictl.services.history import _decode
from kpictl.services.periods.period import (
    Period,
    aggregate,
    latest_period,
    meets,
    period_of,
    series,
)

@dataclass(frozen=True)
class PeriodResult:
    label: str
    start: datetime
    end: datetime  # the period's last second
    target: float | None
    low: float | None
    high: float | None
    baseline: float | None
    value: float | None
    checkins: int
    outcome: str | None  # achieved | missed | no_data once closed; None while open
    owner: str | None
    last_confidence: int | None = None
    last_blocker: str | None = None
    last_at: datetime | None = None
    met_checkins: int = 0
    #: (author id, confidence) of the period's last check-in with a confidence: calibration.
    last_confident: tuple[int | None, int] | None = None
    #: The open period's cumulative aggregate after each check-in, (days since start, value):
    #: the points of the period-end forecast.
    points: tuple[tuple[float, float], ...] = ()


def _definition_at(kpi: Kpi, changes: list[KpiChange], instant: datetime) -> dict:
    """target, low, high, baseline and kind of ``kpi`` as defined at ``instant``."""
    values = {"target": kpi.target, "low": kpi.low, "high": kpi.high, "baseline": kpi.baseline,
              "kind": kpi.kind}
    for change in changes:  # newest first
        if change.at <= instant:
            break
        if change.field in values:
            values[change.field] = _decode(change.field, change.old_value)
    return values


def evaluate_series(session: Session, kpis: list[Kpi], *, as_of: datetime, known: bool,
                    handles: dict[int, str], checkins=None,
                    current_only: bool = False) -> dict[int, list[PeriodResult]]:
    """Every period of each ongoing KPI in ``kpis`` begun by ``as_of``, as known then;
    ``current_only``: just the latest (``checkins`` then need only cover it)."""
    from kpictl.services import corrections

    ids = [k.id for k in kpis]
    if not ids:
        return {}
    if checkins is None:
        checkins = corrections.history(session, ids, as_of=as_of, known=known)
    changes: dict[int, list[KpiChange]] = {i: [] for i in ids}
    for c in session.execute(select(KpiChange).where(KpiChange.kpi_id.in_(ids))
                             .order_by(KpiChange.at.desc(), KpiChange.id.desc())).scalars():
        changes[c.kpi_id].append(c)
    overrides: dict[int, dict[str, PeriodTarget]] = {i: {} for i in ids}
    stmt = select(PeriodTarget).where(PeriodTarget.kpi_id.in_(ids))
    if known:
        stmt = stmt.where(PeriodTarget.recorded_at <= as_of)
    for row in session.execute(stmt.order_by(PeriodTarget.recorded_at, PeriodTarget.id)).scalars():
        overrides[row.kpi_id][row.period] = row
    owners: dict[int, list[Assignment]] = {i: [] for i in ids}
    stmt = select(Assignment).where(Assignment.kpi_id.in_(ids))
    if known:
        stmt = stmt.where(Assignment.recorded_at <= as_of)
    for a in session.execute(stmt.order_by(Assignment.valid_from, Assignment.id)).scalars():
        owners[a.kpi_id].append(a)

    result = {}
    for kpi in kpis:
        defined = _definition_at(kpi, changes[kpi.id], as_of)
        start = _decode_time(kpi, changes[kpi.id], as_of, "start")
        due = _decode_time(kpi, changes[kpi.id], as_of, "due")
        closed_at = kpi.closed_at if kpi.state != "active" else None
        if closed_at is not None and known and _closed_later(changes[kpi.id], as_of):
            closed_at = None
        if closed_at is not None and closed_at > as_of:
            closed_at = None
        items = checkins.get(kpi.id, [])
        rows = []
        pos = 0
        periods = (latest_period if current_only else series)(kpi.every, start, due, kpi.zone,
                                                              as_of, closed_at)
        for period in periods:
            while pos < len(items) and items[pos].measured_at < period.start:
                pos += 1
            inside = []
            while pos < len(items) and items[pos].measured_at < period.end:
                inside.append(items[pos])
                pos += 1
            ended = period.end <= as_of or (closed_at is not None and closed_at < period.end)
            cutoff = min(period.last_instant, as_of)
            values = _definition_at(kpi, changes[kpi.id], cutoff) if ended else defined
            target, low, high = values["target"], values["low"], values["high"]
            override = overrides[kpi.id].get(period.label)
            if override is not None:
                target, low, high = override.target, override.low, override.high
            kind = Kind(values["kind"])
            value = aggregate(kpi.aggregate or "last", [c.value for c in inside])
            outcome = None
            if ended:
                if value is None:
                    outcome = "no_data"
                else:
                    outcome = "achieved" if meets(kind, value, target=target, low=low,
                                                  high=high) else "missed"
            owner_at = min(period.last_instant, closed_at or period.last_instant, as_of)
            owner = None
            for a in owners[kpi.id]:
                if a.valid_from <= owner_at:
                    owner = handles.get(a.person_id)
            last = inside[-1] if inside else None
            met = sum(1 for c in inside if kind.is_maintain
                      and meets(kind, c.value, target=target, low=low, high=high))
            rows.append(PeriodResult(
                label=period.label, start=period.start, end=period.last_instant,
                target=target, low=low, high=high, baseline=values["baseline"], value=value,
                checkins=len(inside), outcome=outcome, owner=owner,
                last_confidence=last.confidence if last else None,
                last_blocker=last.blocker if last else None,
                last_at=last.measured_at if last else None, met_checkins=met,
                last_confident=next(((c.author_id, c.confidence) for c in reversed(inside)
                                     if c.confidence is not None), None),
                points=() if ended else _points(kpi.aggregate or "last", inside, period)))
        result[kpi.id] = rows
    return result


def _points(how: str, inside, period: Period) -> tuple[tuple[float, float], ...]:
    from kpictl.services.stats import x_days

    values: list[float] = []
    points = []
    for c in inside:
        values.append(c.value)
        points.append((x_days(c.measured_at, period.start), aggregate(how, values)))
    return tuple(points)


def _forecast(kind: Kind, current: PeriodResult, baseline, as_of, cadence_label):
    """The period-end value of an increase/decrease KPI from >= 3 points of the period's
    cumulative aggregate, as the one-off forecast is made (services/forecast.py)."""
    from kpictl.schemas import Forecast
    from kpictl.services.forecast import Fit, forecast
    from kpictl.timeparse import parse_cadence

    points = current.points
    if kind.is_maintain or len({x for x, _ in points}) < 3 or current.value is None:
        return None
    if (current.value - baseline) / (current.target - baseline) >= 1.0:
        return None  # reached: nothing left to forecast
    try:
        fit = Fit.of_points([(x, v - baseline) for x, v in points],
                            scale=max(abs(v) for _, v in points))
        result = forecast(fit, increase=kind is Kind.INCREASE, target=current.target - baseline,
                          start=current.start, due=current.end, as_of=as_of,
                          latest_value=current.value - baseline,
                          period_days=parse_cadence(cadence_label).approx_days())
    except (OverflowError, ZeroDivisionError):
        return None
    if result is None:
        return None
    return Forecast(method=result.method, points=result.points,
                    value_at_due=result.value_at_due + baseline, low=result.low + baseline,
                    high=result.high + baseline, probability=result.probability, eta=result.eta,
                    rate=result.rate, required_rate=result.required_rate)


def _decode_time(kpi: Kpi, changes, instant, name):
    value = getattr(kpi, name)
    for change in changes:
        if change.at <= instant:
            break
        if change.field == name:
            value = _decode(name, change.old_value)
    return value


def _closed_later(changes, instant) -> bool:
    return any(c.field == "state" and c.at > instant for c in changes)


def streak(rows: list[PeriodResult]) -> int:
    """Achieved closed periods in a row, counting back from the latest closed one."""
    count = 0
    for row in reversed([r for r in rows if r.outcome is not None]):
        if row.outcome != "achieved":
            break
        count += 1
    return count


def period_view(row: PeriodResult) -> dict:
    return {"label": row.label, "start": row.start, "end": row.end, "target": row.target,
            "low": row.low, "high": row.high, "value": row.value}


def replace_row(row, **changes):
    return replace(row, **changes)


def apply_rows(session: Session, rows, kpis, *, as_of: datetime, known: bool, thresholds):
    """Re-judge the report rows of ongoing KPIs on their current period (in place).

    ``kpis`` are the rows' KPIs (``KpiAt``, same order). One-off rows are left as they are.
    """
    from kpictl.services.lookups import handles_by_id

    ids = [k.id for k in kpis]
    if not ids:
        return rows
    # Which rows are ongoing, without binding every id of a large portfolio into the query.
    wanted = set(session.execute(select(Kpi.id).where(Kpi.every.is_not(None))).scalars())
    wanted.intersection_update(ids)
    if not wanted:
        return rows
    ongoing = {k.id: k for k in session.execute(
        select(Kpi).where(Kpi.id.in_(sorted(wanted)))).scalars()}
    results = evaluate_series(session, list(ongoing.values()), as_of=as_of, known=known,
                              handles=handles_by_id(session), current_only=True,
                              checkins=_current_checkins(session, list(ongoing.values()),
                                                         as_of=as_of, known=known))
    for i, (row, at) in enumerate(zip(rows, kpis)):
        kpi = ongoing.get(at.id)
        if kpi is None or not results.get(kpi.id):
            continue
        rows[i] = _judge_row(row, kpi, at, results[kpi.id][-1], as_of, thresholds)
    return rows


def _judge_row(row, kpi: Kpi, at, current: PeriodResult, as_of, thresholds):
    """The row of an ongoing KPI judged as a KPI whose window is its current period."""
    from kpictl.services.cadence import stale_after as stale_after_due
    from kpictl.services.status import KpiFacts, evaluate

    kind = Kind(at.kind)
    maintain = kind.is_maintain
    closed = row.state if row.state != "active" else None
    stale_after = None
    if row.next_checkin_due is not None:
        stale_after = stale_after_due(at.grace, row.next_checkin_due, at.zone)
    met = None
    if current.value is not None and maintain:
        met = meets(kind, current.value, target=current.target, low=current.low,
                    high=current.high)
    baseline = current.baseline
    if not maintain and baseline is None:
        baseline = 0.0
    if not maintain and current.target is not None and current.target == baseline:
        baseline = None  # pragma: no cover - refused by assign
    facts = KpiFacts(
        kind=kind, baseline=baseline, target=current.target, low=current.low,
        high=current.high, start=current.start, due=current.end, closed_outcome=closed,
        latest_value=current.value, latest_at=current.last_at,
        latest_confidence=current.last_confidence, latest_blocker=current.last_blocker,
        window_checkins=1 if met is not None else 0, window_met=1 if met else 0,
        next_checkin_due=row.next_checkin_due, stale_after=stale_after,
        forecast_probability=None,
    )
    projection = None
    if closed is None and as_of <= current.end and current.target is not None:
        projection = _forecast(kind, current, baseline, as_of, at.cadence)
        if projection is not None:
            facts = replace(facts, forecast_probability=projection.probability)
    ev = evaluate(facts, as_of, thresholds)
    flags = [str(f) for f in ev.flags]
    for extra in ("unresponsive", "source_failed"):
        if extra in row.flags and extra not in flags:
            flags.append(extra)
    return replace(
        row, baseline=baseline, target=current.target, low=current.low, high=current.high,
        due=current.end, current=current.value, checkins=current.checkins,
        progress=ev.progress, progress_raw=ev.progress_raw,
        expected_progress=ev.expected_progress, status=str(ev.status), flags=flags,
        suggested_outcome=ev.suggested_outcome, forecast=projection,
        days_left=round((current.end - as_of).total_seconds() / 86400, 1),
        every=kpi.every, aggregate=kpi.aggregate, period=period_view(current))


def scorecard(session: Session, kpi: Kpi, *, as_of: datetime, known: bool):
    """`report KEY`'s periods (dicts, oldest first) and streak; (None, None) for a one-off."""
    from kpictl.services.lookups import handles_by_id

    if kpi.every is None:
        return None, None
    rows = evaluate_series(session, [kpi], as_of=as_of, known=known,
                           handles=handles_by_id(session))[kpi.id]
    return [{**period_view(r), "checkins": r.checkins, "outcome": r.outcome, "owner": r.owner}
            for r in rows], streak(rows)


def closed_periods(session: Session, *, as_of: datetime, known: bool):
    """(ongoing KPI ids known at ``as_of``, [(kpi, period)] of every period closed by then):
    what hit rates, track records and the digest count, each period as one closed KPI."""
    from kpictl.services.lookups import handles_by_id

    stmt = select(Kpi).where(Kpi.every.is_not(None), Kpi.start <= as_of)
    if known:
        stmt = stmt.where(Kpi.created_at <= as_of)
    kpis = list(session.execute(stmt).scalars())
    if not kpis:
        return set(), []
    results = evaluate_series(session, kpis, as_of=as_of, known=known,
                              handles=handles_by_id(session))
    closed = [(kpi, row) for kpi in kpis for row in results.get(kpi.id, [])
              if row.outcome is not None]
    return {k.id for k in kpis}, closed


def _current_checkins(session: Session, kpis: list[Kpi], *, as_of: datetime, known: bool):
    """The check-ins the current periods of ``kpis`` need, not their whole history: those
    measured since the earliest current period's start (KPIs with corrections in the view are
    read whole, since a correction may move a check-in into the period)."""
    from kpictl.services import corrections
    from kpictl.services.corrections import effective
    from kpictl.models import Checkin

    ids = [k.id for k in kpis]
    since = min(period_of(k.every, min(as_of, k.due, k.closed_at or as_of), k.zone).start
                for k in kpis)
    corrected = corrections.kpis_with_corrections(session, as_of=as_of, known=known, ids=ids)
    result = corrections.history(session, sorted(corrected), as_of=as_of, known=known) \
        if corrected else {}
    plain = [i for i in ids if i not in corrected]
    for i in plain:
        result[i] = []
    for begin in range(0, len(plain), 10_000):
        stmt = select(*Checkin.__table__.c).where(
            Checkin.kpi_id.in_(plain[begin:begin + 10_000]), Checkin.measured_at >= since,
            Checkin.measured_at <= as_of)
        if known:
            stmt = stmt.where(Checkin.recorded_at <= as_of)
        for row in session.execute(stmt):
            result[row.kpi_id].append(effective(row, ()))
    for i in plain:
        result[i].sort(key=lambda c: (c.measured_at, c.id))
    return result
