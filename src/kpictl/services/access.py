"""Who may do what on a shared PostgreSQL server: the acting person, the group roles, grants.

The rules themselves live in the server (migration 0012: ``kpictl_level()``, ``kpictl_me()``
and the ``kpictl_guard`` triggers), so psql is held to them as kpictl is. This module is the
client's side of them:

* :func:`resolve_actor` — on PostgreSQL the acting person is the connected role's person
  (``person.db_role = current_user``); ``--by``/``KPICTL_USER`` naming someone else is refused
  (exit 6) unless the role is an admin, who may act for anyone (imports, back-filling).
* :func:`write_clock` — a non-admin's write takes ``now`` from the server (``kpictl_now()``,
  the instant its transaction began, migration 0013), the instant the server stamps on the
  rows: the aggregates kpictl files beside them must agree with it, whatever the client's
  clock says. An admin's rows keep the client's times (imports, ``KPICTL_NOW``).
* The three group roles are **per database** (``kpictl_member_<database>``, …; the server's
  ``kpictl_group()`` names them): role membership is cluster-wide, so shared group names would
  make an admin of one kpictl database an admin of every other on the cluster.
  :func:`privileges_sql` is what they may do table by table; the triggers narrow it row by row.
* :func:`grant` / :func:`revoke` — an admin's commands. Creating the groups takes CREATEROLE
  and owning the tables; without them kpictl prints the SQL a database administrator runs.

SQLite is single-user: whoever may write the file may do anything, and ``--by`` is a label.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kpictl.errors import InvalidInput, NotAllowed, NotFound, RuntimeFailure
from kpictl.results import WriteResult
from kpictl.services.lookups import get_person

LEVELS = ("member", "manager", "admin")
SQLITE_RULE = ("SQLite is single-user: whoever may write the database file may do anything "
               "(the file is created 0600); --by and KPICTL_USER only name who you are")
SERVER_RULE = ("the server enforces it: your role's person and access decide what you may "
               "write, whatever the client")


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _quote(session: Session, name: str) -> str:
    return session.get_bind().dialect.identifier_preparer.quote_identifier(name)


@dataclass(frozen=True)
class Identity:
    """Who is connected: ``kpictl whoami``."""

    backend: str
    role: str | None  # the PostgreSQL role; None on SQLite
    person: str | None  # the linked person (PostgreSQL) or KPICTL_USER (SQLite)
    access: str | None  # member | manager | admin, None when the role has none here
    rule: str
    clock: datetime | None = None  # the server's kpictl_now() (PostgreSQL)


def identify(*, session: Session) -> Identity:
    """Who is connected (asked once per session: the answer is kept in ``session.info``)."""
    if not _is_postgres(session):
        user = (os.environ.get("KPICTL_USER") or "").strip() or None
        return Identity("sqlite", None, user, None, SQLITE_RULE)
    known = session.info.get(_IDENTITY)
    if known is None:
        known = session.info[_IDENTITY] = _ask(session)
    return known


_IDENTITY = "kpictl.identity"


def _ask(session: Session) -> Identity:
    try:
        with session.begin_nested():
            role, level, clock = session.execute(
                text("SELECT current_user, kpictl_level(), kpictl_now()")).one()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42883":  # undefined_function
            raise
        raise RuntimeFailure("this database has no shared-server rules yet (its schema is "
                             "older than kpictl's): run `kpictl db upgrade`") from None
    try:
        with session.begin_nested():  # a role without access may not even read person
            handle = session.execute(text("SELECT handle FROM person WHERE db_role = "
                                          "current_user")).scalar()
    except DBAPIError:
        handle = None
    return Identity("postgresql", role, handle, level, SERVER_RULE, clock)


def write_clock(session: Session, now: datetime) -> datetime:
    """``now`` for a write in ``session``: the server's clock for a non-admin on PostgreSQL
    (the instant it stamps on their rows), else ``now`` as the client has it."""
    if not _is_postgres(session):
        return now
    me = identify(session=session)
    if me.access == "admin" or me.clock is None:
        return now
    from datetime import timezone

    return me.clock.astimezone(timezone.utc)


def nudge_scope(session: Session, as_of: datetime) -> tuple[set[str], str] | None:
    """What this writer may send (and record) nudges about: None for everything (SQLite, an
    admin); on a shared server a manager's reporting tree and the manager themselves — the
    nudges about their own KPIs go to them only (escalations about those are their
    manager's to send). A member may send none (exit 6, before any mail leaves: the server
    would refuse to record it, and it would go again)."""
    if not _is_postgres(session):
        return None
    me = identify(session=session)
    if me.access == "admin":
        return None
    if me.access != "manager" or me.person is None:
        shown = f"{me.role} ({me.access or 'no access'})"
        raise NotAllowed(f"not allowed: only a manager (about their reporting tree) or an admin "
                         f"may send nudges; you are connected as {shown}")
    from kpictl.services.tree import team_of

    return team_of(session, me.person, as_of), me.person


def may_recount(session: Session) -> bool:
    """Whether this writer may recount every KPI's aggregates (SQLite, or an admin)."""
    return not _is_postgres(session) or identify(session=session).access == "admin"


