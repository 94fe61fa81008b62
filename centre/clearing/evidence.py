"""What proves a lane record: the card's TAC, verified with the issuer's TAC key
(`keys.clearing`), and what a purchase asked of the card when its record does not say.

The TAC covers the amount, the transaction type (composite purchase), the PSAM's terminal
number and serial and the purchase time as the card keeps it: lane local time (UTC+8, the
lane's zone and the centre's), without a zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from centre.values import CENTRE_ZONE
from keys.ciphers import Algorithm
from keys.clearing import ReportedTransaction, TacVerifier
from keys.errors import KeyNotFoundError, KeysError
from keys.keyset import KeySet
from lane_engine.core.outcomes import ReasonCode, TransactionRecord
from protocols.frames import TransType


def record_time(record: TransactionRecord) -> dt.datetime:
    """The record's transaction time, aware (ValueError when it is not ISO 8601)."""
    value = dt.datetime.fromisoformat(record.transaction_time)
    return value.replace(tzinfo=CENTRE_ZONE) if value.tzinfo is None else value


def card_time(record: TransactionRecord) -> dt.datetime:
    """The purchase time as the card keeps it: local wall time, no zone."""
    return record_time(record).astimezone(CENTRE_ZONE).replace(tzinfo=None)


def intended_amount(record: TransactionRecord) -> int:
    """What the C6 of a record asked the card for: 0 at an entry lane and for a short B card,
    else the discounted fee (an UNRESOLVED record never says what was taken)."""
    if record.mode == "entry" or ReasonCode.INSUFFICIENT_BALANCE in record.flags \
            or record.cash_fee:
        return 0
    return record.discounted_fee


@dataclass(frozen=True, slots=True)
class TacResult:
    """Whether the record's TAC verified; `reason` says why not."""

    genuine: bool
    reason: str = ""


class TacCheck:
    """Verifies the TACs of lane records under the centre's key set."""

    def __init__(self, key_set: KeySet) -> None:
        self._verifier = TacVerifier(key_set)

    def check(self, record: TransactionRecord) -> TacResult:
        if not record.tac:
            return TacResult(False, "the record carries no TAC")
        try:
            reported = ReportedTransaction(
                issuer_code=bytes.fromhex(record.card_issuer_code),
                card_serial=bytes.fromhex(record.card_number[4:]),
                network=record.card_number[:4], key_version=record.key_version,
                algorithm=Algorithm(record.alg_flag), amount=record.amount_debited,
                trans_type=TransType.COMPOSITE_PURCHASE,
                terminal_number=bytes.fromhex(record.psam_terminal_number),
                terminal_trans_serial=record.terminal_trans_serial,
                transaction_time=card_time(record), tac=bytes.fromhex(record.tac))
        except ValueError as exc:
            return TacResult(False, f"the record's purchase fields cannot be read ({exc})")
        try:
            genuine = self._verifier.is_genuine(reported)
        except KeyNotFoundError as exc:
            return TacResult(False, f"no TAC key for the card: {exc}")
        except (KeysError, ValueError) as exc:
            return TacResult(False, f"the TAC cannot be computed ({exc})")
        if not genuine:
            return TacResult(False, f"TAC {record.tac} does not verify under the issuer's key "
                             f"(network {record.card_number[:4]}, key version "
                             f"{record.key_version})")
        return TacResult(True)
