"""`etc-centre customer add|update|show` and `etc-centre vehicle add|update`: real-name
registration and changes of information."""

from __future__ import annotations

import argparse
from typing import Any

from centre.cli.desk import (
    add_json,
    add_request,
    add_store,
    dump,
    open_centre,
    open_store,
    request_of,
)
from centre.cli.desk import report as report_outcome
from centre.service import registration
from centre.service.registration import CUSTOMER_KINDS, ID_TYPES
from centre.store.registry import CustomerData, VehicleData
from lane_engine.cli.args import UsageError, vehicle_class
from protocols.records import PlateColour

NAMES = ("customer", "vehicle")
_VEHICLE_FIELDS = ("length_dm", "width_dm", "height_dm", "wheels", "axles", "wheelbase_dm",
                   "load_or_seats")
HELP_CUSTOMER = """\
Register a customer by identity document (real name, art. 20, 21), with the first vehicle
(plate, plate colour, class, art. 23); change a customer's information; show a customer.

examples:
  etc-centre customer add --outlet 370101001 --operator wang --name 张三 \\
      --id-number 11010519491231002X --phone 13800000000 --plate 鲁A12345 --class PASSENGER_1
  etc-centre customer show --plate 鲁A12345
"""
HELP_VEHICLE = """\
Register another vehicle of a customer, or change a vehicle's class or vehicle-file data (a card
or OBU that carries the old class goes on the list as class mismatch until it is replaced).

examples:
  etc-centre vehicle add --outlet 370101001 --operator wang --customer 1 --plate 鲁B67890 \\
      --plate-colour yellow --class TRUCK_2 --axles 2
  etc-centre vehicle update --outlet 370101001 --operator wang --plate 鲁B67890 \\
      --plate-colour yellow --class TRUCK_3
"""


def plate_colour(text: str) -> int:
    try:
        return PlateColour(int(text)) if text.isdigit() else PlateColour[text.upper()]
    except (KeyError, ValueError):
        names = ", ".join(c.name.lower() for c in PlateColour)
        raise argparse.ArgumentTypeError(f"{text!r} is not a plate colour ({names})") from None


def add_vehicle_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--plate", required=True, help="the plate, e.g. 鲁A12345")
    parser.add_argument("--plate-colour", type=plate_colour, default=PlateColour.BLUE,
                        metavar="COLOUR", help="blue (default), yellow, green, ... or its code")
    parser.add_argument("--class", dest="vehicle_class", type=vehicle_class,
                        required=required, metavar="CLASS",
                        help="JT/T 489 class by name or code (PASSENGER_1, TRUCK_2, 12)")
    for name in (*_VEHICLE_FIELDS, "user_type"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, metavar="N",
                            help="vehicle-file field (default 0)" if required else None)
    parser.add_argument("--engine-number", metavar="TEXT")


def _vehicle(args: argparse.Namespace) -> VehicleData:
    fields = {name: getattr(args, name) or 0 for name in (*_VEHICLE_FIELDS, "user_type")}
    return VehicleData(args.plate, int(args.plate_colour), int(args.vehicle_class),
                       engine_number=args.engine_number or "", **fields)


