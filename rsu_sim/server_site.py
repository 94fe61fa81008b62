"""The simulated site behind `rsu-sim serve`: key set, traffic, one fleet, one RSU per lane.

No IO here beyond loading a key-set file the scenario names; the asyncio edge is
`rsu_sim.server`. Randomness comes from numpy Generators spawned from one seed, so the same
scenario and seed give the same vehicles, cards and fault draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from keys import Algorithm, KeySet, MemorySerialStore, SoftwarePsam, generate_key_set
from keys.keyset import seeded_random_bytes
from keys.keyset_file import load_key_set
from rsu_sim.model.obu import DEFAULT_KEY_VERSION, Fleet
from rsu_sim.model.radio import RadioLink
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.rsu_faults import NO_FAULTS, PassFaults
from rsu_sim.model.scenario import FaultMix, LaneSpec, Scenario
from rsu_sim.model.streams import Traffic, VehicleArrival, generate_traffic

#: Algorithm of a generated scenario key set (our decision: the current national SM4 family).
GENERATED_KEY_ALGORITHM = Algorithm.SM4


def scenario_key_set(scenario: Scenario) -> KeySet:
    """The scenario's key set: its `[keys] file` when given, else generated from `[keys] seed`
    for every network its issuers and lanes name (our decision: SM4, key version 1)."""
    if scenario.keys.file is not None:
        return load_key_set(scenario.keys.file)
    networks = sorted({issuer.network for issuer in scenario.population.issuers}
                      | {lane.network for lane in scenario.lanes})
    return generate_key_set(networks, GENERATED_KEY_ALGORITHM, DEFAULT_KEY_VERSION,
                            seeded_random_bytes(f"rsu-sim keys {scenario.keys.seed}"))


def terminal_number(lane: LaneSpec, index: int) -> bytes:
    """The 6-byte PSAM terminal number of a lane's RSU (our decision): network (2 BCD bytes),
    station (2 bytes), lane number, and the lane's index in the scenario plus one."""
    return (bytes.fromhex(lane.network) + lane.station.to_bytes(2, "big")
            + bytes((lane.lane_number, (index + 1) & 0xFF)))


def pass_faults(arrival: VehicleArrival, mix: FaultMix) -> PassFaults:
    """The fault hooks of one pass: a radio fade loses frames at the mix's fade rate. (An early
    zone exit is already in the arrival's dwell; an RSU restart is the server's to do.)"""
    if arrival.in_radio_fade:
        return PassFaults(loss_probability=mix.fade_loss_probability)
    return NO_FAULTS


@dataclass(slots=True)
class SiteLane:
    """One lane of the site: its scenario entry, its RSU and the Generator of its link faults."""

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


def build_site(scenario: Scenario, seed: int | None = None) -> Site:
    """Build the site of `scenario`; `seed` (default the scenario's) drives every draw."""
    root = np.random.SeedSequence(scenario.seed if seed is None else seed)
    traffic_seq, fleet_seq, *lane_seqs = root.spawn(2 + len(scenario.lanes))
    key_set = scenario_key_set(scenario)
    traffic = generate_traffic(scenario, np.random.default_rng(traffic_seq))
    fleet = Fleet(key_set, np.random.default_rng(fleet_seq).bytes)
    lanes = []
    for index, (spec, lane_seq) in enumerate(zip(scenario.lanes, lane_seqs, strict=True)):
        radio_seq, bytes_seq, link_seq = lane_seq.spawn(3)
        psam = SoftwarePsam(key_set, terminal_number(spec, index), MemorySerialStore())
        rsu = Rsu(psam, RadioLink(scenario.radio, np.random.default_rng(radio_seq)),
                  np.random.default_rng(bytes_seq).bytes)
        lanes.append(SiteLane(spec, rsu, np.random.default_rng(link_seq)))
    return Site(scenario, key_set, traffic, fleet, tuple(lanes))
