"""What a run is made of: the key set, the fee network and table, the blacklist, and per lane an
RSU with its PSAM and radio facing a lane-engine core `Lane` (a composition root: it brings
`rsu_sim.model` and `lane_engine` together). The key set, terminal numbers and RSUs are
`rsu_sim.site.devices`'s, shared with the server."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from keys import KeySet
from keys.card_keys import CardKeys
from lane_engine.core.blacklist import Blacklist, Reason
from lane_engine.core.config import LaneConfig
from lane_engine.core.policy import Policy
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.network import RoadNetwork, Station
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.fees.table import FeeTable
from rsu_sim.model.random_bytes import BufferedRandomBytes
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.scenario import LaneSpec, Scenario, StationRef
from rsu_sim.site.devices import lane_rsu, simulation_key_set, terminal_number

#: Version names the simulated lanes stamp on their records.
POLICY_VERSION = "sim-policy-1"
FEE_TABLE_VERSION = "sim-fees-1"
BLACKLIST_VERSION = 1
#: Our decision: the simulated fee network has this many stations (the lanes' own included).
FEE_NETWORK_STATIONS = 48


def fee_network(scenario: Scenario) -> RoadNetwork:
    """A synthetic road network that holds every lane's station (our decision: generate
    `FEE_NETWORK_STATIONS` stations, then give the lanes' (network, station) keys to the first
    stations whose keys are not already lanes')."""
    lane_keys = list(dict.fromkeys((lane.network, lane.station) for lane in scenario.lanes))
    networks = tuple(sorted({network for network, _ in lane_keys}))
    size = max(FEE_NETWORK_STATIONS, 2 * len(lane_keys))
    network = synthetic_network(size, scenario.seed, networks=networks)
    present = {s.key for s in network.stations}
    missing = [key for key in lane_keys if key not in present]
    stations = list(network.stations)
    for index, station in enumerate(stations):
        if not missing:
            break
        if station.key in lane_keys:
            continue
        key = missing.pop(0)
        stations[index] = Station(station.node, key[0], key[1], f"{key[0]}-{key[1]}")
    return replace(network, stations=tuple(stations))


def build_fees(scenario: Scenario) -> tuple[FeeTable, list[StationRef]]:
    """The fee table of the scenario's network and its stations (for upstream entries)."""
    network = fee_network(scenario)
    table = build_fee_table(network, FEE_TABLE_VERSION, "2024-06-01T00:00:00Z")
    return table, [StationRef(net, station) for net, station in table.stations]


def build_blacklist(card_numbers: frozenset[str]) -> Blacklist:
    """The lanes' blacklist: the population's blacklisted cards, reported lost."""
    return Blacklist.from_entries(BLACKLIST_VERSION,
                                  ((card, Reason.LOST) for card in sorted(card_numbers)))


def lane_config(lane: LaneSpec) -> LaneConfig:
    """The lane-engine configuration of a scenario lane."""
    return LaneConfig(lane.network, lane.station, lane.lane_number, lane.mode)


@dataclass(frozen=True, slots=True)
class LaneData:
    """What every lane of a run shares: policy, fee table, blacklist and keys."""

    policy: Policy
    fees: FeeTable
    blacklist: Blacklist
    key_set: KeySet


def make_rsu(lane: LaneSpec, scenario: Scenario, key_set: KeySet,
             rng: np.random.Generator, card_keys: CardKeys | None = None) -> Rsu:
    """A lane's RSU with its software PSAM (serials in memory; key derivations shared through
    `card_keys`, the run's) and radio."""
    radio_rng = np.random.default_rng(rng.integers(2**63))
    return lane_rsu(lane, scenario, key_set, radio_rng,
                    BufferedRandomBytes(np.random.default_rng(rng.integers(2**63))),
                    card_keys=card_keys)


__all__ = ["BLACKLIST_VERSION", "FEE_NETWORK_STATIONS", "FEE_TABLE_VERSION", "POLICY_VERSION",
           "LaneData", "build_blacklist", "build_fees", "fee_network", "lane_config", "make_rsu",
           "simulation_key_set", "terminal_number"]
