"""A-card bills and arrears (seed art. 28), from the lane debits clearing booked
(`centre.clearing`: each one a ledger entry and a cleared-debit row).

* `run_bills(centre, now)`: bills every A card's unbilled cleared debits (due after the
  centre's payment term) and defaults every open bill past its due date: the issuing outlet is
  charged the arrears and the card goes on the list as overdrawn.
* `pay_bill(centre, request, bill_id)`: the bound account pays a bill; a defaulted one pays the
  outlet back and the card leaves the list (unless something else keeps it there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from centre.ledger import entries
from centre.ledger.bills import BillTerms, is_overdue
from centre.service.centre import Centre
from centre.service.listing import refresh_card
from centre.service.outcomes import Outcome, Refusal, RefusalReason
from centre.service.requests import Work, perform
from centre.store.money import Bill, BillStatus
from centre.store.store import StoreTransaction
from centre.values import CardKind, Request


@dataclass(frozen=True, slots=True)
class BillRun:
    issued: tuple[Bill, ...]
    defaulted: tuple[Bill, ...]


def run_bills(centre: Centre, now: dt.datetime) -> BillRun:
    """Bill unbilled A-card debits and default overdue bills (idempotent at any time)."""
    issued: list[Bill] = []
    defaulted: list[Bill] = []
    with centre.store.transaction() as tx:
        for card in tx.devices.cards():
            if card.kind is not CardKind.A:
                continue
            debits = tx.money.unbilled_debits(card.card_number)
            if not debits:
                continue
            terms = BillTerms(now, centre.settings.bill_term)
            bill_id = tx.money.open_bill(card.card_number, now, terms.due_at,
                                         [d.idempotency_key for d in debits],
                                         sum(d.amount for d in debits))
            bill = tx.money.bill(bill_id)
            assert bill is not None
            issued.append(bill)
        for bill in tx.money.open_bills_overdue(now):
            if not is_overdue(bill.due_at, False, now):
                continue
            billed = tx.devices.card(bill.card_number)
            assert billed is not None
            entry_id = tx.book.post(entries.arrears_charged(
                bill.card_number, billed.outlet_id, bill.amount, memo=f"bill {bill.bill_id}"),
                now)
            tx.money.settle_bill(bill.bill_id, BillStatus.DEFAULTED, now, entry_id,
                                 charged_outlet=billed.outlet_id)
            refresh_card(tx, bill.card_number, now, None)
            settled = tx.money.bill(bill.bill_id)
            assert settled is not None
            defaulted.append(settled)
    return BillRun(tuple(issued), tuple(defaulted))


def pay_bill(centre: Centre, request: Request, bill_id: int) -> Outcome:
    """The bound account pays bill `bill_id`."""
    def work(tx: StoreTransaction) -> Work:
        bill = tx.money.bill(bill_id)
        if bill is None:
            raise Refusal(RefusalReason.UNKNOWN_BILL, f"no bill {bill_id}")
        if bill.status is BillStatus.OPEN:
            entry = entries.bill_paid(bill.card_number, bill.amount, memo=f"bill {bill_id}")
            status = BillStatus.PAID
        elif bill.status is BillStatus.DEFAULTED and bill.charged_outlet is not None:
            entry = entries.arrears_repaid(bill.card_number, bill.charged_outlet, bill.amount,
                                           memo=f"bill {bill_id}")
            status = BillStatus.REPAID
        else:
            raise Refusal(RefusalReason.BILL_NOT_OPEN, f"bill {bill_id} is {bill.status.value}")
        entry_id = tx.book.post(entry, request.at, request.request_id)
        tx.money.settle_bill(bill_id, status, request.at, entry_id, was=bill.status)
        category = refresh_card(tx, bill.card_number, request.at, request.request_id)
        return Work({"bill": bill_id, "card": bill.card_number, "amount": bill.amount,
                     "status": status.value,
                     "listed": None if category is None else category.name.lower()},
                    f"card:{bill.card_number}")

    return perform(centre, request, "bill_pay", {"bill": bill_id}, work)


__all__ = ["BillRun", "pay_bill", "run_bills"]
