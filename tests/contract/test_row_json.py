"""render/rowjson.py: a portfolio's rows written as JSON by generated per-class encoders must be
byte for byte what the standard library's encoder writes of the same document — for every
kind of value a row can hold, and for values of the wrong kind (which fall back to it)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpictl.render import machine, rowjson
from kpictl.schemas import Forecast, KpiRow

pytestmark = pytest.mark.backend_free

AT = datetime(2026, 6, 15, 12, tzinfo=UTC)


def standard(**body) -> str:
    """The document as write_envelope wrote it before rowjson: json.dumps with the read
    models' default, or (a NaN or infinity somewhere) the exact route through plain()."""
    document = {"schema": "kpictl.report/1", "generated_at": machine.iso(AT), **body}
    try:
        return json.dumps(document, ensure_ascii=False, allow_nan=False,
                          default=machine._encode_default, check_circular=False)
    except ValueError:
        return machine.dumps(machine.envelope("report", AT, **body), indent=None)


def written(**body) -> str:
    out = io.StringIO()
    machine.write_envelope("report", AT, out=out, **body)
    return out.getvalue()


texts = st.text(max_size=12)
optional_texts = st.none() | texts
instants = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 30),
                        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                   timezone(-timedelta(hours=8))]))
#: Values of their annotated kinds (the fast road), and of other kinds too (which must fall
#: back to the standard encoder: ints and bools where floats belong, NaN and infinities).
PROPER = {"numbers": st.floats(allow_nan=False, allow_infinity=False) | st.just(-0.0)
          | st.just(1e16) | st.just(1.5e-7), "counts": st.integers(0, 10**20)}
ANY = {"numbers": PROPER["numbers"] | st.floats() | st.integers(-10**20, 10**20)
       | st.booleans(), "counts": PROPER["counts"] | st.booleans()}


def rows(kinds: dict):
    numbers, counts = kinds["numbers"], kinds["counts"]
    optional_numbers = st.none() | numbers
    forecasts = st.none() | st.builds(
        Forecast, method=st.sampled_from(["ols", "ols-plan"]), points=counts,
        value_at_due=numbers, low=numbers, high=numbers, probability=numbers,
        eta=st.none() | instants, rate=numbers, required_rate=optional_numbers)
    periods = st.none() | st.fixed_dictionaries({
        "label": texts, "start": instants, "end": instants, "target": optional_numbers,
        "value": optional_numbers})
    return st.builds(
        KpiRow, key=texts, title=texts, owner=optional_texts, kind=texts, unit=optional_texts,
        baseline=optional_numbers, target=optional_numbers, low=optional_numbers,
        high=optional_numbers, start=instants, due=instants, cadence=texts, grace=texts,
        tags=st.lists(texts, max_size=3), state=texts, current=optional_numbers,
        last_checkin_at=st.none() | instants, next_checkin_due=st.none() | instants,
        checkins=counts, progress=optional_numbers, progress_raw=optional_numbers,
        expected_progress=optional_numbers, status=texts, flags=st.lists(texts, max_size=3),
        confidence=st.none() | counts, blocker=optional_texts, forecast=forecasts,
        days_left=numbers, suggested_outcome=optional_texts, zone=texts, every=optional_texts,
        aggregate=optional_texts, period=periods, parent=optional_texts,
        weight=optional_numbers, children=st.lists(texts, max_size=3))


def body_of(kpi_rows) -> dict:
    return {"as_of": AT, "filters": {"owner": None, "tag": "q4"}, "kpis": kpi_rows,
            "summary": {"total": len(kpi_rows)}}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(PROPER), min_size=1, max_size=4))
def test_rows_of_their_kinds_take_the_generated_encoders_and_read_the_same(kpi_rows):
    assert rowjson.encode_rows(kpi_rows) is not None  # the fast road
    assert written(**body_of(kpi_rows)) == standard(**body_of(kpi_rows)) + "\n"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(ANY), min_size=1, max_size=4))
def test_rows_of_any_values_are_written_as_the_standard_encoder_writes_them(kpi_rows):
    assert written(**body_of(kpi_rows)) == standard(**body_of(kpi_rows)) + "\n"


def test_a_report_row_has_a_generated_encoder_and_an_exact_one():
    """The fast road is taken for report rows (a field of a kind rowjson cannot write would
    silently take the slow one), and writes what json.dumps writes."""
    row = KpiRow(key="sales.arr", title='New "ARR" € \u2028\x1b', owner=None, kind="increase",
                 unit="kEUR", baseline=0.0, target=100.0, low=None, high=None, start=AT,
                 due=AT + timedelta(days=30, microseconds=5), cadence="weekly", grace="2d",
                 tags=["q4", "sales"], state="active", current=45.5, last_checkin_at=AT,
                 next_checkin_due=None, checkins=3, progress=0.455, progress_raw=0.455,
                 expected_progress=0.5, status="at_risk", flags=["low_confidence"],
                 confidence=2, blocker="legal\nreview", days_left=29.5,
                 forecast=Forecast(method="ols", points=3, value_at_due=1e16, low=-0.0,
                                   high=1.5e-7, probability=0.25, eta=None, rate=0.1,
                                   required_rate=None),
                 period={"label": "2026-W24", "start": AT, "value": None})
    assert rowjson.encoder_for(KpiRow) is not None
    assert "".join(rowjson.encode_rows([row])) == json.dumps(
        [row], ensure_ascii=False, allow_nan=False, default=machine._encode_default)
    assert written(kpis=[row]) == standard(kpis=[row]) + "\n"
    many = [row] * 2_500  # rows are joined a thousand at a time: across the joins too
    assert written(kpis=many) == standard(kpis=many) + "\n"
