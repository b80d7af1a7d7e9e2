"""A realistic demo team, built through the same services as real use, anchored to ``now``.

Deterministic for a given ``now`` (seeded noise), so the demo reads the same every time you
rebuild it on a given day. It shows every kind, every status, stale and blocked KPIs, an
overdue one, feedback, a reassignment, and an objective that rolls up four KPIs.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kpictl.domain import Kind, Outcome
from kpictl.services.checkins import record_checkin
from kpictl.services.kpis import KpiSpec, add_feedback, assign, close_kpi
from kpictl.services.people import add_person

TEAM = [
    ("maya", "Maya Okafor", ["leadership:5", "sales:3"], 8, None),
    ("ana", "Ana Lima", ["sales:5", "negotiation:4"], 4, "maya"),
    ("ben", "Ben Carter", ["support:4", "ops:3"], 5, "maya"),
    ("chen", "Chen Wei", ["engineering:5", "reliability:4"], 4, "maya"),
    ("dara", "Dara Novak", ["marketing:4", "content:3"], 4, "maya"),
    ("eli", "Eli Haddad", ["finance:4", "ops:2"], 3, "maya"),
    ("fay", "Fay Jensen", ["engineering:3", "quality:4"], 4, "chen"),
    ("gus", "Gus Moreau", ["support:3", "sales:2"], 3, "ben"),
]

# key, title, owner, kind, baseline, target, low, high, unit, start_days_ago, due_in_days,
# cadence, tags, behaviour: (pace multiplier, noise share, stop_days_ago, confidence)
KPIS = [
    ("sales.new-arr", "New annual recurring revenue", "ana", Kind.INCREASE, 0, 120_000, None,
     None, "EUR", 60, 30, "weekly", ["sales", "revenue"], (1.05, 0.05, 0, 8)),
    ("sales.pipeline", "Qualified pipeline", "ana", Kind.INCREASE, 200_000, 500_000, None, None,
     "EUR", 80, 10, "weekly", ["sales"], (0.55, 0.04, 0, 5)),
    ("sales.win-rate", "Win rate on qualified deals", "gus", Kind.AT_LEAST, None, 25, None, None,
     "%", 90, 90, "biweekly", ["sales"], (1.0, 0.12, 0, 6)),
    ("support.first-response", "Median first response time", "ben", Kind.DECREASE, 240, 60, None,
     None, "min", 70, 20, "weekly", ["support", "customer"], (0.95, 0.06, 0, 7)),
    ("support.backlog", "Open ticket backlog", "gus", Kind.DECREASE, 320, 100, None, None,
     "tickets", 75, 15, "weekly", ["support"], (0.6, 0.05, 0, 4)),
    ("support.csat", "Customer satisfaction", "ben", Kind.AT_LEAST, None, 90, None, None, "%",
     100, 60, "monthly", ["support", "customer"], (1.0, 0.03, 0, 8)),
    ("eng.deploys", "Production deploys per week", "chen", Kind.INCREASE, 3, 15, None, None,
     "deploys", 90, 0, "weekly", ["engineering"], (0.7, 0.1, 0, 6)),
    ("eng.p95-latency", "API p95 latency", "fay", Kind.AT_MOST, None, 300, None, None, "ms", 90,
     90, "weekly", ["engineering", "reliability"], (1.0, 0.15, 0, 7)),
    ("eng.uptime", "Monthly availability", "chen", Kind.RANGE, None, None, 99.9, 100.0, "%", 120,
     60, "monthly", ["reliability"], (1.0, 0.0004, 0, 9)),
    ("eng.flaky-tests", "Flaky tests in CI", "fay", Kind.DECREASE, 48, 5, None, None, "tests", 60,
     40, "weekly", ["engineering", "quality"], (0.9, 0.08, 24, 6)),
    ("eng.cloud-cost", "Cloud spend per customer", "eli", Kind.AT_MOST, None, 12.5, None, None,
     "EUR", 90, 90, "monthly", ["finance", "engineering"], (1.0, 0.08, 0, 5)),
    ("mkt.signups", "Trial sign-ups per month", "dara", Kind.INCREASE, 400, 1_000, None, None,
     "sign-ups", 45, 45, "weekly", ["marketing"], (1.1, 0.06, 0, 8)),
    ("mkt.cac", "Customer acquisition cost", "dara", Kind.DECREASE, 900, 600, None, None, "EUR",
     60, 30, "biweekly", ["marketing", "finance"], (0.35, 0.05, 0, 3)),
    ("mkt.blog-posts", "Blog posts published", "dara", Kind.INCREASE, 0, 24, None, None, "posts",
     100, -10, "weekly", ["marketing", "content"], (0.7, 0.05, 0, 4)),
    ("fin.dso", "Days sales outstanding", "eli", Kind.RANGE, None, None, 30, 45, "days", 90, 90,
     "monthly", ["finance"], (1.0, 0.1, 0, 7)),
    ("fin.close-days", "Days to close the books", "eli", Kind.DECREASE, 12, 5, None, None, "days",
     80, 40, "monthly", ["finance", "ops"], (0.8, 0.05, 40, 6)),
    ("ops.onboarding", "Customer onboarding time", "ben", Kind.DECREASE, 21, 10, None, None,
     "days", 50, 60, "weekly", ["ops", "customer"], (1.0, 0.05, 0, 7)),
    ("people.hiring", "Engineers hired", "maya", Kind.INCREASE, 0, 6, None, None, "hires", 100,
     80, "monthly", ["leadership"], (1.0, 0.0, 0, 6)),
    ("qa.escaped-bugs", "Bugs escaped to production", "fay", Kind.AT_MOST, None, 4, None, None,
     "bugs", 60, 120, "weekly", ["quality"], None),
    ("sales.upsell", "Upsell revenue from existing customers", "gus", Kind.INCREASE, 0, 40_000,
     None, None, "EUR", 150, -40, "biweekly", ["sales", "customer"], (0.6, 0.05, 40, 5)),
    ("mkt.webinars", "Webinars hosted", "dara", Kind.INCREASE, 0, 6, None, None, "webinars", 60,
     30, "monthly", ["marketing", "content"], (0.5, 0.0, 6, 5)),
    ("sales.renewals", "Renewal rate", "ana", Kind.AT_LEAST, None, 92, None, None, "%", 150, -30,
     "monthly", ["sales", "customer"], (1.0, 0.02, 0, 8)),
]


def _value(kind, baseline, target, low, high, share, rng, pace, noise):
    if kind in (Kind.INCREASE, Kind.DECREASE):
        ideal = baseline + (target - baseline) * min(1.0, share * pace)
        return round(ideal + abs(target - baseline) * rng.gauss(0, noise), 2)
    if kind is Kind.RANGE:
        mid = (low + high) / 2
        return round(mid + (high - low) * rng.gauss(0, 0.25) + mid * rng.gauss(0, noise), 3)
    return round(target * (1 + rng.gauss(0.03 if kind is Kind.AT_LEAST else -0.03, noise)), 2)


def build_demo(*, session: Session, now: datetime, day_start: datetime) -> dict:
    """Fill an empty database with the demo team; return counts."""
    rng = random.Random(20261127)
    for handle, name, skills, capacity, manager in TEAM:
        add_person(session=session, now=now, handle=handle, name=name, skills=skills,
                   capacity=capacity, manager=manager, email=f"{handle}@example.com")
    session.flush()
    checkins = 0
    for (key, title, owner, kind, b, t, low, high, unit, ago, due_in, cadence, tags,
         behaviour) in KPIS:
        start = day_start - timedelta(days=ago)
        due = day_start + timedelta(days=due_in, hours=23, minutes=59, seconds=59)
        assign(session=session, now=now - timedelta(days=ago), key=key, to=owner, by="maya",
               spec=KpiSpec(title=title, kind=kind, baseline=b, target=t, low=low, high=high,
                            unit=unit, start=start, due=due, cadence=cadence, tags=tags,
                            outcome=f"{title}: {'keep within' if kind.is_maintain else 'reach'} "
                            "the target this quarter"))
        session.flush()
        if behaviour is None:
            continue
        pace, noise, stop_ago, confidence = behaviour
        step = {"weekly": 7, "biweekly": 14, "monthly": 30}[cadence]
        day = step
        while day <= ago - stop_ago:
            at = start + timedelta(days=day, hours=rng.randint(8, 17), minutes=rng.randint(0, 59))
            if at > now:
                break
            share = (at - start) / (due - start)
            record_checkin(session=session, now=at, key=key, at=at,
                           value=_value(kind, b, t, low, high, share, rng, pace, noise),
                           confidence=max(0, min(10, confidence + rng.randint(-1, 1))),
                           source="demo", idem_key=f"demo-{key}-{day}")
            checkins += 1
            day += step
    # The accountability loop: a blocker, feedback, a reassignment, a closed KPI.
    record_checkin(session=session, now=now, key="mkt.cac", at=now - timedelta(hours=20),
                   value=840, confidence=2, blocker="Ad budget frozen until finance signs off",
                   note="Paid channels paused", source="demo")
    add_feedback(session=session, now=now - timedelta(days=3), key="sales.pipeline", by="maya",
                 text="Pipeline is behind pace: let's review the top 20 accounts on Monday.")
    add_feedback(session=session, now=now - timedelta(days=1), key="sales.new-arr", by="maya",
                 text="Great momentum on new ARR, keep it up.")
    assign(session=session, now=now - timedelta(days=14), key="support.backlog", to="ben",
           by="maya", note="Gus is overloaded; Ben takes the backlog", spec=KpiSpec())
    close_kpi(session=session, now=now - timedelta(days=2), key="sales.renewals",
              outcome=Outcome.ACHIEVED, by="maya", note="94 % renewal rate for the period")
    close_kpi(session=session, now=now - timedelta(days=38), key="sales.upsell",
              outcome=Outcome.MISSED, by="maya", note="Reached 60 % of target; pricing too high")
    close_kpi(session=session, now=now - timedelta(days=5), key="mkt.webinars",
              outcome=Outcome.CANCELLED, by="maya", note="Replaced by the partner program")
    # An objective and its key results, weighted: the roll-up (and child_at_risk: mkt.cac is
    # blocked) in the portfolio and in `report growth`.
    linked = now - timedelta(days=40)
    assign(session=session, now=linked, key="growth", to="maya", by="maya",
           spec=KpiSpec(objective=True, title="Grow the business this quarter",
                        start=day_start - timedelta(days=60),
                        due=day_start + timedelta(days=30, hours=23, minutes=59, seconds=59)))
    for key, weight in (("sales.new-arr", 2.0), ("sales.pipeline", 1.0), ("mkt.signups", 1.0),
                        ("mkt.cac", 1.0)):
        assign(session=session, now=linked, key=key, by="maya",
               spec=KpiSpec(parent="growth", weight=weight))
    return {"people": len(TEAM), "kpis": len(KPIS) + 1, "checkins": checkins + 1}
