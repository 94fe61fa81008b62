"""The simulated site behind `rsu-sim serve`: key set, traffic, one fleet, one RSU per lane.

No IO here beyond loading a key-set file the scenario names; the asyncio edge is
`rsu_sim.server_lane`. Randomness comes from numpy Generators spawned from one seed, so the same
scenario and seed give the same vehicles, cards and fault draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from keys import KeySet, MemorySerialStore, SoftwarePsam
from rsu_sim.harness.setup import simulation_key_set, terminal_number
from rsu_sim.model.obu import Fleet
from rsu_sim.model.radio import RadioLink
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.scenario import LaneSpec, Scenario, StationRef
from rsu_sim.model.streams import Traffic, generate_traffic


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
               fee_network: Sequence[StationRef] = ()) -> Site:
    """Build the site of `scenario`; `seed` (default the scenario's) drives every draw.

    The key set and PSAM terminal numbers are the virtual-time harness's, so a served run is
    audited like `rsu-sim run`. `fee_network` lists the stations upstream entries may come
    from when the scenario says "any" (default: the scenario's own entry lanes).
    """
    root = np.random.SeedSequence(scenario.seed if seed is None else seed)
    traffic_seq, fleet_seq, *lane_seqs = root.spawn(2 + len(scenario.lanes))
    key_set = simulation_key_set(scenario)
    traffic = generate_traffic(scenario, np.random.default_rng(traffic_seq), fee_network)
    fleet = Fleet(key_set, np.random.default_rng(fleet_seq).bytes)
    lanes = []
    for spec, lane_seq in zip(scenario.lanes, lane_seqs, strict=True):
        radio_seq, bytes_seq, link_seq = lane_seq.spawn(3)
        psam = SoftwarePsam(key_set, terminal_number(spec), MemorySerialStore())
        rsu = Rsu(psam, RadioLink(scenario.radio, np.random.default_rng(radio_seq)),
                  np.random.default_rng(bytes_seq).bytes)
        lanes.append(SiteLane(spec, rsu, np.random.default_rng(link_seq)))
    return Site(scenario, key_set, traffic, fleet, tuple(lanes))
