"""Devices for the card, OBU and RSU tests: a key set, vehicles, a fleet, a PSAM and an RSU."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from keys import Algorithm, KeySet, MemorySerialStore, SoftwarePsam, generate_key_set
from keys.keyset import seeded_random_bytes
from protocols.frames import Initialise, LaneMode
from protocols.records import CardType, EntryExitRecord, EntryExitStatus, Plate
from rsu_sim.model.obu import Fleet, Obu
from rsu_sim.model.population import TripRole, VehicleRecord, build_vehicles
from rsu_sim.model.radio import RadioConfig, RadioLink
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.scenario import StationRef, clean_scenario

NETWORKS = ("3701", "3201", "1301", "4101")
TERMINAL = bytes.fromhex("370100000001")
PURCHASE_TIME = dt.datetime(2024, 6, 1, 9, 30, 15)


@pytest.fixture(scope="session", params=[Algorithm.TDES, Algorithm.SM4], ids=["3des", "sm4"])
def key_set(request: pytest.FixtureRequest) -> KeySet:
    return generate_key_set(NETWORKS, request.param, 1, seeded_random_bytes("model-tests"))


@pytest.fixture(scope="session")
def vehicles() -> list[VehicleRecord]:
    scenario = clean_scenario()
    rng = np.random.default_rng(7)
    roles = [TripRole.TO_EXIT] * 40
    return build_vehicles(scenario, roles, [10.0 * i for i in range(40)], [102] * 40,
                          [StationRef("3701", 101)], rng)


def _pick(vehicles: list[VehicleRecord], card_type: CardType) -> VehicleRecord:
    return next(v for v in vehicles if v.card is not None and v.card.card_type == card_type
                and v.card.balance >= 10_000)


@pytest.fixture
def b_vehicle(vehicles: list[VehicleRecord]) -> VehicleRecord:
    return _pick(vehicles, CardType.STORED_VALUE)


@pytest.fixture
def a_vehicle(vehicles: list[VehicleRecord]) -> VehicleRecord:
    return _pick(vehicles, CardType.CREDIT)


@pytest.fixture
def fleet(key_set: KeySet) -> Fleet:
    return Fleet(key_set, np.random.default_rng(3).bytes)


@pytest.fixture
def b_obu(fleet: Fleet, b_vehicle: VehicleRecord) -> Obu:
    return fleet.obu(b_vehicle)


@pytest.fixture
def psam(key_set: KeySet) -> SoftwarePsam:
    return SoftwarePsam(key_set, TERMINAL, MemorySerialStore(1000))


def lossless_radio(**changes: float) -> RadioLink:
    """A radio that loses no frame (tests drive losses through the fault hooks)."""
    config = replace(RadioConfig(), frame_loss_probability=0.0, **changes)
    return RadioLink(config, np.random.default_rng(0))


@pytest.fixture
def make_rsu(psam: SoftwarePsam) -> Callable[[], Rsu]:
    def make() -> Rsu:
        return Rsu(psam, lossless_radio(), np.random.default_rng(11).bytes)
    return make


def exit_record(plate: Plate, fee: int = 3500) -> EntryExitRecord:
    """The 0019 an exit lane writes."""
    return EntryExitRecord("3701", 102, 2, 1_717_205_415, 1, EntryExitStatus.EXITED, plate,
                           accumulated_fee=fee)


def initialise(now: float = 0.0) -> Initialise:
    return Initialise(int(now) + 1_717_200_000, PURCHASE_TIME, LaneMode.EXIT, 10, 10, 0)
