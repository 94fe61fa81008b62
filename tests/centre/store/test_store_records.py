"""Registry, cards and OBUs, the requests journal and the ledger book, on both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from centre.errors import ConflictError
from centre.ledger import accounts, entries
from centre.ledger.accounts import AccountKind
from centre.store.devices import ObuRecord
from centre.store.journal import DoneRequest
from centre.store.registry import CustomerData, VehicleData
from centre.values import CardStatus, ObuStatus
from tests.centre.store.helpers import CARD, OUTLET, T0, b_card, opened, with_vehicle


def test_customers_and_vehicles_round_trip_and_are_registered_once(store_url: str) -> None:
    with opened(store_url) as store:
        customer_id, vehicle_id = with_vehicle(store)
        with store.transaction() as tx:
            customer = tx.registry.customer(customer_id)
            assert customer is not None and customer.data.name == "张三"
            assert tx.registry.customer_by_document("id_card", "370102199001011234") == customer
            vehicle = tx.registry.vehicle_by_plate("鲁A12345", 0)
            assert vehicle is not None and vehicle.vehicle_id == vehicle_id
            assert tx.registry.vehicle_by_plate("鲁A12345", 1) is None
            assert tx.registry.vehicles_of(customer_id) == [vehicle]
            later = T0 + dt.timedelta(days=1)
            tx.registry.update_vehicle(vehicle_id, dataclasses.replace(
                vehicle.data, vehicle_class=2), later)
            changed = tx.registry.vehicle(vehicle_id)
            assert changed is not None and changed.data.vehicle_class == 2
            assert changed.updated_at == later
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.registry.add_customer(CustomerData("person", "李四", "id_card",
                                                  "370102199001011234"), OUTLET.outlet_id, T0)
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.registry.add_vehicle(customer_id, VehicleData("鲁A12345", 0, 1), T0)


def test_a_vehicle_holds_one_card_and_one_obu_until_they_are_cancelled(store_url: str) -> None:
    with opened(store_url) as store:
        customer, vehicle = with_vehicle(store)
        with store.transaction() as tx:
            tx.devices.add_card(b_card(CARD, customer, vehicle))
            assert tx.devices.card(CARD) == b_card(CARD, customer, vehicle)
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.devices.add_card(b_card("37012616000000000002", customer, vehicle))
        with store.transaction() as tx:
            tx.devices.set_card_status(CARD, CardStatus.LOST, T0)
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.devices.add_card(b_card("37012616000000000002", customer, vehicle))
        with store.transaction() as tx:
            tx.devices.set_card_status(CARD, CardStatus.CANCELLED, T0, without_card=True)
            cancelled = tx.devices.card(CARD)
            assert cancelled is not None and cancelled.cancelled_without_card
            tx.devices.add_card(b_card("37012616000000000002", customer, vehicle))
            held = tx.devices.active_card_of_vehicle(vehicle)
            assert held is not None and held.card_number == "37012616000000000002"
            assert [c.card_number for c in tx.devices.cards_of_vehicle(vehicle)] == [
                CARD, "37012616000000000002"]
            obu = ObuRecord("3701260000000001", vehicle, customer, OUTLET.outlet_id,
                            ObuStatus.ACTIVE, T0, T0, 1, dt.date(2026, 11, 2),
                            dt.date(2036, 11, 2))
            tx.devices.add_obu(obu)
            assert tx.devices.active_obu_of_vehicle(vehicle) == obu
            assert tx.devices.obus_of_vehicle(vehicle) == [obu]
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.devices.add_obu(dataclasses.replace(obu, obu_number="3701260000000002"))


def test_counters_count_from_one_and_never_repeat(store_url: str) -> None:
    with opened(store_url) as store:
        with store.transaction() as tx:
            assert [tx.devices.next_number("card") for _ in range(3)] == [1, 2, 3]
            assert tx.devices.next_number("obu") == 1
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.devices.next_number("card")
            raise RuntimeError("rolled back")
        with store.transaction() as tx:
            assert tx.devices.next_number("card") == 4


def test_a_request_is_journaled_once_by_its_id(store_url: str) -> None:
    done = DoneRequest("r-1", "top_up", "abc", OUTLET.outlet_id, "op7", T0, T0, T0,
                       f"card:{CARD}", {"amount": 5_000, "tac": "01020304"},
                       T0 + dt.timedelta(days=1), False)
    with opened(store_url) as store:
        with_vehicle(store)
        with store.transaction() as tx:
            tx.journal.record(done)
            assert tx.journal.find("r-1") == done
            assert tx.journal.find("r-2") is None
            assert tx.journal.of_subject(f"card:{CARD}") == [done]
            assert tx.journal.between(T0, T0 + dt.timedelta(seconds=1)) == [done]
            assert tx.journal.between(T0 + dt.timedelta(seconds=1), T0 + dt.timedelta(1)) == []
        with pytest.raises(ConflictError), store.transaction() as tx:
            tx.journal.record(done)


def test_balances_are_derived_from_balanced_postings(store_url: str) -> None:
    with opened(store_url) as store:
        customer, vehicle = with_vehicle(store)
        with store.transaction() as tx:
            tx.devices.add_card(b_card(CARD, customer, vehicle))
            first = tx.book.post(entries.top_up(CARD, OUTLET.outlet_id, 10_000), T0, "r-1")
            tx.book.post(entries.lane_debit(CARD, True, "3701", 120, 1_189), T0)
            tx.book.post(entries.top_up(CARD, OUTLET.outlet_id, 500, "second"), T0)
        with store.transaction() as tx:
            assert tx.book.balance(accounts.purse(CARD)) == 9_311
            assert tx.book.balance(accounts.outlet_cash(OUTLET.outlet_id)) == 10_500
            assert tx.book.balance(accounts.toll("3701", 120)) == 1_189
            assert tx.book.balance(accounts.purse("37010000000000000000")) == 0
            assert tx.book.balances(AccountKind.PURSE) == {accounts.purse(CARD): 9_311}
            stored = tx.book.entry(first)
            assert stored is not None and stored.request_id == "r-1"
            assert stored.entry == entries.top_up(CARD, OUTLET.outlet_id, 10_000)
            assert [line.amount for line in tx.book.postings_of(accounts.purse(CARD))] == [
                -10_000, 1_189, -500]
            assert len(tx.book.entries_between(T0, T0 + dt.timedelta(1))) == 3
            assert tx.book.unbalanced() == []
            # A posting written behind the ledger's back is found by the check.
            tx.sql.execute("INSERT INTO postings (entry_id, account, amount) VALUES (?, ?, ?)",
                           (first, "bank:x", 1))
            assert tx.book.unbalanced() == [first]
