"""Loads, refunds, cleared debits and bills, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest

from centre.errors import ConflictError
from centre.ledger import entries
from centre.store.loads import LoadStatus, NewLoad, Settlement
from centre.store.money import BillStatus, ClearedDebit, Refund, RefundStatus
from centre.values import PaymentMethod
from tests.centre.store.helpers import CARD, OUTLET, T0, b_card, opened, with_vehicle


def _load(request_id: str) -> NewLoad:
    return NewLoad(request_id, CARD, OUTLET.outlet_id, OUTLET.terminal_number, 5_000, 0, 0, T0,
                   "cash:wechat", T0, "top_up", "f00d", "op7")


def test_one_load_per_card_is_pending_and_it_is_settled_once(store_url: str) -> None:
    with opened(store_url) as store:
        customer, vehicle = with_vehicle(store)
        with store.transaction() as tx:
            tx.devices.add_card(b_card(CARD, customer, vehicle))
            load_id = tx.loads.open(_load("r-1"))
            pending = tx.loads.pending_for(CARD)
            assert pending is not None and pending.load_id == load_id
            assert pending.new == _load("r-1") and pending.status is LoadStatus.PENDING
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.loads.open(_load("r-2"))
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.loads.open(_load("r-1"))  # the same request's next attempt waits too
        with store.transaction() as tx:
            entry = tx.book.post(entries.top_up(CARD, OUTLET.outlet_id, 5_000), T0, "r-1")
            assert tx.loads.settle(load_id, LoadStatus.CREDITED, T0, Settlement.CARD_LOG,
                                   bytes.fromhex("a1b2c3d4"), entry)
            assert not tx.loads.settle(load_id, LoadStatus.NOT_CREDITED, T0,
                                       Settlement.NOT_ON_CARD)
            [settled] = tx.loads.of_request("r-1")
            assert settled.status is LoadStatus.CREDITED and settled.attempt == 1
            assert settled.tac == bytes.fromhex("a1b2c3d4") and settled.entry_id == entry
            assert tx.loads.pending_for(CARD) is None and tx.loads.pending() == []
            retry = tx.loads.open(_load("r-2"))
            assert [load.new.request_id for load in tx.loads.of_card(CARD)] == ["r-1", "r-2"]
            tx.loads.settle(retry, LoadStatus.NOT_CREDITED, T0, Settlement.ANSWER)
            again = tx.loads.open(_load("r-2"))
            assert [load.attempt for load in tx.loads.of_request("r-2")] == [1, 2]
            assert tx.loads.settle(again, LoadStatus.CREDITED, T0, Settlement.ANSWER)
        with pytest.raises(ConflictError), store.transaction() as tx:
            third = tx.loads.open(_load("r-2"))
            tx.loads.settle(third, LoadStatus.CREDITED, T0, Settlement.ANSWER)


def test_a_refund_is_due_on_its_date_and_paid_once(store_url: str) -> None:
    due = T0 + dt.timedelta(days=30)
    refund = Refund(CARD, OUTLET.outlet_id, T0, due, 8_000, 12, PaymentMethod.WECHAT)
    with opened(store_url) as store:
        customer, vehicle = with_vehicle(store)
        with store.transaction() as tx:
            tx.devices.add_card(b_card(CARD, customer, vehicle))
            tx.money.open_refund(refund)
            assert tx.money.refund(CARD) == refund
            assert tx.money.refunds_due(due - dt.timedelta(seconds=1)) == []
            assert tx.money.refunds_due(due) == [refund]
            assert tx.money.refunds_pending() == [refund]
            entry = tx.book.post(entries.refund_paid(CARD, OUTLET.outlet_id, 8_000), due)
            assert tx.money.mark_refund_paid(CARD, due, 8_000, None, entry)
            assert not tx.money.mark_refund_paid(CARD, due, 8_000, None, entry)
            paid = tx.money.refund(CARD)
            assert paid is not None and paid.status is RefundStatus.PAID
            assert paid.paid_amount == 8_000 and paid.entry_id == entry
            assert tx.money.refunds_due(due) == []


def test_a_lane_debit_clears_once_and_is_billed_once(store_url: str) -> None:
    with opened(store_url) as store:
        customer, vehicle = with_vehicle(store)
        with store.transaction() as tx:
            tx.devices.add_card(b_card(CARD, customer, vehicle))
            entry = tx.book.post(entries.lane_debit(CARD, False, "3701", 120, 1_189), T0)
            debits = [ClearedDebit(f"k{i}", CARD, 7 + i, 1_189, "3701", 120, 2, T0,
                                   T0 + dt.timedelta(hours=i), entry) for i in range(2)]
            for debit in debits:
                tx.money.add_cleared_debit(debit)
            assert tx.money.cleared_debit("k0") == debits[0]
            assert tx.money.cleared_debits_of(CARD) == debits
            assert tx.money.cleared_debits_of(CARD, after=T0) == debits[1:]
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.money.add_cleared_debit(debits[0])
        with store.transaction() as tx:
            bill_id = tx.money.open_bill(CARD, T0, T0 + dt.timedelta(days=15), ["k0", "k1"],
                                         2_378)
            assert tx.money.unbilled_debits(CARD) == []
            bill = tx.money.bill(bill_id)
            assert bill is not None and bill.amount == 2_378 and bill.status is BillStatus.OPEN
            assert tx.money.open_bills_overdue(T0 + dt.timedelta(days=15)) == []
            assert tx.money.open_bills_overdue(T0 + dt.timedelta(days=16)) == [bill]
            assert tx.money.settle_bill(bill_id, BillStatus.DEFAULTED, T0, None, OUTLET.outlet_id)
            assert not tx.money.settle_bill(bill_id, BillStatus.PAID, T0, None)
            assert tx.money.settle_bill(bill_id, BillStatus.REPAID, T0, None,
                                        was=BillStatus.DEFAULTED)
            settled = tx.money.bill(bill_id)
            assert settled is not None and settled.charged_outlet == OUTLET.outlet_id
            assert tx.money.bills_of(CARD) == [settled]
