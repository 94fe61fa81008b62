"""The province's fixed parts: its road network and fee table (and the stale table a faulty lane
holds), the toll plazas with their entry and exit lanes, the policy, the key set the centre
issues with and the lanes' PSAMs sign with, and the service outlets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from centre.store.registry import Outlet
from keys import Algorithm, KeySet, generate_key_set
from keys.keyset import seeded_random_bytes
from lane_engine.core.policy import Policy
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.network import RoadNetwork
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.fees.table import FeeTable
from protocols.frames import LaneMode
from rsu_sim.model.scenario import LaneSpec
from rsu_sim.province.config import ProvinceConfig

NETWORK = "3701"
FEES_VERSION = "province-fees-2"
#: What a lane with a wrong fee table holds: an older table, 10 % dearer.
STALE_FEES_VERSION = "province-fees-1"
POLICY_VERSION = "province-policy-1"
BUILT_AT = "2026-10-01T00:00:00Z"


@dataclass(frozen=True, slots=True)
class Plaza:
    """A toll station: its entry lanes, then its exit lanes (numbered 1, 2, ...)."""

    index: int
    network: str
    station: int
    name: str
    entry_lanes: tuple[LaneSpec, ...]
    exit_lanes: tuple[LaneSpec, ...]

    @property
    def key(self) -> str:
        return f"{self.network}/{self.station}"

    @property
    def lanes(self) -> tuple[LaneSpec, ...]:
        return self.entry_lanes + self.exit_lanes


@dataclass(frozen=True, slots=True)
class Site:
    """Everything a run holds fixed."""

    network: RoadNetwork
    fees: FeeTable
    stale_fees: FeeTable
    policy: Policy
    plazas: tuple[Plaza, ...]
    key_set: KeySet
    outlets: tuple[Outlet, ...]

    def plaza_of(self, network: str, station: int) -> Plaza:
        return next(p for p in self.plazas if (p.network, p.station) == (network, station))


def _dearer(network: RoadNetwork) -> RoadNetwork:
    return dataclasses.replace(network, sections=tuple(
        dataclasses.replace(s, rates=tuple((r * 11 + 5) // 10 for r in s.rates))
        for s in network.sections))


def build_site(config: ProvinceConfig) -> Site:
    """The province of `config` (the same seed gives the same province)."""
    network = synthetic_network(config.plazas, config.seed, networks=(NETWORK,))
    fees = build_fee_table(network, FEES_VERSION, BUILT_AT)
    stale = build_fee_table(_dearer(network), STALE_FEES_VERSION, BUILT_AT)
    plazas = []
    for index, station in enumerate(sorted(network.stations, key=lambda s: s.key)):
        def lane(number: int, mode: LaneMode, station: int = station.station_id) -> LaneSpec:
            return LaneSpec(f"{station}-{number}", mode, NETWORK, station, number)
        entry = tuple(lane(n, LaneMode.ENTRY) for n in range(1, config.entry_lanes + 1))
        exits = tuple(lane(config.entry_lanes + n, LaneMode.EXIT)
                      for n in range(1, config.exit_lanes + 1))
        plazas.append(Plaza(index, NETWORK, station.station_id, station.name, entry, exits))
    key_set = generate_key_set([NETWORK], Algorithm.SM4, 1,
                               seeded_random_bytes(f"province-keys:{config.seed}"))
    outlets = tuple(
        Outlet(f"{NETWORK}{n:02d}001", f"{NETWORK}-{n:02d}", f"Service outlet {n}",
               bytes.fromhex(f"{NETWORK}{n:02d}000001"))
        for n in range(1, config.outlets + 1))
    return Site(network, fees, stale, Policy(POLICY_VERSION), tuple(plazas), key_set, outlets)
