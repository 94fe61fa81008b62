"""Lane debits booked as clearing books an accepted one (a ledger entry and a cleared-debit row),
for the service tests that need debits clearing between two operations."""

from __future__ import annotations

import datetime as dt

from centre.ledger import entries
from centre.service.centre import Centre
from centre.store.money import ClearedDebit
from centre.values import CardKind


def book_debit(centre: Centre, key: str, card_number: str, ctc: int | None, amount: int,
               made_at: dt.datetime, cleared_at: dt.datetime) -> None:
    with centre.store.transaction() as tx:
        card = tx.devices.card(card_number)
        assert card is not None
        entry_id = tx.book.post(entries.lane_debit(card_number, card.kind is CardKind.B, "3701",
                                                   120, amount), made_at)
        tx.money.add_cleared_debit(ClearedDebit(key, card_number, ctc, amount, "3701", 120, 2,
                                                made_at, cleared_at, entry_id))
