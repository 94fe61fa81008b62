"""The simulated site as both edges build it: key set, PSAM terminal numbers, each lane's RSU,
and how the scenario's fault mix hits a pass and a frame on the link.

Shared by the virtual-time harness (`rsu_sim.harness`) and the TCP server (`rsu_sim.server.server`),
so a served run is audited like `rsu-sim run`. No lane-engine import here: the server runs
without `lane_engine`. The only IO is loading a key-set file the scenario names (through
`keys.keyset_file`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from keys import (
    Algorithm,
    KeySet,
    MemorySerialStore,
    SoftwarePsam,
    TerminalSerialStore,
    generate_key_set,
)
from keys.card_keys import CardKeys
from keys.keyset import seeded_random_bytes
from keys.keyset_file import load_key_set
from protocols.envelope import V3_HEADER_LENGTH
from protocols.frames import FrameType
from rsu_sim.model.radio import RadioLink
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.rsu_effects import RsuConfig
from rsu_sim.model.rsu_faults import NO_FAULTS, PassFaults, TearPoint
from rsu_sim.model.scenario import Fault, LaneSpec, Scenario
from rsu_sim.model.streams import VehicleArrival

#: The RSU's session frames, the ones the duplicate-frame fault may send twice.
SESSION_FRAMES = (FrameType.B2, FrameType.B4, FrameType.B5, FrameType.B8)


def simulation_key_set(scenario: Scenario) -> KeySet:
    """The scenario's key set: its file when it names one, else generated from its key seed.

    Our decision for generated sets: the first issuer's network uses SM4, the others 3DES, so
    that a run exercises both algorithm families.
    """
    if scenario.keys.file is not None:
        return load_key_set(scenario.keys.file)
    networks = sorted({issuer.network for issuer in scenario.population.issuers}
                      | {lane.network for lane in scenario.lanes})
    first = scenario.population.issuers[0].network
    seed = f"rsu-sim-keys:{scenario.keys.seed}"
    sm4 = generate_key_set([first], Algorithm.SM4, 1, seeded_random_bytes(seed + ":sm4"))
    others = [n for n in networks if n != first]
    if not others:
        return sm4
    tdes = generate_key_set(others, Algorithm.TDES, 1, seeded_random_bytes(seed + ":3des"))
    return KeySet(sm4.entries + tdes.entries)


def terminal_number(lane: LaneSpec) -> bytes:
    """The PSAM terminal number of a lane's RSU (our decision: network BCD, 00, station BCD,
    lane BCD; 6 bytes)."""
    return bytes.fromhex(f"{lane.network}00{lane.station % 10_000:04d}{lane.lane_number % 100:02d}")


def lane_rsu(lane: LaneSpec, scenario: Scenario, key_set: KeySet, radio_rng: np.random.Generator,
             random_bytes: Callable[[int], bytes], config: RsuConfig | None = None,
             serial_store: TerminalSerialStore | None = None,
             card_keys: CardKeys | None = None) -> Rsu:
    """A lane's RSU: a software PSAM with the lane's terminal number (serials from
    `serial_store`, default in memory; its key derivations shared through `card_keys` when
    given) and the scenario's radio drawing from `radio_rng`."""
    serials = MemorySerialStore() if serial_store is None else serial_store
    psam = SoftwarePsam(key_set, terminal_number(lane), serials, card_keys)
    return Rsu(psam, RadioLink(scenario.radio, radio_rng), random_bytes, config)


def pass_faults(arrival: VehicleArrival, scenario: Scenario, rng: np.random.Generator, *,
                force_tear: TearPoint | None = None, force_leave_zone: bool = False
                ) -> PassFaults:
    """The RSU's fault hooks for one pass (see `faults_of_pass`)."""
    return faults_of_pass(arrival.faults, scenario, rng, force_tear=force_tear,
                          force_leave_zone=force_leave_zone)


def faults_of_pass(faults: frozenset[Fault], scenario: Scenario, rng: np.random.Generator, *,
                   force_tear: TearPoint | None = None, force_leave_zone: bool = False
                   ) -> PassFaults:
    """The RSU's fault hooks for a pass with `faults` (our decision for the mapping): a fade
    sets the fade loss; leaving early also tears the pass at a TearPoint drawn uniformly, the
    vehicle leaving right there; each session frame type is duplicated with the per-frame
    probability. `force_tear` (tests) tears the pass there, leaving the zone with
    `force_leave_zone`."""
    mix = scenario.faults
    duplicate = frozenset(t for t in SESSION_FRAMES
                          if mix.duplicate_frames and rng.random() < mix.duplicate_frames)
    tear, leave = force_tear, force_leave_zone
    if tear is None and Fault.ZONE_EXIT_EARLY in faults:
        tear, leave = list(TearPoint)[int(rng.integers(len(TearPoint)))], True
    fade = mix.fade_loss_probability if Fault.RADIO_FADE in faults else None
    if tear is None and fade is None and not duplicate:
        return NO_FAULTS
    return PassFaults(tear, leave, fade, duplicate)


def corrupt(raw: bytes, rng: np.random.Generator) -> bytes:
    """`raw` with one byte of DATA or CRC flipped (our decision: the header is spared, so that a
    corruption costs the frame it hits and a corrupted LEN cannot stall the stream)."""
    index = int(rng.integers(V3_HEADER_LENGTH, len(raw)))
    mask = int(rng.integers(1, 256))
    return raw[:index] + bytes([raw[index] ^ mask]) + raw[index + 1:]


__all__ = ["SESSION_FRAMES", "corrupt", "faults_of_pass", "lane_rsu", "pass_faults",
           "simulation_key_set", "terminal_number"]
