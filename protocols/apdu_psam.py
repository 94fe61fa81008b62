"""The PSAM's commands of a purchase (`card.md` §3.2): INIT SAM FOR PURCHASE and CREDIT SAM FOR
PURCHASE, their bytes, and the typed bodies of their responses; the PSAM's terminal number is
read with READ BINARY of SFI 16 (`apdu_icc.ReadBinary`).
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
from protocols.frames import AlgFlag, TransType
from protocols.frozen import fast_init

PSAM_TERMINAL_FILE_SFI = 0x16


@fast_init
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


@fast_init
@dataclass(frozen=True, slots=True)
class CreditSamForPurchase:
    """PSAM CREDIT SAM FOR PURCHASE: `80 72 00 00 04 | MAC2 4`."""

    mac2: bytes  # 4


PsamCommand = InitSamForPurchase | CreditSamForPurchase


def encode_psam_command(c: PsamCommand) -> bytes:
    """The APDU bytes of the PSAM command `c` (struct and value errors are the caller's to
    translate)."""
    match c:
        case InitSamForPurchase():
            body = fixed("ICC random", c.icc_random, 4)
            body += struct.pack(">HIB", c.ctc, c.amount, c.trans_type)
            body += encode_transaction_time(c.transaction_time)
            body += struct.pack(">BB", c.key_version, c.algorithm)
            body += fixed("card serial", c.card_serial, 8)
            body += fixed("issuer factor", c.issuer_factor, 8)
            return header(0x80, 0x70, 0x00, 0x00, body)
        case CreditSamForPurchase():
            return header(0x80, 0x72, 0x00, 0x00, fixed("MAC2", c.mac2, 4))


def _init_sam(p1: int, p2: int, body: bytes, le: int | None) -> InitSamForPurchase:
    check_p1p2(p1 == 0 and p2 == 0, "INIT SAM FOR PURCHASE")
    ctc, amount, trans_type = struct.unpack_from(">HIB", body, 4)
    key_version, algorithm = body[18], body[19]
    return InitSamForPurchase(
        icc_random=body[0:4],
        ctc=ctc,
        amount=amount,
        trans_type=known(TransType, trans_type),
        transaction_time=decode_transaction_time(body[11:18]),
        key_version=key_version,
        algorithm=known(AlgFlag, algorithm),
        card_serial=body[20:28],
        issuer_factor=body[28:36],
    )


def _credit_sam(p1: int, p2: int, body: bytes, le: int | None) -> CreditSamForPurchase:
    check_p1p2(p1 == 0 and p2 == 0, "CREDIT SAM FOR PURCHASE")
    return CreditSamForPurchase(body)


#: The layouts of the PSAM's commands by INS.
PSAM_LAYOUTS: dict[int, Layout[PsamCommand]] = {
    0x70: Layout(0x80, 36, _init_sam),
    0x72: Layout(0x80, 4, _credit_sam),
}


@fast_init
@dataclass(frozen=True, slots=True)
class SamPurchaseStarted:
    """Body of the INIT SAM FOR PURCHASE response: terminal trans serial 4 ‖ MAC1 4."""

    terminal_trans_serial: int
    mac1: bytes


def encode_sam_purchase_started(value: SamPurchaseStarted) -> bytes:
    """Terminal trans serial ‖ MAC1."""
    try:
        head = struct.pack(">I", value.terminal_trans_serial)
    except struct.error as exc:
        raise ApduError(f"terminal trans serial out of range: {exc}") from exc
    return head + fixed("MAC1", value.mac1, 4)


def decode_sam_purchase_started(data: bytes) -> SamPurchaseStarted:
    """Parse terminal trans serial ‖ MAC1."""
    body = response_body("INIT SAM FOR PURCHASE", data, 8)
    return SamPurchaseStarted(int.from_bytes(body[:4]), body[4:])


def decode_terminal_number(data: bytes) -> bytes:
    """Parse the PSAM's 6-byte terminal number (READ BINARY of SFI 16)."""
    return response_body("read terminal number", data, TERMINAL_NUMBER_LENGTH)


__all__ = [
    "PSAM_LAYOUTS",
    "PSAM_TERMINAL_FILE_SFI",
    "CreditSamForPurchase",
    "InitSamForPurchase",
    "PsamCommand",
    "SamPurchaseStarted",
    "decode_sam_purchase_started",
    "decode_terminal_number",
    "encode_psam_command",
    "encode_sam_purchase_started",
]
