"""services/checkins.py: recording progress, validation, idempotency keys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kpictl.errors import Conflict, InvalidInput, NotFound
from kpictl.models import Checkin
from kpictl.services.checkins import record_checkin

from .conftest import utc


@pytest.fixture
def kpi(team):
    team.kpi("sales.arr", to="ana", unit="EUR")
    return team


def checkin(svc, value, **kw):
    return svc.call(record_checkin, key=kw.pop("key", "sales.arr"), value=value, **kw)


def test_checkin_records_every_field(kpi, now):
    at = utc(2026, 11, 26, 16)
    result = checkin(kpi, 42.5, at=at, by="maya", confidence=7, note=" two deals ",
                     blocker="legal review", idem_key="k-1", source="api")
    assert result.action == "checkin.recorded"
    assert result.message == "recorded sales.arr = 42.5 EUR"
    assert result.data == {"key": "sales.arr", "written": 1, "skipped": 0}
    [c] = kpi.detail("sales.arr").checkins
    assert (c.value, c.measured_at, c.recorded_at, c.by, c.confidence, c.note, c.blocker,
            c.source, c.key) == (42.5, at, now, "maya", 7, "two deals", "legal review", "api",
                                 "k-1")


def test_checkin_defaults_to_now_and_owner(kpi, now):
    checkin(kpi, 10.0)
    [c] = kpi.detail("sales.arr").checkins
    assert (c.measured_at, c.by, c.source, c.confidence) == (now, "ana", "cli", None)


def test_checkin_updates_report_current_and_progress(kpi):
    checkin(kpi, 10.0, at=utc(2026, 11, 10))
    checkin(kpi, 40.0, at=utc(2026, 11, 20))
    row = kpi.row("sales.arr")
    assert (row.current, row.progress, row.checkins) == (40.0, 0.4, 2)
    assert row.last_checkin_at == utc(2026, 11, 20)


def test_checkin_latest_is_by_measured_time_not_recording_order(kpi):
    checkin(kpi, 40.0, at=utc(2026, 11, 20))
    checkin(kpi, 10.0, at=utc(2026, 11, 10))  # back-filled later
    assert kpi.row("sales.arr").current == 40.0


@pytest.mark.parametrize("confidence", [-1, 11])
def test_checkin_confidence_out_of_range_is_invalid(kpi, confidence):
    with pytest.raises(InvalidInput, match=f"invalid --confidence {confidence}"):
        checkin(kpi, 1.0, confidence=confidence)
    assert kpi.rows(Checkin) == []


@pytest.mark.parametrize("confidence", [0, 10])
def test_checkin_confidence_bounds_are_accepted(kpi, confidence):
    checkin(kpi, 1.0, confidence=confidence)
    assert [c.confidence for c in kpi.rows(Checkin)] == [confidence]


def test_checkin_in_future_is_invalid_beyond_clock_skew(kpi, now):
    with pytest.raises(InvalidInput, match="is in the future"):
        checkin(kpi, 1.0, at=now + timedelta(minutes=6))
    assert kpi.rows(Checkin) == []
    checkin(kpi, 1.0, at=now + timedelta(minutes=4))  # tolerated skew
    assert len(kpi.rows(Checkin)) == 1


def test_checkin_unknown_kpi_is_not_found_with_suggestion(kpi):
    with pytest.raises(NotFound) as info:
        checkin(kpi, 1.0, key="sales.ar")
    assert str(info.value) == "no KPI 'sales.ar'; did you mean 'sales.arr'? See `kpictl report`."


def test_checkin_unknown_author_is_not_found(kpi):
    with pytest.raises(NotFound, match="no person 'bobb'; did you mean 'bob'"):
        checkin(kpi, 1.0, by="bobb")
    assert kpi.rows(Checkin) == []


def test_checkin_nul_byte_in_note_is_invalid(kpi):
    with pytest.raises(InvalidInput, match="--note contains a NUL byte"):
        checkin(kpi, 1.0, note="a\x00b")
    assert kpi.rows(Checkin) == []


def test_checkin_same_key_and_value_twice_records_once(kpi):
    first = checkin(kpi, 42.0, idem_key="push-1")
    second = checkin(kpi, 42.0, idem_key="push-1")
    assert first.action == "checkin.recorded"
    assert second.action == "checkin.duplicate"
    assert second.data == {"key": "sales.arr", "written": 0, "skipped": 1}
    assert [(c.value, c.idem_key) for c in kpi.rows(Checkin)] == [(42.0, "push-1")]


def test_checkin_same_key_and_explicit_same_time_is_duplicate(kpi):
    at = utc(2026, 11, 20)
    checkin(kpi, 42.0, idem_key="push-1", at=at)
    assert checkin(kpi, 42.0, idem_key="push-1", at=at).action == "checkin.duplicate"
    assert len(kpi.rows(Checkin)) == 1


def test_checkin_same_key_different_value_is_conflict(kpi):
    checkin(kpi, 42.0, idem_key="push-1")
    with pytest.raises(Conflict, match="check-in key 'push-1' was already used on sales.arr"):
        checkin(kpi, 43.0, idem_key="push-1")
    assert [c.value for c in kpi.rows(Checkin)] == [42.0]


def test_checkin_same_key_different_time_is_conflict(kpi):
    checkin(kpi, 42.0, idem_key="push-1", at=utc(2026, 11, 20))
    with pytest.raises(Conflict):
        checkin(kpi, 42.0, idem_key="push-1", at=utc(2026, 11, 21))
    assert len(kpi.rows(Checkin)) == 1


def test_checkin_idempotency_key_is_per_kpi(kpi):
    kpi.kpi("sales.leads", to="ana")
    checkin(kpi, 1.0, idem_key="same")
    checkin(kpi, 1.0, idem_key="same", key="sales.leads")
    assert len(kpi.rows(Checkin)) == 2


def test_checkin_without_key_twice_records_twice(kpi):
    checkin(kpi, 1.0)
    checkin(kpi, 1.0)
    assert len(kpi.rows(Checkin)) == 2


def test_checkin_blocker_marks_blocked_until_next_checkin(kpi):
    checkin(kpi, 40.0, at=utc(2026, 11, 25), blocker="waiting for legal")
    row = kpi.row("sales.arr")
    assert row.blocker == "waiting for legal"
    assert "blocked" in row.flags
    checkin(kpi, 45.0, at=utc(2026, 11, 26))
    row = kpi.row("sales.arr")
    assert row.blocker is None
    assert "blocked" not in row.flags
