"""Four weeks of an hourly-cron `kpictl nudge --send` against a real SMTP server on loopback.

The team: ana → maya → ceo (a three-level reporting line); zoe (also under maya) is away in
week 2 with ben covering. ana never checks in; zoe checks in every week she is at work. Every
day at 09:00 and again at 10:00 (the cron running twice must not send twice) the test runs
`nudge --send` and reads what the server received. Expected days, computed by hand (weekly
slots from Mon 4 Jan 2027, grace 2 days, reminders 1 day ahead, escalation every 2 days):

* ana's first slot ends with Sun 10 Jan → reminder Sun 10 Jan (deadline within a day);
* stale once that deadline + 2 days passed → late notice Wed 13 Jan;
* still late 2 days later → maya (level 1) Fri 15 Jan; 4 days later → ceo (level 2) Sun 17 Jan;
* the reminder for the second slot (Sun 17 Jan) is ana's third unanswered reminder → the KPI is
  `unresponsive` from then on, and maya is told by the next run (Sun 17 Jan, 10:00);
* zoe is away 11–17 Jan: nothing reaches her address then; her reminder for that week goes to
  ben, and her missed week is not charged to her in `report --by owner`.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.cli.conftest import ok
from tests.smtp import smtp_server

MAIL = {"ceo": "ceo@example.com", "maya": "maya@example.com", "ana": "ana@example.com",
        "zoe": "zoe@example.com", "ben": "ben@example.com"}
START = date(2027, 1, 4)  # a Monday


def _team(run):
    ok(run, "people", "add", "ceo", "--name", "Cleo Executive", "--email", MAIL["ceo"])
    ok(run, "people", "add", "maya", "--name", "Maya Okafor", "--email", MAIL["maya"],
       "--manager", "ceo")
    ok(run, "people", "add", "ana", "--name", "Ana Lima", "--email", MAIL["ana"],
       "--manager", "maya")
    ok(run, "people", "add", "zoe", "--name", "Zoe Park", "--email", MAIL["zoe"],
       "--manager", "maya")
    ok(run, "people", "add", "ben", "--name", "Ben Carter", "--email", MAIL["ben"],
       "--manager", "maya")
    ok(run, "assign", "sales.arr", "--to", "ana", "--title", "New ARR", "--target", "100",
       "--start", "2027-01-04", "--due", "2027-01-31", "--cadence", "weekly", "--by", "maya")
    ok(run, "assign", "ops.tickets", "--to", "zoe", "--title", "Tickets closed", "--target",
       "50", "--start", "2027-01-04", "--due", "2027-01-31", "--cadence", "weekly",
       "--by", "maya")
    ok(run, "people", "away", "zoe", "--from", "2027-01-11", "--until", "2027-01-17",
       "--cover", "ben")


def _items(message) -> list[str]:
    """The item lines of the plain-text part ("- …")."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    return [line[2:] for line in text.splitlines() if line.startswith("- ")]


