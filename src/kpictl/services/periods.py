"""Ongoing KPIs (PRODUCT §6): a target every calendar period, judged and closed period by period.

An ongoing KPI (``kpi.every`` set) is a series of calendar periods — ISO weeks, months,
quarters or years in the KPI's zone — from the period holding its start to the period holding
its due date (or open-ended). Nothing is stored per period but the per-period target overrides
(``period_target``, append-only): a period's value, target and outcome are functions of the
data at an instant, so a report ``--as-of`` any instant is exact by construction.

- **Value**: the period's check-ins measured in ``[start, end)`` (with corrections), made one
  number by the KPI's aggregate: ``last``, ``sum``, ``mean``, ``min`` or ``max``.
- **Target**: the period's override known at the instant, else the KPI's default target as it
  was defined at the period's end (a closed period keeps the target it closed with; a changed
  default applies to the periods not yet closed).
- **Outcome** once the period ended: ``no_data`` without a check-in, else ``achieved`` when the
  value reached the target (increase/decrease) or held the threshold (maintain kinds), else
  ``missed``; credited to whoever owned the KPI at the period's last instant.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.domain import Kind
from kpictl.errors import InvalidInput
from kpictl.models import Assignment, Kpi, KpiChange, PeriodTarget
from kpictl.services.history import _decode

EVERY = ("week", "month", "quarter", "year")
AGGREGATES = ("last", "sum", "mean", "min", "max")
#: The check-in cadence an ongoing KPI takes when none is given: once per period.
DEFAULT_CADENCE = {"week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "365d"}
#: The due date stored for an open-ended series (no --due): far enough never to be reached.
OPEN_END = datetime(2999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)
_LABEL = {
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}
_EXAMPLE = {"week": "2027-W09", "month": "2027-03", "quarter": "2027-Q2", "year": "2027"}


def check_every(text: str) -> str:
    s = text.strip().lower()
    if s not in EVERY:
        raise InvalidInput(f"invalid --every '{text}': use week, month, quarter or year")
    return s


def check_aggregate(text: str) -> str:
    s = text.strip().lower()
    if s not in AGGREGATES:
        raise InvalidInput(f"invalid --aggregate '{text}': use last, sum, mean, min or max")
    return s


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive (the next period's start)

    @property
    def last_instant(self) -> datetime:
        """The period's last second, as an "end of day" due date is."""
        return self.end - _SECOND


def _utc(dt) -> datetime:
    u = dt.in_timezone("UTC")
    return datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, tzinfo=timezone.utc)


