"""Delegation from a file (`assign --file`): each row is one `kpictl assign`, through the same
service as the command line, each in a savepoint.

Objectives (issue 21) come through the same columns: ``kind`` = ``objective`` makes the row an
objective (`assign --objective`), ``parent`` and ``weight`` are `--parent` and `--weight`. The
rows are applied in file order, so a parent comes before its children (or already exists)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.errors import InvalidInput, KpictlError, did_you_mean
from kpictl.models import Person
from kpictl.services.bulk.rows import BulkResult, Problems, Row, Times, cell_number, cell_text
from kpictl.timeparse import parse_when, resolve_zone

KPI_COLUMNS = ("key", "to", "title", "target", "baseline", "kind", "low", "high", "unit",
               "start", "due", "cadence", "grace", "tags", "outcome", "by", "note",
               "every", "aggregate", "zone", "parent", "weight")


def import_kpis(*, session: Session, now: datetime, tz, rows: list[Row], errors: list[str],
                skip_invalid: bool, default_by: str | None = None,
                progress: Callable[[int], None] | None = None) -> BulkResult:
    """Each row is one `kpictl assign`; ``{to}`` in key, title or outcome is the row's owner,
    so one file can hand the same KPI set to many people. As for `assign`, a row's dates are
    days in the KPI's own zone: the row's ``zone``, else the zone of the KPI it changes, else
    ``tz`` (the viewer's, which a new KPI takes)."""
    from kpictl.domain import OBJECTIVE, Kind
    from kpictl.services.kpis import KpiSpec, assign
    from kpictl.services.lookups import find_kpi, find_person

    handles = None  # every handle, read on the first unknown one (for "did you mean")

    result = BulkResult(errors=list(errors))
    result.invalid = len(errors)
    readers: dict = {}  # zone → (its date reader, today's start there)

    def reader(zone):
        if zone not in readers:
            readers[zone] = (Times(now, zone), parse_when("today", now=now, tz=zone,
                                                          bound="start"))
        return readers[zone]

    for index, row in enumerate(rows):
        f = {k: cell_text(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else v
             for k, v in row.fields.items()}
        owner = (f.get("to") or "").strip().lower()

        def fill(value):
            return value.replace("{to}", owner) if isinstance(value, str) else value

        problems = Problems()
        check = problems.check

        kind = f.get("kind")
        objective = kind is not None and str(kind).strip().lower() == OBJECTIVE
        if kind is not None and not objective:
            try:
                kind = Kind(str(kind).strip().lower())
            except ValueError:
                problems.append(f"kind {kind!r}: use increase, decrease, at-least, at-most, "
                                "range or objective")
                kind = None
        if not f.get("key"):
            problems.append("key is required")
        zone = tz
        if f.get("zone") is not None:
            zone = check(resolve_zone, str(f["zone"])) or tz
        elif (f.get("start") is not None or f.get("due") is not None) and f.get("key"):
            existing = find_kpi(session, str(fill(f["key"])))
            if existing is not None and existing.zone:
                zone = resolve_zone(existing.zone)
        when, default_start = reader(zone)
        for role in ("to", "by"):  # every problem of the row at once, hints included
            handle = f.get(role) if role == "to" else (f.get("by") or default_by)
            if handle and not isinstance(handle, (int, float)) \
                    and find_person(session, str(handle)) is None:
                if handles is None:
                    handles = session.execute(select(Person.handle)).scalars().all()
                hint = did_you_mean(str(handle).strip().lower(), handles)
                problems.append(f"no person {str(handle)!r}" + (f" ({hint[2:]})" if hint else ""))
        tags = f.get("tags")
        spec = KpiSpec(
            title=fill(f.get("title")), outcome=fill(f.get("outcome")), unit=f.get("unit"),
            kind=kind, baseline=check(cell_number, f.get("baseline"), "baseline"),
            target=check(cell_number, f.get("target"), "target"),
            low=check(cell_number, f.get("low"), "low"), high=check(cell_number, f.get("high"), "high"),
            start=check(when, f.get("start"), "start", "start"),
            due=check(when, f.get("due"), "due", "end"),
            cadence=f.get("cadence"), grace=f.get("grace"), zone=None if f.get("zone") is None else str(f["zone"]),
            tags=[t for t in str(tags).split(";") if t.strip()] if tags else None,
            every=f.get("every"), aggregate=f.get("aggregate"),  # ongoing KPIs (issue 18)
            objective=objective, parent=fill(f.get("parent")),  # objectives (issue 21)
            weight=check(cell_number, f.get("weight"), "weight"),
        )
        if objective:
            spec.kind = None
        try:
            if problems:
                raise InvalidInput("; ".join(problems))
            with session.begin_nested():
                outcome = assign(session=session, now=now, key=fill(f["key"]), spec=spec,
                                 to=owner or None, by=f.get("by") or default_by,
                                 note=f.get("note"), default_start=default_start,
                                 default_zone=tz)
        except KpictlError as exc:
            result.invalid += 1
            result.errors.append(f"line {row.line}: {exc.message}")
            continue
        if outcome.action == "kpi.unchanged":
            result.skipped += 1
        else:
            result.written += 1
        if progress:
            progress(index)
    return result
