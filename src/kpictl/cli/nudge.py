"""`kpictl nudge`: reminders, late notices and escalations — printed, or mailed with --send."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kpictl.cli import complete
from kpictl.cli.common import (
    AsOfOption,
    FormatOption,
    JsonOption,
    choose_format,
    clock,
    state,
    whole,
)
from kpictl.domain import NUDGE_DEFAULTS

LADDER = "Ladder"
MAIL = "Mail"


def nudge(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", metavar="HANDLE", rich_help_panel="Filters",
                                             help="Only nudges to H and everyone under H, as "
                                             "the tree stood then.",
                                             autocompletion=complete.handles)] = None,
    to: Annotated[str | None, typer.Option("--to", metavar="HANDLE", rich_help_panel="Filters",
                                           help="Only this person's nudges.",
                                           autocompletion=complete.handles)] = None,
    as_of: AsOfOption = None,
    ahead: Annotated[str, typer.Option("--ahead", metavar="DAYS", rich_help_panel=LADDER,
                                       help="Remind this long before a check-in's deadline "
                                       "(Nd or Nw).")] = NUDGE_DEFAULTS.ahead,
    escalate_after: Annotated[
        str, typer.Option("--escalate-after", metavar="DAYS", rich_help_panel=LADDER,
                          help="Late this long: to the manager; twice as long: the "
                          "skip-level; and so on up.")] = NUDGE_DEFAULTS.escalate_after,
    give_up: Annotated[str, typer.Option("--give-up", metavar="N", rich_help_panel=LADDER,
                                         help="Unanswered reminders (1-100) before a KPI is "
                                         "flagged unresponsive and the manager is told.")
                       ] = str(NUDGE_DEFAULTS.give_up),
    send: Annotated[bool, typer.Option("--send", rich_help_panel=MAIL,
                                       help="Mail each recipient their new nudges over SMTP "
                                       "(KPICTL_SMTP_URL) and record them as sent.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", rich_help_panel=MAIL,
                                          help="With --send: say what would be mailed; send "
                                          "and record nothing.")] = False,
    fmt: FormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who should do what now: check-ins due or late, escalations up the reporting line,
    feedback and closes due. Run it from cron: with --send each new nudge is mailed once,
    over KPICTL_SMTP_URL (smtp://host:port or smtps://…).

    Example: kpictl nudge --to ana

    Example: kpictl nudge --send --dry-run
    """
    from dataclasses import replace

    from kpictl.domain import NudgeSettings
    from kpictl.errors import InvalidInput
    from kpictl.timeparse import parse_grace

    st = state(ctx)
    now = st.now()
    instant = st.when(as_of, option="--as-of", bound="end", now=now) or now
    for option, value in (("--ahead", ahead), ("--escalate-after", escalate_after)):
        try:
            period = parse_grace(value)
        except InvalidInput as exc:
            raise InvalidInput(f"{option}: {exc.message.replace('grace', 'duration')}") from None
        if option == "--escalate-after" and period.days == 0:
            raise InvalidInput("--escalate-after must be at least 1d")
    if dry_run and not send:
        raise InvalidInput("--dry-run goes with --send (without --send nothing is sent anyway)")
    if send and as_of:
        raise InvalidInput("--send mails what is due now: it does not take --as-of")
    reminders = whole(give_up, option="--give-up", use="a whole number from 1 to 100")
    if not 1 <= reminders <= 100:
        raise InvalidInput(f"invalid --give-up {give_up!r}: use a whole number from 1 to 100")
    settings = NudgeSettings(ahead=ahead, escalate_after=escalate_after, give_up=reminders)
    fmt_ = choose_format(fmt, as_json, ctx=ctx, view="`nudge`")
    tz = st.zone()
    smtp = None
    if send and not dry_run:
        from kpictl.mail import settings_from_env

        smtp = settings_from_env()  # a usage error before anything is read or sent
    from kpictl.services.nudges import build_nudges

    db = st.open_db(read=not send or dry_run)  # a preview only reads
    with db.session() as session:
        if send:  # what was sent is recorded in the server's clock: read it in the same
            now = instant = clock(session, now)
        report = build_nudges(session=session, as_of=instant, now=now, tz=tz, to=to,
                              settings=settings)
        if team:
            from kpictl.services.teams import narrow_nudges
            from kpictl.services.tree import team_of

            report = narrow_nudges(report, team_of(session, team, instant))
        if send:  # on a shared server, only what this role may record (a preview too)
            from kpictl.services.access import nudge_scope
            from kpictl.services.teams import about_team

            scope = nudge_scope(session, instant)
            if scope is not None:
                report = about_team(report, *scope)
    if not send:
        from kpictl.render.nudges import render_nudges

        render_nudges(report, fmt_, tz=tz, no_color=st.no_color)
        return
    pending = [replace(r, items=[i for i in r.items if i.sent_at is None])
               for r in report.recipients]
    pending = [r for r in pending if r.items]
    if dry_run:
        for r in pending:
            where = f"<{r.email}>" if r.email else "(no e-mail: would be skipped)"
            st.say(f"would send {len(r.items)} nudge(s) to {r.handle} {where}")
        if not pending:
            st.say("nothing new to send")
        return
    _send(st, db, smtp, pending, now=now, tz=tz, as_of=instant)


def _send(st, db, smtp, pending, *, now, tz, as_of) -> None:
    import smtplib

    from kpictl.errors import RuntimeFailure
    from kpictl.mail import Mailer, build_message
    from kpictl.render.nudges import mail_html, mail_text, subject
    from kpictl.render.text import sanitize
    from kpictl.services.nudges import record_sent

    skipped = [r for r in pending if not r.email]
    for r in skipped:
        print(sanitize(f"kpictl: {r.handle} has no e-mail address, not sent "
                       f"(`kpictl people edit {r.handle} --email ADDRESS`)"), file=sys.stderr)
    sendable = [r for r in pending if r.email]
    if not sendable:  # no connection at all when there is nothing to send
        st.say("nothing new to send" if not skipped else "sent nothing")
        return
    failed = sent = nudges = 0
    with Mailer(smtp) as mailer:
        for r in sendable:
            message = build_message(sender=smtp.sender, name=r.name, address=r.email,
                                    subject=subject(r), text=mail_text(r, tz=tz),
                                    html=mail_html(r, as_of=as_of, tz=tz), now=now)
            try:
                mailer.send(message)
            except (smtplib.SMTPException, OSError) as exc:
                failed += 1
                reason = getattr(exc, "smtp_error", None) or getattr(exc, "strerror", None) \
                    or exc.__class__.__name__
                if isinstance(reason, bytes):
                    reason = reason.decode("utf-8", "replace")
                print(sanitize(f"kpictl: could not send to {r.handle} <{r.email}>: {reason} "
                               "(will be tried again next run)"), file=sys.stderr)
                continue
            with db.session(write=True) as session:  # recorded once it left: sent once
                record_sent(session=session, now=clock(session, now), recipient=r.handle,
                            items=r.items)
            sent += 1
            nudges += len(r.items)
    st.say(f"sent {nudges} nudge(s) in {sent} mail(s) via {smtp.shown}")
    if failed:
        raise RuntimeFailure(f"{failed} of {len(sendable)} mail(s) could not be sent")


def register(app: typer.Typer) -> None:
    app.command("nudge", rich_help_panel="Track")(nudge)
