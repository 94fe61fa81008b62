"""APDUs of card.md §3: exact bytes, round trips, and the status word for every malformed input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.apdu import (
    Command,
    CommandRejected,
    CreditSamForPurchase,
    DebitDone,
    DebitForCappPurchase,
    GetBalance,
    GetTransactionProve,
    InitializeForCappPurchase,
    InitSamForPurchase,
    PurchaseInitialized,
    ReadBinary,
    ReadRecord,
    Response,
    SamPurchaseStarted,
    Select,
    StatusWord,
    TransactionProof,
    UpdateCappDataCache,
    decode_balance,
    decode_command,
    decode_debit_done,
    decode_purchase_initialized,
    decode_response,
    decode_sam_purchase_started,
    decode_terminal_number,
    decode_transaction_proof,
    encode_balance,
    encode_command,
    encode_debit_done,
    encode_purchase_initialized,
    encode_sam_purchase_started,
    encode_transaction_proof,
)
from protocols.errors import ApduError
from protocols.frames import AlgFlag, TransType

H = bytes.fromhex
WHEN = dt.datetime(2024, 5, 17, 8, 30, 59)
RECORD = bytes(range(43))

# The bytes card.md §3 gives for each command, and the typed value they mean.
SPEC_COMMANDS: list[tuple[str, Command]] = [
    ("00A40000021001", Select()),
    ("00B0950032", ReadBinary(sfi=0x15, length=50)),
    ("00B2AACC2B", ReadRecord()),
    ("805C000204", GetBalance()),
    (
        "805003020B" "01" "00001000" "370100000001",
        InitializeForCappPurchase(1, 0x1000, H("370100000001")),
    ),
    ("80DCAAC82B" + RECORD.hex(), UpdateCappDataCache(RECORD)),
    (
        "805401000F" "00012345" "20240517" "083059" "C177B173",
        DebitForCappPurchase(0x12345, WHEN, H("C177B173")),
    ),
    ("805A0009020017", GetTransactionProve(ctc=0x17)),
    ("00B0960006", ReadBinary(sfi=0x16, length=6)),
    (
        "8070000024" "A1B2C3D4" "0017" "000004D2" "09" "20240517083059" "01" "04"
        "1901230211225128" "3701000137010001",
        InitSamForPurchase(
            icc_random=H("A1B2C3D4"),
            ctc=0x17,
            amount=1234,
            trans_type=TransType.COMPOSITE_PURCHASE,
            transaction_time=WHEN,
            key_version=1,
            algorithm=AlgFlag.SM4,
            card_serial=H("1901230211225128"),
            issuer_factor=H("3701000137010001"),
        ),
    ),
    ("8072000004" "56988A13", CreditSamForPurchase(H("56988A13"))),
]


@pytest.mark.parametrize(("raw", "command"), SPEC_COMMANDS)
def test_spec_bytes_encode_and_decode(raw: str, command: Command) -> None:
    assert encode_command(command) == H(raw)
    assert decode_command(H(raw)) == command


@pytest.mark.parametrize(("raw", "command"), SPEC_COMMANDS)
def test_trailing_le_is_tolerated_and_more_is_wrong_length(raw: str, command: Command) -> None:
    data = H(raw)
    if len(data) > 5:  # a command with a body: one Le byte may follow it
        assert decode_command(data + b"\x00") == command
    with pytest.raises(CommandRejected) as info:
        decode_command(data + b"\x00\x00")
    assert info.value.status_word is StatusWord.WRONG_LENGTH


@pytest.mark.parametrize(("raw", "command"), SPEC_COMMANDS)
def test_every_truncation_is_rejected_with_a_status_word(raw: str, command: Command) -> None:
    data = H(raw)
    for cut in range(len(data)):
        with pytest.raises(CommandRejected) as info:
            decode_command(data[:cut])
        assert info.value.status_word in (StatusWord.WRONG_LENGTH, StatusWord.WRONG_P1_P2)


def test_unknown_ins_wrong_cla_wrong_lc() -> None:
    cases = {
        "80CA000000": StatusWord.INS_NOT_SUPPORTED,
        "00A40000": StatusWord.WRONG_LENGTH,
        "80A40000021001": StatusWord.CLA_NOT_SUPPORTED,
        "005C000204": StatusWord.CLA_NOT_SUPPORTED,
        "00A4000003" "1001": StatusWord.WRONG_LENGTH,
        "00A4000001" "1001": StatusWord.WRONG_LENGTH,
        "00A40400021001": StatusWord.WRONG_P1_P2,
        "805401000F" "00012345" "20241317" "083059" "C177B173": StatusWord.WRONG_DATA,
        "805401000F" "00012345" "2024A517" "083059" "C177B173": StatusWord.WRONG_DATA,
        "805401000F" "00012345" "00000000" "000000" "C177B173": StatusWord.WRONG_DATA,
    }
    for raw, sw in cases.items():
        data = bytes.fromhex(raw)
        with pytest.raises(CommandRejected) as info:
            decode_command(data)
        assert info.value.status_word is sw, raw
        assert isinstance(info.value, ApduError)


def test_encoding_refuses_fields_that_do_not_fit() -> None:
    bad: list[Command] = [
        InitializeForCappPurchase(1, 2**32, H("370100000001")),
        InitializeForCappPurchase(1, 1, H("3701")),
        UpdateCappDataCache(RECORD[:42]),
        DebitForCappPurchase(2**32, WHEN, H("00000000")),
        CreditSamForPurchase(H("00")),
        ReadBinary(sfi=0x20, length=1),
        Select(file_id=0x10000),
    ]
    for command in bad:
        with pytest.raises(ApduError):
            encode_command(command)


DATETIMES = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2099, 12, 31))
FOUR = st.binary(min_size=4, max_size=4)
EIGHT = st.binary(min_size=8, max_size=8)
U8, U16, U32 = st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)

COMMANDS = st.one_of(
    st.builds(Select, U16),
    st.builds(ReadBinary, st.integers(1, 31), st.integers(1, 256), U8),
    st.builds(ReadRecord, U8, st.integers(0, 31), st.integers(1, 256)),
    st.just(GetBalance()),
    st.builds(InitializeForCappPurchase, U8, U32, st.binary(min_size=6, max_size=6)),
    st.builds(UpdateCappDataCache, st.binary(min_size=43, max_size=43), U8, st.integers(0, 31)),
    st.builds(DebitForCappPurchase, U32, DATETIMES.map(lambda t: t.replace(microsecond=0)), FOUR),
    st.builds(GetTransactionProve, U16, U8),
    st.builds(
        InitSamForPurchase,
        FOUR, U16, U32, U8, DATETIMES.map(lambda t: t.replace(microsecond=0)), U8, U8, EIGHT, EIGHT,
    ),
    st.builds(CreditSamForPurchase, FOUR),
)


@given(COMMANDS)
@settings(max_examples=100)
def test_round_trip(command: Command) -> None:
    assert decode_command(encode_command(command)) == command


@given(st.binary(max_size=60))
@settings(max_examples=150)
def test_arbitrary_bytes_decode_or_are_rejected(raw: bytes) -> None:
    try:
        command = decode_command(raw)
    except CommandRejected as exc:
        assert isinstance(exc.status_word, StatusWord)
    else:
        assert decode_command(encode_command(command)) == command


# ------------------------------------------------------------ responses


def test_response_split_and_unknown_status_words_stay_ints() -> None:
    assert decode_response(H("000010009000")) == Response(H("00001000"), StatusWord.OK)
    odd = decode_response(H("6A88"))
    assert odd.sw == 0x6A88 and not isinstance(odd.sw, StatusWord) and not odd.ok
    assert decode_response(H("9302")).sw is StatusWord.MAC_INVALID
    assert Response(b"\x01", StatusWord.OK).encode() == H("019000")
    assert Response(b"", 0x6A88).encode() == H("6A88")
    for raw in (b"", b"\x90"):
        with pytest.raises(ApduError):
            decode_response(raw)


def test_initialize_response_layout() -> None:
    raw = H("00002710" "0017" "000000" "01" "04" "A1B2C3D4")
    value = decode_purchase_initialized(raw)
    assert value == PurchaseInitialized(10000, 0x17, 0, 1, AlgFlag.SM4, H("A1B2C3D4"))
    assert encode_purchase_initialized(value) == raw
    assert decode_purchase_initialized(raw[:10] + b"\x07" + raw[11:]).algorithm == 7
    for cut in (raw[:-1], raw + b"\x00"):
        with pytest.raises(ApduError):
            decode_purchase_initialized(cut)


def test_other_response_bodies() -> None:
    done = DebitDone(tac=H("13EC2B3A"), mac2=H("E6C38F50"))
    assert encode_debit_done(done) == H("13EC2B3AE6C38F50")
    assert decode_debit_done(H("13EC2B3AE6C38F50")) == done
    proof = TransactionProof(mac2=H("E6C38F50"), tac=H("13EC2B3A"))
    assert encode_transaction_proof(proof) == H("E6C38F5013EC2B3A")
    assert decode_transaction_proof(H("E6C38F5013EC2B3A")) == proof
    started = SamPurchaseStarted(0x12345, H("40B4A9DD"))
    assert encode_sam_purchase_started(started) == H("0001234540B4A9DD")
    assert decode_sam_purchase_started(H("0001234540B4A9DD")) == started
    assert encode_balance(10000) == H("00002710") and decode_balance(H("00002710")) == 10000
    assert decode_terminal_number(H("370100000001")) == H("370100000001")
    for decode in (decode_debit_done, decode_transaction_proof, decode_sam_purchase_started):
        with pytest.raises(ApduError):
            decode(H("00") * 9)
    with pytest.raises(ApduError):
        encode_balance(-1)
