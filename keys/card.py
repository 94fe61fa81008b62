"""What the card computes in a purchase (for the card emulator; no card state machine here)."""

from __future__ import annotations

from keys.ciphers import Algorithm
from keys.derivation import purchase_session_key
from keys.purchase import PurchaseTerms, mac2, tac, verify_mac1
from keys.secret import SecretKey
from protocols.apdu import DebitDone, TransactionProof

__all__ = [
    "debit_for_purchase",
    "transaction_proof",
]


def debit_for_purchase(
    algorithm: Algorithm,
    dpk: SecretKey,
    dtk: SecretKey,
    icc_random: bytes,
    ctc: int,
    terms: PurchaseTerms,
    terminal_trans_serial: int,
    mac1: bytes,
) -> DebitDone | None:
    """The card's side of DEBIT FOR CAPP PURCHASE: None when MAC1 is wrong (answer 9302), else
    the TAC and MAC2 to answer with. `icc_random` and `ctc` are those of INITIALIZE."""
    session_key = purchase_session_key(algorithm, dpk, icc_random, ctc, terminal_trans_serial)
    if not verify_mac1(algorithm, session_key, terms, mac1):
        return None
    return DebitDone(
        tac=tac(algorithm, dtk, terms, terminal_trans_serial),
        mac2=mac2(algorithm, session_key, terms.amount),
    )


def transaction_proof(
    algorithm: Algorithm,
    dpk: SecretKey,
    dtk: SecretKey,
    icc_random: bytes,
    ctc: int,
    terms: PurchaseTerms,
    terminal_trans_serial: int,
) -> TransactionProof:
    """What GET TRANSACTION PROVE returns for the debit made with `ctc`: MAC2 and TAC of that
    debit, recomputed from what the card kept of it."""
    session_key = purchase_session_key(algorithm, dpk, icc_random, ctc, terminal_trans_serial)
    return TransactionProof(
        mac2=mac2(algorithm, session_key, terms.amount),
        tac=tac(algorithm, dtk, terms, terminal_trans_serial),
    )
