"""What every APDU of the card and the PSAM shares (`card.md` §3): the status words, the
rejection of a malformed command, the header and fixed-length fields, and the BCD transaction
time. The commands themselves are in `apdu_icc`, `apdu_load` and `apdu_psam`; `protocols.apdu`
is where users import them from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Generic, TypeVar

from protocols import bcd
from protocols.errors import ApduError, ProtocolError

#: The terminal number (PSAM SFI 16, and the INITIALIZE commands' field), in bytes.
TERMINAL_NUMBER_LENGTH = 6


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


def known(enum: type[IntEnum], value: int) -> int:
    """The `enum` member for a coded `value`, or the plain int when it is not one."""
    try:
        return enum(value)
    except ValueError:
        return value


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


# ------------------------------------------------------------------ encoding


def fixed(name: str, value: bytes, size: int) -> bytes:
    """`value`, which must be `size` bytes long (ApduError naming the field otherwise)."""
    if len(value) != size:
        raise ApduError(f"{name} wants {size} bytes, got {len(value)}")
    return value


def header(cla: int, ins: int, p1: int, p2: int, body: bytes = b"",
           le: int | None = None) -> bytes:
    """A command APDU: CLA INS P1 P2, then Lc and `body` when there is one, then Le if given."""
    out = bytes((cla, ins, p1, p2))
    if body:
        out += bytes((len(body),)) + body
    if le is not None:
        out += bytes((le & 0xFF,))
    return out


def response_body(name: str, data: bytes, size: int) -> bytes:
    """The body of the response to `name`, which must be `size` bytes long."""
    if len(data) != size:
        raise ApduError(f"{name} response wants {size} bytes, got {len(data)}")
    return bytes(data)


# ------------------------------------------------------------------ decoding

#: `Layout.body_length` of a case 2 command: no body, Le expected.
NO_BODY = -1

_Decoded = TypeVar("_Decoded", covariant=True)


@dataclass(frozen=True, slots=True)
class Layout(Generic[_Decoded]):
    """How a command of one INS is laid out: its CLA, the fixed length of its body (`NO_BODY`
    for case 2; for case 3/4 a trailing Le byte is tolerated, as terminals differ in sending
    it), and the decoder of P1, P2, body and Le."""

    cla: int
    body_length: int
    decode: Callable[[int, int, bytes, int | None], _Decoded]


def check_p1p2(ok: bool, name: str) -> None:
    """`CommandRejected` (6A86) unless the P1/P2 of command `name` are `ok`."""
    if not ok:
        raise CommandRejected(f"{name}: unexpected P1/P2", StatusWord.WRONG_P1_P2)


__all__ = [
    "NO_BODY",
    "TERMINAL_NUMBER_LENGTH",
    "CommandRejected",
    "Layout",
    "StatusWord",
    "check_p1p2",
    "decode_transaction_time",
    "encode_transaction_time",
    "fixed",
    "header",
    "known",
    "response_body",
    "status_word",
]
