"""TAC verification for clearing: is the TAC of a reported transaction the card's own?"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from keys.card_keys import CardKeys
from keys.ciphers import Algorithm, cbc_mac_once
from keys.derivation import diversify, issuer_factor, tac_key
from keys.errors import CryptoInputError
from keys.keyset import KeySet
from keys.purchase import MAC_LENGTH, PurchaseTerms, verify_tac

__all__ = [
    "ReportedTransaction",
    "TacVerifier",
]


@dataclass(frozen=True, slots=True)
class ReportedTransaction:
    """What a transaction record says about a debit, as far as the TAC covers it."""

    issuer_code: bytes  # 4, 0015 bytes 4-7
    card_serial: bytes  # 8, 0015 offset 12
    network: str
    key_version: int
    algorithm: Algorithm
    amount: int  # fen
    trans_type: int
    terminal_number: bytes  # 6
    terminal_trans_serial: int
    transaction_time: dt.datetime
    tac: bytes  # 4


class TacVerifier:
    """Checks TACs with the issuer's MTK (KeyNotFoundError when the key set lacks it)."""

    def __init__(self, key_set: KeySet) -> None:
        self._card_keys = CardKeys(key_set)

    def tac_matches(self, network: str, key_version: int, algorithm: Algorithm,
                    issuer_code: bytes, card_serial: bytes, amount: int, trans_type: int,
                    terminal_number: bytes, terminal_trans_serial: int, time_bcd: bytes,
                    tac: bytes) -> bool:
        """`is_genuine` from the fields as a lane record holds them, the transaction time as
        its 7 BCD bytes (yyyyMMddHHmmss): no value objects on the way (a lane checks one TAC
        for every debit)."""
        # The card's DTK and TAC key serve this one check: derived and used without being kept
        # (a lane or clearing sees each debit once; keeping them only grows the caches).
        dtk = diversify(algorithm, self._card_keys.issuer_key(
            "mtk", network, key_version, algorithm, issuer_factor(issuer_code)), card_serial)
        try:
            data = (amount.to_bytes(4) + trans_type.to_bytes(1) + terminal_number
                    + terminal_trans_serial.to_bytes(4) + time_bcd)
        except OverflowError as exc:
            raise CryptoInputError(f"purchase field out of range: {exc}") from exc
        if len(terminal_number) != 6 or len(time_bcd) != 7:
            raise CryptoInputError("terminal number wants 6 bytes, the time 7 BCD bytes")
        mac = cbc_mac_once(algorithm, tac_key(algorithm, dtk), data)[:MAC_LENGTH]
        return hmac.compare_digest(mac, tac)

    def is_genuine(self, transaction: ReportedTransaction) -> bool:
        """True when the TAC is the one the card would have computed (constant-time check)."""
        t = transaction
        dtk = self._card_keys.dtk(
            t.network, t.key_version, t.algorithm, issuer_factor(t.issuer_code), t.card_serial
        )
        terms = PurchaseTerms(t.amount, t.trans_type, t.terminal_number, t.transaction_time)
        return verify_tac(t.algorithm, dtk, terms, t.terminal_trans_serial, t.tac)
