"""APDUs of the ETC user card (ICC) and the PSAM (`card.md` §3, §3.1a): typed commands, their
bytes, and the typed bodies of their responses.

`encode_command` / `decode_command` convert every command of both devices; the card and PSAM
emulators dispatch on the decoded value. A malformed command raises `CommandRejected`, which
carries the status word the device should answer with. The commands live by role (`apdu_icc`
the card's purchase, `apdu_load` its load, `apdu_psam` the PSAM; `apdu_wire` what they share);
import them from here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from protocols.apdu_icc import (
    ENTRY_EXIT_FILE_SFI,
    ENTRY_EXIT_RECORD_ID,
    ENTRY_EXIT_RECORD_LENGTH,
    ETC_APPLICATION,
    ICC_LAYOUTS,
    ISSUER_FILE_SFI,
    DebitDone,
    DebitForCappPurchase,
    GetBalance,
    GetTransactionProve,
    IccCommand,
    InitializeForCappPurchase,
    PurchaseInitialized,
    ReadBinary,
    ReadRecord,
    Select,
    TransactionProof,
    UpdateCappDataCache,
    decode_balance,
    decode_debit_done,
    decode_initialize_for_purchase,
    decode_purchase_initialized,
    decode_transaction_proof,
    encode_balance,
    encode_debit_done,
    encode_icc_command,
    encode_purchase_initialized,
    encode_transaction_proof,
)
from protocols.apdu_load import (
    LOAD_INITIALIZED_LENGTH,
    LOAD_LAYOUTS,
    CreditForLoad,
    InitializeForLoad,
    LoadCommand,
    LoadInitialized,
    decode_initialize_for_load,
    decode_load_initialized,
    decode_load_tac,
    encode_load_command,
    encode_load_initialized,
)
from protocols.apdu_psam import (
    PSAM_LAYOUTS,
    PSAM_TERMINAL_FILE_SFI,
    CreditSamForPurchase,
    InitSamForPurchase,
    PsamCommand,
    SamPurchaseStarted,
    decode_sam_purchase_started,
    decode_terminal_number,
    encode_psam_command,
    encode_sam_purchase_started,
)
from protocols.apdu_wire import (
    NO_BODY,
    TERMINAL_NUMBER_LENGTH,
    CommandRejected,
    Layout,
    StatusWord,
    decode_transaction_time,
    encode_transaction_time,
    status_word,
)
from protocols.errors import ApduError
from protocols.frozen import fast_init

Command = IccCommand | LoadCommand | PsamCommand


def encode_command(command: Command) -> bytes:
    """The APDU bytes of `command`; ApduError when a field does not fit."""
    try:
        return _encode(command)
    except (struct.error, ValueError, OverflowError) as exc:
        raise ApduError(f"cannot encode {type(command).__name__}: {exc}") from exc


def _encode(c: Command) -> bytes:
    if isinstance(c, IccCommand):
        return encode_icc_command(c)
    if isinstance(c, LoadCommand):
        return encode_load_command(c)
    if isinstance(c, PsamCommand):
        return encode_psam_command(c)
    raise ApduError(f"not a command: {type(c).__name__}")


def _initialize(p1: int, p2: int, body: bytes,
                le: int | None) -> InitializeForCappPurchase | InitializeForLoad:
    # One INS for both: P1 03 opens a purchase, P1 00 a load of the purse (02) or deposit (01).
    if p1 == 0:
        return decode_initialize_for_load(p1, p2, body, le)
    return decode_initialize_for_purchase(p1, p2, body, le)


#: Every command's layout by INS.
_LAYOUTS: dict[int, Layout[Command]] = {
    **ICC_LAYOUTS,
    0x50: Layout(0x80, 11, _initialize),
    **LOAD_LAYOUTS,
    **PSAM_LAYOUTS,
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
    if layout.body_length == NO_BODY:
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


@fast_init
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
