"""Who should own a KPI, and why (PRODUCT §3 *Suggest*).

Each active person gets four components in 0..1 and a weighted mean of them:

* **track record** — hit rate on their closed KPIs (achieved ÷ achieved + missed), each KPI
  weighted by its similarity to this one (shared tags, same unit) and by recency (half-life
  180 days), smoothed toward a 50 % prior worth two KPIs, so one lucky KPI is not 100 %;
* **skill match** — for each of the KPI's tags, the person's level in a skill of that name
  (level/5; a skill without a level counts 3/5), averaged over the tags;
* **capacity** — free slots ÷ capacity (this KPI does not count against its current owner);
* **reliability** — on-time share of their cadence slots, smoothed toward 70 % worth 3 slots.

``score = Σ weight·component / Σ weight``. People at or over capacity stay in the list,
flagged ``overloaded``.
"""

from __future__ import annotations

import math
import shlex
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kpictl.domain import OBJECTIVE
from kpictl.errors import InvalidInput
from kpictl.models import Kpi, KpiTag, Person, PersonSkill
from kpictl.schemas import (
    Candidate,
    Move,
    Rebalance,
    SuggestComponents,
    Suggestion,
    SuggestTarget,
)
from kpictl.services.lookups import get_kpi, normalize_tag

DEFAULT_WEIGHTS = {"track_record": 0.35, "skill_match": 0.30, "capacity": 0.20,
                   "reliability": 0.15}
WEIGHT_ALIASES = {"track": "track_record", "track_record": "track_record",
                  "skill": "skill_match", "skills": "skill_match", "skill_match": "skill_match",
                  "capacity": "capacity", "load": "capacity",
                  "reliability": "reliability", "reliable": "reliability"}
TRACK_PRIOR, TRACK_PRIOR_WEIGHT = 0.5, 2.0
RELIABILITY_PRIOR, RELIABILITY_PRIOR_SLOTS = 0.7, 3.0
RECENCY_HALF_LIFE_DAYS = 180.0
UNLEVELED_SKILL = 3
#: Smallest score gain for which `--rebalance` proposes a move.
MIN_GAIN = 0.05
#: Statuses whose KPIs `--rebalance` tries to move.
AT_RISK_STATUSES = ("at_risk", "off_track", "overdue")


def parse_weights(items: list[str]) -> dict[str, float]:
    """``["track=2", "skill=1"]`` → the default weights with those replaced."""
    weights = dict(DEFAULT_WEIGHTS)
    for item in items:
        name, sep, value = item.partition("=")
        key = WEIGHT_ALIASES.get(name.strip().lower())
        if not sep or key is None:
            raise InvalidInput(f"invalid --weight {item!r}: use NAME=NUMBER with NAME one of "
                               "track, skill, capacity, reliability")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not math.isfinite(weight) or weight < 0 or weight > 1000:
            raise InvalidInput(f"invalid --weight {item!r}: the weight must be a number "
                               "from 0 to 1000")
        weights[key] = weight
    if sum(weights.values()) <= 0:
        raise InvalidInput("--weight: at least one weight must be above 0")
    return weights


@dataclass(frozen=True)
class _History:
    tags: frozenset[str]
    unit: str | None
    achieved: bool
    closed_at: datetime


def _similarity(tags: frozenset[str], unit: str | None, past: _History) -> float:
    """0.2 for any closed KPI, up to 1.0 for the same tags and unit."""
    union = tags | past.tags
    jaccard = len(tags & past.tags) / len(union) if union else 0.0
    same_unit = 1.0 if unit and past.unit and unit.lower() == past.unit.lower() else 0.0
    return 0.2 + 0.6 * jaccard + 0.2 * same_unit


def done_keys(*, session: Session, now: datetime, tz) -> frozenset[str]:
    """Active KPIs whose target is already reached (status ``achieved``, not yet closed):
    done work, which no longer counts against its owner's capacity (PRODUCT §3)."""
    from kpictl.services.reports import build_report

    report = build_report(session=session, as_of=now, now=now, tz=tz)
    return frozenset(r.key for r in report.kpis if r.state == "active" and r.status == "achieved")


def _open_kpis(done: frozenset[str]):
    """The condition of a KPI that counts against its owner's capacity."""
    # An objective is a grouping of KPIs, not work of its own: it takes no capacity.
    condition = (Kpi.state == "active") & (Kpi.kind != OBJECTIVE)
    return condition & Kpi.key.notin_(sorted(done)) if done else condition


