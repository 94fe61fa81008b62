"""The load APDUs of card.md §3.1a: exact bytes, round trips, P1/P2 and length refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.apdu import (
    LOAD_INITIALIZED_LENGTH,
    Command,
    CommandRejected,
    CreditForLoad,
    GetTransactionProve,
    InitializeForCappPurchase,
    InitializeForLoad,
    LoadInitialized,
    StatusWord,
    decode_command,
    decode_load_initialized,
    decode_load_tac,
    encode_command,
    encode_load_initialized,
)
from protocols.errors import ApduError
from protocols.frames import AlgFlag

H = bytes.fromhex
WHEN = dt.datetime(2011, 12, 21, 21, 48, 22)

SPEC_LOAD_COMMANDS: list[tuple[str, Command]] = [
    ("805000020B" "01" "00001000" "001122334455" "10",
     InitializeForLoad(1, 0x1000, H("001122334455"))),
    ("805000010B" "01" "00001000" "001122334455" "10",
     InitializeForLoad(1, 0x1000, H("001122334455"), load_type=0x01)),
    ("805200000B" "20111221" "214822" "3A845BF0" "04", CreditForLoad(WHEN, H("3A845BF0"))),
    ("805A0002020007", GetTransactionProve(ctc=7, trans_type=0x02)),
]


@pytest.mark.parametrize(("raw", "command"), SPEC_LOAD_COMMANDS)
def test_spec_bytes_encode_and_decode(raw: str, command: Command) -> None:
    assert encode_command(command) == H(raw)
    assert decode_command(H(raw)) == command


@pytest.mark.parametrize(("raw", "command"), SPEC_LOAD_COMMANDS[:3])
def test_the_le_may_be_left_off_but_nothing_may_follow_it(raw: str, command: Command) -> None:
    data = H(raw)
    assert decode_command(data[:-1]) == command
    with pytest.raises(CommandRejected) as info:
        decode_command(data + b"\x00")
    assert info.value.status_word is StatusWord.WRONG_LENGTH
    for cut in range(len(data) - 1):
        with pytest.raises(CommandRejected):
            decode_command(data[:cut])


def test_p1_tells_a_load_from_a_purchase_and_other_p1_p2_are_refused() -> None:
    body = "0B" "01" "00001000" "001122334455"
    assert isinstance(decode_command(H("80500302" + body)), InitializeForCappPurchase)
    assert isinstance(decode_command(H("80500002" + body)), InitializeForLoad)
    for header in ("80500003", "80500102", "80500301", "80520100"):
        raw = header + (body if header.startswith("8050") else "0B" + "00" * 11)
        with pytest.raises(CommandRejected) as info:
            decode_command(H(raw))
        assert info.value.status_word is StatusWord.WRONG_P1_P2, header


def test_a_credit_with_a_date_that_is_not_bcd_is_wrong_data() -> None:
    with pytest.raises(CommandRejected) as info:
        decode_command(H("805200000B" "20111321" "214822" "3A845BF0"))
    assert info.value.status_word is StatusWord.WRONG_DATA


@pytest.mark.parametrize("command", [
    InitializeForLoad(1, 2**32, H("001122334455")),
    InitializeForLoad(1, 1, H("0011")),
    CreditForLoad(WHEN, H("3A84")),
])
def test_encoding_refuses_fields_that_do_not_fit(command: Command) -> None:
    with pytest.raises(ApduError):
        encode_command(command)


SIX = st.binary(min_size=6, max_size=6)
SECONDS = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2099, 12, 31)
                       ).map(lambda t: t.replace(microsecond=0))


@given(st.one_of(
    st.builds(InitializeForLoad, st.integers(0, 255), st.integers(0, 2**32 - 1), SIX,
              st.sampled_from([1, 2])),
    st.builds(CreditForLoad, SECONDS, st.binary(min_size=4, max_size=4)),
))
@settings(max_examples=100)
def test_round_trip(command: Command) -> None:
    assert decode_command(encode_command(command)) == command


def test_initialize_for_load_response_layout() -> None:
    raw = H("00002710" "0003" "01" "00" "11223344" "2988AE5A")
    value = decode_load_initialized(raw)
    assert value == LoadInitialized(10_000, 3, 1, AlgFlag.TDES, H("11223344"), H("2988AE5A"))
    assert encode_load_initialized(value) == raw and len(raw) == LOAD_INITIALIZED_LENGTH
    assert decode_load_initialized(raw[:7] + b"\x09" + raw[8:]).algorithm == 9
    for bad in (raw[:-1], raw + b"\x00"):
        with pytest.raises(ApduError):
            decode_load_initialized(bad)
    with pytest.raises(ApduError):
        encode_load_initialized(LoadInitialized(2**32, 0, 1, 0, H("00") * 4, H("00") * 4))


def test_credit_for_load_answers_the_tac_alone() -> None:
    assert decode_load_tac(H("FF5C1389")) == H("FF5C1389")
    for bad in (H("FF5C13"), H("FF5C138900")):
        with pytest.raises(ApduError):
            decode_load_tac(bad)
