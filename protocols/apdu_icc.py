"""The user card's (ICC) commands of a purchase (`card.md` §3): SELECT and READ BINARY (which
the PSAM answers too), READ RECORD, GET BALANCE, INITIALIZE FOR CAPP PURCHASE, UPDATE CAPP DATA
CACHE, DEBIT FOR CAPP PURCHASE and GET TRANSACTION PROVE; their bytes, and the typed bodies of
their responses.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

from protocols.apdu_wire import (
    NO_BODY,
    TERMINAL_NUMBER_LENGTH,
    Layout,
    check_p1p2,
    decode_transaction_time,
    encode_transaction_time,
    fixed,
    header,
    known,
    response_body,
)
from protocols.errors import ApduError
from protocols.frames import AlgFlag, TransType
from protocols.frozen import fast_init

ENTRY_EXIT_RECORD_LENGTH = 43
ETC_APPLICATION = 0x1001
ISSUER_FILE_SFI = 0x15
ENTRY_EXIT_FILE_SFI = 0x19
ENTRY_EXIT_RECORD_ID = 0xAA


# ------------------------------------------------------------------ commands


@fast_init
@dataclass(frozen=True, slots=True)
class Select:
    """SELECT by file id: `00 A4 00 00 02 | id 2` (the ETC application is DF 1001)."""

    file_id: int = ETC_APPLICATION


@fast_init
@dataclass(frozen=True, slots=True)
class ReadBinary:
    """READ BINARY by short file id: ICC 0015 is `00 B0 95 00 32`, the PSAM terminal number
    `00 B0 96 00 06`."""

    sfi: int
    length: int
    offset: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class ReadRecord:
    """READ RECORD by record id: `00 B2 AA CC 2B` reads record AA of SFI 19 (our decision)."""

    record_id: int = ENTRY_EXIT_RECORD_ID
    sfi: int = ENTRY_EXIT_FILE_SFI
    length: int = ENTRY_EXIT_RECORD_LENGTH


@fast_init
@dataclass(frozen=True, slots=True)
class GetBalance:
    """GET BALANCE of the electronic purse: `80 5C 00 02 04`."""


@fast_init
@dataclass(frozen=True, slots=True)
class InitializeForCappPurchase:
    """INITIALIZE FOR CAPP PURCHASE: `80 50 03 02 0B | key index | amount 4 | terminal number 6`."""

    key_index: int
    amount: int  # fen
    terminal_number: bytes  # 6


@fast_init
@dataclass(frozen=True, slots=True)
class UpdateCappDataCache:
    """UPDATE CAPP DATA CACHE: `80 DC AA C8 2B | 43-byte 0019 record` (committed with the debit)."""

    record: bytes  # 43, raw (see protocols.record_codec)
    record_id: int = ENTRY_EXIT_RECORD_ID
    sfi: int = ENTRY_EXIT_FILE_SFI


@fast_init
@dataclass(frozen=True, slots=True)
class DebitForCappPurchase:
    """DEBIT FOR CAPP PURCHASE: `80 54 01 00 0F | terminal serial 4 | date 4 | time 3 | MAC1 4`."""

    terminal_trans_serial: int
    transaction_time: dt.datetime  # BCD yyyymmdd HHmmss on the wire
    mac1: bytes  # 4


@fast_init
@dataclass(frozen=True, slots=True)
class GetTransactionProve:
    """GET TRANSACTION PROVE: `80 5A 00 | trans type | 02 | counter 2`: the CTC of a purchase, or
    the online serial (before its increment) of a load (trans type `02`)."""

    ctc: int
    trans_type: int = TransType.COMPOSITE_PURCHASE  # TransType where known


IccCommand = (
    Select
    | ReadBinary
    | ReadRecord
    | GetBalance
    | InitializeForCappPurchase
    | UpdateCappDataCache
    | DebitForCappPurchase
    | GetTransactionProve
)


def encode_icc_command(c: IccCommand) -> bytes:
    """The APDU bytes of the card command `c` (struct and value errors are the caller's to
    translate)."""
    match c:
        case Select():
            return header(0x00, 0xA4, 0x00, 0x00, struct.pack(">H", c.file_id))
        case ReadBinary():
            if not 0 < c.sfi < 0x20 or c.offset > 0xFF or not 0 < c.length <= 256:
                raise ApduError("READ BINARY wants SFI 1..31, offset < 256, length 1..256")
            return header(0x00, 0xB0, 0x80 | c.sfi, c.offset, le=c.length)
        case ReadRecord():
            return header(0x00, 0xB2, c.record_id, (c.sfi << 3) | 0x04, le=c.length)
        case GetBalance():
            return header(0x80, 0x5C, 0x00, 0x02, le=4)
        case InitializeForCappPurchase():
            body = struct.pack(">BI", c.key_index, c.amount)
            body += fixed("terminal number", c.terminal_number, TERMINAL_NUMBER_LENGTH)
            return header(0x80, 0x50, 0x03, 0x02, body)
        case UpdateCappDataCache():
            record = fixed("0019 record", c.record, ENTRY_EXIT_RECORD_LENGTH)
            return header(0x80, 0xDC, c.record_id, c.sfi << 3, record)
        case DebitForCappPurchase():
            body = struct.pack(">I", c.terminal_trans_serial)
            body += encode_transaction_time(c.transaction_time) + fixed("MAC1", c.mac1, 4)
            return header(0x80, 0x54, 0x01, 0x00, body)
        case GetTransactionProve():
            return header(0x80, 0x5A, 0x00, c.trans_type, struct.pack(">H", c.ctc))


# ------------------------------------------------------------------ decoding commands


def _select(p1: int, p2: int, body: bytes, le: int | None) -> Select:
    check_p1p2(p1 == 0 and p2 == 0, "SELECT")
    return Select(int.from_bytes(body))


def _read_binary(p1: int, p2: int, body: bytes, le: int | None) -> ReadBinary:
    check_p1p2(p1 & 0xE0 == 0x80, "READ BINARY")
    return ReadBinary(sfi=p1 & 0x1F, offset=p2, length=le or 256)


def _read_record(p1: int, p2: int, body: bytes, le: int | None) -> ReadRecord:
    check_p1p2(p2 & 0x07 == 0x04, "READ RECORD")
    return ReadRecord(record_id=p1, sfi=p2 >> 3, length=le or 256)


def _get_balance(p1: int, p2: int, body: bytes, le: int | None) -> GetBalance:
    check_p1p2(p1 == 0 and p2 == 2, "GET BALANCE")
    return GetBalance()


def decode_initialize_for_purchase(p1: int, p2: int, body: bytes,
                                   le: int | None) -> InitializeForCappPurchase:
    """INITIALIZE FOR CAPP PURCHASE from its P1, P2 and 11-byte body (INS 50 with P1 03; with
    P1 00 it is a load, `apdu_load`)."""
    key_index, amount = struct.unpack_from(">BI", body)
    check_p1p2(p1 == 3 and p2 == 2, "INITIALIZE FOR CAPP PURCHASE")
    return InitializeForCappPurchase(key_index, amount, body[5:11])


def _update_cache(p1: int, p2: int, body: bytes, le: int | None) -> UpdateCappDataCache:
    check_p1p2(p2 & 0x07 == 0, "UPDATE CAPP DATA CACHE")
    return UpdateCappDataCache(record=body, record_id=p1, sfi=p2 >> 3)


def _debit(p1: int, p2: int, body: bytes, le: int | None) -> DebitForCappPurchase:
    check_p1p2(p1 == 1 and p2 == 0, "DEBIT FOR CAPP PURCHASE")
    (serial,) = struct.unpack_from(">I", body)
    return DebitForCappPurchase(serial, decode_transaction_time(body[4:11]), body[11:15])


def _prove(p1: int, p2: int, body: bytes, le: int | None) -> GetTransactionProve:
    check_p1p2(p1 == 0, "GET TRANSACTION PROVE")
    return GetTransactionProve(ctc=int.from_bytes(body), trans_type=known(TransType, p2))


#: The layouts of the card's commands by INS, but INITIALIZE (INS 50), which a purchase shares
#: with a load.
ICC_LAYOUTS: dict[int, Layout[IccCommand]] = {
    0xA4: Layout(0x00, 2, _select),
    0xB0: Layout(0x00, NO_BODY, _read_binary),
    0xB2: Layout(0x00, NO_BODY, _read_record),
    0x5C: Layout(0x80, NO_BODY, _get_balance),
    0xDC: Layout(0x80, ENTRY_EXIT_RECORD_LENGTH, _update_cache),
    0x54: Layout(0x80, 15, _debit),
    0x5A: Layout(0x80, 2, _prove),
}


# ------------------------------------------------------------------ responses


@fast_init
@dataclass(frozen=True, slots=True)
class PurchaseInitialized:
    """Body of the INITIALIZE FOR CAPP PURCHASE response (15 bytes)."""

    balance: int  # fen, before the purchase
    ctc: int  # offline transaction counter
    overdraft_limit: int  # fen
    key_version: int
    algorithm: int  # AlgFlag where known
    icc_random: bytes  # 4


@fast_init
@dataclass(frozen=True, slots=True)
class DebitDone:
    """Body of the DEBIT FOR CAPP PURCHASE response: TAC 4 ‖ MAC2 4."""

    tac: bytes
    mac2: bytes


@fast_init
@dataclass(frozen=True, slots=True)
class TransactionProof:
    """Body of the GET TRANSACTION PROVE response: MAC2 4 ‖ TAC 4 (note: the order of DEBIT's
    answer reversed)."""

    mac2: bytes
    tac: bytes


def encode_purchase_initialized(value: PurchaseInitialized) -> bytes:
    """The 15-byte body of the INITIALIZE response."""
    try:
        head = struct.pack(">IH", value.balance, value.ctc)
        limit = value.overdraft_limit.to_bytes(3)
        tail = struct.pack(">BB", value.key_version, value.algorithm)
    except (struct.error, OverflowError) as exc:
        raise ApduError(f"cannot encode INITIALIZE response: {exc}") from exc
    return head + limit + tail + fixed("ICC random", value.icc_random, 4)


def decode_purchase_initialized(data: bytes) -> PurchaseInitialized:
    """Parse the 15-byte body of the INITIALIZE response."""
    body = response_body("INITIALIZE FOR CAPP PURCHASE", data, 15)
    balance, ctc = struct.unpack_from(">IH", body)
    return PurchaseInitialized(
        balance=balance,
        ctc=ctc,
        overdraft_limit=int.from_bytes(body[6:9]),
        key_version=body[9],
        algorithm=known(AlgFlag, body[10]),
        icc_random=body[11:15],
    )


def encode_debit_done(value: DebitDone) -> bytes:
    """TAC ‖ MAC2."""
    return fixed("TAC", value.tac, 4) + fixed("MAC2", value.mac2, 4)


def decode_debit_done(data: bytes) -> DebitDone:
    """Parse TAC ‖ MAC2."""
    body = response_body("DEBIT FOR CAPP PURCHASE", data, 8)
    return DebitDone(tac=body[:4], mac2=body[4:])


def encode_transaction_proof(value: TransactionProof) -> bytes:
    """MAC2 ‖ TAC."""
    return fixed("MAC2", value.mac2, 4) + fixed("TAC", value.tac, 4)


def decode_transaction_proof(data: bytes) -> TransactionProof:
    """Parse MAC2 ‖ TAC."""
    body = response_body("GET TRANSACTION PROVE", data, 8)
    return TransactionProof(mac2=body[:4], tac=body[4:])


def encode_balance(balance: int) -> bytes:
    """The 4-byte GET BALANCE body (fen)."""
    try:
        return struct.pack(">I", balance)
    except struct.error as exc:
        raise ApduError(f"balance out of range: {exc}") from exc


def decode_balance(data: bytes) -> int:
    """Parse the 4-byte GET BALANCE body (fen)."""
    return int.from_bytes(response_body("GET BALANCE", data, 4))


__all__ = [
    "ENTRY_EXIT_FILE_SFI",
    "ENTRY_EXIT_RECORD_ID",
    "ENTRY_EXIT_RECORD_LENGTH",
    "ETC_APPLICATION",
    "ICC_LAYOUTS",
    "ISSUER_FILE_SFI",
    "DebitDone",
    "DebitForCappPurchase",
    "GetBalance",
    "GetTransactionProve",
    "IccCommand",
    "InitializeForCappPurchase",
    "PurchaseInitialized",
    "ReadBinary",
    "ReadRecord",
    "Select",
    "TransactionProof",
    "UpdateCappDataCache",
    "decode_balance",
    "decode_debit_done",
    "decode_initialize_for_purchase",
    "decode_purchase_initialized",
    "decode_transaction_proof",
    "encode_balance",
    "encode_debit_done",
    "encode_icc_command",
    "encode_purchase_initialized",
    "encode_transaction_proof",
]
