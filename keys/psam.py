"""The PSAM interface and a software PSAM for simulation, tests and benchmarks.

A hardware PSAM reader implements the same `Psam` protocol; production keeps MPK in hardware.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from keys.card_keys import CardKeys
from keys.ciphers import Algorithm
from keys.derivation import purchase_session_key
from keys.errors import (
    CryptoInputError,
    KeyNotFoundError,
    PsamSequenceError,
    SerialStoreError,
    VehicleFileError,
)
from keys.keyset import KeySet
from keys.purchase import PurchaseTerms, mac1, verify_mac2
from keys.secret import SecretKey
from keys.serial_store import TerminalSerialStore
from keys.vehicle_file import SealedVehicleFile, open_vehicle_file
from protocols.apdu import (
    PSAM_TERMINAL_FILE_SFI,
    TERMINAL_NUMBER_LENGTH,
    CommandRejected,
    CreditSamForPurchase,
    InitSamForPurchase,
    ReadBinary,
    Response,
    SamPurchaseStarted,
    StatusWord,
    decode_command,
    encode_sam_purchase_started,
)

__all__ = [
    "Psam",
    "SamPurchase",
    "SoftwarePsam",
    "network_of_issuer_factor",
]


class SamPurchase(NamedTuple):
    """What INIT SAM FOR PURCHASE answers: the terminal trans serial and MAC1."""

    terminal_trans_serial: int
    mac1: bytes


class Psam(Protocol):
    """A PSAM: numbers terminal transactions, computes MAC1, checks MAC2, opens vehicle files."""

    @property
    def terminal_number(self) -> bytes:
        """The 6-byte terminal number (PSAM file 0016)."""
        ...

    def init_sam_for_purchase(self, command: InitSamForPurchase) -> SamPurchase:
        """Allocate a terminal trans serial and compute MAC1 (KeyNotFoundError if no keys)."""
        ...

    def credit_sam_for_purchase(self, mac2: bytes) -> bool:
        """True when MAC2 is the card's answer to the pending purchase."""
        ...

    def decrypt_vehicle_file(
        self,
        network: str,
        key_version: int,
        algorithm: Algorithm,
        contract_serial: bytes,
        rnd_rsu: bytes,
        sealed: SealedVehicleFile,
    ) -> bytes:
        """The plain vehicle file of a GetSecure answer (VehicleFileError if not genuine)."""
        ...

    def handle_apdu(self, apdu: bytes) -> bytes:
        """Answer a command APDU of `card.md` §3.2 with response bytes, SW included."""
        ...


def network_of_issuer_factor(issuer_factor: bytes) -> str:
    """The network whose keys serve a card, read from the first two bytes of its issuer factor
    (issuer code `37010001` → network `3701`). Our decision: INIT SAM carries no network."""
    return issuer_factor[:2].hex()


class _Pending(NamedTuple):
    algorithm: Algorithm
    session_key: SecretKey
    amount: int


