"""`kpictl nudge`: one section per recipient at a terminal or in Markdown, the versioned
JSON/JSONL/CSV, and the two parts of each recipient's mail (plain text and HTML).

Each item is one sentence a person can act on; user text (titles, names) passes through
:func:`sanitize` (terminal, text mail) or Jinja2's autoescape (HTML mail) like every view.
"""

from __future__ import annotations

import sys

from kpictl.domain import Format
from kpictl.render import machine
from kpictl.render.text import local_day, sanitize
from kpictl.timeparse import resolve_zone
from kpictl.schemas import NudgeItem, NudgeRecipient, NudgeReport

NUDGE_COLUMNS = ["recipient", "name", "email", "type", "kpi", "title", "owner", "level",
                 "deadline", "late_by_s", "status", "covering", "sent_at", "zone", "slot"]
STATUS_WORDS = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track",
                "no_data": "without data"}
LEVEL_WORDS = {1: "your report", 2: "a skip-level report"}
TYPE_LABEL = {"checkin_due": "due", "checkin_late": "late", "escalation": "escalation",
              "feedback_due": "feedback", "close_due": "close", "unresponsive": "unresponsive"}


def duration(seconds: int | None) -> str:
    """"3 days 4 h", "5 h", "12 min"."""
    if seconds is None:
        return ""
    days, rest = divmod(max(seconds, 0), 86400)
    hours = rest // 3600
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h"
    return f"{max(rest // 60, 1)} min"


def describe(item: NudgeItem, tz) -> str:
    """The item as one sentence for its recipient."""
    kpi = f"{item.kpi} ({item.title})"
    # The day the deadline falls on in the KPI's own zone (as the report's "by Sun 17 Jan").
    due = local_day(item.deadline, resolve_zone(item.zone)) if item.deadline else "—"
    whose = f"{item.owner}'s {kpi}"
    yours = whose if item.covering else kpi  # passed on: say whose it is
    if item.type == "checkin_due":
        text = f"Check in on {yours} by {due}: `kpictl checkin {item.kpi} VALUE`."
    elif item.type == "checkin_late":
        text = (f"The check-in on {yours} is {duration(item.late_by_s)} late (due {due}): "
                f"`kpictl checkin {item.kpi} VALUE`.")
    elif item.type == "escalation":
        text = (f"No check-in on {whose} for {duration(item.late_by_s)} (due {due}); "
                f"escalated to you as level {item.level} of the reporting line.")
    elif item.type == "feedback_due":
        status = STATUS_WORDS.get(item.status, item.status)
        text = (f"{whose} is {status}: give feedback with "
                f"`kpictl feedback {item.kpi} TEXT`.")
    elif item.type == "close_due":
        text = (f"{kpi} was due {due} ({duration(item.late_by_s)} ago): close it with "
                f"`kpictl close {item.kpi}`.")
    else:  # unresponsive
        text = (f"{item.owner} has not answered the last reminders on {kpi}; the report "
                "flags it unresponsive.")
    if item.covering:
        text += f" (for {item.covering}, who is away)"
    return sanitize(text)


def subject(recipient: NudgeRecipient) -> str:
    n = len(recipient.items)
    late = sum(i.type in ("checkin_late", "escalation") for i in recipient.items)
    extra = f", {late} late" if late else ""
    return sanitize(f"kpictl: {n} thing{'s' if n != 1 else ''} for you{extra}")


def _records(report: NudgeReport) -> list[dict]:
    return [{"recipient": r.handle, "name": r.name, "email": r.email, **machine.plain(i)}
            for r in report.recipients for i in r.items]


def render_nudges(report: NudgeReport, fmt: Format, *, tz, no_color: bool = False) -> None:
    if fmt is Format.JSON:
        machine.write_json(machine.envelope("nudge", report.generated_at, as_of=report.as_of,
                                            recipients=report.recipients))
        return
    if fmt is Format.JSONL:  # records only: one item a line, with its recipient
        for record in _records(report):
            sys.stdout.write(machine.dumps(record, indent=None) + "\n")
        return
    if fmt is Format.CSV:
        machine.write_csv(NUDGE_COLUMNS, _records(report))
        return
    when = f"{report.as_of.astimezone(tz):%Y-%m-%d %H:%M} {getattr(tz, 'name', tz)}"
    if fmt is Format.MD:
        out = sys.stdout
        out.write(f"# Nudges as of {when}\n\n")
        if not report.recipients:
            out.write("Nothing to nudge anyone about.\n")
        for r in report.recipients:
            out.write(f"## {machine.md_cell(r.handle)} — {machine.md_cell(r.name)}\n\n")
            for item in r.items:
                sent = " *(sent)*" if item.sent_at else ""
                out.write(f"- **{TYPE_LABEL[item.type]}** {machine.md_cell(describe(item, tz))}"
                          f"{sent}\n")
            out.write("\n")
        return
    from rich.text import Text

    from kpictl.render import table as t

    console = t.make_console(no_color=no_color)
    if not report.recipients:
        console.print(Text(f"Nothing to nudge anyone about as of {when}."))
        return
    total = sum(len(r.items) for r in report.recipients)
    people = len(report.recipients)
    console.print(Text(f"{total} nudge{'s' if total != 1 else ''} for {people} "
                       f"{'person' if people == 1 else 'people'} as of {when}", style="bold"))
    style = {"checkin_late": "bold yellow", "escalation": "bold red", "unresponsive": "red",
             "close_due": "bold", "checkin_due": "", "feedback_due": ""}
    for r in report.recipients:
        head = Text("\n")
        head.append(sanitize(r.handle), style="bold")
        head.append(f" — {sanitize(r.name)}")
        head.append(f" <{sanitize(r.email)}>" if r.email else "  (no e-mail: not sent)",
                    style="" if r.email else "yellow")
        console.print(head)
        for item in r.items:
            line = Text("  ")
            line.append(f"{TYPE_LABEL[item.type]:<12}", style=style[item.type])
            line.append(describe(item, tz))
            if item.sent_at:
                line.append(" (sent)", style="dim")
            console.print(line)


def mail_text(recipient: NudgeRecipient, *, tz) -> str:
    lines = [f"Hello {sanitize(recipient.name)},", "", "kpictl has these for you:", ""]
    lines += [f"- {describe(item, tz)}" for item in recipient.items]
    lines += ["", f"Times in {getattr(tz, 'name', tz)}. This mail was sent by `kpictl nudge`."]
    return "\n".join(lines) + "\n"


def mail_html(recipient: NudgeRecipient, *, as_of, tz) -> str:
    from kpictl.render.html import render_nudge_page

    return render_nudge_page(
        recipient=recipient, as_of=as_of, tz=tz,
        items=[{"label": TYPE_LABEL[i.type], "type": i.type, "text": describe(i, tz),
                "status": i.status, "kpi": i.kpi} for i in recipient.items])
