"""Vehicle streams: who arrives at which lane when, at what speed, with which faults.

Deterministic: the same scenario and the same Generator state give the same stream. A vehicle
sent to a simulated entry lane may come back, at least `min_trip_s` later, to a simulated exit
lane with the record the entry lane wrote. Times are seconds from the scenario's start.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from protocols.frames import LaneMode
from rsu_sim.model.population import (
    WHOLE_RUN_IDS,
    CardPopulation,
    IdSpace,
    TripRole,
    VehicleRecord,
    build_vehicles,
)
from rsu_sim.model.scenario import (
    Fault,
    PoissonArrivals,
    ReplayedArrivals,
    Scenario,
    StationRef,
)

#: Our decision: a vehicle leaving the zone early stays 10-50 % of its normal dwell.
EARLY_EXIT_SHARE = (0.10, 0.50)


@dataclass(frozen=True, slots=True)
class VehicleArrival:
    """One pass of a vehicle through one lane's communication zone."""

    sequence: int
    time: float  # s from the scenario start: the vehicle enters the zone
    lane_id: str
    vehicle: VehicleRecord
    speed_kmh: float
    dwell_s: float  # time in the zone; every exchange after `time + dwell_s` fails
    faults: frozenset[Fault]  # the vehicle's own faults and those of this pass

    @property
    def leaves_zone_at(self) -> float:
        """The deadline of every radio exchange of this pass."""
        return self.time + self.dwell_s

    @property
    def in_radio_fade(self) -> bool:
        """True when this pass suffers the fault mix's fade frame loss."""
        return Fault.RADIO_FADE in self.faults


@dataclass(frozen=True, slots=True)
class Traffic:
    """A generated run: the population and the time-ordered arrivals."""

    population: CardPopulation
    arrivals: tuple[VehicleArrival, ...]


def _arrival_slots(scenario: Scenario, rng: np.random.Generator) -> tuple[list[float], list[int]]:
    """Arrival times and lane indexes, in time order (ties in lane order)."""
    if isinstance(scenario.arrivals, ReplayedArrivals):
        index = {lane.lane_id: i for i, lane in enumerate(scenario.lanes)}
        times = np.array(scenario.arrivals.times, dtype=float)
        lanes = np.array([index[lane] for lane in scenario.arrivals.lanes], dtype=np.int64)
    else:
        assert isinstance(scenario.arrivals, PoissonArrivals)
        mean_gap = 3600.0 / scenario.arrivals.rate_per_hour
        expected = scenario.duration_s / mean_gap
        per_lane = []
        for _ in scenario.lanes:
            gaps = rng.exponential(mean_gap, size=int(expected + 6 * expected**0.5 + 16))
            times_lane = np.cumsum(gaps)
            while times_lane[-1] < scenario.duration_s:
                more = np.cumsum(rng.exponential(mean_gap, size=len(gaps))) + times_lane[-1]
                times_lane = np.concatenate([times_lane, more])
            per_lane.append(times_lane[times_lane < scenario.duration_s])
        times = np.concatenate(per_lane)
        lanes = np.concatenate([np.full(len(t), i, dtype=np.int64) for i, t in enumerate(per_lane)])
    order = np.lexsort((lanes, times))
    return times[order].tolist(), lanes[order].tolist()


def _upstream_stations(scenario: Scenario, fee_network: Sequence[StationRef]) -> list[StationRef]:
    """Where upstream entries come from: the fee network when "any" and known, else the listed
    stations, else the scenario's own entry lanes (our decision for the fallback)."""
    spec = scenario.population
    if spec.upstream_any and fee_network:
        return list(fee_network)
    if spec.upstream_stations:
        return list(spec.upstream_stations)
    return [StationRef(lane.network, lane.station, lane.lane_number)
            for lane in scenario.lanes if lane.mode is LaneMode.ENTRY]


def generate_traffic(
    scenario: Scenario,
    rng: np.random.Generator,
    fee_network: Sequence[StationRef] = (),
    ids: IdSpace = WHOLE_RUN_IDS,
) -> Traffic:
    """The scenario's stream of arrivals and its population (new vehicles get ids from
    `ids.first_vehicle_id`, OBU MAC addresses from `ids.obu_ids`).

    `fee_network` lists the stations of the lane's fee network, used when the scenario says
    upstream entries come from "any" station.
    """
    times, lane_idx = _arrival_slots(scenario, rng)
    n = len(times)
    lanes = scenario.lanes
    spec = scenario.population
    has_exit = any(lane.mode is LaneMode.EXIT for lane in lanes)
    upstream_draw = (rng.random(n) < spec.upstream_share).tolist()

    # Which slot carries a new vehicle (and with which role) or a vehicle back from an entry.
    owner: list[int] = [0] * n  # slot of the vehicle's first appearance
    new_slots: list[int] = []
    roles: list[TripRole] = []
    exit_stations: list[int | None] = []
    entered: deque[tuple[float, int]] = deque()
    for k in range(n):
        lane = lanes[lane_idx[k]]
        if lane.mode is LaneMode.EXIT and not upstream_draw[k] and entered \
                and entered[0][0] <= times[k]:
            owner[k] = entered.popleft()[1]
            continue
        owner[k] = k
        new_slots.append(k)
        if lane.mode is LaneMode.ENTRY:
            roles.append(TripRole.TO_ENTRY)
            exit_stations.append(None)
            if has_exit:
                entered.append((times[k] + spec.min_trip_s, k))
        else:
            roles.append(TripRole.TO_EXIT)
            exit_stations.append(lane.station)

    records = build_vehicles(
        scenario, roles, [times[k] for k in new_slots], exit_stations,
        _upstream_stations(scenario, fee_network), rng, ids.first_vehicle_id, ids.obu_ids,
    )
    vehicle_at = dict(zip(new_slots, records, strict=True))
    return Traffic(CardPopulation(records), tuple(_passes(scenario, times, lane_idx, owner,
                                                          vehicle_at, rng)))


def _passes(
    scenario: Scenario, times: list[float], lane_idx: list[int], owner: list[int],
    vehicle_at: dict[int, VehicleRecord], rng: np.random.Generator,
) -> list[VehicleArrival]:
    n = len(times)
    speed = scenario.speed
    speeds = np.clip(rng.normal(speed.mean_kmh, speed.sd_kmh, size=n),
                     speed.min_kmh, speed.max_kmh)
    dwell = scenario.radio.zone_length_m / (speeds / 3.6)
    faults = scenario.faults
    draws = rng.random(size=(n, 3))
    early = (draws[:, 1] < faults.zone_exit_early)
    dwell = np.where(early, dwell * rng.uniform(*EARLY_EXIT_SHARE, size=n), dwell)
    fade = (draws[:, 0] < faults.radio_fade).tolist()
    restart = (draws[:, 2] < faults.rsu_restart).tolist()
    early_list = early.tolist()
    speed_list = speeds.tolist()
    dwell_list = dwell.tolist()
    arrivals = []
    for k in range(n):
        vehicle = vehicle_at[owner[k]]
        pass_faults = vehicle.faults
        if fade[k] or early_list[k] or restart[k]:
            pass_faults = pass_faults | {fault for fault, on in (
                (Fault.RADIO_FADE, fade[k]), (Fault.ZONE_EXIT_EARLY, early_list[k]),
                (Fault.RSU_RESTART, restart[k])) if on}
        arrivals.append(VehicleArrival(
            k, times[k], scenario.lanes[lane_idx[k]].lane_id, vehicle, speed_list[k],
            dwell_list[k], pass_faults,
        ))
    return arrivals
