"""The lane side of one exit transaction with its wire codec: V3 bytes of B2, B4 and B5 in
(`RsuLink`: stream decoder, frame codec), the lane core with its TAC check (the audit key set's
verifier, as `lane-engine run` builds it) and `MemoryJournal`, the C1, C6 and C1 bytes out;
beside the floor of the same work (`benchmarks/exit_floor.py`: plain struct, the fastest CRC,
cryptography), the baseline of its target.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.exit_floor import CRC_NAME
from benchmarks.lane_driver import ENTRY_STATIONS, EXIT_STATION, POLICY, FlatFees, amount_from
from benchmarks.measure import CpuClock, per_item
from benchmarks.samples import NETWORK, T0, device_status
from benchmarks.wire_samples import WirePass, bench_key_set, floor_lane_and_passes, wire_passes
from keys.keyset_file import write_key_set
from lane_engine.aio.data import record_verifier
from lane_engine.aio.link import Received, RsuLink
from lane_engine.config import AuditSettings
from lane_engine.core.blacklist import Blacklist
from lane_engine.core.config import LaneConfig
from lane_engine.core.effects import (
    CloseTransaction,
    OpenIntent,
    RecordRefusal,
    SendFrame,
    TransactionCompleted,
)
from lane_engine.core.lane import Lane
from lane_engine.journal import MemoryJournal
from protocols.envelope import EnvelopeKind
from protocols.frames import LaneMode

ROUND = 500
ROUNDS = 11


class _Written:
    """The socket's end of the link: what the lane wrote."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(data)


class WireLane:
    """An exit lane fed RSU bytes through its `RsuLink`, effects executed as the runtime does
    (journal writes in order, frames written one per write)."""

    def __init__(self, key_file: Path) -> None:
        verifier = record_verifier(AuditSettings(key_file))
        config = LaneConfig(NETWORK, EXIT_STATION, 1, LaneMode.EXIT)
        self.lane = Lane(config, POLICY, FlatFees(), Blacklist.empty(1), tac_verifier=verifier)
        self.journal = MemoryJournal()
        self.written = _Written()
        self.link = RsuLink(self.written, EnvelopeKind.V3)  # type: ignore[arg-type]
        self.completed = 0
        self.lane.start(T0)
        self.lane.receive_frame(device_status(), T0)

    def serve(self, batch: list[WirePass]) -> None:
        """The three RSU frames of every vehicle of `batch`, bytes in to bytes out."""
        link, lane, journal = self.link, self.lane, self.journal
        for vehicle in batch:
            now = vehicle.at
            for raw in (vehicle.b2, vehicle.b4, vehicle.b5):
                for item in link.feed(raw):
                    assert type(item) is Received
                    for effect in lane.receive_frame(item.frame, now, item.seq):
                        kind = type(effect)
                        if kind is SendFrame:
                            link.send(effect.frame)  # type: ignore[attr-defined]
                        elif kind is OpenIntent:
                            journal.open_intent(effect.record)  # type: ignore[attr-defined]
                        elif kind is CloseTransaction:
                            journal.close(effect.record)  # type: ignore[attr-defined]
                        elif kind is RecordRefusal:
                            journal.record_refusal(effect.record)  # type: ignore[attr-defined]
                        elif kind is TransactionCompleted:
                            self.completed += effect.record.tac_verified is True  # type: ignore[attr-defined]


def test_exit_lane_with_wire_codec(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = "exit transaction, wire codec"
    key_file = tmp_path / "keys.toml"
    write_key_set(key_file, bench_key_set())
    lane = WireLane(key_file)
    batches = iter(range(0, 10**9, ROUND))
    cpu = CpuClock()

    def setup():  # type: ignore[no-untyped-def]
        return (wire_passes(ROUND, amount_from, ENTRY_STATIONS, first=next(batches)),), {}

    benchmark.pedantic(cpu.wrap(lane.serve), setup=setup, rounds=ROUNDS, warmup_rounds=1)
    assert lane.completed == ROUND * (ROUNDS + 1)  # every TAC verified
    assert len(lane.written.chunks) == 3 * ROUND * (ROUNDS + 1)
    benchmark.extra_info.update(kind="exit wire", impl="lane: RsuLink + core + TAC + MemoryJournal")
    per_item(benchmark, ROUND, cpu)


def test_exit_floor(benchmark) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = "exit transaction, wire codec"
    lane, _ = floor_lane_and_passes(0)
    batches = iter(range(0, 10**9, ROUND))
    cpu = CpuClock()

    def serve(batch: list[WirePass]) -> None:
        for vehicle in batch:
            lane.serve(vehicle)

    def setup():  # type: ignore[no-untyped-def]
        return (wire_passes(ROUND, amount_from, ENTRY_STATIONS, first=next(batches)),), {}

    benchmark.pedantic(cpu.wrap(serve), setup=setup, rounds=ROUNDS, warmup_rounds=1)
    assert len(lane.journal) == ROUND * (ROUNDS + 1)
    benchmark.extra_info.update(kind="exit wire",
                                impl=f"floor: struct, {CRC_NAME}, cryptography")
    per_item(benchmark, ROUND, cpu)
    benchmark.extra_info["transactions_per_cpu_s"] = 1e6 / benchmark.extra_info["cpu_us_per_item"]
