"""The reporting tree: who manages whom, now or as it stood at an instant (``person_change``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kpictl.domain import OBJECTIVE
from kpictl.models import Kpi, Person, PersonChange
from kpictl.services.lookups import get_person


@dataclass
class TreeNode:
    handle: str
    name: str
    active: bool
    active_kpis: int
    capacity: int
    reports: list["TreeNode"] = field(default_factory=list)


def managers_at(session: Session, as_of: datetime | None = None) -> dict[str, str | None]:
    """Each person's manager handle as the tree stood at ``as_of`` (now when None).

    People added after ``as_of`` are left out. A manager change logged after ``as_of`` is undone
    from its ``old_value``, latest first.
    """
    people = session.execute(select(Person.id, Person.handle, Person.manager_id,
                                    Person.created_at)).all()
    handles = {pid: handle for pid, handle, _m, _c in people}
    managers = {handle: handles.get(mid) for _pid, handle, mid, _c in people}
    if as_of is None:
        return managers
    later = session.execute(
        select(PersonChange.person_id, PersonChange.old_value)
        .where(PersonChange.field == "manager", PersonChange.at > as_of)
        .order_by(PersonChange.at.desc(), PersonChange.id.desc())
    ).all()
    for pid, old in later:  # latest first: the earliest change's old value wins last
        if pid in handles:
            managers[handles[pid]] = old or None
    born = {handle: created for _pid, handle, _m, created in people}
    return {h: (m if m in born and _not_after(born[m], as_of) else None)
            for h, m in managers.items() if _not_after(born[h], as_of)}


def _not_after(created: datetime | None, as_of: datetime) -> bool:
    if created is None:
        return True
    if created.tzinfo is None and as_of.tzinfo is not None:
        as_of = as_of.replace(tzinfo=None)
    elif created.tzinfo is not None and as_of.tzinfo is None:
        created = created.replace(tzinfo=None)
    return created <= as_of


def team_of(session: Session, head: str, as_of: datetime | None = None) -> set[str]:
    """``head`` and everyone under them, at any depth, as the tree stood at ``as_of``."""
    root = get_person(session, head).handle
    managers = managers_at(session, as_of)
    below: dict[str, list[str]] = {}
    for handle, boss in managers.items():
        if boss is not None:
            below.setdefault(boss, []).append(handle)
    team, todo = set(), [root]
    while todo:
        handle = todo.pop()
        if handle in team:
            continue
        team.add(handle)
        todo.extend(below.get(handle, []))
    return team


def build_tree(*, session: Session, head: str | None = None,
               include_inactive: bool = False) -> list[TreeNode]:
    """The reporting tree from ``head``, or one tree per root (a person with no manager)."""
    people = list(session.execute(select(Person).order_by(Person.handle)).scalars())
    load = dict(session.execute(select(Kpi.owner_id, func.count())
                                .where(Kpi.state == "active", Kpi.kind != OBJECTIVE)
                                .group_by(Kpi.owner_id)).all())
    by_id = {p.id: p for p in people}
    nodes = {p.id: TreeNode(p.handle, p.name, p.active, load.get(p.id, 0), p.capacity)
             for p in people}
    for p in people:
        if p.manager_id in nodes and (include_inactive or p.active or head is not None):
            nodes[p.manager_id].reports.append(nodes[p.id])
    if head is not None:
        return [nodes[get_person(session, head).id]]
    return [nodes[p.id] for p in people
            if (p.manager_id is None or p.manager_id not in by_id)
            and (include_inactive or p.active)]
