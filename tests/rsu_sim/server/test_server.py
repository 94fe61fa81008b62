"""`rsu-sim serve` over real TCP on loopback: a minimal lane written here completes transactions;
frames come one per read, unanswered frames are retransmitted with their SEQ, the frame log
decodes with `python -m protocols decode`, a second connection replaces the first, bad bytes do
not hurt, and the link faults of the scenario happen.

The RSUs run in real time on a machine that may be loaded, so the tests wait on what happened
(frames read, events), never on sleeps; RSUs facing a lane that answers get a patient
retransmission timer (`patient_site`), so that a slow turn of the event loop cannot make them
retransmit or give up. Timeouts are a safety net only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.cli_decode import frame_hex_of_line, prefix_fields, split_capture_line
from protocols.envelope import EnvelopeKind, SeqCounter, Side, V3Packet, encode_v3
from protocols.frame_codec import decode_frame, encode_frame
from protocols.frames import (
    B5Error,
    Continue,
    DeviceStatus,
    Frame,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    ObuFound,
    Purchase,
    TacRefetched,
    TransactionResult,
    VehicleAndCard,
)
from protocols.records import EntryExitRecord, EntryExitStatus
from protocols.stream import Rejected, StreamDecoder
from rsu_sim.model.radio import RadioConfig
from rsu_sim.model.rsu_effects import PassEnd, RsuConfig
from rsu_sim.model.scenario import (
    FaultMix,
    LaneSpec,
    ReplayedArrivals,
    Scenario,
    SpeedDistribution,
)
from rsu_sim.server.frame_log import (
    Direction,
    ServeSummary,
    connection_name,
    frame_line,
    log_lane_name,
)
from rsu_sim.server.server import StartTraffic, lane_ports, serve
from rsu_sim.site.served import Site, build_site

ROOT = Path(__file__).resolve().parents[3]
TIMEOUT_S = 20.0
LANE = LaneSpec("entry-1", LaneMode.ENTRY, "3701", 101, 1)
LOG_LINE = re.compile(r"^(\S+) (\S+) (c\d+) (RX|TX) ((?:[0-9a-f]{2})+)$")
#: Retransmission interval of a patient RSU: a lane answering on a loaded machine is never
#: this late, and a test still ends well within `TIMEOUT_S` if it were.
PATIENT_RETRANSMIT_S = 2.0


def scenario(arrivals: int = 3, gap_s: float = 10.0, speed_kmh: float = 20.0,
             faults: FaultMix | None = None, lanes: tuple[LaneSpec, ...] = (LANE,),
             first_s: float = 0.5) -> Scenario:
    """Arrivals every `gap_s` scenario seconds on the first lane, a loss-free radio."""
    return Scenario(
        lanes, name="server-test", seed=5,
        arrivals=ReplayedArrivals(tuple(first_s + gap_s * i for i in range(arrivals)),
                                  (lanes[0].lane_id,) * arrivals),
        speed=SpeedDistribution(speed_kmh, 0.0, speed_kmh, speed_kmh),
        faults=faults or FaultMix(),
        radio=replace(RadioConfig(), frame_loss_probability=0.0),
    )


def patient_site(scene: Scenario) -> Site:
    """The site of `scene` with RSUs that wait `PATIENT_RETRANSMIT_S` before retransmitting."""
    return build_site(scene, rsu_config=RsuConfig(retransmit_interval_s=PATIENT_RETRANSMIT_S))


class MiniLane:
    """A minimal lane: C0 → B0, answers B1 with CF, B2 → C1, B4 → C6 (entry, 0 fen), B5 → C1,
    B8 → C1. Records every frame and how many frames each socket read held."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 answer: bool = True) -> None:
        self.reader = reader
        self.writer = writer
        self.answer = answer
        self.decoder = StreamDecoder(EnvelopeKind.V3)
        self.seq = SeqCounter(Side.LANE)
        self.received: list[tuple[int, Frame]] = []
        self.frames_per_read: list[int] = []
        self.rejected: list[Rejected] = []
        self._last: tuple[int, bytes] | None = None
        self._got_frames = asyncio.Condition()

    @classmethod
    async def connect(cls, port: int, answer: bool = True) -> MiniLane:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, answer)

    async def send(self, frame: Frame) -> None:
        self.writer.write(encode_v3(self.seq.value, encode_frame(frame)))
        self.seq = self.seq.next()
        await self.writer.drain()

    async def initialise(self, lane_mode: int = LaneMode.ENTRY) -> None:
        await self.send(Initialise(1_717_200_000, dt.datetime(2024, 6, 1, 8), lane_mode,
                                   10, 10, 0))

    def close(self) -> None:
        self.writer.close()

    async def run(self) -> None:
        """Serve the RSU until it closes the connection."""
        while chunk := await self.reader.read(65536):
            items = self.decoder.feed(chunk)
            packets = [item for item in items if isinstance(item, V3Packet)]
            self.rejected += [item for item in items if isinstance(item, Rejected)]
            self.frames_per_read.append(len(packets))
            for packet in packets:
                duplicate = self._last == (packet.seq, packet.data)
                self._last = (packet.seq, packet.data)
                frame = decode_frame(packet.data)
                self.received.append((packet.seq, frame))
                async with self._got_frames:
                    self._got_frames.notify_all()
                if self.answer and not duplicate:
                    await self._answer(frame)

    async def wait_for(self, kind: type) -> None:
        """Until `run` has read a frame of this type."""
        async with self._got_frames:
            await asyncio.wait_for(self._got_frames.wait_for(lambda: self.frames(kind)),
                                   TIMEOUT_S)

    async def _answer(self, frame: Frame) -> None:
        match frame:
            case Heartbeat():
                await self.send(HeartbeatAnswer(0))
            case ObuFound():
                await self.send(Continue(frame.obu_id, frame.issuer_identifier))
            case VehicleAndCard(vehicle_info=info) if info is not None:
                record = EntryExitRecord(LANE.network, LANE.station, LANE.lane_number,
                                         1_717_200_100, info.vehicle_class,
                                         EntryExitStatus.ENTERED, info.plate, info.plate_colour)
                await self.send(Purchase(frame.obu_id, bytes(8), 0,
                                         dt.datetime(2024, 6, 1, 8, 1), record))
            case TransactionResult() | TacRefetched():
                await self.send(Continue(frame.obu_id, bytes(8)))

    def frames(self, kind: type) -> list[tuple[int, Any]]:
        return [(seq, f) for seq, f in self.received if isinstance(f, kind)]


