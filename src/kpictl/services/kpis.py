"""Delegating KPIs: create, change, reassign, close, and the feedback loop.

``assign`` is one command for both creating and changing a KPI, as managers think of it
("give this to Ana, target 120k by the end of the quarter"). Every change after creation is
logged in ``kpi_change`` and every change of owner in the append-only ``assignment`` log; the
first assignment is effective from the KPI's start, a reassignment from when it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kpictl.domain import DEFAULTS, Kind, Outcome
from kpictl.errors import Conflict, InvalidInput
from kpictl.models import Assignment, Feedback, Kpi, KpiChange, KpiTag, Milestone, Person
from kpictl.schemas import WriteResult
from kpictl.services import events
from kpictl.services.history import encode, encode_milestones
from kpictl.services.lookups import (
    clean_text,
    find_kpi,
    get_kpi,
    get_person,
    normalize_key,
    normalize_tag,
)
from kpictl.timeparse import parse_cadence, parse_grace, zone_name


@dataclass
class KpiSpec:
    """Fields of ``assign``; None means "not given" (keep the current value / use the default)."""

    title: str | None = None
    outcome: str | None = None
    unit: str | None = None
    kind: Kind | None = None
    baseline: float | None = None
    target: float | None = None
    low: float | None = None
    high: float | None = None
    start: datetime | None = None
    due: datetime | None = None
    cadence: str | None = None
    grace: str | None = None
    zone: str | None = None
    tags: list[str] | None = None
    milestones: list[tuple[datetime, float]] | None = None
    extra: dict = field(default_factory=dict)
    #: Ongoing KPIs (services/periods/): the period, the aggregate, per-period targets.
    every: str | None = None
    aggregate: str | None = None
    target_for: list[tuple[str, float]] | None = None
    #: Objectives and roll-ups (services/objectives.py): create an objective; the objective
    #: this KPI counts towards ('' detaches) and its weight there.
    objective: bool = False
    parent: str | None = None
    weight: float | None = None


_FIELDS = ("title", "outcome", "unit", "kind", "baseline", "target", "low", "high", "start", "due",
           "cadence", "grace", "zone")
_AGGREGATED = {"kind", "baseline", "target", "low", "high", "start", "due"}


def _infer_kind(spec: KpiSpec, current: Kpi | None) -> Kind:
    if spec.kind is not None:
        return Kind(spec.kind)
    if current is not None:
        return Kind(current.kind)
    if spec.low is not None or spec.high is not None:
        return Kind.RANGE
    if spec.target is not None and spec.baseline is not None and spec.target < spec.baseline:
        return Kind.DECREASE
    return Kind.INCREASE


def _validate(values: dict, milestones: list[tuple[datetime, float]]) -> None:
    """Refuse a KPI definition that the rules of PRODUCT §3 cannot evaluate."""
    kind: Kind = values["kind"]
    b, t, low, high = values["baseline"], values["target"], values["low"], values["high"]
    if kind in (Kind.INCREASE, Kind.DECREASE):
        if t is None:
            raise InvalidInput(f"--target is required for a '{kind}' KPI")
        if b is None:
            raise InvalidInput(f"--baseline is required for a '{kind}' KPI")
        if t == b:
            raise InvalidInput(f"--target equals --baseline ({t:.15g}): there is nothing to progress")
        if kind is Kind.INCREASE and t < b:
            raise InvalidInput(
                f"--target {t:.15g} is below --baseline {b:.15g} for an 'increase' KPI; "
                "use --kind decrease for lower-is-better"
            )
        if kind is Kind.DECREASE and t > b:
            raise InvalidInput(
                f"--target {t:.15g} is above --baseline {b:.15g} for a 'decrease' KPI; "
                "use --kind increase for higher-is-better"
            )
    elif kind in (Kind.AT_LEAST, Kind.AT_MOST):
        if t is None:
            raise InvalidInput(f"--target is required for an '{kind}' KPI")
    else:
        if low is None or high is None:
            raise InvalidInput("--kind range needs --low and --high (the band to stay within)")
        if low >= high:
            raise InvalidInput(f"--low {low:.15g} must be below --high {high:.15g}")
    if kind is not Kind.RANGE and (low is not None or high is not None):
        raise InvalidInput(f"--low/--high apply only to 'range' KPIs, not '{kind}'")
    if kind is Kind.RANGE and t is not None:
        raise InvalidInput("--kind range takes --low and --high, not --target")
    _validate_dates(values, milestones)
    if milestones and kind.is_maintain:
        raise InvalidInput(f"milestones apply to 'increase' and 'decrease' KPIs, not '{kind}'")
    parse_cadence(values["cadence"])
    parse_grace(values["grace"])


def _validate_dates(values: dict, milestones: list[tuple[datetime, float]]) -> None:
    if values["due"] <= values["start"]:
        raise InvalidInput("--due must be after --start")
    from kpictl.services.limits import MAX_MILESTONES

    if len(milestones) > MAX_MILESTONES:
        raise InvalidInput(f"{len(milestones)} milestones: at most {MAX_MILESTONES} per KPI")
    dates = [at for at, _ in milestones]
    if len(set(dates)) < len(dates):
        raise InvalidInput("two --milestone values for the same date: give one value per date")
    for at, _value in milestones:
        if not values["start"] < at < values["due"]:
            raise InvalidInput(f"milestone {at:%Y-%m-%d} is outside the KPI's start..due window")


def _set_tags(session: Session, kpi_id: int, tags: list[str]) -> None:
    session.execute(delete(KpiTag).where(KpiTag.kpi_id == kpi_id))
    for tag in tags:
        session.add(KpiTag(kpi_id=kpi_id, tag=tag))


def _set_milestones(session: Session, kpi_id: int, milestones) -> None:
    session.execute(delete(Milestone).where(Milestone.kpi_id == kpi_id))
    for at, value in milestones:
        session.add(Milestone(kpi_id=kpi_id, at=at, value=value))


def _tags_of(session: Session, kpi_id: int) -> list[str]:
    rows = session.execute(select(KpiTag.tag).where(KpiTag.kpi_id == kpi_id).order_by(KpiTag.tag))
    return list(rows.scalars())


def _milestones_of(session: Session, kpi_id: int) -> list[tuple[datetime, float]]:
    rows = session.execute(
        select(Milestone.at, Milestone.value).where(Milestone.kpi_id == kpi_id).order_by(Milestone.at)
    )
    return [tuple(r) for r in rows]


def assign(
    *,
    session: Session,
    now: datetime,
    key: str,
    spec: KpiSpec,
    to: str | None = None,
    by: str | None = None,
    note: str | None = None,
    at: datetime | None = None,
    default_start: datetime | None = None,
    default_zone: str | None = None,
) -> WriteResult:
    """Create a KPI and delegate it, or change/reassign an existing one (each change logged).

    A new KPI takes ``spec.zone``, else ``default_zone`` (the creator's --tz), else UTC.
    """
    key = normalize_key(key)
    if spec.zone is not None:
        spec.zone = zone_name(spec.zone)
    default_zone = zone_name(default_zone) if default_zone else "UTC"
    note = clean_text(note, what="--note")
    spec.title = clean_text(spec.title, what="--title", limit=300)
    spec.outcome = clean_text(spec.outcome, what="--outcome")
    spec.unit = clean_text(spec.unit, what="--unit", limit=40)
    tags = sorted({normalize_tag(t) for t in spec.tags}) if spec.tags is not None else None
    owner = get_person(session, to) if to else None
    by_person = get_person(session, by) if by else None
    if at is not None and at > now:
        raise InvalidInput("--at is in the future")
    when = at or now
    if owner is not None and not owner.active:
        raise Conflict(f"person '{owner.handle}' is inactive; reactivate with `kpictl people edit "
                       f"{owner.handle} --active`")
    kpi = find_kpi(session, key, for_update=True)  # see services/stats.py: one writer at a time
    from kpictl.services import objectives, periods

    if spec.objective or (kpi is not None and objectives.is_objective(kpi)):
        if kpi is not None and not objectives.is_objective(kpi):
            raise Conflict(f"'{kpi.key}' is a KPI, not an objective: an existing KPI cannot "
                           "become one (create the objective under a new key and link "
                           f"{kpi.key} under it with --parent)")
        objectives.refuse_kpi_options(spec, key)
    if kpi is None:
        if spec.every is not None:
            periods.prepare_spec(spec, default_start or now, default_zone)
        elif spec.aggregate is not None or spec.target_for:
            raise InvalidInput("--aggregate and --target-for apply to ongoing KPIs: add --every")
        result = _create(session, now, key, spec, tags, owner, by_person, note, default_start,
                         default_zone)
        if spec.every is not None:
            return periods.finish_create(session, now, find_kpi(session, key), spec, by_person,
                                         result)
        return result
    periods.check_update(kpi, spec)
    result = _update(session, now, when, kpi, spec, tags, owner, by_person, note)
    if spec.target_for:
        periods.set_targets(session, kpi, [(p, t, None, None) for p, t in spec.target_for],
                            now=now, by_id=by_person.id if by_person else None)
        if result.action == "kpi.unchanged":
            return WriteResult("kpi.updated", f"updated {kpi.key}: period targets",
                               {"key": kpi.key, "changes": ["period targets"]})
    return result


def _local(instant: datetime, zone: str) -> datetime:
    """``instant`` in the KPI's zone: its dates are days there (see :mod:`kpictl.timeparse`)."""
    from kpictl.timeparse import resolve_zone

    try:
        return instant.astimezone(resolve_zone(zone))
    except (OverflowError, ValueError):
        return instant


def _create(session, now, key, spec, tags, owner, by_person, note, default_start,
            default_zone="UTC") -> WriteResult:
    if owner is None:
        raise InvalidInput(f"--to is required to create KPI '{key}' (who will own it?)")
    from kpictl.services import objectives

    parent_id, weight = objectives.link_new(session, key, spec.parent, spec.weight)
    if spec.objective:
        values = objectives.values(key, spec, default_start or now, default_zone)
        _validate_dates(values, [])
    elif spec.due is None:
        raise InvalidInput(f"--due is required to create KPI '{key}' (by when?)")
    else:
        values = _kpi_values(key, spec, default_start, now, default_zone)
        milestones = sorted(spec.milestones or [])
        _validate(values, milestones)
    kpi = Kpi(
        key=key,
        owner_id=owner.id,
        delegated_by_id=by_person.id if by_person else None,
        state="active",
        created_at=now,
        updated_at=now,
        parent_id=parent_id,
        weight=weight,
        **{**values, "kind": str(values["kind"])},
    )
    session.add(kpi)
    session.flush()
    _set_tags(session, kpi.id, tags or [])
    if not spec.objective:
        _set_milestones(session, kpi.id, milestones)
    session.add(
        Assignment(
            kpi_id=kpi.id,
            person_id=owner.id,
            assigned_by_id=kpi.delegated_by_id,
            valid_from=values["start"],
            note=note,
            recorded_at=now,
        )
    )
    events.emit(session, "assign", kpi=key, by=by_person.handle if by_person else None,
                to=owner.handle, previous=None, created=True, changes=[], note=note)
    what = "objective" if spec.objective else values["kind"]
    return WriteResult(
        "kpi.created",
        f"created {key} ({what}) and delegated it to {owner.handle}, "
        f"due {_local(values['due'], values['zone']):%Y-%m-%d}",
        {"key": key, "owner": owner.handle},
    )


def _kpi_values(key, spec, default_start, now, default_zone) -> dict:
    values = {
        "title": spec.title or key,
        "outcome": spec.outcome,
        "unit": spec.unit,
        "kind": _infer_kind(spec, None),
        "baseline": spec.baseline,
        "target": spec.target,
        "low": spec.low,
        "high": spec.high,
        "start": spec.start or default_start or now,
        "due": spec.due,
        "cadence": parse_cadence(spec.cadence or DEFAULTS.default_cadence).label,
        "grace": parse_grace(spec.grace or DEFAULTS.default_grace).label,
        "zone": spec.zone or default_zone,
    }
    if values["kind"] in (Kind.INCREASE, Kind.DECREASE) and values["baseline"] is None:
        values["baseline"] = 0.0
    return values


def _update(session, now, when, kpi, spec, tags, owner, by_person, note) -> WriteResult:
    if kpi.state != "active":
        raise Conflict(f"KPI '{kpi.key}' is closed ({kpi.state}); closed KPIs cannot change: "
                       f"reopen it first with `kpictl reopen {kpi.key} --reason TEXT`")
    from kpictl.services import objectives

    objective = objectives.is_objective(kpi)
    current = {name: getattr(kpi, name) for name in _FIELDS}
    if not objective:
        current["kind"] = Kind(current["kind"])
    proposed = dict(current)
    given = {name: getattr(spec, name) for name in _FIELDS if getattr(spec, name) is not None}
    if "cadence" in given:
        given["cadence"] = parse_cadence(given["cadence"]).label
    if "grace" in given:
        given["grace"] = parse_grace(given["grace"]).label
    proposed.update(given)
    if "kind" in given:
        proposed["kind"] = Kind(given["kind"])
        if proposed["kind"] is Kind.RANGE:
            proposed["target"] = given.get("target")
        else:
            proposed["low"], proposed["high"] = given.get("low"), given.get("high")
    old_milestones = _milestones_of(session, kpi.id)
    milestones = sorted(spec.milestones) if spec.milestones is not None else old_milestones
    if objective:
        _validate_dates(proposed, [])
    else:
        _validate(proposed, milestones)
    events.touch(session, [kpi])
    previous_owner = kpi.owner_id

    by_id = by_person.id if by_person else None
    changes: list[str] = objectives.relink(session, now, kpi, spec.parent, spec.weight, by_id)
    for name in _FIELDS:
        if proposed[name] != current[name]:
            session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field=name,
                                  old_value=encode(current[name]), new_value=encode(proposed[name])))
            setattr(kpi, name, str(proposed[name]) if name == "kind" else proposed[name])
            changes.append(name)
    if "start" in changes:
        _move_first_assignment(session, kpi)
    if _AGGREGATED.intersection(changes):  # the check-in aggregates depend on these fields
        from kpictl.services import stats

        session.flush()
        if stats.prepare(session):  # rows written around kpictl are not to be hidden
            stats.rebuild(session, [kpi.id])
    if tags is not None:
        old_tags = _tags_of(session, kpi.id)
        if tags != old_tags:
            _set_tags(session, kpi.id, tags)
            session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field="tags",
                                  old_value=";".join(old_tags), new_value=";".join(tags)))
            changes.append("tags")
    if milestones != old_milestones:
        _set_milestones(session, kpi.id, milestones)
        session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field="milestones",
                              old_value=encode_milestones(old_milestones),
                              new_value=encode_milestones(milestones)))
        changes.append("milestones")

    if owner is not None and owner.id != kpi.owner_id:
        _reassign(session, now, when, kpi, owner, by_id, note)
        changes.append(f"owner → {owner.handle}")
    elif note and changes:
        # Why it changed: kept in the change log (a reassignment keeps it on the assignment).
        session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field="note", new_value=note))
    if not changes:
        return WriteResult("kpi.unchanged", f"{kpi.key} unchanged", {"key": kpi.key})
    kpi.updated_at = now
    if events.wants(session, "assign"):
        handles = dict(session.execute(select(Person.id, Person.handle)).all())
        events.emit(session, "assign", kpi=kpi.key, by=by_person.handle if by_person else None,
                    to=handles.get(kpi.owner_id),
                    previous=handles.get(previous_owner) if previous_owner != kpi.owner_id
                    else None, created=False,
                    changes=[c if not c.startswith("owner") else "owner" for c in changes],
                    note=note)
    return WriteResult("kpi.updated", f"updated {kpi.key}: {', '.join(changes)}",
                       {"key": kpi.key, "changes": changes})


