"""The people a manager can delegate to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kpictl.domain import DB_ROLE_RE, DEFAULTS, OBJECTIVE
from kpictl.errors import Conflict, InvalidInput
from kpictl.models import Kpi, Person, PersonSkill
from kpictl.schemas import CalibrationView, PersonDetail, PersonView, SkillView, WriteResult
from kpictl.services.lookups import (
    clean_text,
    find_person,
    get_person,
    normalize_handle,
    normalize_tag,
)


def parse_skill(text: str) -> tuple[str, int | None]:
    """``sales`` or ``sales:4`` (level 1-5)."""
    name, sep, level_text = text.partition(":")
    skill = normalize_tag(name, what="skill")
    if not sep:
        return skill, None
    if level_text.strip() not in ("1", "2", "3", "4", "5"):
        raise InvalidInput(f"invalid skill level in {text!r}: use SKILL or SKILL:LEVEL, level 1-5")
    return skill, int(level_text)


def _capacity(value: int | None) -> int:
    if value is None:
        return DEFAULTS.default_capacity
    if not 0 <= value <= 1000:
        raise InvalidInput(f"invalid --capacity {value}: use a number of KPIs from 0 to 1000")
    return value


def _email(value: str | None) -> str | None:
    value = clean_text(value, what="--email", limit=320)
    if value is not None and ("@" not in value or any(c.isspace() for c in value)):
        raise InvalidInput(f"invalid --email {value!r}: expected an address such as ana@example.com")
    return value


def db_role_name(value: str) -> str:
    """A PostgreSQL role name a person may be linked to (``--db-role``)."""
    role = value.strip()
    if not DB_ROLE_RE.fullmatch(role) or role.lower().startswith("pg_"):
        raise InvalidInput(f"invalid --db-role {value!r}: use 1-63 characters a-z, A-Z, 0-9, "
                           "'_', '.', '@' or '-', starting with a letter, digit or '_' (and "
                           "not pg_)")
    return role


def _free_role(session: Session, role: str | None, person_id: int | None) -> None:
    if role is None:
        return
    taken = session.execute(select(Person.handle).where(Person.db_role == role,
                                                        Person.id != (person_id or -1))).scalar()
    if taken:
        raise Conflict(f"the database role {role} is already {taken}'s: one role is one person")


def add_person(
    *,
    session: Session,
    now: datetime,
    handle: str,
    name: str,
    email: str | None = None,
    skills: list[str] = (),
    capacity: int | None = None,
    manager: str | None = None,
    db_role: str | None = None,
) -> WriteResult:
    handle = normalize_handle(handle)
    # Default: the role named like the handle (a 64-character handle has none: roles are 63).
    role = db_role_name(db_role) if db_role is not None else (handle if len(handle) < 64
                                                              else None)
    name = clean_text(name, what="--name", required=True, limit=200)
    email = _email(email)
    parsed_skills = dict(parse_skill(s) for s in skills)
    capacity = _capacity(capacity)
    manager_row = get_person(session, manager) if manager else None
    if find_person(session, handle) is not None:
        raise Conflict(f"person '{handle}' already exists; use `kpictl people edit {handle}`")
    _free_role(session, role, None)
    person = Person(
        handle=handle,
        name=name,
        email=email,
        capacity=capacity,
        manager_id=manager_row.id if manager_row else None,
        created_at=now,
        db_role=role,
    )
    session.add(person)
    session.flush()
    for skill, level in parsed_skills.items():
        session.add(PersonSkill(person_id=person.id, skill=skill, level=level))
    return WriteResult("person.added", f"added {handle} ({name})", {"handle": handle})


def edit_person(
    *,
    session: Session,
    handle: str,
    name: str | None = None,
    email: str | None = None,
    add_skills: list[str] = (),
    remove_skills: list[str] = (),
    capacity: int | None = None,
    manager: str | None = None,
    activate: bool | None = None,
    now: datetime | None = None,
    db_role: str | None = None,
) -> WriteResult:
    person = get_person(session, handle)
    before = _loggable(session, person)
    changed: list[str] = []
    if db_role is not None:  # "" unlinks: the person then cannot act on a shared server
        role = db_role_name(db_role) if db_role.strip() else None
        _free_role(session, role, person.id)
        person.db_role = role
        changed.append("db_role")
    if name is not None:
        person.name = clean_text(name, what="--name", required=True, limit=200)
        changed.append("name")
    if email is not None:
        person.email = _email(email) if email else None
        changed.append("email")
    if capacity is not None:
        person.capacity = _capacity(capacity)
        changed.append("capacity")
    if manager is not None:
        if manager == "":
            person.manager_id = None
        else:
            boss = get_person(session, manager)
            if boss.id == person.id:
                raise InvalidInput(f"{person.handle} cannot be their own manager")
            chain, cursor = [], boss
            while cursor is not None:  # walk up: a manager cycle would have no top
                chain.append(cursor.handle)
                if cursor.id == person.id:
                    raise Conflict(f"{person.handle} cannot report to {boss.handle}: "
                                       f"{' → '.join(chain)} would be a management cycle")
                cursor = session.get(Person, cursor.manager_id) if cursor.manager_id else None
            person.manager_id = boss.id
        changed.append("manager")
    if activate is not None:
        person.active = activate
        changed.append("active")
    for text in remove_skills:
        skill = normalize_tag(text.partition(":")[0], what="skill")
        session.execute(
            delete(PersonSkill).where(
                PersonSkill.person_id == person.id, PersonSkill.skill == skill
            )
        )
        changed.append(f"-{skill}")
    for text in add_skills:
        skill, level = parse_skill(text)
        existing = session.get(PersonSkill, (person.id, skill))
        if existing:
            existing.level = level
        else:
            session.add(PersonSkill(person_id=person.id, skill=skill, level=level))
        changed.append(f"+{skill}")
    if not changed:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    session.flush()
    _log_changes(session, person, before, now)
    return WriteResult(
        "person.edited", f"updated {person.handle}: {', '.join(changed)}", {"handle": person.handle}
    )


def deactivate_person(*, session: Session, handle: str,
                      now: datetime | None = None) -> WriteResult:
    person = get_person(session, handle)
    if not person.active:
        return WriteResult("person.unchanged", f"{person.handle} is already inactive")
    before = _loggable(session, person)
    person.active = False
    _log_changes(session, person, before, now)
    open_kpis = session.execute(
        select(func.count()).select_from(Kpi).where(Kpi.owner_id == person.id, Kpi.state == "active")
    ).scalar_one()
    message = f"deactivated {person.handle}"
    if open_kpis:
        message += (
            f"; they still own {open_kpis} active KPI(s): reassign with "
            f"`kpictl assign KEY --to HANDLE` (see `kpictl report --owner {person.handle}`)"
        )
    return WriteResult("person.deactivated", message, {"handle": person.handle})


def _loggable(session: Session, person: Person) -> dict[str, str | None]:
    """A person's fields as the change log writes them (``person_change``, `kpictl log`)."""
    skills = session.execute(select(PersonSkill.skill, PersonSkill.level)
                             .where(PersonSkill.person_id == person.id)
                             .order_by(PersonSkill.skill)).all()
    boss = session.get(Person, person.manager_id) if person.manager_id else None
    return {"name": person.name, "email": person.email, "capacity": str(person.capacity),
            "manager": boss.handle if boss else None,
            "active": "true" if person.active else "false", "db_role": person.db_role,
            "skills": ";".join(f"{s}:{lv}" if lv else s for s, lv in skills) or None}


