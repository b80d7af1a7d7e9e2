"""Deterministic bench data: people, a KPI file for ``assign --file`` and check-in files for
``checkin --file``.

KPIs start between January and May 2026 and are due between May and December (about one in
ten already overdue at the pinned NOW). Check-ins are spread over the KPIs and over time
within each KPI's window up to NOW: the first batch in the later half of each window, the
second batch in the earlier half, so the second batch adds history without changing any
KPI's latest check-in (the report's rows stay the same; only the history doubles).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
NOW_TEXT = "2026-06-15T12:00:00Z"
#: When the people and KPIs are created: before every KPI's start, so that a past instant's
#: report as known then has them.
CREATED_TEXT = "2026-01-02T09:00:00Z"
#: The past instant of the ``--as-of`` report figure: a month before NOW.
AS_OF_TEXT = "2026-05-15T12:00:00Z"
#: The first batch is recorded as it happened: this long after each measurement.
RECORDING_LAG = timedelta(hours=1)
TAGS = ["sales", "support", "eng", "ops", "finance", "hr", "marketing", "product", "growth",
        "quality", "security", "data"]
KINDS = ["increase"] * 6 + ["decrease"] * 2 + ["at-least", "range"]
CADENCES = ["daily"] * 2 + ["weekly"] * 6 + ["monthly"] * 2


@dataclass(frozen=True)
class KpiPlan:
    key: str
    kind: str
    baseline: float | None
    target: float | None
    low: float | None
    high: float | None
    start: datetime  # 00:00 UTC of the start date (KPICTL_TZ=UTC)
    due: datetime  # 23:59:59 UTC of the due date
    pace: float  # how well this KPI goes: 0.5 … 1.2 of the expected pace


def people(count: int) -> list[str]:
    return [f"p{i:03d}" for i in range(count)]


def plan_kpis(count: int, owners: list[str], seed: int = 1) -> list[KpiPlan]:
    """``count`` KPIs: one template of ``count / len(owners)`` keys handed to every owner."""
    rng = random.Random(seed)
    per_owner = -(-count // len(owners))
    templates = []
    for t in range(per_owner):
        kind = rng.choice(KINDS)
        start = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=rng.randrange(0, 140))
        due_day = datetime(2026, 5, 20, tzinfo=UTC) + timedelta(days=rng.randrange(0, 225))
        due = due_day + timedelta(hours=23, minutes=59, seconds=59)
        scale = rng.choice([10, 100, 1000, 50_000])
        if kind == "increase":
            b, tgt, lo, hi = 0.0, float(scale), None, None
        elif kind == "decrease":
            b, tgt, lo, hi = float(scale), float(scale) / 4, None, None
        elif kind == "at-least":
            b, tgt, lo, hi = None, float(scale), None, None
        else:
            b, tgt, lo, hi = None, None, float(scale) * 0.9, float(scale) * 1.1
        templates.append((f"m{t:04d}", kind, b, tgt, lo, hi, start, due))
    plans = []
    for owner in owners:
        for (name, kind, b, tgt, lo, hi, start, due) in templates:
            if len(plans) == count:
                break
            plans.append(KpiPlan(f"{name}.{owner}", kind, b, tgt, lo, hi, start, due,
                                 pace=rng.uniform(0.5, 1.2)))
    return plans


def write_kpi_file(path: Path, owners: list[str], plans: list[KpiPlan], seed: int = 2) -> None:
    """The ``assign --file`` CSV: the same template rows for every owner, keys via ``{to}``."""
    rng = random.Random(seed)
    by_owner = {}
    for p in plans:
        by_owner.setdefault(p.key.split(".", 1)[1], []).append(p)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["key", "to", "title", "kind", "baseline", "target", "low", "high", "unit",
                    "start", "due", "cadence", "tags", "outcome"])
        for owner in owners:
            for p in by_owner.get(owner, []):
                name = p.key.split(".", 1)[0]
                tags = ";".join(rng.sample(TAGS, 2))
                w.writerow([f"{name}.{{to}}", owner, f"Metric {name} of {{to}}", p.kind,
                            _num(p.baseline), _num(p.target), _num(p.low), _num(p.high),
                            rng.choice(["EUR", "%", "tickets", "min", ""]),
                            f"{p.start:%Y-%m-%d}", f"{p.due:%Y-%m-%d}",
                            CADENCES[int(name[1:]) % len(CADENCES)], tags,
                            "Make {to}'s number move"])


def _num(x: float | None) -> str:
    return "" if x is None else repr(x)


def _value(p: KpiPlan, at: datetime, rng: random.Random) -> float:
    span = (p.due - p.start).total_seconds()
    share = max(0.0, min(1.0, (at - p.start).total_seconds() / span))
    noise = rng.gauss(0, 0.03)
    if p.kind == "increase":
        return round(p.target * (share * p.pace + noise), 2)
    if p.kind == "decrease":
        return round(p.baseline - (p.baseline - p.target) * (share * p.pace + noise), 2)
    if p.kind == "at-least":
        return round(p.target * rng.uniform(0.85, 1.2), 2)
    return round((p.low + p.high) / 2 * rng.uniform(0.85, 1.15), 2)


def write_checkin_file(path: Path, plans: list[KpiPlan], count: int, *, half: str,
                       seed: int) -> None:
    """``count`` check-ins over all KPIs (round robin), each at a random second of its KPI's
    window up to NOW: ``half="late"`` the later half of that span, ``"early"`` the earlier.
    Rows are written in time order, as an exporter's backfill would be."""
    rng = random.Random(seed)
    horizon = NOW - timedelta(hours=1)
    rows = []
    n = len(plans)
    for i in range(count):
        p = plans[i % n]
        end = min(p.due, horizon)
        span = max(60.0, (end - p.start).total_seconds())
        lo, hi = (0.5, 1.0) if half == "late" else (0.0, 0.5)
        at = p.start + timedelta(seconds=int(span * rng.uniform(lo, hi)))
        at = min(at, horizon)
        rows.append((at, p, rng.random()))
    rows.sort(key=lambda r: r[0])
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["kpi", "value", "at", "confidence", "note"])
        for at, p, r in rows:
            w.writerow([p.key, _value(p, at, rng), at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        rng.randrange(3, 10) if r < 0.5 else "",
                        "weekly sync" if r > 0.98 else ""])