def _load_context(session: Session, now: datetime, done: frozenset[str]):
    people = list(session.execute(
        select(Person).where(Person.active.is_(True)).order_by(Person.handle)).scalars())
    skills: dict[int, dict[str, int | None]] = defaultdict(dict)
    for row in session.execute(select(PersonSkill)).scalars():
        skills[row.person_id][row.skill] = row.level
    active = dict(session.execute(
        select(Kpi.owner_id, func.count()).where(_open_kpis(done))
        .group_by(Kpi.owner_id)).all())
    tags_of: dict[int, set[str]] = defaultdict(set)
    for kpi_id, tag in session.execute(select(KpiTag.kpi_id, KpiTag.tag)):
        tags_of[kpi_id].add(tag)
    history: dict[int, list[_History]] = defaultdict(list)
    from kpictl.services.periods import closed_periods

    # An ongoing KPI's closed periods are each one closed KPI, credited to the owner then.
    ongoing, periods = closed_periods(session, as_of=now, known=False)
    person_ids = dict(session.execute(select(Person.handle, Person.id)).all())
    for kpi, period in periods:
        if period.owner in person_ids:
            history[person_ids[period.owner]].append(_History(
                frozenset(tags_of[kpi.id]), kpi.unit, period.outcome == "achieved",
                period.end))
    for kpi in session.execute(select(Kpi).where(Kpi.state.in_(["achieved", "missed"]),
                                                 Kpi.kind != OBJECTIVE,
                                                 Kpi.closed_at <= now)).scalars():
        if kpi.id in ongoing:
            continue
        history[kpi.owner_id].append(_History(frozenset(tags_of[kpi.id]), kpi.unit,
                                              kpi.state == "achieved", kpi.closed_at))
    return people, skills, active, history


def _candidate(person, *, target: SuggestTarget, kpi_id, owner_id, skills, active, history,
               punctuality, weights, now, target_done: bool = False) -> Candidate:
    tags = frozenset(target.tags)
    reasons: list[str] = []
    # Track record
    num = den = 0.0
    similar_hits = similar_total = 0
    for past in history.get(person.id, []):
        age = max(0.0, (now - past.closed_at).total_seconds() / 86400)
        sim = _similarity(tags, target.unit, past)
        w = sim * 0.5 ** (age / RECENCY_HALF_LIFE_DAYS)
        num += w * past.achieved
        den += w
        if sim >= 0.5:
            similar_total += 1
            similar_hits += past.achieved
    track = (num + TRACK_PRIOR * TRACK_PRIOR_WEIGHT) / (den + TRACK_PRIOR_WEIGHT)
    closed = len(history.get(person.id, []))
    if similar_total:
        reasons.append(f"hit {similar_hits} of {similar_total} similar KPIs")
    elif closed:
        hits = sum(p.achieved for p in history[person.id])
        reasons.append(f"hit {hits} of {closed} closed KPIs (none similar)")
    else:
        reasons.append("no closed KPIs yet")
    # Skill match
    own = skills.get(person.id, {})
    if tags:
        levels = [(own[t] or UNLEVELED_SKILL) / 5 if t in own else 0.0 for t in sorted(tags)]
        skill = sum(levels) / len(levels)
        matched = [f"{t} level {own[t] or UNLEVELED_SKILL}" for t in sorted(tags) if t in own]
        reasons.append("; ".join(matched) if matched else "no matching skills")
    else:
        skill = 0.5
        reasons.append("the KPI has no tags to match skills against")
    # Capacity
    own_kpi = kpi_id is not None and person.id == owner_id and not target_done
    load = active.get(person.id, 0) - (1 if own_kpi else 0)
    free = max(0, person.capacity - load)
    capacity = free / person.capacity if person.capacity > 0 else 0.0
    reasons.append(f"{free} of {person.capacity} slots free")
    # Reliability
    p = punctuality.get(person.handle, {"on_time": 0, "late": 0, "missed": 0})
    judged = p["on_time"] + p["late"] + p["missed"]
    reliability = ((p["on_time"] + RELIABILITY_PRIOR * RELIABILITY_PRIOR_SLOTS)
                   / (judged + RELIABILITY_PRIOR_SLOTS))
    reasons.append(f"{p['on_time'] / judged:.0%} of check-ins on time ({judged} due)"
                   if judged else "no check-ins due yet")
    components = SuggestComponents(track_record=round(track, 4), skill_match=round(skill, 4),
                                   capacity=round(capacity, 4), reliability=round(reliability, 4))
    total = sum(weights.values())
    score = sum(weights[name] * getattr(components, name) for name in weights) / total
    return Candidate(handle=person.handle, name=person.name, score=round(score, 4),
                     components=components, active_kpis=active.get(person.id, 0),
                     capacity=person.capacity, overloaded=active.get(person.id, 0)
                     >= person.capacity, current_owner=person.id == owner_id, reasons=reasons)


