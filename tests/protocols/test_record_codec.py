"""Card and OBU records: round trips, a captured 0015, BCD rules, plates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import RecordError, bcd, decode_issuer_info, encode_issuer_info
from protocols.records import CardType, Plate, VehicleClass
from tests.protocols import strategies

#: A captured 0015 (issuer Shandong, A card, plate 鲁L71R86), used as it is.
CAPTURED_0015 = bytes.fromhex(
    "C9BDB6AB37010001" "17" "10" "3701" "1901230211225128" "20201124" "20301124"
    "C2B34C373152383600000000" "00" "00" "01" "00000000000000"
)


@pytest.mark.parametrize("kind", list(strategies.RECORDS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_record_type_round_trips(kind: str, data: st.DataObject) -> None:
    strategy, encode, decode = strategies.RECORDS[kind]
    record = data.draw(strategy)
    assert decode(encode(record)) == record


@pytest.mark.parametrize("kind", list(strategies.RECORDS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_bytes_decode_losslessly_or_raise_record_error(
    kind: str, data: st.DataObject
) -> None:
    strategy, encode, decode = strategies.RECORDS[kind]
    size = len(encode(data.draw(strategy)))
    raw = data.draw(strategies.raw(size))
    try:
        record = decode(raw)
    except RecordError:
        return
    assert encode(record) == raw


@pytest.mark.parametrize("kind", list(strategies.RECORDS))
def test_wrong_length_is_a_record_error(kind: str) -> None:
    _, _, decode = strategies.RECORDS[kind]
    with pytest.raises(RecordError):
        decode(bytes(44))


def test_captured_0015_decodes_as_documented() -> None:
    record = decode_issuer_info(CAPTURED_0015)
    assert record.card_type is CardType.CREDIT
    assert record.network == CAPTURED_0015[10:12].hex()
    assert record.card_serial == CAPTURED_0015[12:20].hex()
    assert record.card_number == "3701" + "1901230211225128"
    assert (record.start_date, record.expiry_date) == (dt.date(2020, 11, 24), dt.date(2030, 11, 24))
    assert record.plate.text == "鲁L71R86"
    assert record.vehicle_class is VehicleClass.PASSENGER_1
    assert encode_issuer_info(record) == CAPTURED_0015


def test_captured_0015_in_its_short_form() -> None:
    record = decode_issuer_info(CAPTURED_0015[:43])
    assert record.reserved == b""
    assert encode_issuer_info(record) == CAPTURED_0015[:43]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("00000000", None), ("20240229", dt.date(2024, 2, 29))],
)
def test_bcd_dates(raw: str, expected: Any) -> None:
    assert bcd.decode_date(bytes.fromhex(raw)) == expected
    assert bcd.encode_date(expected).hex() == raw


@pytest.mark.parametrize("raw", ["2023022a", "20230229", "20231301", "00000001"])
def test_invalid_bcd_dates_are_record_errors(raw: str) -> None:
    with pytest.raises(RecordError):
        bcd.decode_date(bytes.fromhex(raw))


@pytest.mark.parametrize("raw", ["2021010417135a", "20210104246000"])
def test_invalid_bcd_datetimes_are_record_errors(raw: str) -> None:
    with pytest.raises(RecordError):
        bcd.decode_datetime(bytes.fromhex(raw))


@given(st.datetimes().map(lambda value: value.replace(microsecond=0)))
def test_bcd_datetime_round_trips(value: dt.datetime) -> None:
    assert bcd.decode_datetime(bcd.encode_datetime(value)) == value


def test_bcd_digits_refuse_wrong_size_and_non_digits() -> None:
    with pytest.raises(RecordError):
        bcd.encode_digits("370", 2)
    with pytest.raises(RecordError):
        bcd.encode_digits("37x1", 2)


def test_plate_from_text_is_gbk_zero_padded_and_too_long_is_refused() -> None:
    assert Plate.from_text("鲁L71R86").raw == CAPTURED_0015[28:40]
    with pytest.raises(RecordError):
        Plate.from_text("鲁L71R86鲁L71R86")


@pytest.mark.parametrize("kind", list(strategies.RECORDS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_flat_and_interpreted_record_codecs_agree(kind: str, data: st.DataObject) -> None:
    strategy, encode, decode = strategies.RECORDS[kind]
    record = data.draw(strategy)
    raw = encode(record)
    assert raw == encode(record, compiled=False)
    noise = data.draw(strategies.raw(len(raw)))
    for candidate in (raw, noise):
        outcomes = []
        for compiled in (True, False):
            try:
                outcomes.append(decode(candidate, compiled=compiled))
            except RecordError:
                outcomes.append(RecordError)
        assert outcomes[0] == outcomes[1]


def _reference_date(raw: bytes) -> Any:
    """BCD as text, the way the layout is documented: None, a date, or RecordError."""
    if not any(raw):
        return None
    text = raw.hex()
    if not text.isdigit():
        return RecordError
    numbers = [int(text[:4])] + [int(text[i:i + 2]) for i in range(4, len(text), 2)]
    try:
        return dt.datetime(*numbers) if len(raw) == 7 else dt.date(*numbers)
    except ValueError:
        return RecordError


_BCD_BYTES = st.sampled_from([0x00, 0x01, 0x09, 0x0A, 0x12, 0x19, 0x20, 0x23, 0x24, 0x29, 0x30,
                              0x31, 0x59, 0x60, 0x99, 0x9A, 0xA0, 0xFF])


@settings(max_examples=300, deadline=None)
@given(st.lists(_BCD_BYTES | st.integers(0, 255), min_size=7, max_size=7).map(bytes))
def test_bcd_dates_and_times_follow_the_text_reference(raw: bytes) -> None:
    for decode, size in ((bcd.decode_date, 4), (bcd.decode_datetime, 7)):
        try:
            outcome: Any = decode(raw[:size])
        except RecordError:
            outcome = RecordError
        assert outcome == _reference_date(raw[:size])


@given(st.dates())
def test_bcd_dates_encode_as_their_digits(value: dt.date) -> None:
    assert bcd.encode_date(value).hex() == f"{value.year:04d}{value.month:02d}{value.day:02d}"


@pytest.mark.parametrize("digits", ["12 4", " 234", "12\n4", "１２３４", "gh12"])
def test_bcd_digits_refuse_whitespace_and_foreign_digits(digits: str) -> None:
    with pytest.raises(RecordError):
        bcd.encode_digits(digits, 2)
