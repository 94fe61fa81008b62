"""The centre as the province's people meet it: its outlets' counters, running the centre's own
service operations (`centre.service`) on emulated cards and OBUs, and its status lists, turned
into the deltas the plazas' lanes apply.

Cards and OBUs are personalised in memory (`MemoryPersonaliser`); a card at the counter is read
through the emulated card reader, so a top-up is the real PBOC load, MACs and TAC included.
Every request must be done: a refusal here is a bug of the run, raised as `SimError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from centre.devices.issuer import IssuerHost
from centre.devices.ports import CardImage, ObuImage
from centre.lists.publishing import publish_version
from centre.service.bills import pay_bill, run_bills
from centre.service.centre import Centre
from centre.service.issuance import CardApplication, issue_card, issue_obu, replace_card
from centre.service.loading import top_up
from centre.service.outcomes import Outcome, Refused
from centre.service.refunds import pay_refund, refunds_due
from centre.service.registration import add_customer
from centre.service.status import cancel_card, report_loss, unlock
from centre.settings import ServiceSettings
from centre.store.registry import CustomerData, Outlet, VehicleData
from centre.store.store import Store
from centre.values import CardKind, PaymentMethod, Request
from lane_engine.core.blacklist import Blacklist
from rsu_sim.errors import SimError
from rsu_sim.model.card import Card
from rsu_sim.site.card_image import EmulatedCardReader

#: The issuer's key version (the key set's).
KEY_VERSION = 1


class MemoryPersonaliser:
    """Personalises cards and OBUs in memory: the centre's images become emulated devices."""

    def __init__(self, random_bytes: Callable[[int], bytes]) -> None:
        self._random = random_bytes
        self.cards: dict[str, Card] = {}
        self.opening: dict[str, int] = {}  # the balance figure each card was personalised with
        self.obus: dict[str, ObuImage] = {}

    def personalise_card(self, image: CardImage) -> str:
        number = image.issuer_info.card_number
        self.cards[number] = Card(image.issuer_info, image.balance, 0, None, self._random,
                                  keys=(image.algorithm, image.dpk, image.dtk),
                                  key_version=image.key_version, load_key=image.dlk)
        self.opening[number] = image.balance
        return f"memory:card-{number}"

    def personalise_obu(self, image: ObuImage) -> str:
        self.obus[image.system_info.contract_serial] = image
        return f"memory:obu-{image.system_info.contract_serial}"


def _done(outcome: Outcome, what: str) -> dict[str, Any]:
    if isinstance(outcome, Refused):
        raise SimError(f"the centre refused {what}: {outcome.reason.value}: {outcome.message}")
    return outcome.result