def _move_first_assignment(session: Session, kpi: Kpi) -> None:
    """The first assignment is effective from the KPI's start: keep it so when start moves."""
    rows = session.execute(
        select(Assignment).where(Assignment.kpi_id == kpi.id)
        .order_by(Assignment.valid_from, Assignment.id)
    ).scalars().all()
    if len(rows) > 1 and kpi.start >= rows[1].valid_from:
        raise InvalidInput(
            f"--start {kpi.start:%Y-%m-%d %H:%M} UTC is not before the first reassignment "
            f"({rows[1].valid_from:%Y-%m-%d %H:%M} UTC)"
        )
    rows[0].valid_from = kpi.start


def _reassign(session, now, when, kpi, owner: Person, by_id, note) -> None:
    open_row = session.execute(
        select(Assignment).where(Assignment.kpi_id == kpi.id, Assignment.valid_until.is_(None))
    ).scalar_one_or_none()
    if open_row is not None:
        if when <= open_row.valid_from:
            raise InvalidInput(
                f"--at {when:%Y-%m-%d %H:%M} is not after the current assignment began "
                f"({open_row.valid_from:%Y-%m-%d %H:%M} UTC)"
            )
        open_row.valid_until = when
    session.add(Assignment(kpi_id=kpi.id, person_id=owner.id, assigned_by_id=by_id,
                           valid_from=when, note=note, recorded_at=now))
    kpi.owner_id = owner.id


