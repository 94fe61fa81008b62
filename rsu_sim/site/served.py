"""The simulated site behind `rsu-sim serve`: key set, traffic, one fleet, one RSU per lane.

No IO here beyond loading a key-set file the scenario names; the asyncio edge is
`rsu_sim.server.lane`. Randomness comes from numpy Generators spawned from one seed, so the same
scenario and seed give the same vehicles, cards and fault draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from keys import KeySet, TerminalSerialStore
from rsu_sim.model.obu import Fleet
from rsu_sim.model.random_bytes import BufferedRandomBytes
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.rsu_effects import RsuConfig
from rsu_sim.model.scenario import LaneSpec, Scenario, StationRef
from rsu_sim.model.streams import Traffic, generate_traffic
from rsu_sim.site.devices import lane_rsu, simulation_key_set, terminal_number

#: Gives the serial store of the PSAM with this terminal number.
SerialStores = Callable[[bytes], TerminalSerialStore]


@dataclass(slots=True)
class SiteLane:
    """One lane of the site: its scenario entry, its RSU and the Generator of its faults."""

    spec: LaneSpec
    rsu: Rsu
    link_rng: np.random.Generator


@dataclass(slots=True)
class Site:
    """Everything the server simulates; `traffic.population` tells the lane's blacklist."""

    scenario: Scenario
    key_set: KeySet
    traffic: Traffic
    fleet: Fleet
    lanes: tuple[SiteLane, ...]


def build_site(scenario: Scenario, seed: int | None = None,
               fee_network: Sequence[StationRef] = (), rsu_config: RsuConfig | None = None,
               *, key_set: KeySet | None = None, serial_stores: SerialStores | None = None
               ) -> Site:
    """Build the site of `scenario`; `seed` (default the scenario's) drives every draw.

    The key set and RSUs are `rsu_sim.site.devices`'s, as the virtual-time harness has them, so a
    served run is audited like `rsu-sim run`. `fee_network` lists the stations upstream entries
    may come from when the scenario says "any" (default: the scenario's own entry lanes);
    `rsu_config` sets every RSU's identity and link timing (default `RsuConfig()`); `key_set`
    replaces the scenario's (a served world's own); `serial_stores` gives each PSAM its serial
    store (default: in memory).
    """
    root = np.random.SeedSequence(scenario.seed if seed is None else seed)
    traffic_seq, fleet_seq, *lane_seqs = root.spawn(2 + len(scenario.lanes))
    key_set = simulation_key_set(scenario) if key_set is None else key_set
    traffic = generate_traffic(scenario, np.random.default_rng(traffic_seq), fee_network)
    # The fleet's and each RSU's byte Generators are their own: buffered, the same bytes.
    fleet = Fleet(key_set, BufferedRandomBytes(np.random.default_rng(fleet_seq)))
    lanes = []
    for spec, lane_seq in zip(scenario.lanes, lane_seqs, strict=True):
        radio_seq, bytes_seq, link_seq = lane_seq.spawn(3)
        serials = None if serial_stores is None else serial_stores(terminal_number(spec))
        rsu = lane_rsu(spec, scenario, key_set, np.random.default_rng(radio_seq),
                       BufferedRandomBytes(np.random.default_rng(bytes_seq)), rsu_config,
                       serials)
        lanes.append(SiteLane(spec, rsu, np.random.default_rng(link_seq)))
    return Site(scenario, key_set, traffic, fleet, tuple(lanes))
