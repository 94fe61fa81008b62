"""Real-name registration and changes: every refusal says why and writes nothing; retries are
answered once."""

from __future__ import annotations

import pytest

from centre.service.outcomes import RefusalReason, Refused
from centre.service.registration import (
    add_customer,
    add_vehicle,
    id_card_problem,
    update_customer,
    update_vehicle,
)
from centre.store.registry import CustomerData, VehicleData
from tests.centre.service.desk import ID_LI, ID_ZHANG, QINGDAO, Desk, ok

ZHANG = CustomerData("person", "张三", "id_card", ID_ZHANG, "13800000000")
CAR = VehicleData("鲁A12345", 0, 1)


def _counts(desk: Desk) -> tuple[int, int, int]:
    with desk.centre.store.transaction() as tx:
        return (tx.sql.value("SELECT COUNT(*) FROM customers"),
                tx.sql.value("SELECT COUNT(*) FROM vehicles"),
                tx.sql.value("SELECT COUNT(*) FROM requests"))


def test_a_customer_registers_with_a_vehicle_once_per_request(desk: Desk) -> None:
    request = desk.request()
    first = ok(add_customer(desk.centre, request, ZHANG, CAR))
    again = ok(add_customer(desk.centre, request, ZHANG, CAR))
    assert again.replayed and again.result == first.result
    assert _counts(desk) == (1, 1, 1)
    with desk.centre.store.transaction() as tx:
        journaled = tx.journal.find(request.request_id)
    assert journaled is not None
    assert (journaled.outlet_id, journaled.operator, journaled.at) == (
        request.outlet, request.operator, request.at)


@pytest.mark.parametrize(("customer", "vehicle", "reason", "words"), [
    (CustomerData("person", "张三", "id_card", "110105194912310021"), CAR,
     RefusalReason.BAD_INPUT, "check digit"),
    (CustomerData("person", " ", "id_card", ID_ZHANG), CAR, RefusalReason.BAD_INPUT, "name"),
    (CustomerData("robot", "张三", "id_card", ID_ZHANG), CAR, RefusalReason.BAD_INPUT, "kind"),
    (CustomerData("person", "张三", "licence", ID_ZHANG), CAR, RefusalReason.BAD_INPUT,
     "document type"),
    (ZHANG, VehicleData("鲁A1234567890", 0, 1), RefusalReason.BAD_INPUT, "at most 12"),
    (ZHANG, VehicleData("鲁A12345", 9, 1), RefusalReason.BAD_INPUT, "plate colour 9"),
    (ZHANG, VehicleData("鲁A12345", 0, 5), RefusalReason.BAD_INPUT, "class 5"),
    (ZHANG, VehicleData("鲁A12345", 0, 1, width_dm=300), RefusalReason.BAD_INPUT, "width_dm"),
])
def test_bad_registrations_are_refused_with_nothing_written(
        desk: Desk, customer: CustomerData, vehicle: VehicleData, reason: RefusalReason,
        words: str) -> None:
    outcome = add_customer(desk.centre, desk.request(), customer, vehicle)
    assert isinstance(outcome, Refused) and outcome.reason is reason
    assert words in outcome.message
    assert _counts(desk) == (0, 0, 0)


def test_a_document_and_a_plate_are_registered_once(desk: Desk) -> None:
    ok(add_customer(desk.centre, desk.request(), ZHANG, CAR))
    twice = add_customer(desk.centre, desk.request(), ZHANG)
    assert isinstance(twice, Refused) and twice.reason is RefusalReason.CUSTOMER_EXISTS
    li = CustomerData("person", "李四", "id_card", ID_LI)
    taken = add_customer(desk.centre, desk.request(), li, CAR)
    assert isinstance(taken, Refused) and taken.reason is RefusalReason.VEHICLE_EXISTS
    assert _counts(desk) == (1, 1, 1)


def test_a_request_id_used_for_another_question_is_refused(desk: Desk) -> None:
    request = desk.request()
    ok(add_customer(desk.centre, request, ZHANG, CAR))
    other = add_customer(desk.centre, request, CustomerData("person", "李四", "id_card", ID_LI))
    assert isinstance(other, Refused) and other.reason is RefusalReason.REQUEST_ID_REUSED


def test_an_unknown_outlet_is_refused(desk: Desk) -> None:
    request = desk.request()
    stranger = type(request)(request.request_id, "999999999", "op", request.at)
    outcome = add_customer(desk.centre, stranger, ZHANG, CAR)
    assert isinstance(outcome, Refused) and outcome.reason is RefusalReason.UNKNOWN_OUTLET


def test_more_vehicles_and_changes_of_information(desk: Desk) -> None:
    customer = desk.customer()
    ok(add_vehicle(desk.centre, desk.request(), customer, VehicleData("鲁B67890", 1, 12)))
    unknown = add_vehicle(desk.centre, desk.request(), 999, VehicleData("鲁C1", 0, 1))
    assert isinstance(unknown, Refused) and unknown.reason is RefusalReason.UNKNOWN_CUSTOMER
    ok(update_customer(desk.centre, desk.request(QINGDAO), customer, {"phone": "13900000000"}))
    refused = update_customer(desk.centre, desk.request(), customer, {"id_number": ID_LI})
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.BAD_INPUT
    changed = ok(update_vehicle(desk.centre, desk.request(), "鲁B67890", 1, {"axles": 3}))
    assert changed.result["changed"] == ["axles"] and changed.result["listed"] == {}
    plate = update_vehicle(desk.centre, desk.request(), "鲁B67890", 1, {"plate": "鲁B1"})
    assert isinstance(plate, Refused) and "plate" in plate.message


def test_id_card_numbers_are_checked() -> None:
    assert id_card_problem(ID_ZHANG) is None and id_card_problem(ID_LI) is None
    assert id_card_problem("11010519491231002x") is None
    assert "check digit" in (id_card_problem("110105194912310020") or "")
    assert "17 digits" in (id_card_problem("1101051949") or "")