def suggest_owners(*, session: Session, now: datetime, tz, key: str | None = None,
                   tags: list[str] = (), unit: str | None = None, top: int | None = None,
                   weights: dict[str, float] | None = None,
                   done: frozenset[str] | None = None, punctuality=None) -> Suggestion:
    """``done`` (from :func:`done_keys`) and ``punctuality`` may be handed in by a caller
    that ranks many KPIs at one instant."""
    from kpictl.services.accountability import punctuality_by_person

    weights = weights or dict(DEFAULT_WEIGHTS)
    if top is not None and top < 1:
        raise InvalidInput(f"invalid --top {top}: use a number of people, 1 or more")
    kpi_id = owner_id = None
    if key:
        if tags or unit:
            raise InvalidInput("give a KPI key, or describe a new KPI with --tag/--unit; "
                               "not both")
        kpi = get_kpi(session, key)
        kpi_id, owner_id = kpi.id, kpi.owner_id
        kpi_tags = sorted(session.execute(
            select(KpiTag.tag).where(KpiTag.kpi_id == kpi.id)).scalars())
        owner = session.get(Person, kpi.owner_id)
        target = SuggestTarget(key=kpi.key, title=kpi.title, tags=kpi_tags, unit=kpi.unit,
                               owner=owner.handle if owner else None)
    else:
        if not tags and not unit:
            raise InvalidInput("tell me about the KPI: give its KEY, or --tag (and --unit) for "
                               "one not created yet")
        target = SuggestTarget(key=None, title=None,
                               tags=sorted({normalize_tag(t) for t in tags}), unit=unit,
                               owner=None)
    if done is None:
        done = done_keys(session=session, now=now, tz=tz)
    people, skills, active, history = _load_context(session, now, done)
    if punctuality is None:
        punctuality = punctuality_by_person(session=session, as_of=now, tz=tz)
    candidates = [
        _candidate(p, target=target, kpi_id=kpi_id, owner_id=owner_id, skills=skills,
                   active=active, history=history, punctuality=punctuality, weights=weights,
                   now=now, target_done=target.key in done)
        for p in people
    ]
    candidates.sort(key=lambda c: (-c.score, c.handle))
    if top is not None:
        candidates = candidates[:top]
    return Suggestion(generated_at=now, kpi=target, weights=weights, candidates=candidates)


def rebalance(*, session: Session, now: datetime, tz,
              weights: dict[str, float] | None = None) -> Rebalance:
    """Concrete moves for KPIs owned by overloaded people or at risk, with the score gain.

    The moves are chosen as a set, best gain first: a KPI moves at most once, nobody is
    handed more than their free capacity, an overloaded person gives away no more KPIs than
    bring them back within capacity, and nobody is proposed a move to themselves.
    """
    from kpictl.services.accountability import punctuality_by_person
    from kpictl.services.reports import build_report

    weights = weights or dict(DEFAULT_WEIGHTS)
    people = {p.handle: p for p in session.execute(
        select(Person).where(Person.active.is_(True))).scalars()}
    report = build_report(session=session, as_of=now, now=now, tz=tz)
    done = frozenset(r.key for r in report.kpis if r.state == "active" and r.status == "achieved")
    load = dict(session.execute(
        select(Person.handle, func.count()).join(Kpi, Kpi.owner_id == Person.id)
        .where(_open_kpis(done)).group_by(Person.handle)).all())
    overloaded = sorted(h for h, p in people.items() if load.get(h, 0) > p.capacity)
    excess = {h: load[h] - people[h].capacity for h in overloaded}
    punctuality = punctuality_by_person(session=session, as_of=now, tz=tz)
    # An objective takes no capacity: moving it relieves no one (its KPIs may move).
    rows = [r for r in report.kpis if r.state == "active" and r.owner and r.key not in done and
            r.kind != OBJECTIVE and
            (r.owner in overloaded or r.owner not in people or r.status in AT_RISK_STATUSES)]
    options = []  # (gain, row, candidate, current score): every move worth proposing
    for row in rows:
        ranking = suggest_owners(session=session, now=now, tz=tz, key=row.key, weights=weights,
                                 done=done, punctuality=punctuality)
        current = next((c for c in ranking.candidates if c.current_owner), None)
        current_score = current.score if current else 0.0
        for cand in ranking.candidates:
            if cand.current_owner or cand.handle == row.owner or cand.handle not in people:
                continue
            gain = round(cand.score - current_score, 4)
            if gain >= MIN_GAIN:  # a move is disruptive: propose it only for a clear gain
                options.append((gain, row, cand, current_score))
    options.sort(key=lambda o: (-o[0], o[1].key, o[2].handle))
    moves: list[Move] = []
    moved: set[str] = set()
    planned = defaultdict(int)  # KPIs already proposed to (+) or away from (−) each person
    for gain, row, cand, current_score in options:
        if row.key in moved:
            continue
        if cand.active_kpis + planned[cand.handle] >= cand.capacity:
            continue
        if row.owner in excess and excess[row.owner] <= 0:
            continue  # back within capacity: moving more of their KPIs is more than needed
        if row.owner in overloaded:
            reason = f"{row.owner} is over capacity ({load.get(row.owner, 0)}/" \
                     f"{people[row.owner].capacity})"
            excess[row.owner] -= 1
        elif row.owner not in people:
            reason = f"{row.owner} is inactive"
        else:
            reason = f"{row.status.replace('_', ' ')} with {row.owner}"
        moved.add(row.key)
        planned[cand.handle] += 1
        planned[row.owner] -= 1
        command = f"kpictl assign {shlex.quote(row.key)} --to {shlex.quote(cand.handle)}"
        moves.append(Move(key=row.key, title=row.title, status=row.status,
                          from_owner=row.owner, to=cand.handle, score_from=current_score,
                          score_to=cand.score, gain=gain, reason=reason, command=command))
    moves.sort(key=lambda m: (-m.gain, m.key))
    return Rebalance(generated_at=now, weights=weights, overloaded=overloaded, moves=moves)
