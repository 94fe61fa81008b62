"""Loss report, unlock and cancellation of cards and OBUs (seed art. 20-22, 26).

* Loss and unlock: at any outlet of the issuing service centre; the card (OBU) goes on the
  status list as lost, and leaves it when unlocked (unless something else keeps it there).
* Cancel: a B card at the outlet that issued it (art. 21), an A card or an OBU at any outlet of
  the issuing centre. With the card at the reader its real balance and CTC are recorded (and a
  torn load settled first); without it the ledger's balance is recorded and the card goes on
  the list as cancelled without card. A B card's refund is payable 30 days later.
"""

from __future__ import annotations

from typing import Any

from centre.devices.ports import CardReader
from centre.errors import DeviceError
from centre.ledger import accounts
from centre.ledger.limits import Service
from centre.ledger.refunds import refund_due_at
from centre.lists.categories import obu_list_number
from centre.service import guards
from centre.service.centre import Centre
from centre.service.listing import refresh_card, refresh_obu
from centre.service.loading import CardReading, read_card
from centre.service.outcomes import Outcome, Refusal, RefusalReason, Refused
from centre.service.requests import Work, fingerprint, perform, replay
from centre.store.money import Refund
from centre.store.store import StoreTransaction
from centre.values import CardKind, CardStatus, ObuStatus, Request, shown


def _listed(category: object) -> str | None:
    name = getattr(category, "name", None)
    return None if name is None else str(name).lower()


def _card_change(centre: Centre, request: Request, operation: str, card_number: str,
                 wanted: tuple[CardStatus, ...], to: CardStatus, service: Service) -> Outcome:
    def work(tx: StoreTransaction) -> Work:
        card = guards.card(tx, card_number)
        guards.status_is(card, wanted, operation.replace("_", " "))
        guards.issuing_centre(tx, request, card.outlet_id, operation.replace("_", " "))
        tx.devices.set_card_status(card_number, to, request.at)
        category = refresh_card(tx, card_number, request.at, request.request_id)
        return Work({"card": card_number, "status": to.value, "listed": _listed(category)},
                    f"card:{card_number}", service)

    return perform(centre, request, operation, {"card": card_number}, work)


def _obu_change(centre: Centre, request: Request, operation: str, obu_number: str,
                wanted: ObuStatus, to: ObuStatus, service: Service) -> Outcome:
    def work(tx: StoreTransaction) -> Work:
        obu = guards.obu(tx, obu_number)
        if obu.status is not wanted:
            raise Refusal(RefusalReason.WRONG_OBU_STATUS,
                          f"OBU {obu_number} is {obu.status.value}: "
                          f"{operation.replace('_', ' ')} needs it {wanted.value}")
        guards.issuing_centre(tx, request, obu.outlet_id, operation.replace("_", " "))
        tx.devices.set_obu_status(obu_number, to, request.at)
        category = refresh_obu(tx, obu_number, request.at, request.request_id)
        return Work({"obu": obu_number, "status": to.value, "listed": _listed(category)},
                    f"obu:{obu_number}", service)

    return perform(centre, request, f"{operation}_obu", {"obu": obu_number}, work)


def report_loss(centre: Centre, request: Request, card_number: str) -> Outcome:
    """The holder reports the card lost: it goes on the list as lost."""
    return _card_change(centre, request, "report_loss", card_number, (CardStatus.ACTIVE,),
                        CardStatus.LOST, Service.LOSS)


def unlock(centre: Centre, request: Request, card_number: str) -> Outcome:
    """A lost card found again: active, and off the list."""
    return _card_change(centre, request, "unlock", card_number, (CardStatus.LOST,),
                        CardStatus.ACTIVE, Service.UNLOCK)


def report_obu_loss(centre: Centre, request: Request, obu_number: str) -> Outcome:
    return _obu_change(centre, request, "report_loss", obu_number, ObuStatus.ACTIVE,
                       ObuStatus.LOST, Service.LOSS)


def unlock_obu(centre: Centre, request: Request, obu_number: str) -> Outcome:
    return _obu_change(centre, request, "unlock", obu_number, ObuStatus.LOST,
                       ObuStatus.ACTIVE, Service.UNLOCK)


