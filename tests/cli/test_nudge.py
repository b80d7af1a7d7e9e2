"""`kpictl nudge` and `kpictl people away`: the CLI contract (formats, errors, what is
recorded), each item type once. The four-week ladder over real SMTP is
tests/scenario/test_nudge_ladder.py."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from kpictl import jsonschemas
from tests.cli.conftest import assert_error, dump_db, ok
from tests.smtp import smtp_server


def _team(run):
    ok(run, "people", "add", "maya", "--name", "Maya Okafor", "--email", "maya@example.com")
    ok(run, "people", "add", "ana", "--name", "Ana Lima", "--manager", "maya",
       "--email", "ana@example.com")
    ok(run, "people", "add", "ben", "--name", "Ben Carter", "--manager", "maya")
    ok(run, "assign", "sales.arr", "--to", "ana", "--title", "New ARR", "--target", "100",
       "--start", "2027-01-04", "--due", "2027-01-31", "--cadence", "weekly", "--by", "maya")


def _at(monkeypatch, instant: str) -> None:
    monkeypatch.setenv("KPICTL_NOW", instant)


def _items(run, *args):
    doc = ok(run, "nudge", "--json", *args).json()
    return [(r["handle"], i["type"], i["kpi"], i["level"]) for r in doc["recipients"]
            for i in r["items"]]


def test_nudge_json_validates_and_names_each_item(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-10T09:00:00+00:00")
    doc = ok(run, "nudge", "--json").json()
    Draft202012Validator(jsonschemas.load("nudge")).validate(doc)
    assert doc["schema"] == "kpictl.nudge/1" and doc["as_of"] == "2027-01-10T09:00:00Z"
    (recipient,) = doc["recipients"]
    assert (recipient["handle"], recipient["name"], recipient["email"]) == (
        "ana", "Ana Lima", "ana@example.com")
    (item,) = recipient["items"]
    assert item == {"type": "checkin_due", "kpi": "sales.arr", "title": "New ARR",
                    "owner": "ana", "level": 0, "deadline": item["deadline"],
                    "late_by_s": None, "status": "no_data", "covering": None, "sent_at": None,
                    "zone": "UTC", "slot": item["deadline"]}
    assert item["deadline"].startswith("2027-01-1")


def test_nudge_nothing_due_is_an_empty_list(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-05T09:00:00+00:00")
    assert ok(run, "nudge", "--json").json()["recipients"] == []
    assert ok(run, "nudge").stdout.startswith("Nothing to nudge anyone about")


def test_nudge_late_escalates_and_stops_at_the_top(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-13T09:00:00+00:00")  # deadline + grace passed: late
    assert _items(run) == [("ana", "checkin_late", "sales.arr", 0)]
    _at(monkeypatch, "2027-01-24T09:00:00+00:00")  # 11 days late: maya, and nobody above her
    assert sorted(_items(run)) == [("ana", "checkin_due", "sales.arr", 0),
                                   ("ana", "checkin_late", "sales.arr", 0),
                                   ("maya", "escalation", "sales.arr", 1)]


def test_nudge_feedback_due_until_the_manager_reacts(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-06T09:00:00+00:00")
    ok(run, "checkin", "sales.arr", "5", "--by", "ana", "--blocker", "no budget")
    assert ("maya", "feedback_due", "sales.arr", 1) in _items(run)
    _at(monkeypatch, "2027-01-06T10:00:00+00:00")
    ok(run, "feedback", "sales.arr", "Let's talk budget", "--by", "maya")
    _at(monkeypatch, "2027-01-06T11:00:00+00:00")
    assert ("maya", "feedback_due", "sales.arr", 1) not in _items(run)


def test_nudge_close_due_to_owner_and_manager(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-02-02T09:00:00+00:00")
    assert sorted(_items(run)) == [("ana", "close_due", "sales.arr", 0),
                                   ("maya", "close_due", "sales.arr", 1)]
    ok(run, "close", "sales.arr", "--outcome", "missed", "--by", "maya")
    assert _items(run) == []


def test_nudge_away_goes_to_the_cover_else_the_manager(run, monkeypatch):
    _team(run)
    ok(run, "people", "away", "ana", "--from", "2027-01-09", "--until", "2027-01-12",
       "--cover", "ben")
    _at(monkeypatch, "2027-01-10T09:00:00+00:00")
    doc = ok(run, "nudge", "--json").json()
    assert [(r["handle"], r["items"][0]["covering"]) for r in doc["recipients"]] == [
        ("ben", "ana")]
    ok(run, "people", "away", "ana", "--clear")
    assert _items(run) == [("ana", "checkin_due", "sales.arr", 0)]  # back: her own again
    ok(run, "people", "away", "ana", "--until", "2027-01-12")  # from now, no cover
    assert _items(run) == [("maya", "checkin_due", "sales.arr", 0)]
    shown = ok(run, "people", "show", "ana", "--json").json()["away"]
    assert shown == [
        {"starts": "2027-01-09T00:00:00Z", "ends": "2027-01-10T08:59:59.999999Z",
         "cover": "ben"},
        {"starts": "2027-01-10T09:00:00Z", "ends": shown[1]["ends"], "cover": None}]
    assert shown[1]["ends"].startswith("2027-01-12T23:59:59")
    assert "away Sun 10 Jan 2027 → Tue 12 Jan 2027, their manager covers" in ok(
        run, "people", "show", "ana").stdout


def test_people_away_errors(run):
    _team(run)
    assert_error(run("people", "away", "ana", "--from", "2027-01-09"), 2,
                 "--until DATE is required (the last day away; or --clear)")
    assert_error(run("people", "away", "ana", "--from", "2027-01-09", "--until", "2027-01-02"),
                 2, "--until must not be before --from")
    assert_error(run("people", "away", "ana", "--until", "2027-01-02", "--cover", "ana"), 2)
    assert_error(run("people", "away", "nobody", "--until", "2027-01-02"), 3)
    ok(run, "people", "away", "ana", "--from", "2027-01-09", "--until", "2027-01-12")
    before = dump_db()
    assert_error(run("people", "away", "ana", "--from", "2027-01-11", "--until", "2027-01-20"),
                 4)
    assert dump_db() == before


def test_nudge_usage_errors_change_nothing(run, monkeypatch):
    _team(run)
    monkeypatch.delenv("KPICTL_SMTP_URL", raising=False)
    before = dump_db()
    assert_error(run("nudge", "--dry-run"), 2)
    assert_error(run("nudge", "--send"), 2, "--send needs KPICTL_SMTP_URL (e.g. "
                 "smtp://localhost:25 or smtps://mail.example.com)")
    monkeypatch.setenv("KPICTL_SMTP_URL", "http://example.com")
    assert_error(run("nudge", "--send"), 2)
    assert_error(run("nudge", "--to", "nobdy"), 3)
    assert_error(run("nudge", "--ahead", "soon"), 2)
    assert_error(run("nudge", "--give-up", "2.5"), 2,
                 "invalid --give-up '2.5': use a whole number from 1 to 100")
    assert_error(run("nudge", "--give-up", "0"), 2)
    assert_error(run("nudge", "--send", "--as-of", "-1d"), 2)
    assert dump_db() == before


def test_nudge_jsonl_is_records_only_and_md_has_a_section_per_recipient(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-20T09:00:00+00:00")
    lines = ok(run, "nudge", "-f", "jsonl").stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["recipient"] for r in records} == {"ana", "maya"}
    assert all("schema" not in r for r in records)
    md = ok(run, "nudge", "-f", "md").stdout
    assert "## ana — Ana Lima" in md and "## maya — Maya Okafor" in md
    csv = ok(run, "nudge", "-f", "csv").stdout.splitlines()
    assert csv[0].startswith("recipient,name,email,type,kpi")
    assert len(csv) == 1 + len(records)


def test_nudge_send_records_once_and_dry_run_records_nothing(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-24T09:00:00+00:00")
    with smtp_server() as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        before = dump_db()
        dry = ok(run, "nudge", "--send", "--dry-run")
        assert "would send 2 nudge(s) to ana <ana@example.com>" in dry.stderr
        assert box.messages == [] and dump_db() == before
        ok(run, "nudge", "--send")
        assert sorted(m["To"].addresses[0].addr_spec for m in box.messages) == [
            "ana@example.com", "maya@example.com"]
        assert all(i["sent_at"] for r in ok(run, "nudge", "--json").json()["recipients"]
                   for i in r["items"])
        ok(run, "nudge", "--send")
        assert len(box.messages) == 2


def test_nudge_recipient_without_email_is_listed_and_skipped(run, monkeypatch):
    _team(run)
    ok(run, "people", "away", "ana", "--from", "2027-01-09", "--until", "2027-01-12",
       "--cover", "ben")
    _at(monkeypatch, "2027-01-10T09:00:00+00:00")
    with smtp_server() as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        result = ok(run, "-q", "nudge", "--send")
        assert result.stderr == ("kpictl: ben has no e-mail address, not sent "
                                 "(`kpictl people edit ben --email ADDRESS`)\n")
        assert box.messages == []


def test_nudge_unreachable_server_is_one_line_without_the_password(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-10T09:00:00+00:00")
    monkeypatch.setenv("KPICTL_SMTP_URL", "smtp://u:s3cret@127.0.0.1:1")
    result = run("nudge", "--send")
    assert_error(result, 1)
    assert "s3cret" not in result.stderr and "smtp://127.0.0.1:1" in result.stderr


def test_nudge_logs_in_from_the_environment_or_netrc(run, monkeypatch, tmp_path):
    _team(run)
    _at(monkeypatch, "2027-01-10T09:00:00+00:00")
    with smtp_server(login=("kpictl", "pa:ss@word")) as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        refused = run("nudge", "--send")  # no credentials: the server refuses the mail
        assert refused.exit_code == 1 and box.messages == []
        netrc = tmp_path / "home" / ".netrc"
        netrc.write_text('machine 127.0.0.1 login kpictl password "pa:ss@word"\n')
        netrc.chmod(0o600)
        ok(run, "nudge", "--send")
        assert len(box.messages) == 1
        monkeypatch.setenv("KPICTL_SMTP_USER", "kpictl")
        monkeypatch.setenv("KPICTL_SMTP_PASSWORD", "wrong-s3cret")
        _at(monkeypatch, "2027-01-13T09:00:00+00:00")  # something new: the late notice
        result = run("nudge", "--send")
        assert_error(result, 1)
        assert "refused the login of 'kpictl'" in result.stderr
        assert "s3cret" not in result.stderr and "pa:ss" not in result.stderr
        assert len(box.messages) == 1


def test_people_away_confirms_in_the_users_zone(run, monkeypatch):
    _team(run)
    monkeypatch.setenv("KPICTL_TZ", "Europe/Berlin")
    result = ok(run, "people", "away", "ana", "--from", "2027-02-01", "--until", "2027-02-12",
                "--cover", "ben")
    assert result.stderr == ("ana away 2027-02-01 00:00 Europe/Berlin → 2027-02-12 23:59 "
                             "Europe/Berlin, covered by ben\n")
    again = run("people", "away", "ana", "--from", "2027-02-10", "--until", "2027-02-20")
    assert_error(again, 4, "ana is already away 2027-02-01 00:00 Europe/Berlin → 2027-02-12 "
                 "23:59 Europe/Berlin; `kpictl people away ana --clear` first")


@pytest.mark.parametrize("tls", ["starttls", "smtps"])
def test_nudge_mails_over_tls_when_the_server_offers_it(run, monkeypatch, tmp_path, tls):
    from tests.smtp import self_signed

    _team(run)
    _at(monkeypatch, "2027-01-10T09:00:00+00:00")
    cert = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", cert[0])  # the client trusts only this certificate
    with smtp_server(tls=tls, cert=cert) as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        ok(run, "nudge", "--send")  # starttls: the server refuses mail before STARTTLS
        assert [m["To"].addresses[0].addr_spec for m in box.messages] == ["ana@example.com"]
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))  # now it trusts nothing
    _at(monkeypatch, "2027-01-13T09:00:00+00:00")
    with smtp_server(tls=tls, cert=cert) as (url, box):
        monkeypatch.setenv("KPICTL_SMTP_URL", url)
        assert_error(run("nudge", "--send"), 1)  # an untrusted certificate is not used
        assert box.messages == []


def test_nudge_with_nothing_new_opens_no_connection(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-05T09:00:00+00:00")  # nothing due yet
    monkeypatch.setenv("KPICTL_SMTP_URL", "smtp://127.0.0.1:1")  # nothing listens there
    result = ok(run, "nudge", "--send")
    assert result.stderr == "nothing new to send\n"


def test_a_slot_due_while_away_is_passed_on_but_never_escalated(run, monkeypatch):
    _team(run)
    _at(monkeypatch, "2027-01-16T09:00:00+00:00")  # week 1 due Sun 10 Jan: 5 days late
    assert ("maya", "escalation", "sales.arr", 1) in _items(run)
    ok(run, "people", "away", "ana", "--from", "2027-01-09", "--until", "2027-01-20")
    doc = ok(run, "nudge", "--json").json()
    items = [(r["handle"], i["type"], i["level"], i["covering"]) for r in doc["recipients"]
             for i in r["items"]]
    assert items == [("maya", "checkin_late", 0, "ana")]  # her manager covers; no ladder
