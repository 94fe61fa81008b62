"""Outlets, customers and vehicles (real-name registration, seed art. 20, 21, 23).

* `tx.registry.add_outlet(Outlet)`, `outlet(id)`, `outlets()`.
* `add_customer(NewCustomer, outlet, at) -> customer_id`, `customer(id)`,
  `customer_by_document(id_type, id_number)`, `update_customer(id, changes, at)`.
* `add_vehicle(customer_id, VehicleData, at) -> vehicle_id`, `vehicle(id)`,
  `vehicle_by_plate(plate, colour)`, `vehicles_of(customer_id)`, `update_vehicle(id, data, at)`.

A plate (with its colour) is registered once; a customer is one identity document.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass, fields

from centre.store.database import Row, Transaction, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class Outlet:
    """A service outlet: id, the customer-service centre it belongs to, its load terminal."""

    outlet_id: str
    service_centre: str
    name: str
    terminal_number: bytes  # 6: the terminal number in the load cryptography


@dataclass(frozen=True, slots=True)
class CustomerData:
    """What a customer registers with."""

    kind: str  # "person" or "company"
    name: str
    id_type: str  # e.g. "id_card", "passport", "business_licence"
    id_number: str
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: int
    data: CustomerData
    outlet_id: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class VehicleData:
    """What a vehicle registers with: plate, colour, class (JT/T 489 code) and what the OBU's
    vehicle file carries."""

    plate: str
    plate_colour: int
    vehicle_class: int
    user_type: int = 0
    length_dm: int = 0
    width_dm: int = 0
    height_dm: int = 0
    wheels: int = 0
    axles: int = 0
    wheelbase_dm: int = 0
    load_or_seats: int = 0
    engine_number: str = ""


@dataclass(frozen=True, slots=True)
class Vehicle:
    vehicle_id: int
    customer_id: int
    data: VehicleData
    created_at: dt.datetime
    updated_at: dt.datetime


_VEHICLE_COLUMNS = ", ".join(f.name for f in fields(VehicleData))
_CUSTOMER_COLUMNS = ", ".join(f.name for f in fields(CustomerData))


def _customer(row: Row) -> Customer:
    return Customer(row[0], CustomerData(*row[1:6]), row[6], from_db_time(row[7]),
                    from_db_time(row[8]))


def _vehicle(row: Row) -> Vehicle:
    width = len(fields(VehicleData))
    return Vehicle(row[0], row[1], VehicleData(*row[2 : 2 + width]),
                   from_db_time(row[2 + width]), from_db_time(row[3 + width]))


class Registry:
    """Outlets, customers and vehicles inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    # ------------------------------------------------------------ outlets

    def add_outlet(self, outlet: Outlet) -> None:
        self._tx.execute(
            "INSERT INTO outlets (outlet_id, service_centre, name, terminal_number)"
            " VALUES (?, ?, ?, ?)",
            (outlet.outlet_id, outlet.service_centre, outlet.name, outlet.terminal_number.hex()))

    def update_outlet(self, outlet: Outlet) -> None:
        self._tx.execute(
            "UPDATE outlets SET service_centre = ?, name = ?, terminal_number = ?"
            " WHERE outlet_id = ?",
            (outlet.service_centre, outlet.name, outlet.terminal_number.hex(), outlet.outlet_id))

    def outlet(self, outlet_id: str) -> Outlet | None:
        row = self._tx.one("SELECT outlet_id, service_centre, name, terminal_number FROM outlets"
                           " WHERE outlet_id = ?", (outlet_id,))
        return None if row is None else Outlet(row[0], row[1], row[2], bytes.fromhex(row[3]))

    def outlets(self) -> list[Outlet]:
        rows = self._tx.all("SELECT outlet_id, service_centre, name, terminal_number FROM outlets"
                            " ORDER BY outlet_id")
        return [Outlet(r[0], r[1], r[2], bytes.fromhex(r[3])) for r in rows]

    # ------------------------------------------------------------ customers

    def add_customer(self, data: CustomerData, outlet_id: str, at: dt.datetime) -> int:
        when = to_db_time(at)
        return int(self._tx.value(
            f"INSERT INTO customers ({_CUSTOMER_COLUMNS}, outlet_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING customer_id",
            (*astuple(data), outlet_id, when, when)))

    def customer(self, customer_id: int) -> Customer | None:
        row = self._tx.one(
            f"SELECT customer_id, {_CUSTOMER_COLUMNS}, outlet_id, created_at, updated_at"
            " FROM customers WHERE customer_id = ?", (customer_id,))
        return None if row is None else _customer(row)

    def customer_by_document(self, id_type: str, id_number: str) -> Customer | None:
        row = self._tx.one(
            f"SELECT customer_id, {_CUSTOMER_COLUMNS}, outlet_id, created_at, updated_at"
            " FROM customers WHERE id_type = ? AND id_number = ?", (id_type, id_number))
        return None if row is None else _customer(row)

    def update_customer(self, customer_id: int, data: CustomerData, at: dt.datetime) -> None:
        assignments = ", ".join(f"{f.name} = ?" for f in fields(CustomerData))
        self._tx.execute(
            f"UPDATE customers SET {assignments}, updated_at = ? WHERE customer_id = ?",
            (*astuple(data), to_db_time(at), customer_id))

    # ------------------------------------------------------------ vehicles

    def add_vehicle(self, customer_id: int, data: VehicleData, at: dt.datetime) -> int:
        when = to_db_time(at)
        marks = ", ".join("?" for _ in fields(VehicleData))
        return int(self._tx.value(
            f"INSERT INTO vehicles (customer_id, {_VEHICLE_COLUMNS}, created_at, updated_at)"
            f" VALUES (?, {marks}, ?, ?) RETURNING vehicle_id",
            (customer_id, *astuple(data), when, when)))

    def vehicle(self, vehicle_id: int) -> Vehicle | None:
        row = self._tx.one(
            f"SELECT vehicle_id, customer_id, {_VEHICLE_COLUMNS}, created_at, updated_at"
            " FROM vehicles WHERE vehicle_id = ?", (vehicle_id,))
        return None if row is None else _vehicle(row)

    def vehicle_by_plate(self, plate: str, plate_colour: int) -> Vehicle | None:
        row = self._tx.one(
            f"SELECT vehicle_id, customer_id, {_VEHICLE_COLUMNS}, created_at, updated_at"
            " FROM vehicles WHERE plate = ? AND plate_colour = ?", (plate, plate_colour))
        return None if row is None else _vehicle(row)

    def vehicles_of(self, customer_id: int) -> list[Vehicle]:
        rows = self._tx.all(
            f"SELECT vehicle_id, customer_id, {_VEHICLE_COLUMNS}, created_at, updated_at"
            " FROM vehicles WHERE customer_id = ? ORDER BY vehicle_id", (customer_id,))
        return [_vehicle(row) for row in rows]

    def update_vehicle(self, vehicle_id: int, data: VehicleData, at: dt.datetime) -> None:
        assignments = ", ".join(f"{f.name} = ?" for f in fields(VehicleData))
        self._tx.execute(
            f"UPDATE vehicles SET {assignments}, updated_at = ? WHERE vehicle_id = ?",
            (*astuple(data), to_db_time(at), vehicle_id))
