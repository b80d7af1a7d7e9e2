"""Events of a write (`kpictl.event/1`), collected in its transaction for the hooks.

A write path opens an :class:`Outbox` on its session (``attach``) when some hook wants its
events; services then call :func:`emit` as they write and :func:`touch` before they change a
KPI. Both are no-ops on a session without an outbox, so a write with no hooks pays nothing.
Just before the commit, :meth:`Outbox.finish` compares the touched KPIs' status and flags
with what they were before the write and adds a ``status_change`` event for each that moved;
the CLI delivers the events only once the transaction has committed
(:mod:`kpictl.services.hooks`), so a hook never hears of a write that was rolled back.

Event types and the hook that receives them: ``checkin``, ``amend`` and ``retract`` →
``on-checkin``; ``assign`` → ``on-assign``; ``close`` → ``on-close``; ``feedback`` →
``on-feedback``; ``status_change`` → ``on-status-change``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

SCHEMA = "kpictl.event/1"
HOOK_FOR = {
    "checkin": "on-checkin", "amend": "on-checkin", "retract": "on-checkin",
    "assign": "on-assign", "close": "on-close", "feedback": "on-feedback",
    "status_change": "on-status-change",
}
_KEY = "kpictl.outbox"


class Outbox:
    """The events one write transaction produced, for the hooks in ``wanted``."""

    def __init__(self, *, wanted: set[str], now: datetime, tz: Callable[[], object]) -> None:
        self.wanted_hooks = set(wanted)
        self.now = now
        self._tz = tz
        self.events: list[dict] = []
        self.before: dict[int, tuple | None] = {}
        self.incomplete = False  # a status could not be read: some status changes are missing

    def wants(self, event_type: str) -> bool:
        return HOOK_FOR.get(event_type) in self.wanted_hooks

    def attach(self, session: Session) -> None:
        session.info[_KEY] = self

    def add(self, event_type: str, fields: dict) -> None:
        from kpictl.textforms import iso

        event = {"schema": SCHEMA, "type": event_type, "at": iso(self.now)}
        for name, value in fields.items():
            event[name] = iso(value) if isinstance(value, datetime) else value
        self.events.append(event)

    def snapshot(self, session: Session, ids: list[int]) -> dict[int, tuple]:
        """(key, status, flags, owner) of these KPIs now, as the report computes them."""
        from kpictl.models import Kpi
        from kpictl.services.reports import build_report

        if not ids:
            return {}
        keys = dict(session.execute(select(Kpi.key, Kpi.id).where(Kpi.id.in_(ids))).all())
        report = build_report(session=session, as_of=self.now, now=self.now, tz=self._tz(),
                              keys=list(keys))
        return {keys[r.key]: (r.key, r.status, list(r.flags), r.owner) for r in report.kpis}

    def safe_snapshot(self, session: Session, ids: list[int]) -> dict[int, tuple]:
        """:meth:`snapshot` in a savepoint: working out a hook's event must never fail the
        write it is about (nothing is announced for KPIs it could not read)."""
        try:
            with session.begin_nested():
                return self.snapshot(session, ids)
        except Exception:  # noqa: BLE001 - the write goes on; the event is dropped
            self.incomplete = True
            return {}

    def finish(self, session: Session) -> None:
        """Add a ``status_change`` for every touched KPI whose status or flags moved."""
        if not self.before or "on-status-change" not in self.wanted_hooks:
            return
        session.flush()
        after = self.safe_snapshot(session, list(self.before))
        actors = {e.get("kpi"): e.get("by") for e in self.events if e.get("by")}
        for kpi_id, old in self.before.items():
            new = after.get(kpi_id)
            if old is None or new is None or (old[1], old[2]) == (new[1], new[2]):
                continue
            self.add("status_change", {
                "kpi": new[0], "by": actors.get(new[0]), "owner": new[3],
                "before": {"status": old[1], "flags": old[2]},
                "after": {"status": new[1], "flags": new[2]},
            })


def outbox_of(session: Session) -> Outbox | None:
    return session.info.get(_KEY)


def emit(session: Session, event_type: str, **fields) -> None:
    """Record an event of this write, if a hook wants it (else nothing)."""
    outbox = session.info.get(_KEY)
    if outbox is not None and outbox.wants(event_type):
        outbox.add(event_type, fields)


def wants(session: Session, event_type: str) -> bool:
    """Whether an event of this type would be kept (to skip building costly ones)."""
    outbox = session.info.get(_KEY)
    return outbox is not None and outbox.wants(event_type)


def touch(session: Session, kpis: Iterable) -> None:
    """Call before changing these KPIs (objects with an ``id``): remembers their status and
    flags, for ``status_change`` events, when an on-status-change hook exists."""
    outbox = session.info.get(_KEY)
    if outbox is None or "on-status-change" not in outbox.wanted_hooks:
        return
    fresh = [k.id for k in kpis if k.id is not None and k.id not in outbox.before]
    if not fresh:
        return
    session.flush()
    snap = outbox.safe_snapshot(session, fresh)
    for kpi_id in fresh:
        outbox.before[kpi_id] = snap.get(kpi_id)