@pytest.mark.slow
def test_nudge_four_weeks_reminders_late_escalation_away_unresponsive(run, monkeypatch):
    _team(run)
    received: dict[date, list] = {}
    with smtp_server() as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        monkeypatch.setenv("KPICTL_MAIL_FROM", "kpictl@example.com")
        for offset in range(28):
            day = START + timedelta(days=offset)
            before = len(box.messages)
            if day.weekday() == 2 and not date(2027, 1, 11) <= day <= date(2027, 1, 17):
                monkeypatch.setenv("KPICTL_NOW", f"{day}T08:00:00+00:00")
                ok(run, "checkin", "ops.tickets", str(10 * (offset // 7 + 1)), "--by", "zoe")
            for hour in ("09", "10"):
                monkeypatch.setenv("KPICTL_NOW", f"{day}T{hour}:00:00+00:00")
                result = run("-q", "nudge", "--send")
                assert result.exit_code == 0, result.stderr
                assert result.stdout == "" and result.stderr == ""
            received[day] = box.messages[before:]

    def lines(day: date, who: str) -> list[str]:
        return [line for m in received[day] if MAIL[who] in m["To"] for line in _items(m)]

    def days_with(who: str, needle: str) -> list[date]:
        return [d for d in received if any(needle in line for line in lines(d, who))]

    # The owner: one reminder before each deadline, then one late notice per unanswered slot.
    assert days_with("ana", "Check in on sales.arr") == [date(2027, 1, 10), date(2027, 1, 17),
                                                          date(2027, 1, 24), date(2027, 1, 31)]
    assert days_with("ana", "The check-in on sales.arr") == [date(2027, 1, 13),
                                                              date(2027, 1, 20),
                                                              date(2027, 1, 27)]
    # The ladder: the manager after 2 days late, the skip-level after 4, each once.
    assert days_with("maya", "ana's sales.arr (New ARR) for") == [date(2027, 1, 15)]
    assert "level 1" in lines(date(2027, 1, 15), "maya")[0]
    assert days_with("ceo", "ana's sales.arr (New ARR) for") == [date(2027, 1, 17)]
    assert "level 2" in lines(date(2027, 1, 17), "ceo")[0]
    # Three unanswered reminders (10, 13 and 17 Jan at 09:00): the manager is told by the
    # next run (10:00), once.
    assert days_with("maya", "has not answered") == [date(2027, 1, 17)]
    # Away: nothing reaches zoe in her window; ben covers her reminder for that week.
    away = [d for d in received if date(2027, 1, 11) <= d <= date(2027, 1, 17)]
    assert all(not lines(d, "zoe") for d in away)
    assert days_with("ben", "zoe's ops.tickets") == [date(2027, 1, 17)]
    assert "(for zoe, who is away)" in lines(date(2027, 1, 17), "ben")[0]
    assert days_with("zoe", "Check in on ops.tickets") == []  # she checks in on Wednesdays
    # Each message once: the 10:00 runs sent nothing the 09:00 runs had not.
    every = [(m["To"], line) for msgs in received.values() for m in msgs for line in _items(m)]
    assert len(every) == len(set(every))

    # The report flags the KPI, and zoe's away week is not charged as missed.
    monkeypatch.setenv("KPICTL_NOW", "2027-01-18T12:00:00+00:00")
    row = ok(run, "report", "--json").json()
    flags = {k["key"]: k["flags"] for k in row["kpis"]}
    assert "unresponsive" in flags["sales.arr"] and "unresponsive" not in flags["ops.tickets"]
    assert "unresponsive" not in {f for f in ok(run, "report", "--json", "--as-of",
                                                "2027-01-16").json()["kpis"][0]["flags"]}
    owners = {o["handle"]: o for o in ok(run, "report", "--by", "owner", "--json").json()
              ["owners"]}
    assert owners["zoe"]["checkins_missed"] == 0
    assert owners["ana"]["checkins_missed"] == 1  # the week of 4 Jan (judged by 18 Jan noon)


def test_nudge_mail_is_multipart_with_headers_and_escaped_text(run, monkeypatch):
    _team(run)
    ok(run, "assign", "sales.arr", "--title", "<b>ARR</b> \x1b[31mred")
    monkeypatch.setenv("KPICTL_NOW", "2027-01-10T09:00:00+00:00")
    with smtp_server() as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        monkeypatch.setenv("KPICTL_MAIL_FROM", "kpictl@example.com")
        result = ok(run, "nudge", "--send", "--to", "ana")
    assert result.stdout == ""
    assert result.stderr.strip().startswith("sent 1 nudge(s) in 1 mail(s) via smtp://127.0.0.1:")
    (message,) = box.messages
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == "Ana Lima <ana@example.com>"
    assert message["From"] == "kpictl@example.com"
    assert message["Date"].datetime.isoformat() == "2027-01-10T09:00:00+00:00"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(
        "@example.com>")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "\x1b" not in text and "\\x1b[31mred" in text
    assert "<b>ARR</b>" not in html and "&lt;b&gt;ARR&lt;/b&gt;" in html
    assert 'data-type="checkin_due"' in html


def test_nudge_smtp_failure_for_one_recipient_leaves_it_for_the_next_run(run, monkeypatch):
    _team(run)
    monkeypatch.setenv("KPICTL_NOW", "2027-01-10T09:00:00+00:00")  # ana and zoe are due
    with smtp_server() as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        box.refuse.add(MAIL["ana"])
        result = run("nudge", "--send")
        assert result.exit_code == 1
        assert "could not send to ana <ana@example.com>" in result.stderr
        assert result.stderr.splitlines()[-1] == ("kpictl: error: 1 of 2 mail(s) could not "
                                                  "be sent")
        assert [m["To"].addresses[0].addr_spec for m in box.messages] == [MAIL["zoe"]]
        box.refuse.clear()
        ok(run, "nudge", "--send")
        assert [m["To"].addresses[0].addr_spec for m in box.messages] == [MAIL["zoe"],
                                                                          MAIL["ana"]]
        ok(run, "nudge", "--send")
        assert len(box.messages) == 2
