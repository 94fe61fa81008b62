"""Drives `Lane`s in process with pre-built RSU frames and executes their journal effects as the
lane runtime's executor does (`lane_engine.aio.executor`), but synchronously, without sockets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from benchmarks.samples import NETWORK, T0, Exchange, device_status, exchanges
from lane_engine.core.blacklist import Blacklist
from lane_engine.core.config import LaneConfig
from lane_engine.core.effects import (
    CloseTransaction,
    Effect,
    OpenIntent,
    RecordRefusal,
    SendFrame,
    UpdateIntent,
)
from lane_engine.core.lane import Lane
from lane_engine.core.policy import Policy, discounted_fee
from lane_engine.journal import Journal
from protocols.frames import Continue, LaneMode, Purchase

EXIT_STATION = 120
#: Entry stations the exit vehicles come from.
ENTRY_STATIONS = tuple(range(101, 111))
#: Seconds of the injected clock between a vehicle's frames, and between two vehicles.
FRAME_GAP = 0.05
VEHICLE_GAP = 1.0
POLICY = Policy("bench")

JournalWrite = Callable[[Journal], object]
_WRITES: dict[type, Callable[[Any], JournalWrite]] = {
    OpenIntent: lambda e: lambda j: j.open_intent(e.record),
    CloseTransaction: lambda e: lambda j: j.close(e.record),
    RecordRefusal: lambda e: lambda j: j.record_refusal(e.record),
    UpdateIntent: lambda e: lambda j: j.update_intent(
        e.record.transaction_id, ctc=e.record.ctc,
        terminal_trans_serial=e.record.terminal_trans_serial),
}


class FlatFees:
    """The exit's fee schedule: every entry station and class priced."""

    version = "bench-fees"

    def fee(self, entry_network: str, entry_station: int, vehicle_class: int) -> int | None:
        return 1_000 + 37 * (entry_station % 100) + 100 * vehicle_class


def amount_from(entry_station: int) -> int:
    """What the exit lane debits a class-1 stored-value card coming from `entry_station`."""
    return discounted_fee(FlatFees().fee(NETWORK, entry_station, 1) or 0, POLICY)


def ready_lane(mode: LaneMode, lane_number: int = 1) -> Lane:
    """A lane through C0 → B0, READY for vehicles."""
    config = LaneConfig(NETWORK, EXIT_STATION, lane_number, mode)
    lane = Lane(config, POLICY, FlatFees(), Blacklist.empty(1))
    lane.start(T0)
    lane.receive_frame(device_status(), T0)
    return lane


def journal_writes(effects: Iterable[Effect]) -> list[JournalWrite]:
    """The journal writes among `effects`, in order."""
    return [_WRITES[type(e)](e) for e in effects if type(e) in _WRITES]


class VehicleSource:
    """Hands out batches of distinct vehicles for one lane mode, numbered on and on."""

    def __init__(self, mode: LaneMode, start: float = T0 + 1) -> None:
        self._entries = ENTRY_STATIONS if mode is LaneMode.EXIT else None
        self._next = 0
        self.start = start

    def take(self, count: int) -> list[Exchange]:
        made = exchanges(count, amount_from, entry_stations=self._entries,
                         now=self.start, first=self._next)
        self._next += count
        return made


class SingleLane:
    """One lane serving vehicles back to back; each journal write commits on its own."""

    def __init__(self, mode: LaneMode, journal: Journal | None) -> None:
        self.lane = ready_lane(mode)
        self.journal = journal
        self.source = VehicleSource(mode)
        self.now = self.source.start
        self.decision_s: list[float] = []

    def serve(self, batch: list[Exchange]) -> None:
        """B2 → C1, B4 → C6, B5 → C1 for every vehicle of `batch`, journal writes executed.

        Keeps each vehicle's decision time: B4 handed in until its C6 may leave (intent written).
        """
        receive, journal, now = self.lane.receive_frame, self.journal, self.now
        clock, decisions = time.perf_counter, self.decision_s
        for exchange in batch:
            for frame, at in ((exchange.obu_found, now),
                              (exchange.vehicle_and_card, now + FRAME_GAP),
                              (exchange.transaction_result, now + 2 * FRAME_GAP)):
                started = clock()
                effects = receive(frame, at)
                if journal is not None:
                    for write in journal_writes(effects):
                        write(journal)
                if frame is exchange.vehicle_and_card:
                    decisions.append(clock() - started)
            now += VEHICLE_GAP
        self.now = now


def check_exchange(mode: LaneMode) -> None:
    """One vehicle through a fresh lane: C1, then the C6 the B5 was built for, then C1 again."""
    lane, source = ready_lane(mode), VehicleSource(mode)
    [exchange] = source.take(1)
    now = source.start

    def sent(effects: list[Effect]) -> list[object]:
        return [e.frame for e in effects if isinstance(e, SendFrame)]

    assert [type(f) for f in sent(lane.receive_frame(exchange.obu_found, now))] == [Continue]
    [c6] = sent(lane.receive_frame(exchange.vehicle_and_card, now + FRAME_GAP))
    assert isinstance(c6, Purchase)
    b5 = exchange.transaction_result
    assert c6.consume_money == exchange.vehicle_and_card.card_rest_money - b5.card_balance
    assert [type(f) for f in sent(lane.receive_frame(b5, now + 2 * FRAME_GAP))] == [Continue]


class Plaza:
    """`lanes` exit lanes in lock step sharing one journal: each step's writes of every lane
    commit together (one `batch()`), as the runtime's group committer does per event-loop tick."""

    def __init__(self, lanes: int, journal: Journal) -> None:
        self.lanes = [ready_lane(LaneMode.EXIT, number + 1) for number in range(lanes)]
        self.journal = journal
        self.source = VehicleSource(LaneMode.EXIT)
        self.now = self.source.start
        self.commits = 0

    def serve(self, batch: list[Exchange]) -> None:
        """Rounds of one vehicle per lane (len(batch) a multiple of the lane count)."""
        width = len(self.lanes)
        journal = self.journal
        for start in range(0, len(batch), width):
            round_ = list(zip(self.lanes, batch[start:start + width], strict=True))
            now = self.now
            for frames in (
                [(lane, x.obu_found, now) for lane, x in round_],
                [(lane, x.vehicle_and_card, now + FRAME_GAP) for lane, x in round_],
                [(lane, x.transaction_result, now + 2 * FRAME_GAP) for lane, x in round_],
            ):
                writes = [w for lane, frame, at in frames
                          for w in journal_writes(lane.receive_frame(frame, at))]
                if writes:
                    with journal.batch():
                        for write in writes:
                            write(journal)
                    self.commits += 1
            self.now = now + VEHICLE_GAP