async def run_with_lane(
    scene: Scenario,
    lane_main: Callable[[Mapping[str, int]], Awaitable[None]],
    **options: Any,
) -> ServeSummary:
    """Serve `scene` on ephemeral ports; `lane_main` gets the ports once the server listens."""
    ready: asyncio.Queue[Mapping[str, int]] = asyncio.Queue()
    server = asyncio.create_task(serve(scene, base_port=0, on_ready=ready.put_nowait,
                                       speed=20.0, **options))
    ports = await asyncio.wait_for(ready.get(), TIMEOUT_S)
    lane = asyncio.create_task(lane_main(ports))
    try:
        summary = await asyncio.wait_for(server, TIMEOUT_S)
        await asyncio.wait_for(lane, TIMEOUT_S)
    finally:
        lane.cancel()
        server.cancel()
    return summary


async def test_minimal_lane_completes_transactions_one_frame_per_read(tmp_path: Path) -> None:
    lanes: list[MiniLane] = []

    async def lane_main(ports: Mapping[str, int]) -> None:
        lane = await MiniLane.connect(ports[LANE.lane_id])
        lanes.append(lane)
        await lane.initialise()
        await lane.run()

    scene = scenario(arrivals=3)
    summary = await run_with_lane(scene, lane_main, vehicles=3, frame_log=tmp_path / "frames.log",
                                  site=patient_site(scene))
    lane = lanes[0]
    assert summary.ended[PassEnd.RELEASED] == 3 and summary.passes == 3
    assert summary.arrivals == 3 and summary.vehicles == 3
    results = lane.frames(TransactionResult)
    assert len(results) == 3 and all(f.error_code == B5Error.OK for _, f in results)
    assert isinstance(lane.received[0][1], DeviceStatus)
    assert lane.frames_per_read and set(lane.frames_per_read) == {1}
    assert all(1 <= seq <= 9 for seq, _ in lane.received)  # RSU SEQ 0X
    assert summary.frames_sent == len(lane.received)