def _local_start(every: str, local) -> pendulum.DateTime:
    if every == "week":
        day = local.date() - timedelta(days=local.weekday())
    elif every == "month":
        day = local.date().replace(day=1)
    elif every == "quarter":
        day = local.date().replace(month=3 * ((local.month - 1) // 3) + 1, day=1)
    else:
        day = local.date().replace(month=1, day=1)
    return pendulum.datetime(day.year, day.month, day.day, tz=local.timezone)


def _advance(every: str, local_start):
    if every == "week":
        return local_start.add(weeks=1)
    if every == "month":
        return local_start.add(months=1)
    if every == "quarter":
        return local_start.add(months=3)
    return local_start.add(years=1)


def _label(every: str, local_start) -> str:
    if every == "week":
        year, week, _ = local_start.date().isocalendar()
        return f"{year}-W{week:02d}"
    if every == "month":
        return f"{local_start.year}-{local_start.month:02d}"
    if every == "quarter":
        return f"{local_start.year}-Q{(local_start.month - 1) // 3 + 1}"
    return f"{local_start.year}"


def _make(every: str, local_start) -> Period:
    return Period(_label(every, local_start), _utc(local_start), _utc(_advance(every, local_start)))


@functools.lru_cache(maxsize=4096)  # a portfolio asks the same few (rhythm, instant, zone)
def period_of(every: str, instant: datetime, zone: str) -> Period:
    """The period of ``every`` holding ``instant`` in ``zone``."""
    local = pendulum.instance(instant).in_timezone(zone)
    return _make(every, _local_start(every, local))


def next_period(every: str, period: Period, zone: str) -> Period:
    local = pendulum.instance(period.end).in_timezone(zone)
    return _make(every, _local_start(every, local))


def parse_label(every: str, text: str, zone: str) -> Period:
    """``2027-03`` / ``2027-Q2`` / ``2027-W09`` / ``2027`` as a period of ``every``."""
    raw = text.strip().upper()
    m = _LABEL[every].match(raw)
    problem = f"period '{text}' is not a {every}: use e.g. {_EXAMPLE[every]}"
    if not m:
        raise InvalidInput(problem)
    year = int(m.group(1))
    try:
        if every == "week":
            day = datetime.fromisocalendar(year, int(m.group(2)), 1)
        elif every == "month":
            day = datetime(year, int(m.group(2)), 1)
        elif every == "quarter":
            day = datetime(year, 3 * (int(m.group(2)) - 1) + 1, 1)
        else:
            day = datetime(year, 1, 1)
    except ValueError:
        raise InvalidInput(problem) from None
    return _make(every, pendulum.datetime(day.year, day.month, day.day, tz=zone))


def series(every: str, start: datetime, due: datetime, zone: str, until: datetime,
           closed_at: datetime | None = None) -> list[Period]:
    """The periods of a series begun by ``until`` (and by ``closed_at``), oldest first."""
    last = min(due, until, closed_at or until)
    result = []
    period = period_of(every, start, zone)
    while period.start <= last:
        result.append(period)
        period = next_period(every, period, zone)
    return result


def latest_period(every: str, start: datetime, due: datetime, zone: str, until: datetime,
                  closed_at: datetime | None = None) -> list[Period]:
    """``series(...)[-1:]`` without walking the series: the period holding its last instant."""
    last = min(due, until, closed_at or until)
    if period_of(every, start, zone).start > last:
        return []
    return [period_of(every, last, zone)]


def aggregate(how: str, values: list[float]) -> float | None:
    if not values:
        return None
    if how == "sum":
        return float(sum(values))
    if how == "mean":
        return sum(values) / len(values)
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    return values[-1]  # last: values in measured order


def meets(kind: Kind, value: float, *, target, low, high) -> bool:
    """A period's value against its target: reached (increase/decrease), held (maintain)."""
    if kind is Kind.INCREASE or kind is Kind.AT_LEAST:
        return value >= target
    if kind is Kind.DECREASE or kind is Kind.AT_MOST:
        return value <= target
    return low <= value <= high


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


def series_due(every: str, due: datetime | None, zone: str) -> datetime:
    """The stored due date of a series: the last second of the period holding ``due``."""
    if due is None:
        return OPEN_END
    return period_of(every, due, zone).last_instant


def series_start(every: str, start: datetime, zone: str) -> datetime:
    return period_of(every, start, zone).start


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


# --------------------------------------------------------------------------- writes

def prepare_spec(spec, default_start: datetime, default_zone: str) -> None:
    """An ongoing KPI's series in the KPI's terms: start at its first period's start, due at
    its last period's last second (or open-ended), the cadence once per period by default."""
    spec.every = check_every(spec.every)
    spec.aggregate = check_aggregate(spec.aggregate or "last")
    zone = spec.zone or default_zone
    if spec.milestones:
        raise InvalidInput("milestones apply to one-off KPIs, not ongoing ones (--every): "
                           "use --target-for PERIOD=VALUE")
    spec.start = series_start(spec.every, spec.start or default_start, zone)
    spec.due = series_due(spec.every, spec.due, zone)
    if spec.cadence is None:
        spec.cadence = DEFAULT_CADENCE[spec.every]


def finish_create(session: Session, now: datetime, kpi: Kpi, spec, by_person, result):
    """The ongoing part of a new KPI; returns the confirmation that says so."""
    from kpictl.results import WriteResult

    kpi.every, kpi.aggregate = spec.every, spec.aggregate
    session.flush()
    if spec.target_for:
        set_targets(session, kpi, [(p, t, None, None) for p, t in spec.target_for], now=now,
                    by_id=by_person.id if by_person else None, creating=True)
    first = period_of(kpi.every, kpi.start, kpi.zone).label
    last = "open-ended" if kpi.due == OPEN_END else \
        f"through {period_of(kpi.every, kpi.due, kpi.zone).label}"
    owner = result.data.get("owner")
    return WriteResult(result.action,
                       f"created {kpi.key} ({kpi.kind}, every {kpi.every}, {kpi.aggregate}) "
                       f"from {first}, {last}, and delegated it to {owner}",
                       {**result.data, "every": kpi.every, "aggregate": kpi.aggregate})


def check_update(kpi: Kpi, spec) -> None:
    """--every and --aggregate are fixed at creation (the periods' history depends on them)."""
    for name in ("every", "aggregate"):
        given = getattr(spec, name)
        if given is None:
            continue
        value = check_every(given) if name == "every" else check_aggregate(given)
        if value != getattr(kpi, name):
            raise InvalidInput(f"--{name} of {kpi.key} cannot change after it is created "
                               f"(it is {getattr(kpi, name) or 'a one-off KPI'}): "
                               "create a new KPI")
    if spec.target_for and kpi.every is None:
        raise InvalidInput(f"--target-for applies to ongoing KPIs; {kpi.key} is a one-off KPI")


def _check_target(kpi: Kpi, label: str, target, low, high) -> None:
    kind = Kind(kpi.kind)
    where = f"period {label}"
    if kind is Kind.RANGE:
        if low is None or high is None or target is not None:
            raise InvalidInput(f"{where}: a 'range' KPI takes low and high per period")
        if low >= high:
            raise InvalidInput(f"{where}: low {low:.15g} must be below high {high:.15g}")
        return
    if target is None or low is not None or high is not None:
        raise InvalidInput(f"{where}: a '{kind}' KPI takes a target per period (no low/high)")
    b = kpi.baseline
    if kind is Kind.INCREASE and b is not None and target <= b:
        raise InvalidInput(f"{where}: target {target:.15g} is not above the baseline {b:.15g}")
    if kind is Kind.DECREASE and b is not None and target >= b:
        raise InvalidInput(f"{where}: target {target:.15g} is not below the baseline {b:.15g}")


def set_targets(session: Session, kpi: Kpi, entries, *, now: datetime, by_id: int | None,
                creating: bool = False) -> int:
    """Per-period targets ``(label, target, low, high)``, validated whole, then written and
    logged; periods that already ended keep the target they closed with (refused).

    ``creating``: the KPI is created by the same command, so a back-dated series gets the
    targets of its past periods too (nothing has been judged by another target yet), and the
    creation itself is the log entry."""
    if kpi.every is None:
        raise InvalidInput(f"{kpi.key} is a one-off KPI: per-period targets need --every")
    if kpi.state != "active":
        raise InvalidInput(f"KPI '{kpi.key}' is closed ({kpi.state}): its targets cannot change")
    seen: dict[str, tuple] = {}
    first = period_of(kpi.every, kpi.start, kpi.zone)
    for label, target, low, high in entries:
        period = parse_label(kpi.every, label, kpi.zone)
        if period.label in seen:
            raise InvalidInput(f"period {period.label} is given twice")
        if period.start < first.start or period.start > kpi.due:
            raise InvalidInput(f"period {period.label} is outside the series of {kpi.key}")
        if period.end <= now and not creating:
            raise InvalidInput(f"period {period.label} has already closed: its target stays "
                               "the one it closed with")
        _check_target(kpi, period.label, target, low, high)
        seen[period.label] = (target, low, high)
    current = {r.period: r for r in session.execute(
        select(PeriodTarget).where(PeriodTarget.kpi_id == kpi.id)
        .order_by(PeriodTarget.recorded_at, PeriodTarget.id)).scalars()}
    from kpictl.services.history import encode

    written = 0
    for label, (target, low, high) in seen.items():
        old = current.get(label)
        if old is not None and (old.target, old.low, old.high) == (target, low, high):
            continue
        session.add(PeriodTarget(kpi_id=kpi.id, period=label, target=target, low=low, high=high,
                                 by_id=by_id, recorded_at=now))
        if not creating:
            def show(row):
                if row is None:
                    return None
                return encode(row[0]) if row[0] is not None else f"{encode(row[1])}..{encode(row[2])}"
            session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field="period_target",
                                  old_value=None if old is None else
                                  f"{label}={show((old.target, old.low, old.high))}",
                                  new_value=f"{label}={show((target, low, high))}"))
        written += 1
    if written:
        kpi.updated_at = now
    return written