class SoftwarePsam:
    """A PSAM in software over a key set; serials come from `serial_store`."""

    def __init__(
        self, key_set: KeySet, terminal_number: bytes, serial_store: TerminalSerialStore,
        card_keys: CardKeys | None = None,
    ) -> None:
        """`card_keys` (of `key_set`) may be shared with other devices of one simulation: the
        keys derived are the same, derived once."""
        if len(terminal_number) != TERMINAL_NUMBER_LENGTH:
            raise CryptoInputError("terminal number wants 6 bytes")
        self._card_keys = CardKeys(key_set) if card_keys is None else card_keys
        self._terminal_number = bytes(terminal_number)
        self._serials = serial_store
        self._pending: _Pending | None = None

    def __repr__(self) -> str:
        return f"SoftwarePsam(terminal_number={self._terminal_number.hex().upper()})"

    @property
    def terminal_number(self) -> bytes:
        """The 6-byte terminal number."""
        return self._terminal_number

    def init_sam_for_purchase(self, command: InitSamForPurchase) -> SamPurchase:
        """Allocate a serial (durable first), derive the session key and compute MAC1."""
        self._pending = None
        try:
            algorithm = Algorithm(command.algorithm)
        except ValueError:
            raise KeyNotFoundError(f"unknown algorithm id {command.algorithm:02X}") from None
        if len(command.issuer_factor) != 8:
            raise CryptoInputError("issuer factor wants 8 bytes")
        dpk = self._card_keys.dpk(
            network_of_issuer_factor(command.issuer_factor),
            command.key_version,
            algorithm,
            command.issuer_factor,
            command.card_serial,
        )
        terms = PurchaseTerms(
            command.amount, command.trans_type, self._terminal_number, command.transaction_time
        )
        terms.encode()  # refuse out-of-range terms before a serial is spent on them
        serial = self._serials.allocate()
        session_key = purchase_session_key(
            algorithm, dpk, command.icc_random, command.ctc, serial
        )
        self._pending = _Pending(algorithm, session_key, command.amount)
        return SamPurchase(serial, mac1(algorithm, session_key, terms))

    def credit_sam_for_purchase(self, mac2: bytes) -> bool:
        """Check MAC2 against the pending purchase; the purchase is no longer pending after."""
        pending, self._pending = self._pending, None
        if pending is None:
            raise PsamSequenceError("CREDIT SAM FOR PURCHASE without INIT SAM FOR PURCHASE")
        return verify_mac2(pending.algorithm, pending.session_key, pending.amount, mac2)

    def decrypt_vehicle_file(
        self,
        network: str,
        key_version: int,
        algorithm: Algorithm,
        contract_serial: bytes,
        rnd_rsu: bytes,
        sealed: SealedVehicleFile,
    ) -> bytes:
        """Open a GetSecure vehicle file with the OBU key drawn from MVK."""
        obu_key = self._card_keys.obu_vehicle_key(network, key_version, algorithm, contract_serial)
        return open_vehicle_file(algorithm, obu_key, rnd_rsu, sealed)

    def handle_apdu(self, apdu: bytes) -> bytes:
        """Answer a PSAM command APDU; every failure is a status word, never an exception."""
        return self._answer(apdu).encode()

    def _answer(self, apdu: bytes) -> Response:
        try:
            command = decode_command(apdu)
        except CommandRejected as exc:
            return Response(b"", exc.status_word)
        match command:
            case ReadBinary() if command.sfi == PSAM_TERMINAL_FILE_SFI:
                end = command.offset + command.length
                if end > TERMINAL_NUMBER_LENGTH:
                    return Response(b"", StatusWord.WRONG_LENGTH)
                return Response(self._terminal_number[command.offset : end], StatusWord.OK)
            case ReadBinary():
                return Response(b"", StatusWord.FILE_NOT_FOUND)
            case InitSamForPurchase():
                return self._init_sam(command)
            case CreditSamForPurchase():
                try:
                    genuine = self.credit_sam_for_purchase(command.mac2)
                except PsamSequenceError:
                    return Response(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
                return Response(b"", StatusWord.OK if genuine else StatusWord.MAC_INVALID)
        return Response(b"", StatusWord.INS_NOT_SUPPORTED)

    def _init_sam(self, command: InitSamForPurchase) -> Response:
        try:
            started = self.init_sam_for_purchase(command)
        except KeyNotFoundError:
            return Response(b"", StatusWord.KEY_NOT_FOUND)
        except SerialStoreError:
            return Response(b"", StatusWord.MEMORY_FAILURE)
        except (CryptoInputError, VehicleFileError):
            return Response(b"", StatusWord.WRONG_DATA)
        body = SamPurchaseStarted(started.terminal_trans_serial, started.mac1)
        return Response(encode_sam_purchase_started(body), StatusWord.OK)