# --------------------------------------------------------------------------- ongoing KPIs

#: Issue 18's figure: weekly ongoing KPIs with a check-in every day for three years, reported
#: on the Sunday evening before NOW, so that the current period (ISO week 2026-W24) holds a
#: whole week of check-ins (and the increase kinds a forecast of the week's end).
ONGOING_START = datetime(2023, 6, 19, tzinfo=UTC)  # a Monday: the first weekly period
ONGOING_NOW = datetime(2026, 6, 14, 20, 0, tzinfo=UTC)
ONGOING_NOW_TEXT = "2026-06-14T20:00:00Z"
#: (kind, aggregate, baseline, target, low, high, daily value around, spread): "signups per
#: week" (sum), a level (last), a score held (mean), a ceiling held (max), a band (mean).
ONGOING_KINDS = [
    ("increase", "sum", 0.0, 700.0, None, None, 100.0, 30.0),
    ("increase", "sum", 0.0, 700.0, None, None, 100.0, 30.0),
    ("increase", "last", 0.0, 100.0, None, None, 90.0, 20.0),
    ("at-least", "mean", None, 95.0, None, None, 95.0, 4.0),
    ("at-most", "max", None, 5.0, None, None, 3.0, 2.0),
    ("range", "mean", None, None, 40.0, 60.0, 50.0, 12.0),
]


@dataclass(frozen=True)
class OngoingPlan:
    key: str
    owner: str
    kind: str
    aggregate: str
    around: float
    spread: float


def plan_ongoing(count: int, owners: list[str]) -> list[OngoingPlan]:
    plans = []
    for i in range(count):
        kind, how, _b, _t, _lo, _hi, around, spread = ONGOING_KINDS[i % len(ONGOING_KINDS)]
        plans.append(OngoingPlan(f"w{i:04d}.{owners[i % len(owners)]}", owners[i % len(owners)],
                                 kind, how, around, spread))
    return plans


def write_ongoing_kpi_file(path: Path, plans: list[OngoingPlan]) -> None:
    """``assign --file`` rows with ``every=week``: open-ended series from ONGOING_START, checked
    in daily."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["key", "to", "title", "kind", "baseline", "target", "low", "high", "start",
                    "cadence", "every", "aggregate", "tags"])
        for i, p in enumerate(plans):
            _kind, _how, b, tgt, lo, hi, _around, _spread = ONGOING_KINDS[i % len(ONGOING_KINDS)]
            w.writerow([p.key, p.owner, f"Weekly {p.key}", p.kind, _num(b), _num(tgt), _num(lo),
                        _num(hi), f"{ONGOING_START:%Y-%m-%d}", "daily", "week", p.aggregate,
                        TAGS[i % len(TAGS)]])


def write_ongoing_checkin_file(path: Path, plans: list[OngoingPlan], *, seed: int) -> int:
    """One check-in per KPI per day from ONGOING_START to ONGOING_NOW (at 09:00 UTC plus a few
    minutes per KPI), in time order; returns the number of rows."""
    rng = random.Random(seed)
    days = (ONGOING_NOW - ONGOING_START).days + 1
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["kpi", "value", "at", "confidence", "note"])
        for day in range(days):
            base = ONGOING_START + timedelta(days=day, hours=9)
            for i, p in enumerate(plans):
                at = base + timedelta(minutes=i % 240)
                if at > ONGOING_NOW:
                    continue
                value = round(max(0.0, rng.gauss(p.around, p.spread)), 2)
                w.writerow([p.key, value, at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            rng.randrange(3, 10) if rng.random() < 0.3 else "", ""])
                rows += 1
    return rows
