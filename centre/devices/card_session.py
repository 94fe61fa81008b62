"""One contact with a card at the outlet's reader, in typed APDUs (`card.md` §3.1, §3.1a).

Every answer other than 9000 is a `CardRefusedError` carrying the status word (the card did not
do it); a reader that fails (an `OSError` from it) is a `DeviceError` (the command may or may
not have reached the card); an answer of the wrong shape is a `CardProtocolError`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from centre.devices.ports import CardReader
from centre.errors import CardProtocolError, CardRefusedError, DeviceError
from keys.load import LoadType
from protocols.apdu import (
    Command,
    CreditForLoad,
    GetTransactionProve,
    InitializeForCappPurchase,
    InitializeForLoad,
    LoadInitialized,
    ReadBinary,
    Select,
    StatusWord,
    TransactionProof,
    decode_load_initialized,
    decode_load_tac,
    decode_purchase_initialized,
    decode_response,
    decode_transaction_proof,
    encode_command,
    status_word,
)
from protocols.errors import ProtocolError
from protocols.record_codec import ISSUER_INFO_LENGTH, decode_issuer_info
from protocols.records import IssuerInfo

#: The key indexes the centre's cards carry (our decision, as the simulator's: 01 each).
PURCHASE_KEY_INDEX = 0x01
LOAD_KEY_INDEX = 0x01


@dataclass(frozen=True, slots=True)
class Purse:
    """The purse as the card reports it without committing anything."""

    balance: int  # fen
    ctc: int  # the offline (purchase) counter


def _sw_name(sw: int) -> str:
    known = status_word(sw)
    return f"{sw:04X} {known.name}" if isinstance(known, StatusWord) else f"{sw:04X}"


class CardSession:
    """Commands to the card in the reader; `open()` first."""

    def __init__(self, reader: CardReader) -> None:
        self._reader = reader

    def _send(self, command: Command, what: str) -> bytes:
        try:
            apdu = encode_command(command)
        except ProtocolError as exc:
            raise CardProtocolError(f"{what}: {exc}") from exc
        try:
            raw = self._reader.transmit(apdu)
        except OSError as exc:
            raise DeviceError(f"{what}: the card reader failed: {exc}") from exc
        try:
            answer = decode_response(raw)
        except ProtocolError as exc:
            raise CardProtocolError(f"{what}: {exc}") from exc
        if not answer.ok:
            raise CardRefusedError(f"the card refused {what}: {_sw_name(int(answer.sw))}",
                                   int(answer.sw))
        return answer.data

    def open(self) -> IssuerInfo:
        """Reset the card, select the ETC application and read its 0015."""
        try:
            self._reader.power_on()
        except OSError as exc:
            raise DeviceError(f"no card to talk to: {exc}") from exc
        self._send(Select(), "SELECT 1001")
        raw = self._send(ReadBinary(sfi=0x15, length=ISSUER_INFO_LENGTH), "READ BINARY 0015")
        try:
            return decode_issuer_info(raw)
        except ProtocolError as exc:
            raise CardProtocolError(f"0015 does not decode: {exc}") from exc

    def purse(self, terminal_number: bytes) -> Purse:
        """Balance and CTC, from an INITIALIZE FOR CAPP PURCHASE of 0 fen that is never
        completed (the card commits nothing until DEBIT)."""
        data = self._send(InitializeForCappPurchase(PURCHASE_KEY_INDEX, 0, terminal_number),
                          "INITIALIZE FOR CAPP PURCHASE")
        try:
            opened = decode_purchase_initialized(data)
        except ProtocolError as exc:
            raise CardProtocolError(str(exc)) from exc
        return Purse(opened.balance, opened.ctc)

    def initialize_for_load(self, amount: int, terminal_number: bytes) -> LoadInitialized:
        data = self._send(InitializeForLoad(LOAD_KEY_INDEX, amount, terminal_number,
                                            LoadType.PURSE), "INITIALIZE FOR LOAD")
        try:
            return decode_load_initialized(data)
        except ProtocolError as exc:
            raise CardProtocolError(str(exc)) from exc

    def credit_for_load(self, transaction_time: dt.datetime, mac2: bytes) -> bytes:
        """The TAC of the committed load."""
        data = self._send(CreditForLoad(transaction_time, mac2), "CREDIT FOR LOAD")
        try:
            return decode_load_tac(data)
        except ProtocolError as exc:
            raise CardProtocolError(str(exc)) from exc

    def load_proof(self, online_serial: int) -> TransactionProof | None:
        """MAC2 and TAC of the load the card made at `online_serial`, None when it made none."""
        try:
            data = self._send(GetTransactionProve(ctc=online_serial, trans_type=LoadType.PURSE),
                              "GET TRANSACTION PROVE")
        except CardRefusedError as exc:
            if exc.status_word == StatusWord.RECORD_NOT_FOUND:
                return None
            raise
        try:
            return decode_transaction_proof(data)
        except ProtocolError as exc:
            raise CardProtocolError(str(exc)) from exc