async def test_an_unanswered_frame_is_sent_again_with_its_seq() -> None:
    lanes: list[MiniLane] = []

    async def lane_main(ports: Mapping[str, int]) -> None:
        lane = await MiniLane.connect(ports[LANE.lane_id], answer=False)
        lanes.append(lane)
        await lane.initialise()
        await lane.run()

    summary = await run_with_lane(scenario(arrivals=1, speed_kmh=10.0), lane_main, vehicles=1)
    found = lanes[0].frames(ObuFound)
    assert len(found) == 4  # the first sending and 3 retransmissions (pc-rsu.md §1.1)
    assert len({seq for seq, _ in found}) == 1 and len({f for _, f in found}) == 1
    assert summary.ended[PassEnd.LANE_SILENT] == 1


async def test_frame_log_decodes_with_the_protocols_cli(tmp_path: Path) -> None:
    log = tmp_path / "var" / "frames.log"

    async def lane_main(ports: Mapping[str, int]) -> None:
        lane = await MiniLane.connect(ports[LANE.lane_id])
        await lane.initialise()
        await lane.run()

    scene = scenario(arrivals=2)
    await run_with_lane(scene, lane_main, vehicles=2, frame_log=log, site=patient_site(scene))
    lines = log.read_text(encoding="utf-8").splitlines()
    frames = [LOG_LINE.match(line) for line in lines if not line.startswith("#")]
    assert frames and all(frames), lines
    directions = {m.group(4) for m in frames if m}
    assert directions == {"RX", "TX"}
    done = subprocess.run([sys.executable, "-m", "protocols", "decode", "--file", str(log)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    decoded = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(decoded) == len(frames)
    for m, line in zip(frames, decoded, strict=True):
        assert m is not None
        assert (line["time"], line["lane"], line["connection"], line["direction"]) == \
            m.group(1, 2, 3, 4)
    names = [line["direction"] + ":" + line["frame"] for line in decoded]
    assert all(n.startswith(("RX:C", "TX:B")) for n in names), names
    assert "TX:B5" in names and "RX:C6" in names


async def test_a_vendor_lane_mode_is_answered_with_b0_and_noted(tmp_path: Path) -> None:
    log = tmp_path / "frames.log"

    async def lane_main(ports: Mapping[str, int]) -> None:
        lane = await MiniLane.connect(ports[LANE.lane_id])
        await lane.initialise(lane_mode=0x13)
        await lane.run()

    scene = scenario(arrivals=1)
    summary = await run_with_lane(scene, lane_main, vehicles=1, frame_log=log,
                                  site=patient_site(scene))
    assert summary.ended[PassEnd.RELEASED] == 1
    text = log.read_text(encoding="utf-8")
    assert "RX C0 lane_mode 0x13 is not a standard LaneMode: kept as sent, frame answered" in text


async def test_a_second_connection_replaces_the_first() -> None:
    first_ended = asyncio.Event()
    lanes: list[MiniLane] = []

    async def lane_main(ports: Mapping[str, int]) -> None:
        port = ports[LANE.lane_id]
        first = await MiniLane.connect(port, answer=False)
        await first.initialise()
        first_run = asyncio.create_task(first.run())
        await first.wait_for(DeviceStatus)  # the RSU took the first lane's C0
        second = await MiniLane.connect(port)
        lanes.extend((first, second))
        await asyncio.wait_for(first_run, TIMEOUT_S)  # EOF: the server closed the first
        first_ended.set()
        await second.initialise()
        await second.run()

    # The traffic starts with the first lane's C0; its first vehicle comes 1 s later, by when
    # the second lane has long replaced the first (a vehicle arriving while the RSU waits for
    # the second C0 waits in the zone for it).
    scene = scenario(arrivals=2, first_s=20.0)
    summary = await run_with_lane(scene, lane_main, vehicles=2, site=patient_site(scene))
    assert first_ended.is_set() and summary.connections == 2
    assert summary.ended[PassEnd.RELEASED] == 2
    assert len(lanes[1].frames(TransactionResult)) == 2


BAD_INPUTS = (
    b"\x00\x01garbage\xff",
    encode_v3(0x10, bytes.fromhex("c401"))[:-1] + b"\x00",  # bad CRC
    encode_v3(0x10, bytes.fromhex("ee0102")),  # unknown frame type
    encode_v3(0x10, bytes.fromhex("c6")),  # C6 far too short: undecodable
    encode_v3(0x10, encode_frame(Continue(0x1234, bytes(8)))),  # not allowed now
    bytes.fromhex("ffff00100000ffff"),  # oversized LEN
    np.random.default_rng(9).bytes(300),
)


async def test_bad_bytes_from_the_lane_do_not_hurt_the_server(tmp_path: Path) -> None:
    log = tmp_path / "frames.log"
    lanes: list[MiniLane] = []

    async def lane_main(ports: Mapping[str, int]) -> None:
        lane = await MiniLane.connect(ports[LANE.lane_id])
        lanes.append(lane)
        for bad in BAD_INPUTS:
            lane.writer.write(bad)
        await lane.writer.drain()
        await lane.initialise()
        await lane.run()

    scene = scenario(arrivals=1)
    summary = await run_with_lane(scene, lane_main, vehicles=1, frame_log=log,
                                  site=patient_site(scene))
    assert summary.ended[PassEnd.RELEASED] == 1
    assert summary.rejected_inputs >= 4
    notes = [line for line in log.read_text(encoding="utf-8").splitlines()
             if line.startswith("#")]
    assert any("bad checksum" in n for n in notes) and any("unknown frame" in n for n in notes)
    assert any("undecodable" in n for n in notes)


async def test_duplicate_and_corrupted_frames_and_restarts_follow_the_fault_mix(
        tmp_path: Path) -> None:
    lanes: list[MiniLane] = []

    async def lane_main(ports: Mapping[str, int]) -> None:
        lane = await MiniLane.connect(ports[LANE.lane_id])
        lanes.append(lane)
        await lane.initialise()
        await lane.run()

    scene = scenario(arrivals=2, faults=FaultMix(duplicate_frames=1.0))
    summary = await run_with_lane(scene, lane_main, vehicles=2, site=patient_site(scene))
    received = lanes[0].received
    assert summary.ended[PassEnd.RELEASED] == 2 and summary.duplicated_frames == 6
    for kind in (ObuFound, VehicleAndCard, TransactionResult):  # session frames, twice in a row
        at = [i for i, (_, frame) in enumerate(received) if isinstance(frame, kind)]
        assert len(at) == 4 and received[at[0]] == received[at[1]] == received[at[0] + 1]
    assert len(lanes[0].frames(TransactionResult)) == 4

    log = tmp_path / "corrupt.log"
    lanes.clear()
    summary = await run_with_lane(scenario(arrivals=1, speed_kmh=80.0,
                                           faults=FaultMix(corrupted_tcp=1.0)),
                                  lane_main, vehicles=1, frame_log=log)
    assert summary.corrupted_frames >= 1 and not lanes[0].frames(DeviceStatus)
    assert "corrupted on the wire" in log.read_text(encoding="utf-8")

    lanes.clear()
    summary = await run_with_lane(scenario(arrivals=1, speed_kmh=80.0,
                                           faults=FaultMix(rsu_restart=1.0)),
                                  lane_main, vehicles=1)
    assert summary.restarts == 1 and summary.ended[PassEnd.NOT_SERVED] == 1
    assert summary.connections == 1  # the restart closed the lane's connection


async def test_a_lane_hanging_up_mid_pass_leaves_no_vehicle_unaccounted() -> None:
    async def lane_main(ports: Mapping[str, int]) -> None:
        lane = await MiniLane.connect(ports[LANE.lane_id], answer=False)
        await lane.initialise()
        while not lane.frames(ObuFound):
            chunk = await lane.reader.read(65536)
            assert chunk
            for item in lane.decoder.feed(chunk):
                if isinstance(item, V3Packet):
                    lane.received.append((item.seq, decode_frame(item.data)))
        lane.close()

    # Both vehicles arrive at once: the second is queued behind the first before the first's B2
    # can leave. The patient RSU cannot give up on the silent lane (LANE_SILENT) before the
    # hang-up reaches it, however slowly the loop turns.
    scene = scenario(arrivals=2, gap_s=0.0, speed_kmh=15.0)
    summary = await run_with_lane(scene, lane_main, vehicles=2, site=patient_site(scene))
    assert summary.ended[PassEnd.RESET] == 1 and summary.ended[PassEnd.NOT_SERVED] == 1
    assert summary.passes == 2


async def test_without_a_lane_vehicles_drive_through_unserved() -> None:
    async def no_lane(_: Mapping[str, int]) -> None:
        return None

    summary = await run_with_lane(scenario(arrivals=3, gap_s=2.0, speed_kmh=80.0), no_lane,
                                  vehicles=3, start_traffic=StartTraffic.NOW)
    assert summary.ended[PassEnd.NOT_SERVED] == 3 and summary.connections == 0


async def test_stop_event_ends_the_run_with_a_summary() -> None:
    stop = asyncio.Event()
    listening = asyncio.Event()
    ports: dict[str, int] = {}

    def ready(bound: Mapping[str, int]) -> None:
        ports.update(bound)
        listening.set()

    task = asyncio.create_task(serve(scenario(), base_port=0, stop=stop, on_ready=ready))
    await asyncio.wait_for(listening.wait(), TIMEOUT_S)
    stop.set()
    summary = await asyncio.wait_for(task, TIMEOUT_S)
    assert summary.passes == 0
    with pytest.raises(OSError):  # no longer listening
        _, writer = await asyncio.open_connection("127.0.0.1", ports[LANE.lane_id])
        writer.close()


def test_lane_ports_follow_the_option_then_the_scenario() -> None:
    two = (LaneSpec("a", LaneMode.ENTRY, port=7001), LaneSpec("b", LaneMode.EXIT))
    scene = scenario(lanes=two)
    assert lane_ports(scene) == [7001, 9528]
    assert lane_ports(scene, base_port=6000) == [6000, 6001]
    assert lane_ports(scene, base_port=0) == [0, 0]
    assert lane_ports(scene, ports=[1, 2]) == [1, 2]


@settings(max_examples=60, deadline=None)
@given(lane_id=st.text(min_size=1, max_size=12),
       data=st.binary(min_size=1, max_size=40),
       seq=st.integers(0, 255),
       connection=st.integers(1, 10_000),
       direction=st.sampled_from(Direction))
def test_a_log_line_gives_the_decoder_its_frame_and_prefix(
        lane_id: str, data: bytes, seq: int, connection: int, direction: Direction) -> None:
    raw = encode_v3(seq, data)
    when = dt.datetime(2024, 6, 1, 8, tzinfo=dt.UTC)
    line = frame_line(when, lane_id, connection_name(connection, 2), direction, raw)
    assert frame_hex_of_line(line) == raw.hex()
    split = split_capture_line(line)
    assert split is not None
    assert prefix_fields(split[0]) == {
        "time": when.isoformat(timespec="milliseconds"), "lane": log_lane_name(lane_id),
        "connection": f"c2.{connection}", "direction": direction.value}


_RUN_SERVE = """
import sys
from rsu_sim.cli.main import main
sys.exit(main(["serve", *sys.argv[1:]]))
"""


def test_sigterm_stops_the_command_with_a_summary(tmp_path: Path) -> None:
    log = tmp_path / "frames.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN_SERVE, "--scenario", "clean", "--port", "0",
         "--out", str(tmp_path / "world"), "--frame-log", str(log)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        listening = [proc.stderr.readline() for _ in range(3)][1:]  # after the world's line
        assert all("listening on 127.0.0.1:" in line for line in listening), listening
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "passes ended 0" in out and "lane connections 0" in out
    assert "stopped:" in log.read_text(encoding="utf-8")


def test_serve_moves_the_scenario_to_the_wall_clock_unless_told_to_keep_it(
        tmp_path: Path) -> None:
    from rsu_sim.cli.main import build_parser
    from rsu_sim.cli.serve import prepare_world
    from rsu_sim.model.scenario import mixed_scenario

    now = 1_790_000_000.0
    parser = build_parser()
    moved = prepare_world(parser.parse_args(["serve", "--out", str(tmp_path / "a")]), now)
    kept = prepare_world(parser.parse_args(["serve", "--out", str(tmp_path / "b"),
                                            "--scenario-clock"]), now)
    for world in (moved, kept):
        world.abandon()
    assert moved.site.scenario.start_unix + moved.site.scenario.duration_s == pytest.approx(
        now, abs=1)
    assert kept.site.scenario.start_unix == mixed_scenario().start_unix


def test_sigint_with_a_lane_connected_ends_without_a_traceback(tmp_path: Path) -> None:
    log = tmp_path / "frames.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", _RUN_SERVE, "--scenario", "clean", "--port", "0",
         "--out", str(tmp_path / "world"), "--frame-log", str(log)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        listening = [proc.stderr.readline() for _ in range(3)][1:]  # after the world's line
        port = int(listening[0].rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as lane:
            lane.sendall(b"\xff\xff")  # a lane connected, mid-frame, when the server stops
            deadline = time.monotonic() + TIMEOUT_S
            while "lane connected from" not in log.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline, "the server never accepted the lane"
                time.sleep(0.02)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "lane connections 1" in out
    assert "Traceback" not in err and "CancelledError" not in err