class Desk:
    """The outlets' operations on the centre, for the simulated people."""

    def __init__(self, store: Store, host_keys: IssuerHost, outlets: tuple[Outlet, ...],
                 random_bytes: Callable[[int], bytes]) -> None:
        self.centre = Centre(store, host_keys, ServiceSettings())
        self.outlets = outlets
        self.personaliser = MemoryPersonaliser(random_bytes)
        self._ids = itertools.count(1)
        with store.transaction() as tx:
            for outlet in outlets:
                if tx.registry.outlet(outlet.outlet_id) is None:
                    tx.registry.add_outlet(outlet)

    def _request(self, outlet: Outlet, at: dt.datetime) -> Request:
        return Request(f"sim-{next(self._ids):09d}", outlet.outlet_id, "counter-1", at)

    # ------------------------------------------------------------ issuance

    def register(self, outlet: Outlet, at: dt.datetime, customer: CustomerData,
                 vehicle: VehicleData) -> None:
        _done(add_customer(self.centre, self._request(outlet, at), customer, vehicle),
              f"registering {vehicle.plate}")

    def issue_card(self, outlet: Outlet, at: dt.datetime, kind: CardKind, plate: str,
                   colour: int) -> tuple[str, Card]:
        application = CardApplication(
            kind, plate, colour,
            payment_method=PaymentMethod.WECHAT if kind is CardKind.B else None,
            bank_account="6222020000000000000" if kind is CardKind.A else None,
            credit_guarantee="bank guarantee" if kind is CardKind.A else None)
        result = _done(issue_card(self.centre, self._request(outlet, at), application,
                                  self.personaliser), f"a {kind.value} card for {plate}")
        number = str(result["card"])
        return number, self.personaliser.cards[number]

    def issue_obu(self, outlet: Outlet, at: dt.datetime, plate: str, colour: int) -> ObuImage:
        result = _done(issue_obu(self.centre, self._request(outlet, at), plate, colour,
                                 self.personaliser), f"an OBU for {plate}")
        return self.personaliser.obus[str(result["obu"])]

    def replace(self, outlet: Outlet, at: dt.datetime, old: str) -> tuple[str, Card]:
        """A lost card replaced (without it): the new card, its balance moved 30 days later."""
        result = _done(replace_card(self.centre, self._request(outlet, at), old,
                                    self.personaliser, None), f"replacing card {old}")
        number = str(result["card"])
        return number, self.personaliser.cards[number]

    # ------------------------------------------------------------ money and status

    def top_up(self, outlet: Outlet, at: dt.datetime, number: str, card: Card,
               amount: int) -> None:
        _done(top_up(self.centre, self._request(outlet, at), number, amount,
                     PaymentMethod.WECHAT, EmulatedCardReader(card)), f"topping up {number}")

    def report_loss(self, outlet: Outlet, at: dt.datetime, number: str) -> None:
        _done(report_loss(self.centre, self._request(outlet, at), number), f"loss of {number}")

    def unlock(self, outlet: Outlet, at: dt.datetime, number: str) -> None:
        _done(unlock(self.centre, self._request(outlet, at), number), f"unlocking {number}")

    def cancel(self, outlet: Outlet, at: dt.datetime, number: str, card: Card) -> None:
        _done(cancel_card(self.centre, self._request(outlet, at), number,
                          EmulatedCardReader(card)), f"cancelling {number}")

    def pay_refunds_due(self, at: dt.datetime) -> list[tuple[str, int]]:
        """Every refund due paid back by its original method: (card, fen)."""
        paid = []
        by_id = {o.outlet_id: o for o in self.outlets}
        for figures in refunds_due(self.centre, at):
            refund = figures.refund
            result = _done(pay_refund(self.centre, self._request(by_id[refund.outlet_id], at),
                                      refund.card_number), f"refund of {refund.card_number}")
            paid.append((refund.card_number, int(result["paid"])))
        return paid

    def bill(self, at: dt.datetime) -> list[int]:
        """Bill every A card's cleared debits; the bills' ids."""
        return [bill.bill_id for bill in run_bills(self.centre, at).issued]

    def pay_bill(self, outlet: Outlet, at: dt.datetime, bill_id: int) -> None:
        _done(pay_bill(self.centre, self._request(outlet, at), bill_id), f"bill {bill_id}")


class CardLists:
    """The card list as the lanes receive it: each version published by the centre's own code
    (`centre.lists.publishing`: the delta file in the lane's format under `folder`), kept here
    as the full `Blacklist` a lane holds once it has applied it."""

    def __init__(self, store: Store, folder: Path) -> None:
        self._store = store
        self._folder = folder
        self.versions: dict[int, Blacklist] = {0: Blacklist.empty(0)}

    @property
    def latest(self) -> int:
        return max(self.versions)

    def publish_due(self, at: dt.datetime) -> int | None:
        """Publish the changes made since the last version; the new version, or None."""
        published = publish_version(self._store, self._folder, "card", at)
        if published is None:
            return None
        delta = published.delta
        self.versions[delta.target_version] = self.versions[delta.base_version].applied(delta)
        return delta.target_version

    def arrived(self, version: int, plaza: str, lanes: list[int], at: dt.datetime) -> None:
        with self._store.transaction() as tx:
            for lane in lanes:
                tx.lists.record_arrival("card", version, plaza, lane, at)


def vehicle_data(plate: str, colour: int, vehicle_class: int) -> VehicleData:
    """A vehicle as registered (dimensions by class, as the OBU's vehicle file carries them)."""
    truck = vehicle_class >= 10
    return dataclasses.replace(
        VehicleData(plate, colour, vehicle_class), length_dm=90 if truck else 48,
        width_dm=25 if truck else 18, height_dm=32 if truck else 15,
        wheels=6 if truck else 4, axles=2, wheelbase_dm=50 if truck else 28,
        load_or_seats=10_000 if truck else 5)