def cancel_card(centre: Centre, request: Request, card_number: str,
                reader: CardReader | None) -> Outcome:
    """Cancel a card, with it at `reader` or without it (see the module docstring)."""
    with_card = reader is not None
    operation = "cancel"
    question = {"card": card_number, "with_card": with_card}
    digest = fingerprint(operation, question)

    def check(tx: StoreTransaction) -> None:
        card = guards.card(tx, card_number)
        guards.status_is(card, (CardStatus.ACTIVE, CardStatus.LOST), "cancellation")
        if card.kind is CardKind.B:
            guards.issuing_outlet(request, card.outlet_id, "cancelling a B card")
        else:
            guards.issuing_centre(tx, request, card.outlet_id, "cancelling an A card")
        if not with_card and tx.loads.pending_for(card_number) is not None:
            raise Refusal(RefusalReason.LOAD_UNSETTLED,
                          f"a top-up of card {card_number} is not settled: cancel with the card"
                          " at the reader (the load is settled from its log)")

    try:
        with centre.store.transaction() as tx:
            earlier = replay(tx, request, operation, digest)
            if earlier is not None:
                return earlier
            guards.outlet(tx, request)
            check(tx)
            terminal = guards.outlet(tx, request).terminal_number
        reading: CardReading | None = None
        if reader is not None:
            reading = read_card(centre, reader, card_number, terminal, request.at)
    except Refusal as refusal:
        return Refused(refusal.reason, refusal.message)
    except DeviceError as exc:
        return Refused(RefusalReason.DEVICE_FAILED, f"{exc}; cancel without the card instead")

    def work(tx: StoreTransaction) -> Work:
        check(tx)
        card = guards.card(tx, card_number)
        tx.devices.set_card_status(card_number, CardStatus.CANCELLED, request.at,
                                   without_card=not with_card)
        category = refresh_card(tx, card_number, request.at, request.request_id)
        result: dict[str, Any] = {"card": card_number, "status": "cancelled",
                                  "with_card": with_card, "listed": _listed(category)}
        if card.kind is CardKind.B:
            if reading is not None:
                balance, ctc = reading.balance, reading.ctc
            else:
                balance, ctc = tx.book.balance(accounts.purse(card_number)), None
            due = refund_due_at(request.at)
            assert card.payment_method is not None
            tx.money.open_refund(Refund(card_number, card.outlet_id, request.at, due, balance,
                                        ctc, card.payment_method))
            result.update(recorded_balance=balance, recorded_ctc=ctc,
                          basis="card" if reading is not None else "ledger",
                          refund_due_at=shown(due))
        return Work(result, f"card:{card_number}", Service.CANCEL)

    return perform(centre, request, operation, question, work)


def cancel_obu(centre: Centre, request: Request, obu_number: str, with_obu: bool) -> Outcome:
    """Cancel an OBU; without it in hand it goes on the OBU list as cancelled."""
    def work(tx: StoreTransaction) -> Work:
        obu = guards.obu(tx, obu_number)
        if obu.status not in (ObuStatus.ACTIVE, ObuStatus.LOST):
            raise Refusal(RefusalReason.WRONG_OBU_STATUS,
                          f"OBU {obu_number} is {obu.status.value}: cancellation needs it active"
                          " or lost")
        guards.issuing_centre(tx, request, obu.outlet_id, "cancelling an OBU")
        tx.devices.set_obu_status(obu_number, ObuStatus.CANCELLED, request.at,
                                  without_obu=not with_obu)
        category = refresh_obu(tx, obu_number, request.at, request.request_id)
        return Work({"obu": obu_number, "status": "cancelled", "with_obu": with_obu,
                     "listed": _listed(category)}, f"obu:{obu_number}", Service.CANCEL)

    return perform(centre, request, "cancel_obu", {"obu": obu_number, "with_obu": with_obu},
                   work)




def mark(centre: Centre, request: Request, list_name: str, number: str, category: int) -> Outcome:
    """Put a hand mark on a card or OBU (suspended, partner-listed, class mismatch; 0 clears it):
    the number's list category is decided again with it."""
    def work(tx: StoreTransaction) -> Work:
        listed: object
        if list_name == "card":
            guards.card(tx, number)
            tx.lists.set_mark("card", number, category, request.at)
            listed = refresh_card(tx, number, request.at, request.request_id)
        else:
            guards.obu(tx, number)
            tx.lists.set_mark("obu", obu_list_number(number), category, request.at)
            listed = refresh_obu(tx, number, request.at, request.request_id)
        return Work({list_name: number, "mark": category, "listed": _listed(listed)},
                    f"{list_name}:{number}")

    return perform(centre, request, f"mark_{list_name}",
                   {"number": number, "category": category}, work)


__all__ = ["cancel_card", "cancel_obu", "mark", "report_loss", "report_obu_loss", "unlock",
           "unlock_obu"]
