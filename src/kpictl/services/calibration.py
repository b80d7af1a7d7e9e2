"""Confidence calibration: how well did each person's stated confidence predict outcomes?

Every check-in with a confidence on a KPI that later closed ``achieved`` or ``missed`` is a
prediction ``p = confidence / 10`` of the outcome ``o`` (1 achieved, 0 missed). Per author:
the Brier score ``mean((p − o)²)`` (0 is perfect; 0.25 is what always saying "50 %" scores)
and the bias ``mean(p) − mean(o)``, which names the label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.models import Checkin, Person

#: Fewer predictions than this say nothing about a person.
MIN_PREDICTIONS = 3
#: |mean confidence − hit rate| above this is over- or under-confidence.
BIAS_TOLERANCE = 0.15


@dataclass(frozen=True)
class Calibration:
    predictions: int
    brier: float | None
    bias: float | None
    label: str


def label_for(predictions: int, bias: float | None) -> str:
    if predictions < MIN_PREDICTIONS or bias is None:
        return "not enough data"
    if bias > BIAS_TOLERANCE:
        return "over-confident"
    if bias < -BIAS_TOLERANCE:
        return "under-confident"
    return "well calibrated"


def calibration_by_person(*, session: Session, as_of: datetime, known: bool = False,
                          kpis=None) -> dict[str, Calibration]:
    """Per author, over the KPIs closed achieved/missed by ``as_of`` (``kpis``: their
    definitions then, see ``history.definitions_at``), from the corrected check-ins."""
    from kpictl.services import corrections
    from kpictl.services.history import definitions_at

    if kpis is None:
        kpis = definitions_at(session, as_of, known=known)
    from kpictl.services.periods import closed_periods

    # Ongoing KPIs: each closed period's last confidence against the period's outcome.
    ongoing, periods = closed_periods(session, as_of=as_of, known=known)
    period_rows = [(author_id, confidence, p.outcome == "achieved")
                   for _kpi, p in periods if p.outcome in ("achieved", "missed")
                   and p.last_confident for author_id, confidence in [p.last_confident]]
    closed = {k.id: k for k in kpis if k.state in ("achieved", "missed")
              and k.closed_at is not None and k.closed_at <= as_of and k.id not in ongoing}
    if not closed and not period_rows:
        return {}
    corrected = corrections.kpis_with_corrections(session, as_of=as_of, known=known,
                                                  ids=list(closed))
    plain = [i for i in closed if i not in corrected]
    rows = []
    for start in range(0, len(plain), 10_000):
        stmt = select(Checkin.kpi_id, Checkin.author_id, Checkin.measured_at, Checkin.confidence
                      ).where(Checkin.kpi_id.in_(plain[start:start + 10_000]),
                              Checkin.confidence.is_not(None), Checkin.measured_at <= as_of)
        if known:
            stmt = stmt.where(Checkin.recorded_at <= as_of)
        rows += session.execute(stmt).all()
    for items in corrections.history(session, sorted(corrected), as_of=as_of,
                                     known=known).values():
        rows += [(c.kpi_id, c.author_id, c.measured_at, c.confidence) for c in items
                 if c.confidence is not None]
    handles = dict(session.execute(select(Person.id, Person.handle)).all())
    sums: dict[str, list] = {}
    for kpi_id, author_id, measured, confidence in rows:
        kpi = closed[kpi_id]
        if author_id is None or measured > kpi.closed_at:
            continue
        p, o = confidence / 10.0, 1.0 if kpi.state == "achieved" else 0.0
        acc = sums.setdefault(handles[author_id], [0, 0.0, 0.0, 0.0])
        acc[0] += 1
        acc[1] += p
        acc[2] += o
        acc[3] += (p - o) * (p - o)
    for author_id, confidence, achieved in period_rows:
        if author_id is None:
            continue
        p, o = confidence / 10.0, 1.0 if achieved else 0.0
        acc = sums.setdefault(handles[author_id], [0, 0.0, 0.0, 0.0])
        acc[0] += 1
        acc[1] += p
        acc[2] += o
        acc[3] += (p - o) * (p - o)
    result = {}
    for handle, (n, sum_p, sum_o, sum_sq) in sums.items():
        bias = (sum_p - sum_o) / n
        result[handle] = Calibration(predictions=n, brier=round(sum_sq / n, 4),
                                     bias=round(bias, 4), label=label_for(n, bias))
    return result


def calibration_of(calibrations: dict[str, Calibration], handle: str) -> Calibration:
    return calibrations.get(handle, Calibration(0, None, None, label_for(0, None)))
