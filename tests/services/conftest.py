"""Service-level helpers: call a service in its own write transaction, as the CLI does, and read
rows back. Dates are fixed UTC instants around the pinned clock (2026-11-27T12:00Z)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kpictl.services.kpis import KpiSpec, assign
from kpictl.services.people import add_person
from kpictl.services.reports import build_kpi_detail, build_report
from kpictl.timeparse import resolve_zone

START = datetime(2026, 11, 1, tzinfo=UTC)
DUE = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Svc:
    """Thin wrapper: ``svc.call(fn, **kw)`` runs ``fn(session=…, now=…, **kw)`` and commits."""

    def __init__(self, db, now):
        self.db = db
        self.now = now
        self.tz = resolve_zone("UTC")

    def call(self, fn, *, with_now: bool = True, **kw):
        with self.db.session(write=True) as s:
            if with_now:
                kw.setdefault("now", self.now)
            return fn(session=s, **kw)

    def person(self, handle: str, name: str | None = None, **kw):
        return self.call(add_person, handle=handle, name=name or handle.title(), **kw)

    def kpi(self, key: str, *, to: str = "ana", at=None, by=None, note=None, now=None,
            default_start=None, **spec):
        spec.setdefault("start", START)
        spec.setdefault("due", DUE)
        if "target" not in spec and "low" not in spec and spec.get("kind") is None:
            spec["target"] = 100.0
        return self.call(assign, key=key, spec=KpiSpec(**spec), to=to, at=at, by=by, note=note,
                         now=now or self.now, default_start=default_start)

    def update(self, key: str, *, to=None, at=None, by=None, note=None, now=None, **spec):
        return self.call(assign, key=key, spec=KpiSpec(**spec), to=to, at=at, by=by, note=note,
                         now=now or self.now)

    # Rule tests build a history "now" and ask about earlier instants: the hindsight view
    # (--revised). The known-then view has its own tests (tests/scenario/test_corrections.py).
    def report(self, as_of=None, revised=True, **kw):
        with self.db.session() as s:
            return build_report(session=s, as_of=as_of or self.now, now=self.now, tz=self.tz,
                                revised=revised, **kw)

    def row(self, key: str, as_of=None, revised=True):
        rows = [r for r in self.report(as_of, revised=revised).kpis if r.key == key]
        assert len(rows) == 1, f"{key} not in report"
        return rows[0]

    def detail(self, key: str, as_of=None, revised=True):
        with self.db.session() as s:
            return build_kpi_detail(session=s, key=key, as_of=as_of or self.now, now=self.now,
                                    tz=self.tz, revised=revised)

    def rows(self, model, *where, order_by=None):
        with self.db.session() as s:
            stmt = select(model).where(*where)
            if order_by is not None:
                stmt = stmt.order_by(order_by)
            return list(s.execute(stmt).scalars())


@pytest.fixture
def svc(db, now):
    return Svc(db, now)


@pytest.fixture
def team(svc):
    """maya manages ana and bob."""
    svc.person("maya", "Maya Okafor")
    svc.person("ana", "Ana Lima", manager="maya", skills=["sales:4"])
    svc.person("bob", "Bob Carter", manager="maya")
    return svc
