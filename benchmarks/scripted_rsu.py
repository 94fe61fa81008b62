"""A fast scripted RSU for the real-TCP benchmark: answers C0 with B0, then plays each vehicle's
B2 → (C1) → B4 → (C6) → B5 → (C1) as fast as the lane answers, on many connections at once.

Run as its own process (`python -m benchmarks.scripted_rsu --lanes 32 --entries 101,103`), so
the lane process has its core to itself: it prints one JSON line of the ports it listens on
(`{"1": port, ...}`), serves until stdin closes, then prints one JSON line of what it saw. The
frames are valid values of `protocols`; the B5 debits what the C6 asked for (its TAC is not
genuine: the lane under test runs without the TAC audit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.samples import device_status, entry_record, obu_found, transaction_result
from benchmarks.samples import vehicle_and_card as sample_b4
from protocols.envelope import SeqCounter, Side, encode_v3
from protocols.errors import FrameError
from protocols.frame_codec import decode_frame, encode_frame
from protocols.frames import Continue, Frame, Initialise, Purchase, Stop, VehicleAndCard
from protocols.stream import StreamDecoder

#: Seconds before the first B2 of a lane that an entry record of its vehicles was written.
ENTRY_AGE_S = 3600
#: OBU ids of lane n are n << 24 | counter: distinct across lanes and vehicles.
OBU_ID_SHIFT = 24


@dataclass(slots=True)
class Tally:
    """What the RSUs saw, over all connections."""

    vehicles: int = 0
    completed: int = 0
    stopped: int = 0
    other_frames: int = 0
    errors: list[str] = field(default_factory=list)
    rtt_s: list[float] = field(default_factory=list)  # B4 written -> C6 read, RSU side


class ScriptedRsu(asyncio.Protocol):
    """One RSU connection: a state machine driven by the lane's frames."""

    def __init__(self, lane: int, entries: Sequence[int], tally: Tally, gap_s: float) -> None:
        self.lane, self.entries, self.tally = lane, entries, tally
        self.gap_s = gap_s  # 0: the next vehicle as soon as the last is done
        self.due = 0.0
        self.decoder = StreamDecoder()
        self.seq = SeqCounter(Side.RSU)
        self.transport: asyncio.Transport | None = None
        self.count = 0
        self.b4: VehicleAndCard | None = None
        self.b4_at = 0.0
        self.expect = "C0"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            for packet in self.decoder.feed(data):
                payload = getattr(packet, "data", None)
                if payload is None:
                    raise FrameError(f"bad bytes from the lane: {packet}")
                self.on_frame(decode_frame(payload))
        except (FrameError, AssertionError) as exc:  # a script fault: this lane stops, told why
            self.tally.errors.append(f"lane {self.lane}: {exc!r}")
            assert self.transport is not None
            self.transport.close()

    def send(self, frame: Frame) -> None:
        assert self.transport is not None
        self.transport.write(encode_v3(self.seq.value, encode_frame(frame)))
        self.seq = self.seq.next()

    def on_frame(self, frame: Frame) -> None:
        kind = type(frame)
        if kind is Initialise:
            self.send(device_status())
            self.next_vehicle()
        elif kind is Continue and self.expect == "C1 after B2":
            self.send_b4()
        elif kind is Purchase and self.expect == "C6":
            self.tally.rtt_s.append(time.perf_counter() - self.b4_at)
            assert self.b4 is not None and isinstance(frame, Purchase)
            b5 = transaction_result(self.b4.obu_id, frame.consume_money,
                                    self.b4.card_rest_money, ctc=self.count % 0x10000,
                                    psam_serial=self.count)
            self.expect = "C1 after B5"
            self.send(b5)
        elif kind is Continue and self.expect == "C1 after B5":
            self.tally.completed += 1
            self.next_vehicle()
        elif kind is Stop and self.expect != "C0":
            self.tally.stopped += 1
            self.next_vehicle()
        else:
            self.tally.other_frames += 1

    def next_vehicle(self) -> None:
        self.count += 1
        self.tally.vehicles += 1
        obu_id = self.lane << OBU_ID_SHIFT | self.count
        entry = self.entries[self.count % len(self.entries)]
        self.b4 = sample_b4(obu_id, f"19{self.lane:02d}{self.count:012d}",
                            last=entry_record(entry, int(time.time()) - ENTRY_AGE_S))
        self.expect = "C1 after B2"
        b2 = obu_found(obu_id, f"3701{self.lane:02d}{self.count:010d}")
        if not self.gap_s:
            self.send(b2)
            return
        loop = asyncio.get_running_loop()
        if not self.due:  # lanes start spread over one gap, not in one burst
            self.due = loop.time() + self.gap_s * (self.lane % 32) / 32
        self.due = max(self.due + self.gap_s, loop.time())
        loop.call_at(self.due, self.send, b2)

    def send_b4(self) -> None:
        assert self.b4 is not None
        self.expect = "C6"
        self.b4_at = time.perf_counter()
        self.send(self.b4)


async def serve(lanes: int, entries: Sequence[int], gap_s: float) -> Tally:
    """Listen for `lanes` lanes on ephemeral loopback ports until stdin closes; a lane's
    vehicles start `gap_s` apart at the most."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    servers = {}
    for lane in range(1, lanes + 1):
        servers[lane] = await loop.create_server(
            lambda lane=lane: ScriptedRsu(lane, entries, tally, gap_s), "127.0.0.1", 0)  # type: ignore[misc]
    ports = {str(n): s.sockets[0].getsockname()[1] for n, s in servers.items()}
    print(json.dumps(ports), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    for server in servers.values():
        server.close()
    return tally


def main(argv: Sequence[str] | None = None) -> int:
    """Serve, then report the vehicles, outcomes, RSU-side round trips and CPU as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scripted_rsu")
    parser.add_argument("--lanes", type=int, default=32)
    parser.add_argument("--entries", default="101", help="entry stations, comma separated")
    parser.add_argument("--per-lane-rate", type=float, default=0.0,
                        help="vehicles per second per lane at the most (0: as fast as it goes)")
    args = parser.parse_args(argv)
    entries = [int(s) for s in args.entries.split(",")]
    gap_s = 1 / args.per_lane_rate if args.per_lane_rate > 0 else 0.0
    tally = asyncio.run(serve(args.lanes, entries, gap_s))
    rtt = sorted(tally.rtt_s)
    print(json.dumps({
        "vehicles": tally.vehicles, "completed": tally.completed, "stopped": tally.stopped,
        "other_frames": tally.other_frames, "errors": tally.errors[:5],
        "cpu_s": time.process_time(),
        "rtt_ms_p50": rtt[len(rtt) // 2] * 1e3 if rtt else None,
        "rtt_ms_p99": rtt[int(len(rtt) * 0.99)] * 1e3 if rtt else None,
    }), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
