"""B-card refunds: 30 days after cancellation, by the issuing outlet, less what clears in
between, to the original method or onto another B card of the customer."""

from __future__ import annotations

import datetime as dt

import pytest

from centre.ledger import accounts
from centre.service.loading import top_up
from centre.service.outcomes import RefusalReason, Refused
from centre.service.refunds import pay_refund, pay_refund_to_card, refunds_due
from centre.service.registration import add_vehicle
from centre.service.status import cancel_card
from centre.store.registry import VehicleData
from centre.values import PaymentMethod
from rsu_sim.site.card_image import load_card
from tests.centre.service.clearing import book_debit
from tests.centre.service.desk import ID_LI, SHIZHONG, Desk, ok

DAY = dt.timedelta(days=1)


def _cancelled(desk: Desk, with_card: bool) -> tuple[str, dt.datetime]:
    desk.customer()
    card = desk.b_card()
    ok(top_up(desk.centre, desk.request(), card, 8_000, PaymentMethod.WECHAT,
              desk.reader(card)))
    request = desk.request()
    ok(cancel_card(desk.centre, request, card, desk.reader(card) if with_card else None))
    return card, request.at


def test_a_refund_is_not_paid_before_its_thirty_days(desk: Desk) -> None:
    card, cancelled = _cancelled(desk, with_card=True)
    early = pay_refund(desk.centre, desk.request(at=cancelled + 29 * DAY), card)
    assert isinstance(early, Refused) and early.reason is RefusalReason.REFUND_NOT_DUE
    assert "30 days" in early.message
    assert refunds_due(desk.centre, cancelled + 29 * DAY) == []
    [due] = refunds_due(desk.centre, cancelled + 30 * DAY)
    assert due.payable == 8_000


def test_the_issuing_outlet_pays_the_real_balance_back_by_the_original_method(
        desk: Desk) -> None:
    card, cancelled = _cancelled(desk, with_card=True)
    elsewhere = pay_refund(desk.centre, desk.request(SHIZHONG, at=cancelled + 31 * DAY), card)
    assert isinstance(elsewhere, Refused) and elsewhere.reason is RefusalReason.WRONG_OUTLET
    done = ok(pay_refund(desk.centre, desk.request(at=cancelled + 31 * DAY), card))
    assert (done.result["paid"], done.result["to"], done.result["ledger_left"]) == (
        8_000, "wechat", 0)
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.outlet_cash("370101001")) == 0  # 80 in, 80 out
    again = pay_refund(desk.centre, desk.request(at=cancelled + 32 * DAY), card)
    assert isinstance(again, Refused) and again.reason is RefusalReason.NO_REFUND


def test_debits_clearing_in_between_reduce_a_ledger_based_refund(desk: Desk) -> None:
    card, cancelled = _cancelled(desk, with_card=False)
    book_debit(desk.centre, "k1", card, 0, 1_189, cancelled - DAY, cancelled + 2 * DAY)
    book_debit(desk.centre, "k2", card, 1, 811, cancelled - DAY, cancelled + 5 * DAY)
    [due] = refunds_due(desk.centre, cancelled + 30 * DAY)
    assert (due.payable, due.deducted, due.shortfall) == (6_000, 2_000, 0)
    done = ok(pay_refund(desk.centre, desk.request(at=cancelled + 30 * DAY), card))
    assert done.result["paid"] == 6_000 and done.result["ledger_left"] == 0


def test_a_balance_read_from_the_card_already_holds_the_debits_clearing_late(
        desk: Desk) -> None:
    card, cancelled = _cancelled(desk, with_card=True)  # read at CTC 0: no debit since
    book_debit(desk.centre, "k1", card, 0, 500, cancelled - DAY, cancelled + DAY)
    [due] = refunds_due(desk.centre, cancelled + 30 * DAY)
    assert due.payable == 7_500  # CTC 0 is at the CTC read: made after the reading


def test_a_refund_moves_onto_another_b_card_of_the_same_customer(desk: Desk) -> None:
    card, cancelled = _cancelled(desk, with_card=True)
    ok(add_vehicle(desk.centre, desk.request(), 1, VehicleData("鲁A67890", 0, 1)))
    target = desk.b_card("鲁A67890")
    desk.customer("鲁C11111", id_number=ID_LI)
    stranger = desk.b_card("鲁C11111")
    at = cancelled + 30 * DAY
    refused = pay_refund_to_card(desk.centre, desk.request(at=at), card, stranger,
                                 desk.reader(stranger))
    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.NOT_THE_CUSTOMERS_CARD
    done = ok(pay_refund_to_card(desk.centre, desk.request(at=at), card, target,
                                 desk.reader(target)))
    assert done.result["refund_of"] == card and done.result["balance_after"] == 8_000
    target_card, _ = load_card(desk.folder / f"card-{target}.json")
    assert target_card.balance == 8_000
    with desk.centre.store.transaction() as tx:
        assert tx.book.balance(accounts.purse(card)) == 0
        assert tx.book.balance(accounts.purse(target)) == 8_000
        refund = tx.money.refund(card)
    assert refund is not None and refund.to_card == target and refund.paid_amount == 8_000
    twice = pay_refund(desk.centre, desk.request(at=at), card)
    assert isinstance(twice, Refused) and twice.reason is RefusalReason.NO_REFUND


@pytest.mark.parametrize("kind", ["a_card", "not_cancelled"])
def test_only_a_cancelled_b_card_has_a_refund(desk: Desk, kind: str) -> None:
    desk.customer()
    card = desk.a_card() if kind == "a_card" else desk.b_card()
    outcome = pay_refund(desk.centre, desk.request(), card)
    expected = RefusalReason.NOT_A_B_CARD if kind == "a_card" else RefusalReason.NO_REFUND
    assert isinstance(outcome, Refused) and outcome.reason is expected
