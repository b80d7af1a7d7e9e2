"""Confidence calibration: how well did each person's stated confidence predict outcomes?

Every check-in with a confidence on a KPI that later closed ``achieved`` or ``missed`` is a
prediction ``p = confidence / 10`` of the outcome ``o`` (1 achieved, 0 missed). Per author:
the Brier score ``mean((p − o)²)`` (0 is perfect; 0.25 is what always saying "50 %" scores)
and the bias ``mean(p) − mean(o)``, which names the label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from kpictl.models import Checkin, Kpi, Person

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


def calibration_by_person(*, session: Session, as_of: datetime) -> dict[str, Calibration]:
    p = Checkin.confidence / 10.0
    o = case((Kpi.state == "achieved", 1.0), else_=0.0)
    stmt = (
        select(Person.handle, func.count(), func.sum(p), func.sum(o),
               func.sum((p - o) * (p - o)))
        .join(Checkin, Checkin.author_id == Person.id)
        .join(Kpi, Kpi.id == Checkin.kpi_id)
        .where(
            Kpi.state.in_(["achieved", "missed"]),
            Kpi.closed_at <= as_of,
            Checkin.confidence.is_not(None),
            and_(Checkin.measured_at <= Kpi.closed_at, Checkin.measured_at <= as_of),
        )
        .group_by(Person.handle)
    )
    result = {}
    for handle, n, sum_p, sum_o, sum_sq in session.execute(stmt):
        bias = (sum_p - sum_o) / n
        result[handle] = Calibration(predictions=n, brier=round(sum_sq / n, 4),
                                     bias=round(bias, 4), label=label_for(n, bias))
    return result


def calibration_of(calibrations: dict[str, Calibration], handle: str) -> Calibration:
    return calibrations.get(handle, Calibration(0, None, None, label_for(0, None)))
