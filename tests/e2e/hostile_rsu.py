"""RSUs for the hostile-peer test, in processes of their own: scripted RSUs
(`benchmarks.scripted_rsu`, vehicles at a fixed rate), or flooders, which answer C0 with B0 and
then, when told, flood the lane with fake V3 headers of the maximal LEN (the decoder's slowest
bytes) as fast as TCP takes them (a process of its own, so its writes do not delay the scripted
RSUs' round trips).

`python -m tests.e2e.hostile_rsu --scripted 3 --entries 101 --per-lane-rate 20` (or
`--flooders 1`) prints one JSON line of its ports ("1", "2", ...), then reads commands on stdin:
`flood` and `calm` (each answered with `ok`), and `end`, after which it prints one JSON line:
every round trip of the scripted lanes (B4 written → C6 read, with the time it ended, monotonic
seconds), the flood's periods and the bytes it wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.samples import device_status
from benchmarks.scripted_rsu import ScriptedRsu, Tally
from protocols.envelope import encode_v3
from protocols.frame_codec import encode_frame
from protocols.stream import StreamDecoder

#: fake V3 headers claiming 4096 bytes, back to back
FLOOD = b"\xff\xff\x00\x01\x00\x00\x10\x00" * 8192


class TimedRtts(list[float]):
    """The scripted RSUs' round trips, each with the time it was taken."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    def append(self, value: float) -> None:
        self.at.append(time.monotonic())
        super().append(value)


class Flooder(asyncio.Protocol):
    """The hostile lane's RSU: B0 for C0, then fake headers while `flooding`."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.transport: asyncio.Transport | None = None
        self.decoder = StreamDecoder()
        self.writable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.state["connections"] += 1
        self.state["current"] = self

    def connection_lost(self, exc: Exception | None) -> None:
        if self.state.get("current") is self:
            self.state["current"] = None

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        for packet in self.decoder.feed(data):
            if getattr(packet, "data", b"")[:1] == b"\xc0":
                self.transport.write(encode_v3(0x01, encode_frame(device_status())))
        self.pump()

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        self.pump()

    def pump(self) -> None:
        """Write fake headers until TCP pushes back (then `resume_writing` goes on)."""
        while self.state["flooding"] and self.writable and self.transport is not None \
                and not self.transport.is_closing():
            self.transport.write(FLOOD)
            self.state["flood_bytes"] += len(FLOOD)


async def serve(scripted: int, flooders: int, entries: Sequence[int],
                gap_s: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    tally = Tally()
    tally.rtt_s = TimedRtts()
    state: dict[str, Any] = {"flooding": False, "flood_bytes": 0, "connections": 0,
                             "current": None, "periods": []}
    servers = {}
    for lane in range(1, scripted + 1):
        servers[lane] = await loop.create_server(
            lambda lane=lane: ScriptedRsu(lane, entries, tally, gap_s), "127.0.0.1", 0)  # type: ignore[misc]
    for lane in range(scripted + 1, scripted + flooders + 1):
        servers[lane] = await loop.create_server(lambda: Flooder(state), "127.0.0.1", 0)
    print(json.dumps({str(n): s.sockets[0].getsockname()[1] for n, s in servers.items()}),
          flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while command := (await reader.readline()).decode().strip():
        if command == "end":
            break
        state["flooding"] = command == "flood"
        if state["flooding"]:
            state["periods"].append([time.monotonic(), None])
            if state["current"] is not None:
                state["current"].pump()
        elif state["periods"]:
            state["periods"][-1][1] = time.monotonic()
        print("ok", flush=True)
    for server in servers.values():
        server.close()
    rtts: TimedRtts = tally.rtt_s  # type: ignore[assignment]
    return {"rtt": [[at, rtt] for at, rtt in zip(rtts.at, rtts, strict=True)],
            "vehicles": tally.vehicles, "completed": tally.completed, "errors": tally.errors[:5],
            "flood_periods": state["periods"], "flood_bytes": state["flood_bytes"],
            "flood_connections": state["connections"]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.hostile_rsu")
    parser.add_argument("--scripted", type=int, default=0, help="scripted RSUs")
    parser.add_argument("--flooders", type=int, default=0, help="flooding RSUs")
    parser.add_argument("--entries", default="101")
    parser.add_argument("--per-lane-rate", type=float, default=20.0)
    args = parser.parse_args(argv)
    report = asyncio.run(serve(args.scripted, args.flooders,
                               [int(s) for s in args.entries.split(",")], 1 / args.per_lane_rate))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