def close_kpi(
    *, session: Session, now: datetime, key: str, outcome: Outcome | None,
    note: str | None = None, by: str | None = None, at: datetime | None = None, tz=None,
) -> WriteResult:
    """Close ``key``; without ``outcome``, with the report's ``suggested_outcome`` at the
    closing instant (PRODUCT §3 *Due passed*), which exists only once the KPI is past due."""
    kpi = get_kpi(session, key)
    note = clean_text(note, what="--note")
    by_person = get_person(session, by) if by else None
    if kpi.state != "active":
        raise Conflict(f"KPI '{kpi.key}' is already closed ({kpi.state})")
    if at is not None and at > now:
        raise InvalidInput("--at is in the future")
    when = at or now
    if when < kpi.start:
        raise InvalidInput("--at is before the KPI's start")
    if outcome is None:
        from kpictl.services.reports import build_report

        [row] = build_report(session=session, as_of=when, now=now, tz=tz, keys=[kpi.key]).kpis
        if row.suggested_outcome is None:
            raise InvalidInput(f"KPI '{kpi.key}' is not past due yet, so there is no suggested "
                               "outcome: give --outcome achieved, missed or cancelled")
        outcome = Outcome(row.suggested_outcome)
    events.touch(session, [kpi])
    by_id = by_person.id if by_person else None
    # Logged as state and closed_at changes, so that a report of what was known before the
    # close (or after a reopen) rewinds it exactly (services/history.py).
    session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field="state",
                          old_value=kpi.state, new_value=str(outcome), reason=note))
    session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field="closed_at",
                          old_value=None, new_value=encode(when)))
    kpi.state = str(outcome)
    kpi.closed_at = when
    kpi.close_note = note
    kpi.updated_at = now
    events.emit(session, "close", kpi=kpi.key, by=by_person.handle if by_person else None,
                outcome=str(outcome), closed_at=when, note=note)
    return WriteResult("kpi.closed", f"closed {kpi.key} as {outcome}", {"key": kpi.key,
                                                                       "outcome": str(outcome)})