def resolve_actor(session: Session, by: str | None) -> str | None:
    """The handle a write acts as. SQLite: ``by`` as given. PostgreSQL: the connected role's
    person; ``by`` may only name them, unless the role is an admin (who may name anyone, and
    acts as ``by`` or else as their own person, if linked)."""
    if not _is_postgres(session):
        return by
    me = identify(session=session)
    if me.access == "admin":
        return by or me.person
    if me.person is None:
        raise NotAllowed(f"not allowed: role {me.role} is not linked to a person: an admin links "
                         f"it with `kpictl people edit HANDLE --db-role {me.role}`")
    if by and by.strip().lower() != me.person:
        raise NotAllowed(f"not allowed: you are connected as {me.role}, who is {me.person}; only "
                         f"an admin may act as {by.strip()} (--by or KPICTL_USER)")
    return me.person


def _groups(session: Session) -> dict[str, str]:
    """This database's group role of each level, as the server names them."""
    return {level: session.execute(text("SELECT kpictl_group(:l)"), {"l": level}).scalar()
            for level in LEVELS}


def _existing(session: Session, roles) -> set[str]:
    return set(session.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:n)"),
                               {"n": list(roles)}).scalars())


def privileges_sql(session: Session) -> list[str]:
    """Create the group roles if missing, and give each its table privileges (idempotent)."""
    schema = session.execute(text("SELECT quote_ident(current_schema())")).scalar()
    groups = _groups(session)
    existing = _existing(session, groups.values())
    member, manager, admin = (_quote(session, groups[level]) for level in LEVELS)
    statements = [f"CREATE ROLE {_quote(session, name)} NOLOGIN"
                  for name in groups.values() if name not in existing]
    statements += [
        f"GRANT USAGE ON SCHEMA {schema} TO {member}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {member}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {member}",
        # SELECT … FOR UPDATE (a check-in locks its KPI) needs UPDATE on a column; the
        # trigger refuses a member's real UPDATE of a KPI.
        f"GRANT UPDATE (updated_at) ON kpi TO {member}",
        f"GRANT INSERT ON checkin, checkin_correction, source_run, nudge_sent, away TO {member}",
        f"GRANT UPDATE, DELETE ON away TO {member}",
        # Derived aggregates that every writer keeps (services/stats.py); `db check` compares
        # them with the append-only history and `db rebuild` recomputes them.
        f"GRANT INSERT, UPDATE, DELETE ON checkin_stats TO {member}",
        f"GRANT {member} TO {manager}",
        f"GRANT INSERT, UPDATE ON kpi, assignment TO {manager}",
        f"GRANT INSERT, DELETE ON kpi_tag, milestone TO {manager}",
        f"GRANT INSERT ON kpi_change, feedback, period_target TO {manager}",
        f"GRANT {manager} TO {admin}",
        f"GRANT {member}, {manager} TO {admin} WITH ADMIN OPTION",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {admin}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {admin}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {admin}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {member}",
    ]
    return statements


