"""Ongoing KPIs (PRODUCT §6): a target every calendar period, judged and closed period by period.

An ongoing KPI (``kpi.every`` set) is a series of calendar periods — ISO weeks, months,
quarters or years in the KPI's zone — from the period holding its start to the period holding
its due date (or open-ended). Nothing is stored per period but the per-period target overrides
(``period_target``, append-only): a period's value, target and outcome are functions of the
data at an instant, so a report ``--as-of`` any instant is exact by construction.

- **Value**: the period's check-ins measured in ``[start, end)`` (with corrections), made one
  number by the KPI's aggregate: ``last``, ``sum``, ``mean``, ``min`` or ``max``.
- **Target**: the period's override known at the instant, else the KPI's default target as it
  was defined at the period's end (a closed period keeps the target it closed with; a changed
  default applies to the periods not yet closed).
- **Outcome** once the period ended: ``no_data`` without a check-in, else ``achieved`` when the
  value reached the target (increase/decrease) or held the threshold (maintain kinds), else
  ``missed``; credited to whoever owned the KPI at the period's last instant.

The package, by noun: :mod:`.period` (calendar periods, labels, series, a period's aggregate
and threshold), :mod:`.results` (a series judged at an instant: the row, the scorecard, the
closed periods), :mod:`.targets` (the writes: a series' dates, per-period targets).
"""

from kpictl.services.periods.period import (
    AGGREGATES,
    DEFAULT_CADENCE,
    EVERY,
    OPEN_END,
    Period,
    aggregate,
    check_aggregate,
    check_every,
    latest_period,
    meets,
    next_period,
    parse_label,
    period_of,
    series,
    series_due,
    series_start,
)
from kpictl.services.periods.results import (
    PeriodResult,
    apply_rows,
    closed_periods,
    evaluate_series,
    period_view,
    scorecard,
    streak,
)
from kpictl.services.periods.targets import (
    check_update,
    finish_create,
    load_targets,
    prepare_spec,
    set_targets,
)

__all__ = [
    "AGGREGATES", "DEFAULT_CADENCE", "EVERY", "OPEN_END", "Period", "PeriodResult", "aggregate",
    "apply_rows", "check_aggregate", "check_every", "check_update", "closed_periods",
    "evaluate_series", "finish_create", "latest_period", "load_targets", "meets",
    "next_period", "parse_label", "period_of", "period_view", "prepare_spec", "scorecard",
    "series", "series_due", "series_start", "set_targets", "streak",
]
