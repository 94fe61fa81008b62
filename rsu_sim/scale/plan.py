"""The shards of a run: which vehicles, seed, stations and ids each one has.

A shard is the scenario's plaza once more, at stations of its own, with a population of its
own: its seed is drawn from the run's seed and its index, its vehicle ids and OBU MAC addresses
come from a range no other shard uses, so no card is in two shards and every record, card and
PSAM serial of a shard is its own. The plan depends on the scenario, the seed, the number of
vehicles and the shard size only, never on how many workers run it: the merged summary and
audit are the same whatever runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rsu_sim.errors import ScenarioError
from rsu_sim.model.population import IdSpace
from rsu_sim.model.scenario import Scenario

#: Our decision: 10,000 passes a shard (a few seconds of one core; enough shards to keep
#: workers evenly busy, few enough that each shard's setup stays a small share).
DEFAULT_SHARD_VEHICLES = 10_000
#: Vehicle ids stay below 10^8 (they end the card serial).
MAX_VEHICLE_ID = 10**8
#: OBU MAC addresses: 1 .. FFFFFFFE (0 and the broadcast address are never used).
OBU_ID_SPACE = (1, 0xFFFF_FFFF)


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """One shard: its index of `count`, its scenario (seed and stations), passes and ids."""

    index: int
    count: int
    scenario: Scenario
    vehicles: int
    ids: IdSpace

    @property
    def name(self) -> str:
        """`shard-00003`: the shard's folder under a run's output."""
        return f"shard-{self.index:05d}"


def shard_seed(seed: int, index: int) -> int:
    """The seed of shard `index` of a run seeded `seed` (a 63-bit draw from both)."""
    state = np.random.SeedSequence(entropy=seed & (2**128 - 1), spawn_key=(index,))
    return int(state.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _ids_per_shard(shard_vehicles: int) -> int:
    # A shard's population is drawn for a little more traffic than its passes (the scenario's
    # duration is stretched by 10 % and a minute): twice as many ids always suffice.
    return 2 * shard_vehicles + 1_000


def shard_scenario(scenario: Scenario, index: int) -> Scenario:
    """The scenario of shard `index`: its own seed, each lane's station moved to the shard's
    own block of station numbers (our decision: block `index` after the scenario's own)."""
    stations = sorted({lane.station for lane in scenario.lanes})
    low, span = stations[0], len(stations)
    top = low + span * (index + 1) - 1
    if top > 0xFFFF:
        raise ScenarioError(f"shard {index} would need station {top}: use larger shards",
                            table="lanes", field="station")
    moved = {station: low + span * index + k for k, station in enumerate(stations)}
    lanes = tuple(replace(lane, station=moved[lane.station]) for lane in scenario.lanes)
    return replace(scenario, seed=shard_seed(scenario.seed, index), lanes=lanes)


def plan_shards(scenario: Scenario, vehicles: int,
                shard_vehicles: int = DEFAULT_SHARD_VEHICLES) -> tuple[ShardSpec, ...]:
    """The shards of a run of `vehicles` passes, `shard_vehicles` each (the last ones one
    fewer when it does not divide)."""
    if vehicles < 1 or shard_vehicles < 1:
        raise ScenarioError("a sharded run needs at least one vehicle a shard", table="",
                            field="vehicles")
    count = -(-vehicles // shard_vehicles)
    per_shard = _ids_per_shard(-(-vehicles // count))
    if 1 + count * per_shard > MAX_VEHICLE_ID:
        raise ScenarioError(f"{vehicles:,} passes need more vehicle ids than cards allow",
                            table="", field="vehicles")
    low, high = OBU_ID_SPACE
    obu_width = (high - low) // count
    base, extra = divmod(vehicles, count)
    return tuple(
        ShardSpec(index, count, shard_scenario(scenario, index), base + (index < extra),
                  IdSpace(1 + index * per_shard,
                          (low + index * obu_width, low + (index + 1) * obu_width)))
        for index in range(count)
    )