def load_targets(*, session: Session, now: datetime, key: str, rows, by: str | None,
                 name: str):
    """`targets KEY --file`: every row checked first, then all written (or none)."""
    from kpictl.results import WriteResult
    from kpictl.services.bulk.rows import cell_number
    from kpictl.services.lookups import get_kpi, get_person

    kpi = get_kpi(session, key)
    by_person = get_person(session, by) if by else None
    entries, problems = [], []
    for row in rows:
        f = row.fields

        def num(name_):
            value = f.get(name_)
            if value is None or (isinstance(value, str) and not value.strip()):
                return None
            return cell_number(value, name_)  # as every other file and option reads numbers
        try:
            label = str(f.get("period") or "").strip()
            if not label:
                raise InvalidInput("period is required")
            entry = (label, num("target"), num("low"), num("high"))
            if kpi.every is not None:
                _check_target(kpi, parse_label(kpi.every, label, kpi.zone).label, *entry[1:])
            entries.append(entry)
        except InvalidInput as exc:
            problems.append(f"line {row.line}: {exc.message}")
    if problems:
        from kpictl.services.bulk.rows import listed

        raise InvalidInput(f"{len(problems)} invalid row(s) in {name}; nothing written",
                           details=listed(problems))
    if not entries:
        raise InvalidInput(f"{name} has no rows: give period,target[,low,high]")
    written = set_targets(session, kpi, entries, now=now,
                          by_id=by_person.id if by_person else None)
    return WriteResult("targets.loaded",
                       f"{kpi.key}: {written} period target(s) set, "
                       f"{len(entries) - written} unchanged", {"key": kpi.key,
                                                               "written": written})


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
