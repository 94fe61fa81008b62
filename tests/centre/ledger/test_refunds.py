"""The B-card refund rule: 30 days, less what clears in between and is not in the balance."""

from __future__ import annotations

import datetime as dt

from centre.ledger.refunds import ClearedDebit, RefundBasis, refund_amount, refund_due_at

CANCELLED = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
LATER = CANCELLED + dt.timedelta(days=3)


def test_the_refund_is_due_thirty_days_after_cancellation() -> None:
    assert refund_due_at(CANCELLED) == dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    assert RefundBasis(100, 5, CANCELLED).due_at == refund_due_at(CANCELLED)


def test_a_balance_read_from_the_card_already_holds_its_earlier_debits() -> None:
    basis = RefundBasis(recorded_balance=8_000, recorded_ctc=12, cancelled_at=CANCELLED)
    made_before_reading = ClearedDebit(ctc=11, amount=1_189, cleared_at=LATER)
    made_after_reading = ClearedDebit(ctc=12, amount=500, cleared_at=LATER)
    assert refund_amount(basis, [made_before_reading]) == (8_000, 0)
    assert refund_amount(basis, [made_before_reading, made_after_reading]) == (7_500, 0)


def test_a_ledger_balance_is_reduced_by_every_debit_clearing_after_cancellation() -> None:
    basis = RefundBasis(recorded_balance=8_000, recorded_ctc=None, cancelled_at=CANCELLED)
    cleared = [ClearedDebit(11, 1_189, LATER), ClearedDebit(None, 811, LATER),
               ClearedDebit(10, 300, CANCELLED - dt.timedelta(hours=1))]
    assert refund_amount(basis, cleared) == (6_000, 0)


def test_a_refund_never_goes_below_zero_and_reports_the_shortfall() -> None:
    basis = RefundBasis(recorded_balance=1_000, recorded_ctc=None, cancelled_at=CANCELLED)
    assert refund_amount(basis, [ClearedDebit(3, 1_250, LATER)]) == (0, 250)
