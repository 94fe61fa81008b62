"""MAC1, MAC2 and TAC of the PBOC load (top-up, 圈存) and their constant-time checks
(`crypto.md` §3a). The card computes MAC1 and the TAC, the issuer's host MAC2.

* MAC1 = MAC(SESLK, balance before 4 ‖ amount 4 ‖ trans type 1 ‖ terminal 6)
* MAC2 = MAC(SESLK, amount 4 ‖ trans type 1 ‖ terminal 6 ‖ date 4 ‖ time 3)
* TAC  = MAC(K_tac, balance after 4 ‖ online serial before 2 ‖ amount 4 ‖ trans type 1 ‖
  terminal 6 ‖ date 4 ‖ time 3), K_tac drawn from DTK as for the purchase.

The MAC itself is the purchase's (`keys.purchase.purchase_mac`: single DES for 3DES, the SM4
truncation our decision), and SESLK is `keys.derivation.load_session_key`.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from enum import IntEnum

from keys.ciphers import Algorithm
from keys.derivation import tac_key
from keys.errors import CryptoInputError
from keys.purchase import purchase_mac
from keys.secret import SecretKey
from protocols.apdu import encode_transaction_time
from protocols.errors import ApduError

__all__ = [
    "LoadTerms",
    "LoadType",
    "load_mac1",
    "load_mac2",
    "load_tac",
    "load_tac_data",
    "verify_load_mac1",
    "verify_load_mac2",
    "verify_load_tac",
]


class LoadType(IntEnum):
    """The transaction type of a load (INITIALIZE FOR LOAD P1/P2 and the MAC inputs)."""

    #: load of the electronic deposit (ED)
    DEPOSIT = 0x01
    #: load of the electronic purse (EP): a B card's top-up
    PURSE = 0x02


@dataclass(frozen=True, slots=True)
class LoadTerms:
    """What every load MAC vouches for: the amount, the load type and the terminal."""

    amount: int  # fen
    trans_type: int  # LoadType where known
    terminal_number: bytes  # 6

    def encode(self) -> bytes:
        """amount 4 ‖ trans type 1 ‖ terminal number 6."""
        if len(self.terminal_number) != 6:
            raise CryptoInputError("terminal number wants 6 bytes")
        try:
            return self.amount.to_bytes(4) + self.trans_type.to_bytes(1) + self.terminal_number
        except OverflowError as exc:
            raise CryptoInputError(f"load field out of range: {exc}") from exc


def _fen(name: str, value: int) -> bytes:
    try:
        return value.to_bytes(4)
    except OverflowError as exc:
        raise CryptoInputError(f"{name} {value} does not fit 4 bytes") from exc


def _time(value: dt.datetime) -> bytes:
    try:
        return encode_transaction_time(value)
    except ApduError as exc:
        raise CryptoInputError(f"load time out of range: {exc}") from exc


def load_mac1(algorithm: Algorithm, session_key: SecretKey, balance_before: int,
              terms: LoadTerms) -> bytes:
    """MAC1 of INITIALIZE FOR LOAD (card computes, host checks)."""
    return purchase_mac(algorithm, session_key, _fen("balance", balance_before) + terms.encode())


def load_mac2(algorithm: Algorithm, session_key: SecretKey, terms: LoadTerms,
              transaction_time: dt.datetime) -> bytes:
    """MAC2 of CREDIT FOR LOAD (host computes, card checks)."""
    return purchase_mac(algorithm, session_key, terms.encode() + _time(transaction_time))


def load_tac_data(balance_after: int, online_serial: int, terms: LoadTerms,
                  transaction_time: dt.datetime) -> bytes:
    """The TAC input of a load."""
    try:
        serial = online_serial.to_bytes(2)
    except OverflowError as exc:
        raise CryptoInputError(f"online serial {online_serial} does not fit 2 bytes") from exc
    return _fen("balance", balance_after) + serial + terms.encode() + _time(transaction_time)


def load_tac(algorithm: Algorithm, dtk: SecretKey, balance_after: int, online_serial: int,
             terms: LoadTerms, transaction_time: dt.datetime) -> bytes:
    """TAC of a load (card computes, the issuer checks), `online_serial` before the increment."""
    data = load_tac_data(balance_after, online_serial, terms, transaction_time)
    return purchase_mac(algorithm, tac_key(algorithm, dtk), data)


def verify_load_mac1(algorithm: Algorithm, session_key: SecretKey, balance_before: int,
                     terms: LoadTerms, candidate: bytes) -> bool:
    """True when `candidate` is the card's MAC1 (constant time)."""
    expected = load_mac1(algorithm, session_key, balance_before, terms)
    return hmac.compare_digest(expected, candidate)


def verify_load_mac2(algorithm: Algorithm, session_key: SecretKey, terms: LoadTerms,
                     transaction_time: dt.datetime, candidate: bytes) -> bool:
    """True when `candidate` is the host's MAC2 (constant time)."""
    expected = load_mac2(algorithm, session_key, terms, transaction_time)
    return hmac.compare_digest(expected, candidate)


def verify_load_tac(algorithm: Algorithm, dtk: SecretKey, balance_after: int,
                    online_serial: int, terms: LoadTerms, transaction_time: dt.datetime,
                    candidate: bytes) -> bool:
    """True when `candidate` is the TAC the card would compute for this load (constant time)."""
    expected = load_tac(algorithm, dtk, balance_after, online_serial, terms, transaction_time)
    return hmac.compare_digest(expected, candidate)
