"""`kpictl nudge`: for each person, the one list of what they should do now (PRODUCT §6).

Everything is derived from the portfolio at the instant (the same rows `report` shows), the
reporting line, the away windows and the log of nudges already sent:

* ``checkin_due`` — the owner, once the deadline of the current cadence slot is within
  ``ahead`` and the slot has no check-in yet;
* ``checkin_late`` — the owner, once the KPI is stale (a deadline plus grace passed without a
  check-in); a new notice for every further slot that passes unanswered;
* ``escalation`` — still late ``escalate_after`` after it became late: the owner's manager
  (level 1); after twice that the skip-level (level 2); and so on up to the top of the line.
  Slots whose deadline fell while the owner was away are not charged, so not escalated;
* ``feedback_due`` — the manager of the owner, when the KPI turned ``at_risk``, ``off_track``
  or blocked since that manager's last feedback on it;
* ``close_due`` — the owner and their manager, for an active KPI whose due date passed;
* ``unresponsive`` — the manager, once ``give_up`` reminders (check-in nudges actually sent)
  went unanswered: the report flags the KPI ``unresponsive`` too.

Nobody who is away at the instant is nudged: their items go to their cover, else up their
reporting line. Each nudge is identified by (recipient, type, KPI, slot, level); ``--send``
records it when the mail went out, so an hourly cron sends it once, and the next slot or level
is a new nudge.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from kpictl.domain import NUDGE_DEFAULTS, OBJECTIVE, REMINDER_TYPES, NudgeSettings, NudgeType
from kpictl.models import Checkin, Feedback, Kpi, NudgeSent, Person
from kpictl.schemas import KpiRow, NudgeItem, NudgeRecipient, NudgeReport
from kpictl.services.away import AwayCalendar
from kpictl.services.cadence import Slots
from kpictl.services.lookups import get_person
from kpictl.timeparse import parse_cadence, parse_grace

#: Statuses a manager should react to (with the `blocked` flag).
_NEEDS_FEEDBACK = ("at_risk", "off_track")
#: Order of the items in a recipient's list: what is most urgent first.
_ORDER = {t: i for i, t in enumerate((NudgeType.ESCALATION, NudgeType.CHECKIN_LATE,
                                      NudgeType.UNRESPONSIVE, NudgeType.CHECKIN_DUE,
                                      NudgeType.CLOSE_DUE, NudgeType.FEEDBACK_DUE))}


def _iso(instant: datetime | None) -> str:
    return "never" if instant is None else instant.strftime("%Y-%m-%dT%H:%M:%SZ")


class _People:
    """The reporting line at the instant: handles, managers, who is active."""

    def __init__(self, session: Session) -> None:
        boss = aliased(Person)
        self.info: dict[str, tuple[str, str | None, bool]] = {}
        self.manager: dict[str, str | None] = {}
        for handle, name, email, active, manager in session.execute(
            select(Person.handle, Person.name, Person.email, Person.active, boss.handle)
            .outerjoin(boss, boss.id == Person.manager_id)
        ):
            self.info[handle] = (name, email, bool(active))
            self.manager[handle] = manager

    def active(self, handle: str | None) -> bool:
        return handle is not None and handle in self.info and self.info[handle][2]

    def up(self, handle: str, levels: int) -> str | None:
        """The ``levels``-th active manager above ``handle`` (inactive ones are stepped over),
        or None past the top of the line."""
        seen = {handle}
        current = handle
        found = 0
        while found < levels:
            current = self.manager.get(current)
            if current is None or current in seen:  # the top (or a cycle in old data)
                return None
            seen.add(current)
            if self.active(current):
                found += 1
        return current


def build_nudges(*, session: Session, as_of: datetime, now: datetime, tz,
                 to: str | None = None, settings: NudgeSettings = NUDGE_DEFAULTS) -> NudgeReport:
    from kpictl.services.reports import build_report

    if to:
        to = get_person(session, to).handle
    people = _People(session)
    away = AwayCalendar(session)
    rows = build_report(session=session, as_of=as_of, now=now, tz=tz).kpis
    ahead, escalate = parse_grace(settings.ahead), parse_grace(settings.escalate_after)
    feedback = _last_feedback(session, as_of)
    reminders = unanswered_reminders(session, as_of)
    items: list[tuple[str, NudgeItem]] = []

    def give(recipient: str | None, item: NudgeItem) -> None:
        recipient, covering = _route(recipient, as_of, people, away)
        if recipient is not None:
            items.append((recipient, replace(item, covering=covering)))

    for row in rows:
        if row.state != "active" or row.owner is None or row.start > as_of:
            continue
        zone = row.zone  # slots and deadlines in the KPI's own zone
        base = NudgeItem(type="", kpi=row.key, title=row.title, owner=row.owner, level=0,
                         deadline=None, late_by_s=None, status=row.status, covering=None,
                         sent_at=None, zone=row.zone)
        manager = people.up(row.owner, 1)
        if row.due < as_of:  # due passed: close it, whatever the kind
            close = replace(base, type=NudgeType.CLOSE_DUE, deadline=row.due,
                            late_by_s=_seconds(as_of - row.due), slot=_iso(row.due))
            give(row.owner, close)
            if manager:
                give(manager, replace(close, level=1))
            continue
        if row.kind == OBJECTIVE:  # no check-ins of its own: its children's owners hear
            continue
        if row.status == "achieved":  # target reached: done work, nothing to chase
            continue
        give_due = _checkin_due(row, as_of, zone, ahead)
        if give_due is not None:
            give(row.owner, replace(base, type=NudgeType.CHECKIN_DUE, deadline=give_due,
                                    slot=_iso(give_due)))
        if "stale" in row.flags and row.next_checkin_due is not None:
            deadline = row.next_checkin_due
            grace = parse_grace(row.grace)
            late_since = grace.add(deadline, tz=zone)
            late = replace(base, deadline=deadline, late_by_s=_seconds(as_of - deadline))
            latest = _latest_passed_deadline(row, as_of, zone, grace) or deadline
            give(row.owner, replace(late, type=NudgeType.CHECKIN_LATE, slot=_iso(latest)))
            if not away.is_away(row.owner, deadline):  # a slot due while away is not charged
                level = 1
                while escalate.add(late_since, level, tz=zone) <= as_of:
                    boss = people.up(row.owner, level)
                    if boss is None:
                        break
                    give(boss, replace(late, type=NudgeType.ESCALATION, level=level,
                                       slot=_iso(deadline)))
                    level += 1
        unanswered = reminders.get(row.key)
        if unanswered and unanswered[0] >= settings.give_up and manager:
            give(manager, replace(base, type=NudgeType.UNRESPONSIVE, level=1,
                                  deadline=row.next_checkin_due,
                                  late_by_s=_late(as_of, row.next_checkin_due),
                                  slot=f"unanswered since {_iso(unanswered[1])}"))
        if manager and (row.status in _NEEDS_FEEDBACK or "blocked" in row.flags):
            slot = _feedback_slot(session, row, manager, feedback, as_of, tz)
            if slot is not None:
                give(manager, replace(base, type=NudgeType.FEEDBACK_DUE, level=1, slot=slot))

    sent = _sent(session, as_of)
    by_recipient: dict[str, list[NudgeItem]] = defaultdict(list)
    for recipient, item in items:
        if to and recipient != to:
            continue
        item.sent_at = sent.get((recipient, str(item.type), item.kpi, item.slot, item.level))
        by_recipient[recipient].append(item)
    recipients = []
    for handle in sorted(by_recipient):
        name, email, _active = people.info[handle]
        listed = sorted(by_recipient[handle], key=lambda i: (_ORDER[NudgeType(i.type)],
                                                             i.level, i.kpi))
        recipients.append(NudgeRecipient(handle=handle, name=name, email=email, items=listed))
    return NudgeReport(as_of=as_of, generated_at=now, recipients=recipients)


def _seconds(delta) -> int:
    return int(delta.total_seconds())


def _late(as_of: datetime, deadline: datetime | None) -> int | None:
    return None if deadline is None or deadline > as_of else _seconds(as_of - deadline)


def _route(handle: str | None, as_of: datetime, people: _People, away: AwayCalendar):
    """Who receives ``handle``'s nudge at ``as_of``: ``handle`` unless away (or inactive),
    then their cover, else their manager, repeated. Returns (recipient, covering)."""
    original, seen = handle, set()
    while handle is not None and handle not in seen:
        seen.add(handle)
        window = away.window(handle, as_of)
        if window is None and people.active(handle):
            return handle, (original if handle != original else None)
        cover = window[2] if window is not None else None
        handle = cover if cover and cover not in seen else people.manager.get(handle)
    return None, None


def _slots(row: KpiRow, zone) -> Slots:
    return Slots(row.start, row.due, parse_cadence(row.cadence), zone)


def _checkin_due(row: KpiRow, as_of: datetime, zone, ahead) -> datetime | None:
    """The current slot's end (the last instant its check-in is due by) when that is within
    ``ahead`` and the slot has no check-in yet."""
    slots = _slots(row, zone)
    k = slots.index(as_of)
    if not slots.exists(k):
        return None
    end = slots.end(k)
    if row.last_checkin_at is not None and row.last_checkin_at >= slots.begin(k):
        return None
    if ahead.add(as_of, tz=zone) < end:
        return None
    return end


def _latest_passed_deadline(row: KpiRow, as_of: datetime, zone, grace) -> datetime | None:
    """The end of the newest slot whose grace has run out at ``as_of``."""
    slots = _slots(row, zone)
    k = slots.index(as_of)
    for j in range(k, max(k - 60, -1), -1):  # grace longer than a slot reaches back further
        if slots.exists(j) and grace.add(slots.end(j), tz=zone) <= as_of:
            return slots.end(j)
    return None


def _last_feedback(session: Session, as_of: datetime) -> dict[tuple[str, str], datetime]:
    return {(key, handle): at for key, handle, at in session.execute(
        select(Kpi.key, Person.handle, func.max(Feedback.at))
        .join(Kpi, Kpi.id == Feedback.kpi_id).join(Person, Person.id == Feedback.author_id)
        .where(Feedback.at <= as_of).group_by(Kpi.key, Person.handle))}


def _feedback_slot(session, row: KpiRow, manager: str, feedback, as_of, tz) -> str | None:
    """What makes this feedback nudge new — or None when the manager already reacted: their
    last feedback on the KPI came after it turned what it is now."""
    from kpictl.services.reports import build_report

    blocked = "blocked" in row.flags
    condition = row.status if row.status in _NEEDS_FEEDBACK else "ok"
    condition += "+blocked" if blocked else ""
    last = feedback.get((row.key, manager))
    if last is not None:
        then = build_report(session=session, as_of=last, now=as_of, tz=tz, keys=[row.key]).kpis
        if then:
            before = then[0]
            same_status = row.status not in _NEEDS_FEEDBACK or before.status == row.status
            same_block = not blocked or "blocked" in before.flags
            if same_status and same_block:
                return None
    return f"{condition} after {_iso(last)}"


def unanswered_reminders(session: Session, as_of: datetime) -> dict[str, tuple[int, datetime]]:
    """Per KPI key: reminders (check-in nudges to the owner's address, however routed) sent
    since its last check-in was recorded, and that check-in's time (None: never) — as known
    at ``as_of``. Reads the nudge log, and the history only of the KPIs in it."""
    sent: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for kpi_id, reminder, at in session.execute(
        select(NudgeSent.kpi_id, NudgeSent.type + ":" + NudgeSent.slot, NudgeSent.sent_at)
        .where(NudgeSent.type.in_([str(t) for t in REMINDER_TYPES]), NudgeSent.level == 0,
               NudgeSent.sent_at <= as_of)
    ):
        sent[kpi_id].append((reminder, at))
    if not sent:
        return {}
    last: dict[int, datetime] = {}
    keys: dict[int, str] = dict(session.execute(select(Kpi.id, Kpi.key).where(
        Kpi.id.in_(list(sent)))).all())
    for kpi_id, at in session.execute(
        select(Checkin.kpi_id, func.max(Checkin.recorded_at))
        .where(Checkin.kpi_id.in_(list(sent)), Checkin.recorded_at <= as_of)
        .group_by(Checkin.kpi_id)
    ):
        last[kpi_id] = at
    result = {}
    for kpi_id, reminders in sent.items():
        since = last.get(kpi_id)
        count = len({r for r, at in reminders if since is None or at > since})
        if count:
            result[keys[kpi_id]] = (count, since)
    return result


def flag_unresponsive(session: Session, rows: list[KpiRow], as_of: datetime,
                      give_up: int = NUDGE_DEFAULTS.give_up) -> None:
    """Add the flag ``unresponsive`` to the open rows whose owner left ``give_up`` reminders
    unanswered (the report's part of the ladder)."""
    unanswered = unanswered_reminders(session, as_of)
    if not unanswered:
        return
    for row in rows:
        count = unanswered.get(row.key)
        if count and count[0] >= give_up and row.state == "active" and \
                "unresponsive" not in row.flags:
            row.flags.append("unresponsive")


def _sent(session: Session, as_of: datetime) -> dict[tuple, datetime]:
    return {(handle, type_, key, slot, level): at for handle, type_, key, slot, level, at in
            session.execute(
                select(Person.handle, NudgeSent.type, Kpi.key, NudgeSent.slot, NudgeSent.level,
                       NudgeSent.sent_at)
                .join(Person, Person.id == NudgeSent.recipient_id)
                .join(Kpi, Kpi.id == NudgeSent.kpi_id)
                .where(NudgeSent.sent_at <= as_of))}


def record_sent(*, session: Session, now: datetime, recipient: str,
                items: list[NudgeItem]) -> int:
    """Record ``recipient``'s unsent items as sent at ``now`` (once: a concurrent run that
    recorded the same nudge first wins, nothing is written twice)."""
    person_id = get_person(session, recipient).id
    ids = dict(session.execute(select(Kpi.key, Kpi.id).where(
        Kpi.key.in_({i.kpi for i in items}))).all())
    values = [{"recipient_id": person_id, "type": str(i.type), "kpi_id": ids[i.kpi],
               "slot": i.slot, "level": i.level, "sent_at": now}
              for i in items if i.sent_at is None and i.kpi in ids]
    if not values:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(NudgeSent).values(values).on_conflict_do_nothing())
    return len(values)