def reopen_kpi(*, session: Session, now: datetime, key: str, reason: str,
               by: str | None = None) -> WriteResult:
    """Undo a close: the KPI is active again, and the close and the reopen stay logged."""
    kpi = get_kpi(session, key, for_update=True)
    reason = clean_text(reason, what="--reason", required=True)
    by_person = get_person(session, by) if by else None
    if kpi.state == "active":
        raise Conflict(f"KPI '{kpi.key}' is not closed; there is nothing to reopen")
    events.touch(session, [kpi])  # reopening changes its status: a status_change event
    by_id = by_person.id if by_person else None
    closed_as = kpi.state
    for name, old in (("state", kpi.state), ("closed_at", encode(kpi.closed_at)),
                      ("close_note", kpi.close_note)):
        if old is not None:
            session.add(KpiChange(kpi_id=kpi.id, at=now, by_id=by_id, field=name,
                                  old_value=old, new_value="active" if name == "state" else None,
                                  reason=reason))
    kpi.state, kpi.closed_at, kpi.close_note, kpi.updated_at = "active", None, None, now
    return WriteResult("kpi.reopened", f"reopened {kpi.key} (it was closed as {closed_as})",
                       {"key": kpi.key, "was": closed_as})


def add_feedback(
    *, session: Session, now: datetime, key: str, text: str, by: str | None = None
) -> WriteResult:
    kpi = get_kpi(session, key)
    text = clean_text(text, what="feedback text", required=True)
    by_person = get_person(session, by) if by else None
    session.add(Feedback(kpi_id=kpi.id, author_id=by_person.id if by_person else None, at=now,
                         text=text))
    events.emit(session, "feedback", kpi=kpi.key, by=by_person.handle if by_person else None,
                text=text)
    return WriteResult("feedback.added", f"feedback recorded on {kpi.key}", {"key": kpi.key})
