"""Delegation from a file (`assign --file`): each row is one `kpictl assign`, through the same
service as the command line, each in a savepoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.errors import InvalidInput, KpictlError, did_you_mean
from kpictl.models import Person
from kpictl.services.bulk.rows import BulkResult, Problems, Row, Times, cell_number, cell_text
from kpictl.timeparse import parse_when

KPI_COLUMNS = ("key", "to", "title", "target", "baseline", "kind", "low", "high", "unit",
               "start", "due", "cadence", "grace", "tags", "outcome", "by", "note",
               "every", "aggregate")


def import_kpis(*, session: Session, now: datetime, tz, rows: list[Row], errors: list[str],
                skip_invalid: bool, default_by: str | None = None,
                progress: Callable[[int], None] | None = None) -> BulkResult:
    """Each row is one `kpictl assign`; ``{to}`` in key, title or outcome is the row's owner,
    so one file can hand the same KPI set to many people."""
    from kpictl.domain import Kind
    from kpictl.services.kpis import KpiSpec, assign
    from kpictl.services.lookups import find_person

    handles = None  # every handle, read on the first unknown one (for "did you mean")

    result = BulkResult(errors=list(errors))
    result.invalid = len(errors)
    when = Times(now, tz)
    default_start = parse_when("today", now=now, tz=tz, bound="start")
    for index, row in enumerate(rows):
        f = {k: cell_text(v) if not isinstance(v, (int, float)) or isinstance(v, bool) else v
             for k, v in row.fields.items()}
        owner = (f.get("to") or "").strip().lower()

        def fill(value):
            return value.replace("{to}", owner) if isinstance(value, str) else value

        problems = Problems()
        check = problems.check

        kind = f.get("kind")
        if kind is not None:
            try:
                kind = Kind(str(kind).strip().lower())
            except ValueError:
                problems.append(f"kind {kind!r}: use increase, decrease, at-least, at-most or "
                                "range")
                kind = None
        if not f.get("key"):
            problems.append("key is required")
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
            cadence=f.get("cadence"), grace=f.get("grace"),
            tags=[t for t in str(tags).split(";") if t.strip()] if tags else None,
            every=f.get("every"), aggregate=f.get("aggregate"),  # ongoing KPIs (issue 18)
        )
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