def may_set_up(session: Session) -> bool:
    """Whether the connected role may create the groups and grant on the tables."""
    return bool(session.execute(text(
        "SELECT (r.rolsuper OR r.rolcreaterole) AND pg_has_role(current_user, c.relowner, "
        "'MEMBER') FROM pg_roles r, pg_class c WHERE r.rolname = current_user "
        "AND c.oid = 'kpi'::regclass")).scalar())


def set_up(session: Session) -> bool:
    """Create the groups and grant their privileges when allowed (`db upgrade`); False if the
    connected role may not (then :func:`privileges_sql` is for a database administrator)."""
    if not _is_postgres(session) or not may_set_up(session):
        return False
    for statement in privileges_sql(session):
        session.execute(text(statement))
    return True


def _admin_only(session: Session, what: str) -> None:
    me = identify(session=session)
    if me.access != "admin":
        shown = f"{me.role} ({me.access or 'no access'})"
        raise NotAllowed(f"not allowed: only an admin may {what}; you are connected as {shown}")


def _role_of(session: Session, handle: str) -> tuple[str, str]:
    person = get_person(session, handle)
    if not person.db_role:
        raise InvalidInput(f"{person.handle} has no database role: link one with "
                           f"`kpictl people edit {person.handle} --db-role ROLE`")
    exists = session.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                             {"r": person.db_role}).first()
    if not exists:
        raise NotFound(f"no PostgreSQL role '{person.db_role}' (the role of {person.handle}): a "
                       f"database administrator creates it with CREATE ROLE "
                       f"{_quote(session, person.db_role)} LOGIN PASSWORD '…' (kpictl never "
                       "stores passwords)")
    return person.handle, person.db_role


def _memberships(session: Session, role: str, groups) -> list[str]:
    """Which of ``groups`` ``role`` is directly a member of."""
    return list(session.execute(text(
        "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :r AND g.rolname = ANY(:g)"),
        {"r": role, "g": list(groups)}).scalars())


class SetupNeeded(NotAllowed):
    """The groups are missing and this role may not create them: ``sql`` is for a DBA."""

    def __init__(self, message: str, sql: list[str]) -> None:
        super().__init__(message)
        self.sql = sql


def grant(*, session: Session, handle: str, level: str) -> WriteResult:
    if not _is_postgres(session):
        raise InvalidInput(f"nothing to grant: {SQLITE_RULE}")
    if level not in LEVELS:
        raise InvalidInput(f"invalid --as {level!r}: use member, manager or admin")
    _admin_only(session, "grant access")
    handle, role = _role_of(session, handle)
    groups = _groups(session)
    if not set_up(session) and set(groups.values()) - _existing(session, groups.values()):
        raise SetupNeeded(
            "not allowed: the group roles of this database do not exist and your role may "
            "not create them (CREATEROLE, and owning the tables): a database administrator "
            "runs the SQL printed above, then `kpictl db grant` works", privileges_sql(session))
    quoted = _quote(session, role)
    for group in _memberships(session, role, groups.values()):
        if group != groups[level]:
            session.execute(text(f"REVOKE {_quote(session, group)} FROM {quoted}"))
    session.execute(text(f"GRANT {_quote(session, groups[level])} TO {quoted}"))
    return WriteResult("access.granted", f"{handle} (role {role}) is now {level}",
                       {"handle": handle, "role": role, "access": level})


def revoke(*, session: Session, handle: str) -> WriteResult:
    if not _is_postgres(session):
        raise InvalidInput(f"nothing to revoke: {SQLITE_RULE}")
    _admin_only(session, "revoke access")
    handle, role = _role_of(session, handle)
    for group in _memberships(session, role, _groups(session).values()):
        session.execute(text(f"REVOKE {_quote(session, group)} FROM {_quote(session, role)}"))
    return WriteResult("access.revoked", f"{handle} (role {role}) has no access now",
                       {"handle": handle, "role": role, "access": None})
