"""Backtest: does the forecast see a miss earlier than pace alone?

Simulates quarterly "increase" KPIs (0 → 100 over 13 weeks, weekly check-ins) of six shapes —
steady, behind, decelerating, stalling, hockey-stick and random walk — with noise, and replays
each week through kpictl's own rules (`services.status.evaluate`, `services.forecast.forecast`).
A KPI *misses* when its true value at the due date is below target. Each week, two warnings:

* **pace** — the pace-only status is `at_risk` or `off_track`;
* **pace + forecast** — the same, or the forecast's probability of meeting the target < 50 %.

Printed per method: how many misses were flagged at all (recall), how many flags were false
alarms (precision), and the median week of the first flag on KPIs that missed.

    python examples/backtest.py            # 600 trajectories, seed 7
    python examples/backtest.py --n 120 --seed 1
"""

from __future__ import annotations

import argparse
import random
import statistics
from datetime import datetime, timedelta, timezone

from kpictl.domain import Kind, Status
from kpictl.services.forecast import Fit, forecast
from kpictl.services.status import KpiFacts, evaluate

START = datetime(2026, 1, 5, tzinfo=timezone.utc)
WEEKS = 13
DUE = START + timedelta(weeks=WEEKS)
TARGET = 100.0


def shape(name: str, rng: random.Random):
    """True progress curve s(u) for u in [0, 1] (share of the quarter elapsed)."""
    speed = rng.uniform(0.8, 1.2)
    if name == "steady":
        return lambda u: TARGET * speed * u
    if name == "behind":
        return lambda u: TARGET * speed * 0.8 * u
    if name == "decelerating":
        return lambda u: TARGET * speed * 1.5 * (1 - (1 - u) ** 2) / 1.5 * 1.1
    if name == "stalling":
        stop = rng.uniform(0.4, 0.7)
        return lambda u: TARGET * speed * min(u, stop) * 1.1
    if name == "hockey-stick":
        return lambda u: TARGET * speed * u ** 2 * 1.05
    drift = rng.uniform(0.7, 1.3)
    steps = [rng.gauss(drift, 0.6) for _ in range(WEEKS + 1)]
    walk = [sum(steps[: i + 1]) for i in range(WEEKS + 1)]
    return lambda u: TARGET / WEEKS * walk[min(WEEKS, int(u * WEEKS))]


SHAPES = ["steady", "behind", "decelerating", "stalling", "hockey-stick", "random walk"]


def replay(curve, rng: random.Random, noise: float):
    """Week by week: (week, pace warning, forecast warning); and whether the KPI missed."""
    observed = []
    weeks = []
    for week in range(1, WEEKS):
        at = START + timedelta(weeks=week)
        value = curve(week / WEEKS) + rng.gauss(0, noise)
        observed.append((week * 7.0, value))
        facts = dict(kind=Kind.INCREASE, baseline=0.0, target=TARGET, low=None, high=None,
                     start=START, due=DUE, closed_outcome=None, latest_value=value,
                     latest_at=at, latest_confidence=None, latest_blocker=None)
        pace = evaluate(KpiFacts(**facts), at).status in (Status.AT_RISK, Status.OFF_TRACK)
        f = forecast(Fit.of_points(observed), increase=True, target=TARGET, start=START, due=DUE,
                     as_of=at, latest_value=value, period_days=7.0)
        with_forecast = pace or (f is not None and f.probability < 0.5)
        weeks.append((week, pace, with_forecast))
    return weeks, curve(1.0) < TARGET


def run(n: int, seed: int, noise: float = 4.0) -> dict:
    rng = random.Random(seed)
    results = {"pace": [], "pace + forecast": []}
    misses = 0
    for i in range(n):
        weeks, missed = replay(shape(SHAPES[i % len(SHAPES)], rng), rng, noise)
        misses += missed
        for column, method in ((1, "pace"), (2, "pace + forecast")):
            first = next((w[0] for w in weeks if w[column]), None)
            flagged_weeks = sum(1 for w in weeks if w[column])
            results[method].append((missed, first, flagged_weeks))
    summary = {"trajectories": n, "misses": misses}
    for method, rows in results.items():
        caught = [first for missed, first, _ in rows if missed and first is not None]
        false_alarms = sum(1 for missed, first, _ in rows if not missed and first is not None)
        flagged = sum(1 for _, first, _ in rows if first is not None)
        summary[method] = {
            "recall": len(caught) / misses if misses else None,
            "precision": (flagged - false_alarms) / flagged if flagged else None,
            "median_first_week": statistics.median(caught) if caught else None,
            "caught_by_week_6": sum(1 for w in caught if w <= 6) / misses if misses else None,
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="trajectories (default 600)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    s = run(args.n, args.seed)
    print(f"{s['trajectories']} simulated quarterly KPIs, {s['misses']} of them miss the target")
    print(f"{'method':<18}{'misses caught':>15}{'caught by wk 6':>16}{'median 1st flag':>17}"
          f"{'flags right':>13}")
    for method in ("pace", "pace + forecast"):
        m = s[method]
        print(f"{method:<18}{m['recall']:>15.0%}{m['caught_by_week_6']:>16.0%}"
              f"{'week ' + format(m['median_first_week'], 'g'):>17}{m['precision']:>13.0%}")


if __name__ == "__main__":
    main()
