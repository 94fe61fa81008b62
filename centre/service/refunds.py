"""B-card refunds (seed art. 21): payable 30 days after cancellation by the outlet that issued
the card, the recorded real balance less the lane debits that cleared in between
(`centre.ledger.refunds`), to the original payment method or onto another B card of the same
customer (a load of that card, at the reader). No cash withdrawal, no interest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from centre.devices.ports import CardReader
from centre.ledger import accounts, entries
from centre.ledger.refunds import ClearedDebit, RefundBasis, refund_amount
from centre.service import guards
from centre.service.centre import Centre
from centre.service.loading import Funding, load
from centre.service.outcomes import Outcome, Refusal, RefusalReason, Refused
from centre.service.requests import Work, perform
from centre.store.money import Refund, RefundStatus
from centre.store.store import StoreTransaction
from centre.values import CardStatus, Request, shown


@dataclass(frozen=True, slots=True)
class RefundFigures:
    """A pending refund and what it comes to now."""

    refund: Refund
    payable: int  # fen
    shortfall: int  # fen the cleared debits took beyond the recorded balance
    deducted: int  # fen of cleared debits taken off

    def as_dict(self) -> dict[str, Any]:
        r = self.refund
        return {"card": r.card_number, "outlet": r.outlet_id,
                "cancelled_at": shown(r.cancelled_at), "due_at": shown(r.due_at),
                "recorded_balance": r.recorded_balance,
                "basis": "ledger" if r.recorded_ctc is None else "card",
                "deducted": self.deducted, "payable": self.payable,
                "shortfall": self.shortfall, "method": r.method.value}


def figures(tx: StoreTransaction, refund: Refund) -> RefundFigures:
    basis = RefundBasis(refund.recorded_balance, refund.recorded_ctc, refund.cancelled_at)
    cleared = [ClearedDebit(d.ctc, d.amount, d.cleared_at)
               for d in tx.money.cleared_debits_of(refund.card_number, after=refund.cancelled_at)]
    payable, shortfall = refund_amount(basis, cleared)
    return RefundFigures(refund, payable, shortfall,
                         refund.recorded_balance - payable + shortfall)


def refunds_due(centre: Centre, now: dt.datetime, outlet: str | None = None
                ) -> list[RefundFigures]:
    """The refunds payable at `now` (of one outlet when given), with their amounts."""
    with centre.store.transaction() as tx:
        due = [figures(tx, r) for r in tx.money.refunds_due(now)]
    return [f for f in due if outlet is None or f.refund.outlet_id == outlet]


def refunds_pending(centre: Centre) -> list[RefundFigures]:
    with centre.store.transaction() as tx:
        return [figures(tx, r) for r in tx.money.refunds_pending()]


def _pending(tx: StoreTransaction, request: Request, card_number: str) -> RefundFigures:
    guards.b_card(tx, card_number, "a refund")
    refund = tx.money.refund(card_number)
    if refund is None:
        raise Refusal(RefusalReason.NO_REFUND, f"card {card_number} has no refund: it was not"
                      " cancelled")
    if refund.status is RefundStatus.PAID:
        raise Refusal(RefusalReason.NO_REFUND, f"the refund of card {card_number} was paid on "
                      f"{shown(refund.paid_at) if refund.paid_at else '?'}")
    guards.issuing_outlet(request, refund.outlet_id, "a refund")
    if request.at < refund.due_at:
        raise Refusal(RefusalReason.REFUND_NOT_DUE,
                      f"the refund of card {card_number} is payable from "
                      f"{shown(refund.due_at)} (30 days after cancellation), not before")
    return figures(tx, refund)


def pay_refund(centre: Centre, request: Request, card_number: str) -> Outcome:
    """Pay a due refund back by the original payment method."""
    def work(tx: StoreTransaction) -> Work:
        due = _pending(tx, request, card_number)
        entry_id = None
        if due.payable:
            entry_id = tx.book.post(entries.refund_paid(
                card_number, request.outlet, due.payable, memo=due.refund.method.value),
                request.at, request.request_id)
        tx.money.mark_refund_paid(card_number, request.at, due.payable, None, entry_id)
        left = tx.book.balance(accounts.purse(card_number))
        return Work({**due.as_dict(), "paid": due.payable, "to": due.refund.method.value,
                     "ledger_left": left}, f"card:{card_number}")

    return perform(centre, request, "refund_pay", {"card": card_number, "to_card": None}, work)


def pay_refund_to_card(centre: Centre, request: Request, card_number: str, to_card: str,
                       reader: CardReader) -> Outcome:
    """Move a due refund onto another B card of the same customer, loading it at `reader`."""
    with centre.store.transaction() as tx:
        try:
            due = _pending(tx, request, card_number)
        except Refusal as refusal:
            return Refused(refusal.reason, refusal.message)

    def check(tx: StoreTransaction) -> None:
        source = guards.card(tx, card_number)
        target = guards.b_card(tx, to_card, "a refund to a card")
        if target.customer_id != source.customer_id or target.card_number == card_number:
            raise Refusal(RefusalReason.NOT_THE_CUSTOMERS_CARD,
                          f"card {to_card} is not another B card of customer "
                          f"{source.customer_id}")
        guards.status_is(target, (CardStatus.ACTIVE,), "a refund to a card")
        again = _pending(tx, request, card_number)
        if again.payable <= 0:
            raise Refusal(RefusalReason.NO_REFUND, f"the refund of card {card_number} comes to"
                          " 0 fen: pay it by the original method to close it")

    question = {"card": card_number, "to_card": to_card}
    return load(centre, request, "refund_pay", question, to_card, due.payable,
                Funding(from_card=card_number), reader, check=check)


__all__ = ["RefundFigures", "figures", "pay_refund", "pay_refund_to_card", "refunds_due",
           "refunds_pending"]
