"""A-card bills, arrears charged to the issuing outlet, the card listed overdrawn until the bill
is paid."""

from __future__ import annotations

import datetime as dt

from centre.ledger import accounts
from centre.lists.categories import CardCategory
from centre.service.bills import pay_bill, run_bills
from centre.service.outcomes import RefusalReason, Refused
from centre.service.status import report_loss, unlock
from tests.centre.service.clearing import book_debit
from tests.centre.service.desk import T0, Desk, ok

DAY = dt.timedelta(days=1)


def _listed(desk: Desk, card: str) -> int:
    with desk.centre.store.transaction() as tx:
        return tx.lists.category("card", card)


def test_an_unpaid_bill_charges_the_outlet_and_lists_the_card_overdrawn(desk: Desk) -> None:
    desk.customer()
    card = desk.a_card()
    for i in range(2):
        book_debit(desk.centre, f"k{i}", card, i, 1_189, T0, T0 + DAY)
    run = run_bills(desk.centre, T0 + 2 * DAY)
    [bill] = run.issued
    assert bill.amount == 2_378 and run.defaulted == ()
    assert run_bills(desk.centre, T0 + 3 * DAY).issued == ()  # billed once
    overdue = run_bills(desk.centre, bill.due_at + dt.timedelta(seconds=1))
    assert [b.bill_id for b in overdue.defaulted] == [bill.bill_id]
    assert _listed(desk, card) == CardCategory.OVERDRAWN
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.outlet_arrears("370101001")) == 2_378
        assert tx.book.balance(accounts.credit(card)) == 0
    # Lost while overdrawn: listed lost; found again: overdrawn again.
    ok(report_loss(desk.centre, desk.request(), card))
    assert _listed(desk, card) == CardCategory.LOST
    ok(unlock(desk.centre, desk.request(), card))
    assert _listed(desk, card) == CardCategory.OVERDRAWN
    paid = ok(pay_bill(desk.centre, desk.request(), bill.bill_id))
    assert paid.result["status"] == "repaid" and paid.result["listed"] is None
    assert _listed(desk, card) == 0
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.outlet_arrears("370101001")) == 0
    twice = pay_bill(desk.centre, desk.request(), bill.bill_id)
    assert isinstance(twice, Refused) and twice.reason is RefusalReason.BILL_NOT_OPEN


def test_a_bill_paid_in_time_settles_the_card_account(desk: Desk) -> None:
    desk.customer()
    card = desk.a_card()
    book_debit(desk.centre, "k", card, 0, 700, T0, T0)
    [bill] = run_bills(desk.centre, T0 + DAY).issued
    ok(pay_bill(desk.centre, desk.request(), bill.bill_id))
    assert run_bills(desk.centre, bill.due_at + DAY).defaulted == ()
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.credit(card)) == 0
        assert tx.book.balance(accounts.bank(card)) == 700
    unknown = pay_bill(desk.centre, desk.request(), 999)
    assert isinstance(unknown, Refused) and unknown.reason is RefusalReason.UNKNOWN_BILL
