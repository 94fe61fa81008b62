"""An outlet's desk for the service tests: a centre on a real store, the issuer's generated key
set, two outlets of one service centre and one of another, the simulator's emulated
personaliser and card reader (card images in a folder)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from centre.devices.issuer import IssuerHost
from centre.service.centre import Centre
from centre.service.issuance import CardApplication, issue_card, issue_obu
from centre.service.outcomes import Done, Outcome
from centre.service.registration import add_customer
from centre.settings import ServiceSettings
from centre.store.registry import CustomerData, Outlet, VehicleData
from centre.store.store import Store
from centre.values import CENTRE_ZONE, CardKind, PaymentMethod, Request
from keys import Algorithm, KeySet, generate_key_set, seeded_random_bytes
from rsu_sim.site.card_image import CardImagePersonaliser, CardImageReader

#: Monday 2 November 2026, 09:30 in the centre's zone.
T0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=CENTRE_ZONE)
LIXIA = Outlet("370101001", "3701-01", "Lixia outlet", bytes.fromhex("370101000001"))
SHIZHONG = Outlet("370101002", "3701-01", "Shizhong outlet", bytes.fromhex("370101000002"))
QINGDAO = Outlet("370201001", "3702-01", "Qingdao outlet", bytes.fromhex("370201000001"))
#: Valid resident identity numbers (GB 11643 check digits).
ID_ZHANG = "11010519491231002X"
ID_LI = "440524188001010014"


def key_set(algorithm: Algorithm = Algorithm.SM4) -> KeySet:
    return generate_key_set(["3701"], algorithm, 1, seeded_random_bytes("centre-tests"))


def ok(outcome: Outcome) -> Done:
    assert isinstance(outcome, Done), outcome
    return outcome


@dataclass
class Desk:
    centre: Centre
    folder: Path
    keys: KeySet
    clock: dt.datetime = T0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def personaliser(self) -> CardImagePersonaliser:
        return CardImagePersonaliser(self.folder)

    def request(self, outlet: Outlet = LIXIA, *, at: dt.datetime | None = None,
                request_id: str | None = None, applied_at: dt.datetime | None = None) -> Request:
        if at is None:
            self.clock += dt.timedelta(minutes=1)
            at = self.clock
        return Request(request_id or f"r-{next(self._ids)}", outlet.outlet_id, "op-7", at,
                       applied_at)

    def reader(self, card_number: str) -> CardImageReader:
        return CardImageReader(self.folder / f"card-{card_number}.json")

    def customer(self, plate: str = "鲁A12345", id_number: str = ID_ZHANG,
                 vehicle_class: int = 1) -> int:
        done = ok(add_customer(self.centre, self.request(), CustomerData(
            "person", "张三", "id_card", id_number, "13800000000"),
            VehicleData(plate, 0, vehicle_class, length_dm=48, width_dm=18, height_dm=15,
                        wheels=4, axles=2, wheelbase_dm=28, load_or_seats=5)))
        return int(done.result["customer_id"])

    def b_card(self, plate: str = "鲁A12345", outlet: Outlet = LIXIA) -> str:
        done = ok(issue_card(self.centre, self.request(outlet), CardApplication(
            CardKind.B, plate, 0, PaymentMethod.WECHAT), self.personaliser))
        return str(done.result["card"])

    def a_card(self, plate: str = "鲁A12345") -> str:
        done = ok(issue_card(self.centre, self.request(), CardApplication(
            CardKind.A, plate, 0, bank_account="6222020200001234567",
            credit_guarantee="agreement 2026-118"), self.personaliser))
        return str(done.result["card"])

    def obu(self, plate: str = "鲁A12345") -> str:
        return str(ok(issue_obu(self.centre, self.request(), plate, 0,
                                self.personaliser)).result["obu"])


def open_desk(url: str, folder: Path, algorithm: Algorithm = Algorithm.SM4,
              settings: ServiceSettings | None = None) -> Desk:
    store = Store.open(url, T0)
    with store.transaction() as tx:
        for outlet in (LIXIA, SHIZHONG, QINGDAO):
            tx.registry.add_outlet(outlet)
    keys = key_set(algorithm)
    centre = Centre(store, IssuerHost(keys, 1), settings or ServiceSettings())
    return Desk(centre, folder, keys)
