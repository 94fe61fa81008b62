"""One vehicle through one lane, in virtual time: an OBU (with its card) passes an RSU emulator
facing a lane-engine core `Lane`, frames exchanged as values with 1 ms of link latency, the
lane's journal in memory. For a card just issued (does it trade? is it refused?) and the
`rsu-sim pass` command; runs of many vehicles are `rsu_sim.harness.run`'s."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from keys import MemorySerialStore, SoftwarePsam
from keys.keyset import KeySet
from lane_engine.core import effects as fx
from lane_engine.core.blacklist import Blacklist
from lane_engine.core.config import LaneConfig
from lane_engine.core.lane import Lane
from lane_engine.core.outcomes import TransactionRecord
from lane_engine.core.policy import Policy
from lane_engine.core.ports import FeeSchedule
from lane_engine.journal import MemoryJournal
from protocols.frames import LaneMode
from rsu_sim.model.obu import Obu
from rsu_sim.model.radio import RadioConfig, RadioLink
from rsu_sim.model.random_bytes import BufferedRandomBytes
from rsu_sim.model.rsu import Rsu
from rsu_sim.model.rsu_effects import PassEnded, RsuEffect, SendFrame
from rsu_sim.model.rsu_faults import NO_FAULTS

LINK_LATENCY_S = 0.001
#: How long the vehicle may stay in the zone (it leaves earlier when released).
DWELL_S = 10.0


@dataclass(frozen=True, slots=True)
class LaneSite:
    """Where the pass happens: the lane's station and number, its mode, the PSAM terminal."""

    network: str
    station: int
    lane: int
    mode: LaneMode
    terminal_number: bytes  # 6


@dataclass
class PassResult:
    """What the lane did: its events in order and the records it journaled."""

    events: list[fx.Effect] = field(default_factory=list)
    records: list[TransactionRecord] = field(default_factory=list)
    how: str = ""

    def of(self, kind: type) -> list[fx.Effect]:
        return [e for e in self.events if isinstance(e, kind)]


class _Clock:
    """Timed actions in order (ties in the order they were set)."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._heap: list[tuple[float, int, Callable[[float], None]]] = []
        self._order = itertools.count()

    def at(self, when: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self._heap, (when, next(self._order), action))

    def run_until(self, stop: Callable[[], bool], limit: float) -> None:
        while self._heap and not stop():
            when, _, action = heapq.heappop(self._heap)
            if when > limit:
                return
            self.now = max(self.now, when)
            action(self.now)


def drive_one_pass(obu: Obu, site: LaneSite, key_set: KeySet, blacklist: Blacklist,
                   fees: FeeSchedule, policy: Policy, *, start: float, seed: int = 0
                   ) -> PassResult:
    """The pass of `obu` at `site` starting at UNIX time `start` (no radio losses)."""
    rng = np.random.default_rng(seed)
    psam = SoftwarePsam(key_set, site.terminal_number, MemorySerialStore())
    rsu = Rsu(psam, RadioLink(RadioConfig(frame_loss_probability=0.0), rng),
              BufferedRandomBytes(rng))
    lane = Lane(LaneConfig(site.network, site.station, site.lane, site.mode), policy, fees,
                blacklist)
    journal = MemoryJournal()
    clock = _Clock(start)
    result = PassResult()
    armed: dict[str, float | None] = {"rsu": None, "lane": None}

    def rsu_does(effects: list[RsuEffect]) -> None:
        for effect in effects:
            if isinstance(effect, SendFrame):
                clock.at(effect.at + LINK_LATENCY_S, _to_lane(effect))
            elif isinstance(effect, PassEnded):
                result.how = effect.how.value
        arm("rsu", rsu.get_timer(), lambda now: rsu_does(rsu.handle_timer(now)))

    def lane_does(effects: list[fx.Effect]) -> None:
        for effect in effects:
            if isinstance(effect, fx.SendFrame):
                clock.at(clock.now + LINK_LATENCY_S, _to_rsu(effect))
            elif isinstance(effect, fx.OpenIntent):
                journal.open_intent(effect.record)
            elif isinstance(effect, fx.UpdateIntent):
                r = effect.record
                journal.update_intent(r.transaction_id, ctc=r.ctc,
                                      terminal_trans_serial=r.terminal_trans_serial,
                                      psam_terminal_number=r.psam_terminal_number,
                                      alg_flag=r.alg_flag, key_version=r.key_version,
                                      detail=r.detail)
            elif isinstance(effect, fx.CloseTransaction):
                journal.close(effect.record)
                result.records.append(effect.record)
            elif isinstance(effect, fx.RecordRefusal):
                journal.record_refusal(effect.record)
                result.records.append(effect.record)
            result.events.append(effect)
        arm("lane", lane.get_timer(), lambda now: lane_does(lane.handle_timer(now)))

    def _to_lane(sent: SendFrame) -> Callable[[float], None]:
        return lambda now: lane_does(lane.receive_frame(sent.frame, now, sent.seq))

    def _to_rsu(sent: fx.SendFrame) -> Callable[[float], None]:
        return lambda now: rsu_does(rsu.receive_frame(sent.frame, now))

    def arm(name: str, due: float | None, fire: Callable[[float], None]) -> None:
        if due is None or due == armed[name]:
            return
        armed[name] = due

        def once(now: float) -> None:
            if armed[name] == due:
                armed[name] = None
                fire(now)
        clock.at(due, once)

    rsu_does(rsu.start(start))
    lane_does(lane.start(start))
    clock.run_until(lambda: rsu.beaconing, start + 5.0)
    arrive = clock.now + 0.01
    clock.at(arrive, lambda now: rsu_does(rsu.vehicle_arrived(now, obu, now + DWELL_S,
                                                             NO_FAULTS)))
    clock.run_until(lambda: bool(result.how), arrive + DWELL_S + 5.0)
    clock.run_until(lambda: False, clock.now + 1.0)  # the lane's closing frames and timers
    return result


__all__ = ["LaneSite", "PassResult", "drive_one_pass"]