def add_parser(commands: Any) -> None:
    customer = commands.add_parser("customer", help="register and change customers",
                                   description=HELP_CUSTOMER)
    actions = customer.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register a customer and a first vehicle")
    add_store(add)
    add_request(add)
    add.add_argument("--name", required=True)
    add.add_argument("--kind", choices=CUSTOMER_KINDS, default="person")
    add.add_argument("--id-type", choices=ID_TYPES, default="id_card")
    add.add_argument("--id-number", required=True, metavar="NUMBER")
    add.add_argument("--phone", default="")
    add_vehicle_options(add, required=True)
    add_json(add)
    update = actions.add_parser("update", help="change a customer's name, phone or kind")
    add_store(update)
    add_request(update)
    update.add_argument("--customer", type=int, required=True, metavar="ID")
    update.add_argument("--name")
    update.add_argument("--phone")
    update.add_argument("--kind", choices=CUSTOMER_KINDS)
    add_json(update)
    show = actions.add_parser("show", help="a customer with vehicles, cards and OBUs")
    add_store(show)
    who = show.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", type=int, metavar="ID")
    who.add_argument("--id-number", metavar="NUMBER")
    who.add_argument("--plate")
    show.add_argument("--plate-colour", type=plate_colour, default=PlateColour.BLUE,
                      metavar="COLOUR")
    show.add_argument("--id-type", choices=ID_TYPES, default="id_card")
    add_json(show)

    vehicle = commands.add_parser("vehicle", help="register and change vehicles",
                                  description=HELP_VEHICLE)
    vehicle_actions = vehicle.add_subparsers(dest="action", required=True, metavar="ACTION")
    vadd = vehicle_actions.add_parser("add", help="register another vehicle of a customer")
    add_store(vadd)
    add_request(vadd)
    vadd.add_argument("--customer", type=int, required=True, metavar="ID")
    add_vehicle_options(vadd, required=True)
    add_json(vadd)
    vupdate = vehicle_actions.add_parser("update", help="change a vehicle's class or data")
    add_store(vupdate)
    add_request(vupdate)
    add_vehicle_options(vupdate, required=False)
    add_json(vupdate)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        centre, _ = open_centre(args, store)
        if args.command == "customer" and args.action == "show":
            return _show(centre.store, args)
        request = request_of(args)
        if args.command == "customer" and args.action == "add":
            outcome = registration.add_customer(
                centre, request, CustomerData(args.kind, args.name, args.id_type,
                                              args.id_number, args.phone), _vehicle(args))
        elif args.command == "customer":
            customer_changes = {k: getattr(args, k) for k in ("name", "phone", "kind")
                                if getattr(args, k) is not None}
            outcome = registration.update_customer(centre, request, args.customer,
                                                   customer_changes)
        elif args.action == "add":
            outcome = registration.add_vehicle(centre, request, args.customer, _vehicle(args))
        else:
            changes: dict[str, int | str] = {
                name: getattr(args, name) for name in (*_VEHICLE_FIELDS, "user_type")
                if getattr(args, name) is not None}
            if args.vehicle_class is not None:
                changes["vehicle_class"] = int(args.vehicle_class)
            if args.engine_number is not None:
                changes["engine_number"] = args.engine_number
            if not changes:
                raise UsageError("vehicle update: give at least one field to change")
            outcome = registration.update_vehicle(centre, request, args.plate,
                                                  int(args.plate_colour), changes)
        return report_outcome(outcome, args)


def _show(store: Any, args: argparse.Namespace) -> int:
    with store.transaction() as tx:
        if args.customer is not None:
            customer = tx.registry.customer(args.customer)
        elif args.id_number is not None:
            customer = tx.registry.customer_by_document(args.id_type, args.id_number)
        else:
            vehicle = tx.registry.vehicle_by_plate(args.plate, int(args.plate_colour))
            customer = None if vehicle is None else tx.registry.customer(vehicle.customer_id)
        if customer is None:
            raise UsageError("no such customer")
        vehicles = tx.registry.vehicles_of(customer.customer_id)
        cards = tx.devices.cards_of_customer(customer.customer_id)
        obus = [o for v in vehicles for o in tx.devices.obus_of_vehicle(v.vehicle_id)]
    document = {
        "customer_id": customer.customer_id, "name": customer.data.name,
        "kind": customer.data.kind, "id_type": customer.data.id_type,
        "id_number": customer.data.id_number, "phone": customer.data.phone,
        "registered_at": customer.outlet_id,
        "vehicles": [{"vehicle_id": v.vehicle_id, "plate": v.data.plate,
                      "plate_colour": v.data.plate_colour, "class": v.data.vehicle_class}
                     for v in vehicles],
        "cards": [{"card": c.card_number, "kind": c.kind.value, "status": c.status.value,
                   "vehicle_id": c.vehicle_id, "outlet": c.outlet_id} for c in cards],
        "obus": [{"obu": o.obu_number, "status": o.status.value, "vehicle_id": o.vehicle_id}
                 for o in obus],
    }
    lines = [f"customer {customer.customer_id}: {customer.data.name} ({customer.data.kind},"
             f" {customer.data.id_type} {customer.data.id_number}) phone"
             f" {customer.data.phone or '-'}"]
    lines += [f"  vehicle {v['vehicle_id']}: {v['plate']} colour {v['plate_colour']} class"
              f" {v['class']}" for v in document["vehicles"]]
    lines += [f"  card {c['card']} {c['kind']} {c['status']} (vehicle {c['vehicle_id']})"
              for c in document["cards"]]
    lines += [f"  OBU {o['obu']} {o['status']} (vehicle {o['vehicle_id']})"
              for o in document["obus"]]
    return dump(document, args, "\n".join(lines))
