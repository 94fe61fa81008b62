"""The user card's load commands (`card.md` §3.1a): INITIALIZE FOR LOAD and CREDIT FOR LOAD,
their bytes, and the typed bodies of their responses. A load's proof is asked for with the
card's GET TRANSACTION PROVE (`apdu_icc`, trans type `02`).
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

from protocols.apdu_wire import (
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
from protocols.frames import AlgFlag

#: The body of the INITIALIZE FOR LOAD response, in bytes.
LOAD_INITIALIZED_LENGTH = 16


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


LoadCommand = InitializeForLoad | CreditForLoad


def encode_load_command(c: LoadCommand) -> bytes:
    """The APDU bytes of the load command `c` (struct and value errors are the caller's to
    translate)."""
    match c:
        case InitializeForLoad():
            body = struct.pack(">BI", c.key_index, c.amount)
            body += fixed("terminal number", c.terminal_number, TERMINAL_NUMBER_LENGTH)
            return header(0x80, 0x50, 0x00, c.load_type, body, le=LOAD_INITIALIZED_LENGTH)
        case CreditForLoad():
            body = encode_transaction_time(c.transaction_time) + fixed("MAC2", c.mac2, 4)
            return header(0x80, 0x52, 0x00, 0x00, body, le=4)


def decode_initialize_for_load(p1: int, p2: int, body: bytes,
                               le: int | None) -> InitializeForLoad:
    """INITIALIZE FOR LOAD from its P1, P2 and 11-byte body (INS 50 with P1 00, P2 the load
    type; with P1 03 it is a purchase, `apdu_icc`)."""
    key_index, amount = struct.unpack_from(">BI", body)
    check_p1p2(p1 == 0 and p2 in (1, 2), "INITIALIZE FOR LOAD")
    return InitializeForLoad(key_index, amount, body[5:11], p2)


def _credit_load(p1: int, p2: int, body: bytes, le: int | None) -> CreditForLoad:
    check_p1p2(p1 == 0 and p2 == 0, "CREDIT FOR LOAD")
    return CreditForLoad(decode_transaction_time(body[0:7]), body[7:11])


#: The layouts of the load commands by INS, but INITIALIZE (INS 50), which a load shares with
#: a purchase.
LOAD_LAYOUTS: dict[int, Layout[LoadCommand]] = {
    0x52: Layout(0x80, 11, _credit_load),
}


@dataclass(frozen=True, slots=True)
class LoadInitialized:
    """Body of the INITIALIZE FOR LOAD response (16 bytes)."""

    balance: int  # fen, before the load
    online_serial: int  # counts loads (not the purchase CTC)
    key_version: int
    algorithm: int  # AlgFlag where known
    pseudo_random: bytes  # 4
    mac1: bytes  # 4


def encode_load_initialized(value: LoadInitialized) -> bytes:
    """The 16-byte body of the INITIALIZE FOR LOAD response."""
    try:
        head = struct.pack(">IHBB", value.balance, value.online_serial, value.key_version,
                           value.algorithm)
    except struct.error as exc:
        raise ApduError(f"cannot encode INITIALIZE FOR LOAD response: {exc}") from exc
    return head + fixed("pseudo-random", value.pseudo_random, 4) + fixed("MAC1", value.mac1, 4)


def decode_load_initialized(data: bytes) -> LoadInitialized:
    """Parse the 16-byte body of the INITIALIZE FOR LOAD response."""
    body = response_body("INITIALIZE FOR LOAD", data, LOAD_INITIALIZED_LENGTH)
    balance, serial, key_version, algorithm = struct.unpack_from(">IHBB", body)
    return LoadInitialized(balance, serial, key_version, known(AlgFlag, algorithm), body[8:12],
                           body[12:16])


def decode_load_tac(data: bytes) -> bytes:
    """The TAC of the CREDIT FOR LOAD response (4 bytes)."""
    return response_body("CREDIT FOR LOAD", data, 4)


__all__ = [
    "LOAD_INITIALIZED_LENGTH",
    "LOAD_LAYOUTS",
    "CreditForLoad",
    "InitializeForLoad",
    "LoadCommand",
    "LoadInitialized",
    "decode_initialize_for_load",
    "decode_load_initialized",
    "decode_load_tac",
    "encode_load_command",
    "encode_load_initialized",
]
