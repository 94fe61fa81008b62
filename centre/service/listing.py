"""Which category a card or OBU has on its status list, decided from its state each time it
changes (status, a defaulted bill, the class it carries, hand marks), so that one change never
hides another: an overdrawn A card reported lost is listed lost, and overdrawn again once it is
found and unlocked."""

from __future__ import annotations

import datetime as dt

from centre.lists.categories import (
    CARD_PRIORITY,
    OBU_PRIORITY,
    CardCategory,
    ObuCategory,
    obu_list_number,
)
from centre.store.devices import CardRecord, ObuRecord
from centre.store.money import BillStatus
from centre.store.store import StoreTransaction
from centre.values import CardKind, CardStatus, ObuStatus


def card_category(tx: StoreTransaction, card: CardRecord) -> CardCategory | None:
    """The category the card should have on the list now, None when it should not be listed."""
    applying: set[CardCategory] = set()
    if card.status is CardStatus.LOST:
        applying.add(CardCategory.LOST)
    if card.status in (CardStatus.CANCELLED, CardStatus.REPLACED) and card.cancelled_without_card:
        applying.add(CardCategory.CANCELLED)
    if card.kind is CardKind.A and any(
            bill.status is BillStatus.DEFAULTED for bill in tx.money.bills_of(card.card_number)):
        applying.add(CardCategory.OVERDRAWN)
    vehicle = tx.registry.vehicle(card.vehicle_id)
    held = card.status in (CardStatus.ACTIVE, CardStatus.LOST)
    if held and vehicle is not None and vehicle.data.vehicle_class != card.vehicle_class:
        applying.add(CardCategory.CLASS_MISMATCH)
    mark = tx.lists.mark("card", card.card_number)
    if mark:
        applying.add(CardCategory(mark))
    return next((c for c in CARD_PRIORITY if c in applying), None)


def obu_category(tx: StoreTransaction, obu: ObuRecord) -> ObuCategory | None:
    applying: set[ObuCategory] = set()
    if obu.status is ObuStatus.LOST:
        applying.add(ObuCategory.LOST)
    if obu.status is ObuStatus.CANCELLED and obu.cancelled_without_obu:
        applying.add(ObuCategory.CANCELLED)
    vehicle = tx.registry.vehicle(obu.vehicle_id)
    held = obu.status in (ObuStatus.ACTIVE, ObuStatus.LOST)
    if held and vehicle is not None and vehicle.data.vehicle_class != obu.vehicle_class:
        applying.add(ObuCategory.CLASS_MISMATCH)
    mark = tx.lists.mark("obu", obu_list_number(obu.obu_number))
    if mark:
        applying.add(ObuCategory(mark))
    return next((c for c in OBU_PRIORITY if c in applying), None)


def refresh_card(tx: StoreTransaction, card_number: str, at: dt.datetime,
                 request_id: str | None) -> CardCategory | None:
    """Bring the card's list entry in line with its state; the category it now has."""
    card = tx.devices.card(card_number)
    if card is None:
        return None
    wanted = card_category(tx, card)
    if tx.lists.category("card", card_number) != (wanted or 0):
        tx.lists.set_category("card", card_number, int(wanted or 0), at, request_id)
    return wanted


def refresh_obu(tx: StoreTransaction, obu_number: str, at: dt.datetime,
                request_id: str | None) -> ObuCategory | None:
    obu = tx.devices.obu(obu_number)
    if obu is None:
        return None
    wanted = obu_category(tx, obu)
    number = obu_list_number(obu_number)
    if tx.lists.category("obu", number) != (wanted or 0):
        tx.lists.set_category("obu", number, int(wanted or 0), at, request_id)
    return wanted
