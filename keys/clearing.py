"""TAC verification for clearing: is the TAC of a reported transaction the card's own?"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from keys.card_keys import CardKeys
from keys.ciphers import Algorithm
from keys.derivation import issuer_factor
from keys.keyset import KeySet
from keys.purchase import PurchaseTerms, verify_tac


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

    def is_genuine(self, transaction: ReportedTransaction) -> bool:
        """True when the TAC is the one the card would have computed (constant-time check)."""
        t = transaction
        dtk = self._card_keys.dtk(
            t.network, t.key_version, t.algorithm, issuer_factor(t.issuer_code), t.card_serial
        )
        terms = PurchaseTerms(t.amount, t.trans_type, t.terminal_number, t.transaction_time)
        return verify_tac(t.algorithm, dtk, terms, t.terminal_trans_serial, t.tac)
