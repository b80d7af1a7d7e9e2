"""Writes of ongoing KPIs: the series' dates at creation, and per-period targets (checked,
logged, append-only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.domain import Kind
from kpictl.errors import InvalidInput
from kpictl.models import Kpi, KpiChange, PeriodTarget
from kpictl.services.periods.period import (
    DEFAULT_CADENCE,
    OPEN_END,
    check_aggregate,
    check_every,
    parse_label,
    period_of,
    series_due,
    series_start,
)

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
