"""MAC1, MAC2 and TAC of the composite purchase, and their constant-time checks (`crypto.md` §3)."""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from keys.ciphers import Algorithm, cbc_mac
from keys.derivation import tac_key
from keys.errors import CryptoInputError
from keys.secret import SecretKey
from protocols.apdu import encode_transaction_time
from protocols.errors import ApduError
from protocols.frozen import fast_init

__all__ = [
    "MAC_LENGTH",
    "PurchaseTerms",
    "mac1",
    "mac2",
    "purchase_mac",
    "tac",
    "verify_mac1",
    "verify_mac2",
    "verify_tac",
]

MAC_LENGTH = 4


@fast_init
@dataclass(frozen=True, slots=True)
class PurchaseTerms:
    """What MAC1 and the TAC vouch for: amount, transaction type, terminal and time."""

    amount: int  # fen
    trans_type: int  # 0x09 composite purchase, 0x06 simple purchase
    terminal_number: bytes  # 6
    transaction_time: dt.datetime

    def encode(self) -> bytes:
        """amount 4 ‖ trans type 1 ‖ terminal number 6 ‖ date 4 ‖ time 3 (the MAC1 input)."""
        return self.encode_with_serial(None)

    def encode_with_serial(self, terminal_trans_serial: int | None) -> bytes:
        """The MAC1 input, or with the 4-byte terminal trans serial after the terminal (TAC)."""
        if len(self.terminal_number) != 6:
            raise CryptoInputError("terminal number wants 6 bytes")
        try:
            head = self.amount.to_bytes(4) + self.trans_type.to_bytes(1) + self.terminal_number
            serial = b"" if terminal_trans_serial is None else terminal_trans_serial.to_bytes(4)
            return head + serial + encode_transaction_time(self.transaction_time)
        except (OverflowError, ApduError) as exc:
            raise CryptoInputError(f"purchase field out of range: {exc}") from exc


def purchase_mac(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """The 4-byte MAC of the purchase: leftmost 4 bytes of the last CBC-MAC block.

    3DES: single DES with the 8-byte key (field). SM4: leftmost 4 bytes of the last 16-byte
    block (our decision: the public record does not give the SM4 truncation).
    """
    if algorithm is Algorithm.TDES and len(key) != 8:
        raise CryptoInputError("the 3DES-family MAC wants an 8-byte single-DES key")
    return cbc_mac(algorithm, key, data)[:MAC_LENGTH]


def mac1(algorithm: Algorithm, session_key: SecretKey, terms: PurchaseTerms) -> bytes:
    """MAC1 (PSAM computes, card checks) over amount, type, terminal, date, time."""
    return purchase_mac(algorithm, session_key, terms.encode())


def mac2(algorithm: Algorithm, session_key: SecretKey, amount: int) -> bytes:
    """MAC2 (card computes, PSAM checks) over the amount."""
    try:
        data = amount.to_bytes(4)
    except OverflowError as exc:
        raise CryptoInputError("amount does not fit 4 bytes") from exc
    return purchase_mac(algorithm, session_key, data)


def tac(
    algorithm: Algorithm, dtk: SecretKey, terms: PurchaseTerms, terminal_trans_serial: int
) -> bytes:
    """TAC (card computes, clearing checks) with the family's TAC key drawn from DTK."""
    data = terms.encode_with_serial(terminal_trans_serial)
    return purchase_mac(algorithm, tac_key(algorithm, dtk), data)


def verify_mac1(
    algorithm: Algorithm, session_key: SecretKey, terms: PurchaseTerms, candidate: bytes
) -> bool:
    """True when `candidate` is the MAC1 of `terms` (constant time)."""
    return hmac.compare_digest(mac1(algorithm, session_key, terms), candidate)


def verify_mac2(
    algorithm: Algorithm, session_key: SecretKey, amount: int, candidate: bytes
) -> bool:
    """True when `candidate` is the MAC2 of `amount` (constant time)."""
    return hmac.compare_digest(mac2(algorithm, session_key, amount), candidate)


def verify_tac(
    algorithm: Algorithm,
    dtk: SecretKey,
    terms: PurchaseTerms,
    terminal_trans_serial: int,
    candidate: bytes,
) -> bool:
    """True when `candidate` is the TAC of the transaction (constant time)."""
    return hmac.compare_digest(tac(algorithm, dtk, terms, terminal_trans_serial), candidate)
