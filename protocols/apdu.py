"""APDUs of the ETC user card (ICC) and the PSAM (`card.md` §3, §3.1a): typed commands, their
bytes, and the typed bodies of their responses.

`encode_command` / `decode_command` convert every command of both devices; the card and PSAM
emulators dispatch on the decoded value. A malformed command raises `CommandRejected`, which
carries the status word the device should answer with.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from protocols import bcd
from protocols.errors import ApduError, ProtocolError
from protocols.frames import AlgFlag, TransType

__all__ = [
    "ENTRY_EXIT_FILE_SFI",
    "ENTRY_EXIT_RECORD_ID",
    "ENTRY_EXIT_RECORD_LENGTH",
    "ETC_APPLICATION",
    "ISSUER_FILE_SFI",
    "LOAD_INITIALIZED_LENGTH",
    "PSAM_TERMINAL_FILE_SFI",
    "TERMINAL_NUMBER_LENGTH",
    "Command",
    "CommandRejected",
    "CreditForLoad",
    "CreditSamForPurchase",
    "DebitDone",
    "DebitForCappPurchase",
    "GetBalance",
    "GetTransactionProve",
    "InitSamForPurchase",
    "InitializeForCappPurchase",
    "InitializeForLoad",
    "LoadInitialized",
    "PurchaseInitialized",
    "ReadBinary",
    "ReadRecord",
    "Response",
    "SamPurchaseStarted",
    "Select",
    "StatusWord",
    "TransactionProof",
    "UpdateCappDataCache",
    "decode_balance",
    "decode_command",
    "decode_debit_done",
    "decode_load_initialized",
    "decode_load_tac",
    "decode_purchase_initialized",
    "decode_response",
    "decode_sam_purchase_started",
    "decode_terminal_number",
    "decode_transaction_proof",
    "decode_transaction_time",
    "encode_balance",
    "encode_command",
    "encode_debit_done",
    "encode_load_initialized",
    "encode_purchase_initialized",
    "encode_sam_purchase_started",
    "encode_transaction_proof",
    "encode_transaction_time",
    "status_word",
]

ENTRY_EXIT_RECORD_LENGTH = 43
TERMINAL_NUMBER_LENGTH = 6
ETC_APPLICATION = 0x1001
ISSUER_FILE_SFI = 0x15
ENTRY_EXIT_FILE_SFI = 0x19
ENTRY_EXIT_RECORD_ID = 0xAA
PSAM_TERMINAL_FILE_SFI = 0x16


class StatusWord(IntEnum):
    """ISO 7816 / PBOC status words the card and the PSAM answer with."""

    #: success
    OK = 0x9000
    #: file not found (SELECT, READ BINARY)
    FILE_NOT_FOUND = 0x6A82
    #: record not found (READ RECORD)
    RECORD_NOT_FOUND = 0x6A83
    #: conditions of use not satisfied (e.g. DEBIT without INITIALIZE)
    CONDITIONS_NOT_SATISFIED = 0x6985
    #: MAC invalid (MAC1 at the card, MAC2 at the PSAM)
    MAC_INVALID = 0x9302
    #: insufficient balance
    INSUFFICIENT_BALANCE = 0x9401
    #: key not found (key index / version / algorithm unknown)
    KEY_NOT_FOUND = 0x9403
    #: wrong length (Lc or Le)
    WRONG_LENGTH = 0x6700
    #: instruction code not supported
    INS_NOT_SUPPORTED = 0x6D00
    #: class not supported
    CLA_NOT_SUPPORTED = 0x6E00
    #: selected application locked
    APPLICATION_LOCKED = 0x6283
    #: memory failure
    MEMORY_FAILURE = 0x6581
    #: wrong data in the command body (e.g. a date that is not BCD)
    WRONG_DATA = 0x6A80
    #: wrong P1/P2 for this instruction
    WRONG_P1_P2 = 0x6A86


class CommandRejected(ApduError):
    """A command APDU could not be decoded; `status_word` is what the device answers."""

    def __init__(self, message: str, status_word: StatusWord) -> None:
        super().__init__(message)
        self.status_word = status_word


def status_word(value: int) -> StatusWord | int:
    """The `StatusWord` for `value`, or the plain int when the status word is not one of ours."""
    try:
        return StatusWord(value)
    except ValueError:
        return value


def _known(enum: type[IntEnum], value: int) -> int:
    try:
        return enum(value)
    except ValueError:
        return value


# ------------------------------------------------------------------ commands


@dataclass(frozen=True, slots=True)
class Select:
    """SELECT by file id: `00 A4 00 00 02 | id 2` (the ETC application is DF 1001)."""

    file_id: int = ETC_APPLICATION


@dataclass(frozen=True, slots=True)
class ReadBinary:
    """READ BINARY by short file id: ICC 0015 is `00 B0 95 00 32`, the PSAM terminal number
    `00 B0 96 00 06`."""

    sfi: int
    length: int
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """READ RECORD by record id: `00 B2 AA CC 2B` reads record AA of SFI 19 (our decision)."""

    record_id: int = ENTRY_EXIT_RECORD_ID
    sfi: int = ENTRY_EXIT_FILE_SFI
    length: int = ENTRY_EXIT_RECORD_LENGTH


@dataclass(frozen=True, slots=True)
class GetBalance:
    """GET BALANCE of the electronic purse: `80 5C 00 02 04`."""


@dataclass(frozen=True, slots=True)
class InitializeForCappPurchase:
    """INITIALIZE FOR CAPP PURCHASE: `80 50 03 02 0B | key index | amount 4 | terminal number 6`."""

    key_index: int
    amount: int  # fen
    terminal_number: bytes  # 6


@dataclass(frozen=True, slots=True)
class UpdateCappDataCache:
    """UPDATE CAPP DATA CACHE: `80 DC AA C8 2B | 43-byte 0019 record` (committed with the debit)."""

    record: bytes  # 43, raw (see protocols.record_codec)
    record_id: int = ENTRY_EXIT_RECORD_ID
    sfi: int = ENTRY_EXIT_FILE_SFI


@dataclass(frozen=True, slots=True)
class DebitForCappPurchase:
    """DEBIT FOR CAPP PURCHASE: `80 54 01 00 0F | terminal serial 4 | date 4 | time 3 | MAC1 4`."""

    terminal_trans_serial: int
    transaction_time: dt.datetime  # BCD yyyymmdd HHmmss on the wire
    mac1: bytes  # 4


@dataclass(frozen=True, slots=True)
class GetTransactionProve:
    """GET TRANSACTION PROVE: `80 5A 00 | trans type | 02 | counter 2`: the CTC of a purchase, or
    the online serial (before its increment) of a load (trans type `02`)."""

    ctc: int
    trans_type: int = TransType.COMPOSITE_PURCHASE  # TransType where known


@dataclass(frozen=True, slots=True)
class InitializeForLoad:
    """INITIALIZE FOR LOAD: `80 50 00 | load type | 0B | key index | amount 4 | terminal 6 | 10`
    (load type `02` the electronic purse, `01` the deposit; `keys.load.LoadType`)."""

    key_index: int
    amount: int  # fen
    terminal_number: bytes  # 6
    load_type: int = 0x02


@dataclass(frozen=True, slots=True)
class CreditForLoad:
    """CREDIT FOR LOAD: `80 52 00 00 0B | date 4 | time 3 | MAC2 4 | 04`."""

    transaction_time: dt.datetime  # BCD yyyymmdd HHmmss on the wire
    mac2: bytes  # 4


@dataclass(frozen=True, slots=True)
class InitSamForPurchase:
    """PSAM INIT SAM FOR PURCHASE: `80 70 00 00 24 | …` (36 bytes of body, `card.md` §3.2)."""

    icc_random: bytes  # 4
    ctc: int
    amount: int  # fen
    trans_type: int  # TransType where known
    transaction_time: dt.datetime
    key_version: int
    algorithm: int  # AlgFlag where known
    card_serial: bytes  # 8
    issuer_factor: bytes  # 8: issuer code written twice


@dataclass(frozen=True, slots=True)
class CreditSamForPurchase:
    """PSAM CREDIT SAM FOR PURCHASE: `80 72 00 00 04 | MAC2 4`."""

    mac2: bytes  # 4


Command = (
    Select
    | ReadBinary
    | ReadRecord
    | GetBalance
    | InitializeForCappPurchase
    | UpdateCappDataCache
    | DebitForCappPurchase
    | GetTransactionProve
    | InitializeForLoad
    | CreditForLoad
    | InitSamForPurchase
    | CreditSamForPurchase
)


def encode_transaction_time(value: dt.datetime) -> bytes:
    """Date 4 ‖ time 3, BCD, as DEBIT, INIT SAM and the MAC1/TAC inputs carry it."""
    if not 1 <= value.year <= 9999:
        raise ApduError("transaction year out of BCD range")
    return bcd.encode_datetime(value)


def decode_transaction_time(raw: bytes) -> dt.datetime:
    """The datetime of a 7-byte BCD date ‖ time; anything else is `CommandRejected` (6A80)."""
    try:
        value = bcd.decode_datetime(raw)
    except ProtocolError as exc:
        raise CommandRejected(f"bad transaction time: {exc}", StatusWord.WRONG_DATA) from exc
    if value is None:
        raise CommandRejected("transaction time is all zero", StatusWord.WRONG_DATA)
    return value


def _fixed(name: str, value: bytes, size: int) -> bytes:
    if len(value) != size:
        raise ApduError(f"{name} wants {size} bytes, got {len(value)}")
    return value


def _header(
    cla: int, ins: int, p1: int, p2: int, body: bytes = b"", le: int | None = None
) -> bytes:
    out = bytes((cla, ins, p1, p2))
    if body:
        out += bytes((len(body),)) + body
    if le is not None:
        out += bytes((le & 0xFF,))
    return out


def encode_command(command: Command) -> bytes:
    """The APDU bytes of `command`; ApduError when a field does not fit."""
    try:
        return _encode(command)
    except (struct.error, ValueError, OverflowError) as exc:
        raise ApduError(f"cannot encode {type(command).__name__}: {exc}") from exc


def _encode(c: Command) -> bytes:
    match c:
        case Select():
            return _header(0x00, 0xA4, 0x00, 0x00, struct.pack(">H", c.file_id))
        case ReadBinary():
            if not 0 < c.sfi < 0x20 or c.offset > 0xFF or not 0 < c.length <= 256:
                raise ApduError("READ BINARY wants SFI 1..31, offset < 256, length 1..256")
            return _header(0x00, 0xB0, 0x80 | c.sfi, c.offset, le=c.length)
        case ReadRecord():
            return _header(0x00, 0xB2, c.record_id, (c.sfi << 3) | 0x04, le=c.length)
        case GetBalance():
            return _header(0x80, 0x5C, 0x00, 0x02, le=4)
        case InitializeForCappPurchase():
            body = struct.pack(">BI", c.key_index, c.amount)
            body += _fixed("terminal number", c.terminal_number, TERMINAL_NUMBER_LENGTH)
            return _header(0x80, 0x50, 0x03, 0x02, body)
        case UpdateCappDataCache():
            record = _fixed("0019 record", c.record, ENTRY_EXIT_RECORD_LENGTH)
            return _header(0x80, 0xDC, c.record_id, c.sfi << 3, record)
        case DebitForCappPurchase():
            body = struct.pack(">I", c.terminal_trans_serial)
            body += encode_transaction_time(c.transaction_time) + _fixed("MAC1", c.mac1, 4)
            return _header(0x80, 0x54, 0x01, 0x00, body)
        case GetTransactionProve():
            return _header(0x80, 0x5A, 0x00, c.trans_type, struct.pack(">H", c.ctc))
        case InitializeForLoad():
            body = struct.pack(">BI", c.key_index, c.amount)
            body += _fixed("terminal number", c.terminal_number, TERMINAL_NUMBER_LENGTH)
            return _header(0x80, 0x50, 0x00, c.load_type, body, le=LOAD_INITIALIZED_LENGTH)
        case CreditForLoad():
            body = encode_transaction_time(c.transaction_time) + _fixed("MAC2", c.mac2, 4)
            return _header(0x80, 0x52, 0x00, 0x00, body, le=4)
        case InitSamForPurchase():
            body = _fixed("ICC random", c.icc_random, 4)
            body += struct.pack(">HIB", c.ctc, c.amount, c.trans_type)
            body += encode_transaction_time(c.transaction_time)
            body += struct.pack(">BB", c.key_version, c.algorithm)
            body += _fixed("card serial", c.card_serial, 8)
            body += _fixed("issuer factor", c.issuer_factor, 8)
            return _header(0x80, 0x70, 0x00, 0x00, body)
        case CreditSamForPurchase():
            return _header(0x80, 0x72, 0x00, 0x00, _fixed("MAC2", c.mac2, 4))
    raise ApduError(f"not a command: {type(c).__name__}")


# ------------------------------------------------------------------ decoding commands

# Case 2 commands (no body, Le expected) and case 3/4 commands (body of a fixed length; a
# trailing Le byte is tolerated, as terminals differ in sending it).
_NO_BODY = -1


@dataclass(frozen=True, slots=True)
class _Layout:
    cla: int
    body_length: int  # _NO_BODY for case 2
    decode: Callable[[int, int, bytes, int | None], Command]


def _p1p2(ok: bool, name: str) -> None:
    if not ok:
        raise CommandRejected(f"{name}: unexpected P1/P2", StatusWord.WRONG_P1_P2)


def _select(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p1 == 0 and p2 == 0, "SELECT")
    return Select(int.from_bytes(body))


def _read_binary(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p1 & 0xE0 == 0x80, "READ BINARY")
    return ReadBinary(sfi=p1 & 0x1F, offset=p2, length=le or 256)


def _read_record(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p2 & 0x07 == 0x04, "READ RECORD")
    return ReadRecord(record_id=p1, sfi=p2 >> 3, length=le or 256)


def _get_balance(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p1 == 0 and p2 == 2, "GET BALANCE")
    return GetBalance()


def _initialize(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    # One INS for both: P1 03 opens a purchase, P1 00 a load of the purse (02) or deposit (01).
    key_index, amount = struct.unpack_from(">BI", body)
    if p1 == 0:
        _p1p2(p2 in (1, 2), "INITIALIZE FOR LOAD")
        return InitializeForLoad(key_index, amount, body[5:11], p2)
    _p1p2(p1 == 3 and p2 == 2, "INITIALIZE FOR CAPP PURCHASE")
    return InitializeForCappPurchase(key_index, amount, body[5:11])


def _credit_load(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p1 == 0 and p2 == 0, "CREDIT FOR LOAD")
    return CreditForLoad(decode_transaction_time(body[0:7]), body[7:11])


def _update_cache(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p2 & 0x07 == 0, "UPDATE CAPP DATA CACHE")
    return UpdateCappDataCache(record=body, record_id=p1, sfi=p2 >> 3)


def _debit(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p1 == 1 and p2 == 0, "DEBIT FOR CAPP PURCHASE")
    (serial,) = struct.unpack_from(">I", body)
    return DebitForCappPurchase(serial, decode_transaction_time(body[4:11]), body[11:15])


def _prove(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p1 == 0, "GET TRANSACTION PROVE")
    return GetTransactionProve(ctc=int.from_bytes(body), trans_type=_known(TransType, p2))


def _init_sam(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p1 == 0 and p2 == 0, "INIT SAM FOR PURCHASE")
    ctc, amount, trans_type = struct.unpack_from(">HIB", body, 4)
    key_version, algorithm = body[18], body[19]
    return InitSamForPurchase(
        icc_random=body[0:4],
        ctc=ctc,
        amount=amount,
        trans_type=_known(TransType, trans_type),
        transaction_time=decode_transaction_time(body[11:18]),
        key_version=key_version,
        algorithm=_known(AlgFlag, algorithm),
        card_serial=body[20:28],
        issuer_factor=body[28:36],
    )


def _credit_sam(p1: int, p2: int, body: bytes, le: int | None) -> Command:
    _p1p2(p1 == 0 and p2 == 0, "CREDIT SAM FOR PURCHASE")
    return CreditSamForPurchase(body)


_LAYOUTS: dict[int, _Layout] = {
    0xA4: _Layout(0x00, 2, _select),
    0xB0: _Layout(0x00, _NO_BODY, _read_binary),
    0xB2: _Layout(0x00, _NO_BODY, _read_record),
    0x5C: _Layout(0x80, _NO_BODY, _get_balance),
    0x50: _Layout(0x80, 11, _initialize),
    0xDC: _Layout(0x80, ENTRY_EXIT_RECORD_LENGTH, _update_cache),
    0x54: _Layout(0x80, 15, _debit),
    0x52: _Layout(0x80, 11, _credit_load),
    0x5A: _Layout(0x80, 2, _prove),
    0x70: _Layout(0x80, 36, _init_sam),
    0x72: _Layout(0x80, 4, _credit_sam),
}


def decode_command(raw: bytes) -> Command:
    """The typed command of APDU `raw`; `CommandRejected` (with the SW to answer) if malformed."""
    if len(raw) < 4:
        raise CommandRejected(f"APDU of {len(raw)} bytes has no header", StatusWord.WRONG_LENGTH)
    cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
    layout = _LAYOUTS.get(ins)
    if layout is None:
        raise CommandRejected(f"INS {ins:02X} not supported", StatusWord.INS_NOT_SUPPORTED)
    if cla != layout.cla:
        raise CommandRejected(f"CLA {cla:02X} not supported", StatusWord.CLA_NOT_SUPPORTED)
    rest = raw[4:]
    if layout.body_length == _NO_BODY:
        if len(rest) != 1:
            raise CommandRejected(f"INS {ins:02X} wants Le only", StatusWord.WRONG_LENGTH)
        return layout.decode(p1, p2, b"", rest[0])
    if not rest or rest[0] != layout.body_length or len(rest) - 1 - rest[0] not in (0, 1):
        raise CommandRejected(
            f"INS {ins:02X} wants Lc {layout.body_length:02X} and its body", StatusWord.WRONG_LENGTH
        )
    body = bytes(rest[1 : 1 + layout.body_length])
    le = rest[-1] if len(rest) == layout.body_length + 2 else None
    return layout.decode(p1, p2, body, le)


# ------------------------------------------------------------------ responses


@dataclass(frozen=True, slots=True)
class Response:
    """A response APDU: body and status word (a `StatusWord`, or an int for an unknown one)."""

    data: bytes
    sw: StatusWord | int

    @property
    def ok(self) -> bool:
        """True for 9000."""
        return self.sw == StatusWord.OK

    def encode(self) -> bytes:
        """Body ‖ SW1 SW2."""
        return self.data + struct.pack(">H", self.sw)


def decode_response(raw: bytes) -> Response:
    """Split a response APDU into its body and status word."""
    if len(raw) < 2:
        raise ApduError(f"response of {len(raw)} bytes has no status word")
    return Response(bytes(raw[:-2]), status_word(int.from_bytes(raw[-2:])))


@dataclass(frozen=True, slots=True)
class PurchaseInitialized:
    """Body of the INITIALIZE FOR CAPP PURCHASE response (15 bytes)."""

    balance: int  # fen, before the purchase
    ctc: int  # offline transaction counter
    overdraft_limit: int  # fen
    key_version: int
    algorithm: int  # AlgFlag where known
    icc_random: bytes  # 4


#: The body of the INITIALIZE FOR LOAD response, in bytes.
LOAD_INITIALIZED_LENGTH = 16


@dataclass(frozen=True, slots=True)
class LoadInitialized:
    """Body of the INITIALIZE FOR LOAD response (16 bytes)."""

    balance: int  # fen, before the load
    online_serial: int  # counts loads (not the purchase CTC)
    key_version: int
    algorithm: int  # AlgFlag where known
    pseudo_random: bytes  # 4
    mac1: bytes  # 4


@dataclass(frozen=True, slots=True)
class DebitDone:
    """Body of the DEBIT FOR CAPP PURCHASE response: TAC 4 ‖ MAC2 4."""

    tac: bytes
    mac2: bytes


@dataclass(frozen=True, slots=True)
class TransactionProof:
    """Body of the GET TRANSACTION PROVE response: MAC2 4 ‖ TAC 4 (note: the order of DEBIT's
    answer reversed)."""

    mac2: bytes
    tac: bytes


@dataclass(frozen=True, slots=True)
class SamPurchaseStarted:
    """Body of the INIT SAM FOR PURCHASE response: terminal trans serial 4 ‖ MAC1 4."""

    terminal_trans_serial: int
    mac1: bytes


def _body(name: str, data: bytes, size: int) -> bytes:
    if len(data) != size:
        raise ApduError(f"{name} response wants {size} bytes, got {len(data)}")
    return bytes(data)


def encode_purchase_initialized(value: PurchaseInitialized) -> bytes:
    """The 15-byte body of the INITIALIZE response."""
    try:
        head = struct.pack(">IH", value.balance, value.ctc)
        limit = value.overdraft_limit.to_bytes(3)
        tail = struct.pack(">BB", value.key_version, value.algorithm)
    except (struct.error, OverflowError) as exc:
        raise ApduError(f"cannot encode INITIALIZE response: {exc}") from exc
    return head + limit + tail + _fixed("ICC random", value.icc_random, 4)


def decode_purchase_initialized(data: bytes) -> PurchaseInitialized:
    """Parse the 15-byte body of the INITIALIZE response."""
    body = _body("INITIALIZE FOR CAPP PURCHASE", data, 15)
    balance, ctc = struct.unpack_from(">IH", body)
    return PurchaseInitialized(
        balance=balance,
        ctc=ctc,
        overdraft_limit=int.from_bytes(body[6:9]),
        key_version=body[9],
        algorithm=_known(AlgFlag, body[10]),
        icc_random=body[11:15],
    )


def encode_load_initialized(value: LoadInitialized) -> bytes:
    """The 16-byte body of the INITIALIZE FOR LOAD response."""
    try:
        head = struct.pack(">IHBB", value.balance, value.online_serial, value.key_version,
                           value.algorithm)
    except struct.error as exc:
        raise ApduError(f"cannot encode INITIALIZE FOR LOAD response: {exc}") from exc
    return head + _fixed("pseudo-random", value.pseudo_random, 4) + _fixed("MAC1", value.mac1, 4)


def decode_load_initialized(data: bytes) -> LoadInitialized:
    """Parse the 16-byte body of the INITIALIZE FOR LOAD response."""
    body = _body("INITIALIZE FOR LOAD", data, LOAD_INITIALIZED_LENGTH)
    balance, serial, key_version, algorithm = struct.unpack_from(">IHBB", body)
    return LoadInitialized(balance, serial, key_version, _known(AlgFlag, algorithm), body[8:12],
                           body[12:16])


def decode_load_tac(data: bytes) -> bytes:
    """The TAC of the CREDIT FOR LOAD response (4 bytes)."""
    return _body("CREDIT FOR LOAD", data, 4)


def encode_debit_done(value: DebitDone) -> bytes:
    """TAC ‖ MAC2."""
    return _fixed("TAC", value.tac, 4) + _fixed("MAC2", value.mac2, 4)


def decode_debit_done(data: bytes) -> DebitDone:
    """Parse TAC ‖ MAC2."""
    body = _body("DEBIT FOR CAPP PURCHASE", data, 8)
    return DebitDone(tac=body[:4], mac2=body[4:])


def encode_transaction_proof(value: TransactionProof) -> bytes:
    """MAC2 ‖ TAC."""
    return _fixed("MAC2", value.mac2, 4) + _fixed("TAC", value.tac, 4)


def decode_transaction_proof(data: bytes) -> TransactionProof:
    """Parse MAC2 ‖ TAC."""
    body = _body("GET TRANSACTION PROVE", data, 8)
    return TransactionProof(mac2=body[:4], tac=body[4:])


def encode_sam_purchase_started(value: SamPurchaseStarted) -> bytes:
    """Terminal trans serial ‖ MAC1."""
    try:
        head = struct.pack(">I", value.terminal_trans_serial)
    except struct.error as exc:
        raise ApduError(f"terminal trans serial out of range: {exc}") from exc
    return head + _fixed("MAC1", value.mac1, 4)


def decode_sam_purchase_started(data: bytes) -> SamPurchaseStarted:
    """Parse terminal trans serial ‖ MAC1."""
    body = _body("INIT SAM FOR PURCHASE", data, 8)
    return SamPurchaseStarted(int.from_bytes(body[:4]), body[4:])


def encode_balance(balance: int) -> bytes:
    """The 4-byte GET BALANCE body (fen)."""
    try:
        return struct.pack(">I", balance)
    except struct.error as exc:
        raise ApduError(f"balance out of range: {exc}") from exc


def decode_balance(data: bytes) -> int:
    """Parse the 4-byte GET BALANCE body (fen)."""
    return int.from_bytes(_body("GET BALANCE", data, 4))


def decode_terminal_number(data: bytes) -> bytes:
    """Parse the PSAM's 6-byte terminal number (READ BINARY of SFI 16)."""
    return _body("read terminal number", data, TERMINAL_NUMBER_LENGTH)
