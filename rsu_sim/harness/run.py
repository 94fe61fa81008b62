"""The in-process virtual-time harness: per scenario lane an `Rsu` and a lane-engine `Lane`
joined by V3 byte links, vehicles arriving from the scenario's stream, one event loop.

Frames take the real wire path both ways (encode_frame, encode_v3 with the sender's SEQ,
StreamDecoder, decode_frame), so corrupted bytes and duplicated frames are byte-level faults.
The lane's effects run in order against the journal; an intent is committed before its C6
leaves. Each scenario lane has one lane-engine `Lane` for the whole run and the lanes share one
`UnresolvedBook`, as `lane_engine.aio.plaza` has them. An RSU restart drops the TCP connection:
the lane is told (`connection_lost`: a purchase in flight is left UNRESOLVED and kept in the
book) and starts again (`start`) `reconnect_s` later, as `lane_engine.aio` does.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from keys.card_keys import CardKeys
from keys.keyset import KeySet
from lane_engine.core import effects as fx
from lane_engine.core.lane import Lane
from lane_engine.core.policy import Policy
from lane_engine.core.settling import UnresolvedBook
from protocols.envelope import SeqCounter, Side
from protocols.frames import Frame
from rsu_sim.harness.events import EventQueue
from rsu_sim.harness.journal_sink import GroupCommitJournal
from rsu_sim.harness.link import ByteLink
from rsu_sim.harness.setup import (
    POLICY_VERSION,
    LaneData,
    build_blacklist,
    build_fees,
    lane_config,
    make_rsu,
)
from rsu_sim.harness.summary import Summary, Tally, summarise
from rsu_sim.model.obu import Fleet
from rsu_sim.model.population import WHOLE_RUN_IDS, CardPopulation, IdSpace
from rsu_sim.model.random_bytes import BufferedRandomBytes
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.rsu_effects import LaneFrameRejected, PassEnded, RsuEffect, SendFrame
from rsu_sim.model.rsu_faults import TearPoint
from rsu_sim.model.scenario import Fault, LaneSpec, PoissonArrivals, Scenario
from rsu_sim.model.streams import VehicleArrival, generate_traffic
from rsu_sim.site.devices import pass_faults, simulation_key_set

Progress = Callable[[int, int], None]
#: Sees every frame's bytes: (lane id, "TX" from the RSU or "RX" to it, the bytes written, the
#: bytes on the wire (corrupted, or the same), the virtual time of the write). Asking for it puts
#: every frame on the real byte path.
FrameCapture = Callable[[str, str, bytes, bytes, float], None]


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """How to run a scenario (timing of the lane side, size, forced faults for tests)."""

    vehicles: int | None = None  # passes to simulate; None: the scenario's whole duration
    link_latency_s: float = 0.001
    lane_processing_s: float = 0.002
    reconnect_s: float = 1.0
    drain_s: float = 60.0  # simulated time after the last vehicle leaves
    #: tests: tear every pass at this point (and leave the zone there with `force_leave_zone`)
    force_tear: TearPoint | None = None
    force_leave_zone: bool = False
    #: every frame's bytes, as they went on the wire (None: frames cross as values unless the
    #: bytes can differ from the frame, see `rsu_sim.harness.link`)
    capture: FrameCapture | None = None
    #: where the population's vehicle and OBU ids come from (the shards of a run differ)
    ids: IdSpace = WHOLE_RUN_IDS


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """A finished run: its summary, the scenario used, the fleet (final cards) and population."""

    summary: Summary
    scenario: Scenario
    fleet: Fleet
    population: CardPopulation
    key_set: KeySet


def scaled_scenario(scenario: Scenario, vehicles: int | None) -> Scenario:
    """The scenario with a duration long enough for `vehicles` Poisson arrivals (our decision:
    10 % more than the expected time, the stream is then cut at `vehicles`)."""
    if vehicles is None or not isinstance(scenario.arrivals, PoissonArrivals):
        return scenario
    rate = scenario.arrivals.rate_per_hour * len(scenario.lanes) / 3600.0
    return replace(scenario, duration_s=max(60.0, 1.1 * vehicles / rate + 60.0))


class LaneSite(Protocol):
    """What a lane pair lives in: a `Simulation`, or any run with the same parts (the
    simulated province's plazas): the timing options, the scenario's fault mix, the virtual
    clock, the tally and the (group-commit) journal its lane writes to."""

    options: SimulationOptions
    scenario: Scenario
    queue: EventQueue
    tally: Tally
    journal: GroupCommitJournal


class LanePair:
    """One simulated lane: the RSU, the lane controller and the two directions of their link."""

    def __init__(self, sim: LaneSite, spec: LaneSpec, rsu: Rsu, lane: Lane,
                 rng: np.random.Generator) -> None:
        self.spec = spec
        self.rsu = rsu
        self.lane = lane
        self.connected = False
        self.lane_seq = SeqCounter(Side.LANE)
        self.detected: dict[int, float] = {}
        opts, p = sim.options, sim.scenario.faults.corrupted_tcp
        capture = opts.capture
        self.to_lane = ByteLink(sim.queue.at, self.lane_reads, opts.link_latency_s, p, rng,
                                None if capture is None else
                                lambda raw, wire, at: capture(spec.lane_id, "TX", raw, wire, at))
        self.to_rsu = ByteLink(sim.queue.at, self.rsu_reads, opts.link_latency_s, p, rng,
                               None if capture is None else
                               lambda raw, wire, at: capture(spec.lane_id, "RX", raw, wire, at))
        self.sim = sim
        self.rsu_token = self.lane_token = 0
        self.rsu_armed: float | None = None
        self.lane_armed: float | None = None

    # -- the RSU side
    def rsu_effects(self, effects: list[RsuEffect]) -> None:
        tally = self.sim.tally
        for effect in effects:
            if type(effect) is SendFrame:
                if self.connected:
                    self.to_lane.send(effect.frame, effect.seq, effect.at)
                else:
                    tally.frames_dropped += 1
            elif type(effect) is PassEnded:
                tally.pass_ends[effect.how.value] += 1
            elif type(effect) is LaneFrameRejected:
                tally.frames_rejected_by_rsu += 1
        self.arm_rsu()

    def rsu_reads(self, frame: Frame, seq: int, now: float) -> None:
        self.rsu_effects(self.rsu.receive_frame(frame, now))

    def arm_rsu(self) -> None:
        due = self.rsu.get_timer()
        if due is None or due == self.rsu_armed:
            return
        self.rsu_armed = due
        self.rsu_token += 1
        self.sim.queue.at(due, self._fire_rsu, self.rsu_token)

    def _fire_rsu(self, now: float, token: int) -> None:
        if token == self.rsu_token:
            self.rsu_armed = None
            self.rsu_effects(self.rsu.handle_timer(now))

    # -- the lane side
    def lane_reads(self, frame: Frame, seq: int, now: float) -> None:
        if self.connected:
            self.lane_effects(self.lane.receive_frame(frame, now, seq), now)

    def lane_effects(self, effects: list[fx.Effect], now: float, send: bool = True) -> None:
        sim = self.sim
        journal, tally = sim.journal, sim.tally
        out_at = now + sim.options.lane_processing_s
        intent_waiting = False
        for effect in effects:
            kind = type(effect)
            if kind is fx.SendFrame:
                if intent_waiting:
                    journal.commit()
                    intent_waiting = False
                if send:
                    self.to_rsu.send(effect.frame, self.lane_seq.value, out_at)  # type: ignore[union-attr]
                    self.lane_seq = self.lane_seq.next()
            elif kind is fx.OpenIntent:
                journal.open_intent(effect.record)  # type: ignore[union-attr]
                intent_waiting = True
            elif kind is fx.UpdateIntent:
                journal.update_intent(effect.record)  # type: ignore[union-attr]
            elif kind is fx.CloseTransaction or kind is fx.RecordRefusal:
                tally.closed(journal.close(effect.record))  # type: ignore[union-attr]
            elif kind is fx.ObuDetected:
                self.detected[effect.obu_id] = now  # type: ignore[union-attr]
            elif kind is fx.TransactionCompleted:
                started = self.detected.pop(effect.record.obu_id, None)  # type: ignore[union-attr]
                if started is not None:
                    tally.durations_s.append(out_at - started)
            elif kind is fx.RecoveryStarted:
                tally.recoveries_started += 1
            elif kind is fx.UnresolvedTransactionSettled:
                tally.settled_later += 1
            elif kind is fx.ProtocolViolation:
                tally.violations += 1
        self.arm_lane()

    def arm_lane(self) -> None:
        due = self.lane.get_timer()
        if due is None or due == self.lane_armed:
            return
        self.lane_armed = due
        self.lane_token += 1
        self.sim.queue.at(due, self._fire_lane, self.lane_token)

    def _fire_lane(self, now: float, token: int) -> None:
        if token == self.lane_token:
            self.lane_armed = None
            self.lane_effects(self.lane.handle_timer(now), now)

    # -- connection
    def connect(self, now: float) -> None:
        self.connected = True
        self.lane_effects(self.lane.start(now), now)

    def disconnect(self, now: float) -> None:
        """The connection is gone: the lane is told (a purchase in flight is left UNRESOLVED),
        bytes in flight are lost, and its frames are numbered afresh on the next one."""
        self.connected = False
        self.lane_token += 1  # a lane timer armed on the old connection is void
        self.lane_armed = None
        self.lane_effects(self.lane.connection_lost(now), now, send=False)
        self.to_lane.reconnect()
        self.to_rsu.reconnect()
        self.lane_seq = SeqCounter(Side.LANE)
        self.detected.clear()

    def restart_rsu(self, now: float) -> None:
        self.sim.tally.restarts += 1
        self.connected = False
        self.rsu_effects(self.rsu.restart(now))
        self.disconnect(now)
        self.sim.queue.at(now + self.sim.options.reconnect_s, self.connect)


@contextmanager
def _collector_for_a_run() -> Iterator[None]:
    """The garbage collector paused for a run: a run makes no reference cycles (a 6,000-vehicle
    mixed run leaves none to collect), so reference counting frees all it drops, and the
    collector's passes over the run's long-lived objects (population, cards, keys, fee table)
    would cost about a tenth of its CPU."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Simulation:
    """One run of a scenario in virtual time."""

    def __init__(self, scenario: Scenario, journal: GroupCommitJournal,
                 options: SimulationOptions | None = None) -> None:
        self.options = options or SimulationOptions()
        self.scenario = scaled_scenario(scenario, self.options.vehicles)
        self.journal = journal
        self.tally = Tally()
        self.queue = EventQueue(float(self.scenario.start_unix))
        seeds = np.random.SeedSequence(self.scenario.seed).spawn(4)
        self._traffic_rng, card_rng, device_rng, self._fault_rng = (
            np.random.default_rng(s) for s in seeds)
        self.fees, self.stations = build_fees(self.scenario)
        self.key_set = simulation_key_set(self.scenario)
        #: Key derivations of the run's devices (cards, OBUs, PSAMs), each derived once.
        self.card_keys = CardKeys(self.key_set)
        self.fleet = Fleet(self.key_set, BufferedRandomBytes(card_rng), card_keys=self.card_keys)
        traffic = generate_traffic(self.scenario, self._traffic_rng, fee_network=self.stations,
                                   ids=self.options.ids)
        self.population = traffic.population
        limit = self.options.vehicles
        self.arrivals = traffic.arrivals if limit is None else traffic.arrivals[:limit]
        self.data = LaneData(Policy(POLICY_VERSION), self.fees,
                             build_blacklist(self.population.blacklisted_card_numbers()),
                             self.key_set)
        #: The UNRESOLVED purchases of every lane: a card may show up again at any of them.
        self.unresolved = UnresolvedBook()
        self.pairs = {
            spec.lane_id: LanePair(self, spec, make_rsu(spec, self.scenario, self.key_set,
                                                         device_rng, self.card_keys),
                                    self.make_lane(spec), device_rng)
            for spec in self.scenario.lanes
        }

    def make_lane(self, spec: LaneSpec) -> Lane:
        """The lane-engine core of a scenario lane for the whole run (its exit slice of the fee
        table), sharing the run's UNRESOLVED book."""
        data = self.data
        fees = data.fees.slice_for(spec.network, spec.station)
        return Lane(lane_config(spec), data.policy, fees, data.blacklist,
                    unresolved=self.unresolved)

    def _arrive(self, arrival: VehicleArrival) -> Callable[[float], None]:
        pair = self.pairs[arrival.lane_id]
        options = self.options
        faults = pass_faults(arrival, self.scenario, self._fault_rng,
                             force_tear=options.force_tear,
                             force_leave_zone=options.force_leave_zone)
        leaves = self.scenario.start_unix + arrival.leaves_zone_at

        def arrive(now: float) -> None:
            if Fault.RSU_RESTART in arrival.faults:
                pair.restart_rsu(now)
            obu = self.fleet.obu(arrival.vehicle)
            pair.rsu_effects(pair.rsu.vehicle_arrived(now, obu, leaves, faults))
            self._done += 1
        return arrive

    def run(self, progress: Progress | None = None) -> SimulationResult:
        """Run every arrival, drain, and summarise."""
        with _collector_for_a_run():
            return self._run(progress)

    def _run(self, progress: Progress | None) -> SimulationResult:
        started = time.process_time()
        queue, start = self.queue, float(self.scenario.start_unix)
        self._done = 0
        for pair in self.pairs.values():
            pair.rsu_effects(pair.rsu.start(start))
            pair.connect(start)
        for arrival in self.arrivals:
            queue.at(start + arrival.time, self._arrive(arrival))
        last = max((a.leaves_zone_at for a in self.arrivals), default=0.0)
        end = start + last + self.options.drain_s
        step = 60.0
        t = start
        while t < end:
            t = min(t + step, end)
            queue.run(t)
            if progress is not None:
                progress(self._done, len(self.arrivals))
        for pair in self.pairs.values():
            pair.disconnect(queue.now)
        self.journal.commit()
        cpu = time.process_time() - started
        return SimulationResult(self._summary(cpu), self.scenario, self.fleet, self.population,
                                self.key_set)

    def _summary(self, cpu: float) -> Summary:
        link: dict[str, int] = {}
        for pair in self.pairs.values():
            for name, stats in (("rsu_to_lane", pair.to_lane.stats),
                                ("lane_to_rsu", pair.to_rsu.stats)):
                for field_name in ("frames", "corrupted", "rejected"):
                    key = f"{name}_{field_name}"
                    link[key] = link.get(key, 0) + getattr(stats, field_name)
        vehicles = len({a.vehicle.vehicle_id for a in self.arrivals})
        speed = {"cpu_s": round(cpu, 3),
                 "vehicles_per_cpu_s": round(len(self.arrivals) / cpu, 1) if cpu > 0 else 0.0,
                 "journal_commits": float(self.journal.commits)}
        return summarise(self.tally, scenario=self.scenario.name, seed=self.scenario.seed,
                         vehicles=vehicles, passes=len(self.arrivals), link=link, speed=speed)