def _log_changes(session: Session, person: Person, before: dict, now: datetime | None) -> None:
    from kpictl.clock import utcnow
    from kpictl.models import PersonChange

    after = _loggable(session, person)
    for name, old in before.items():
        if after[name] != old:
            session.add(PersonChange(person_id=person.id, at=now or utcnow(), field=name,
                                     old_value=old, new_value=after[name]))


def _views(session: Session, people: list[Person]) -> list[PersonView]:
    ids = [p.id for p in people]
    skills: dict[int, list[SkillView]] = {}
    for row in session.execute(
        select(PersonSkill).where(PersonSkill.person_id.in_(ids)).order_by(PersonSkill.skill)
    ).scalars():
        skills.setdefault(row.person_id, []).append(SkillView(row.skill, row.level))
    active = dict(
        session.execute(
            select(Kpi.owner_id, func.count())
            .where(Kpi.state == "active", Kpi.kind != OBJECTIVE, Kpi.owner_id.in_(ids))
            .group_by(Kpi.owner_id)
        ).all()
    )
    handles = dict(session.execute(select(Person.id, Person.handle)).all())
    return [
        PersonView(
            handle=p.handle,
            name=p.name,
            email=p.email,
            skills=skills.get(p.id, []),
            capacity=p.capacity,
            manager=handles.get(p.manager_id),
            active=p.active,
            active_kpis=active.get(p.id, 0),
            created_at=p.created_at,
        )
        for p in people
    ]


def list_people(*, session: Session, include_inactive: bool = False) -> list[PersonView]:
    stmt = select(Person).order_by(Person.handle)
    if not include_inactive:
        stmt = stmt.where(Person.active.is_(True))
    return _views(session, list(session.execute(stmt).scalars()))


def show_person(*, session: Session, handle: str, as_of: datetime, tz) -> PersonDetail:
    from kpictl.services.away import away_of
    from kpictl.services.calibration import calibration_by_person, calibration_of
    from kpictl.services.reports import build_report

    person = get_person(session, handle)
    report = build_report(session=session, as_of=as_of, now=as_of, tz=tz, owner=person.handle)
    cal = calibration_of(calibration_by_person(session=session, as_of=as_of), person.handle)
    return PersonDetail(person=_views(session, [person])[0],
                        calibration=CalibrationView(cal.predictions, cal.brier, cal.bias,
                                                    cal.label),
                        kpis=report.kpis, away=away_of(session, person.id))
