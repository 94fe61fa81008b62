"""Loss, unlock and cancellation: who may do them, what each puts on the status lists, what a
cancelled B card's refund is recorded from."""

from __future__ import annotations

import datetime as dt

from centre.ledger import accounts
from centre.lists.categories import CardCategory, ObuCategory, obu_list_number
from centre.service.loading import top_up
from centre.service.outcomes import RefusalReason, Refused
from centre.service.status import (
    cancel_card,
    cancel_obu,
    report_loss,
    report_obu_loss,
    unlock,
    unlock_obu,
)
from centre.values import PaymentMethod
from tests.centre.service.desk import QINGDAO, SHIZHONG, Desk, ok
from tests.centre.service.readers import LostAfterTheCardCommits


def _listed(desk: Desk, number: str, name: str = "card") -> int:
    with desk.centre.store.transaction() as tx:
        return tx.lists.category(name, number)


def test_a_lost_card_is_listed_until_it_is_unlocked(desk: Desk) -> None:
    desk.customer()
    card = desk.b_card()
    done = ok(report_loss(desk.centre, desk.request(SHIZHONG), card))
    assert done.result == {"card": card, "status": "lost", "listed": "lost"}
    assert done.time_limit is not None and done.time_limit.service.working_days == 1
    assert _listed(desk, card) == CardCategory.LOST
    twice = report_loss(desk.centre, desk.request(), card)
    assert isinstance(twice, Refused) and twice.reason is RefusalReason.WRONG_CARD_STATUS
    ok(unlock(desk.centre, desk.request(), card))
    assert _listed(desk, card) == 0
    with desk.centre.store.transaction() as tx:
        assert [c.category for c in tx.lists.changes_in("card", None)] == [1, 0]
    not_lost = unlock(desk.centre, desk.request(), card)
    assert isinstance(not_lost, Refused) and not_lost.reason is RefusalReason.WRONG_CARD_STATUS


def test_loss_and_unlock_are_done_within_the_issuing_service_centre(desk: Desk) -> None:
    desk.customer()
    card = desk.b_card()
    elsewhere = report_loss(desk.centre, desk.request(QINGDAO), card)
    assert isinstance(elsewhere, Refused)
    assert elsewhere.reason is RefusalReason.OTHER_SERVICE_CENTRE
    assert "3701-01" in elsewhere.message and _listed(desk, card) == 0
    unknown = report_loss(desk.centre, desk.request(), "37012616000000009999")
    assert isinstance(unknown, Refused) and unknown.reason is RefusalReason.UNKNOWN_CARD


def test_a_b_card_is_cancelled_at_its_issuing_outlet_with_its_real_balance(desk: Desk) -> None:
    desk.customer()
    card = desk.b_card()
    ok(top_up(desk.centre, desk.request(), card, 8_000, PaymentMethod.CASH, desk.reader(card)))
    elsewhere = cancel_card(desk.centre, desk.request(SHIZHONG), card, desk.reader(card))
    assert isinstance(elsewhere, Refused) and elsewhere.reason is RefusalReason.WRONG_OUTLET
    request = desk.request()
    done = ok(cancel_card(desk.centre, request, card, desk.reader(card)))
    assert (done.result["recorded_balance"], done.result["recorded_ctc"],
            done.result["basis"], done.result["listed"]) == (8_000, 0, "card", None)
    due = dt.datetime.fromisoformat(done.result["refund_due_at"])
    assert due == request.at + dt.timedelta(days=30)
    assert _listed(desk, card) == 0  # handed in: nothing to list
    again = cancel_card(desk.centre, desk.request(), card, desk.reader(card))
    assert isinstance(again, Refused) and again.reason is RefusalReason.WRONG_CARD_STATUS


def test_a_card_cancelled_without_it_is_listed_and_refunded_from_the_ledger(
        desk: Desk) -> None:
    desk.customer()
    card = desk.b_card()
    ok(top_up(desk.centre, desk.request(), card, 8_000, PaymentMethod.CASH, desk.reader(card)))
    ok(report_loss(desk.centre, desk.request(), card))
    done = ok(cancel_card(desk.centre, desk.request(), card, None))
    assert (done.result["recorded_balance"], done.result["basis"], done.result["listed"]) == (
        8_000, "ledger", "cancelled")
    assert _listed(desk, card) == CardCategory.CANCELLED


def test_a_card_with_an_unsettled_top_up_is_cancelled_only_with_the_card(desk: Desk) -> None:
    desk.customer()
    card = desk.b_card()
    top_up(desk.centre, desk.request(), card, 5_000, PaymentMethod.CASH,
           LostAfterTheCardCommits(desk.reader(card)))
    without = cancel_card(desk.centre, desk.request(), card, None)
    assert isinstance(without, Refused) and without.reason is RefusalReason.LOAD_UNSETTLED
    done = ok(cancel_card(desk.centre, desk.request(), card, desk.reader(card)))
    assert done.result["recorded_balance"] == 5_000
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.purse(card)) == 5_000  # settled from the card's log


def test_an_a_card_is_cancelled_at_any_outlet_of_its_centre(desk: Desk) -> None:
    desk.customer()
    card = desk.a_card()
    done = ok(cancel_card(desk.centre, desk.request(SHIZHONG), card, None))
    assert "recorded_balance" not in done.result and done.result["listed"] == "cancelled"


def test_obus_are_lost_unlocked_and_cancelled_on_their_own_list(desk: Desk) -> None:
    desk.customer()
    obu = desk.obu()
    number = obu_list_number(obu)
    assert number == "3701" + obu and len(number) == 20
    ok(report_obu_loss(desk.centre, desk.request(), obu))
    assert _listed(desk, number, "obu") == ObuCategory.LOST
    ok(unlock_obu(desk.centre, desk.request(), obu))
    assert _listed(desk, number, "obu") == 0
    ok(cancel_obu(desk.centre, desk.request(), obu, with_obu=False))
    assert _listed(desk, number, "obu") == ObuCategory.CANCELLED
    gone = report_obu_loss(desk.centre, desk.request(), obu)
    assert isinstance(gone, Refused) and gone.reason is RefusalReason.WRONG_OBU_STATUS
