"""A store with an outlet, a customer and a vehicle, for the store tests."""

from __future__ import annotations

import datetime as dt

from centre.store.devices import CardRecord
from centre.store.registry import CustomerData, Outlet, VehicleData
from centre.store.store import Store
from centre.values import CardKind, CardStatus, PaymentMethod

T0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
OUTLET = Outlet("370101001", "3701-01", "Jinan Lixia outlet", bytes.fromhex("370101000001"))
CARD = "37012616000000000001"


def opened(url: str) -> Store:
    return Store.open(url, T0, clock=lambda: T0)


def with_vehicle(store: Store) -> tuple[int, int]:
    """Add the outlet, a customer and a vehicle; (customer id, vehicle id)."""
    with store.transaction() as tx:
        tx.registry.add_outlet(OUTLET)
        customer = tx.registry.add_customer(
            CustomerData("person", "张三", "id_card", "370102199001011234", "13800000000"),
            OUTLET.outlet_id, T0)
        vehicle = tx.registry.add_vehicle(customer, VehicleData("鲁A12345", 0, 1), T0)
    return customer, vehicle


def b_card(number: str, customer: int, vehicle: int,
           status: CardStatus = CardStatus.ACTIVE) -> CardRecord:
    return CardRecord(number, CardKind.B, vehicle, customer, OUTLET.outlet_id, status, T0, T0,
                      1, 1, 4, dt.date(2026, 11, 2), dt.date(2036, 11, 2), PaymentMethod.WECHAT)


