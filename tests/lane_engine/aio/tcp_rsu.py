"""A scripted RSU over TCP for the runtime's tests: V3 frames in and out, one connection at a
time, dropped and accepted again on demand; plus a plaza configured for it."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

_CORE_TESTS = Path(__file__).resolve().parent.parent / "core"
if str(_CORE_TESTS) not in sys.path:  # the core tests' frame builders (pytest's rootdir import)
    sys.path.insert(0, str(_CORE_TESTS))

from scripted_rsu import ENTRY_STATION, FEE, LANE, NETWORK, STATION, T0  # noqa: E402

from lane_engine.config import LaneSettings, PlazaConfig, Reconnect, RuntimeTimeouts  # noqa: E402
from lane_engine.core.policy import Policy  # noqa: E402
from lane_engine.fees.table import FeeTable  # noqa: E402
from lane_engine.fees.table_file import write_fee_table  # noqa: E402
from lane_engine.files.policy import policy_toml  # noqa: E402
from protocols.envelope import EnvelopeKind, SeqCounter, Side, encode_bcc, encode_v3  # noqa: E402
from protocols.frame_codec import decode_frame, encode_frame  # noqa: E402
from protocols.frames import Frame, LaneMode  # noqa: E402
from protocols.records import ALL_CLASSES  # noqa: E402
from protocols.stream import Rejected, StreamDecoder  # noqa: E402

__all__ = ["LANE", "NETWORK", "STATION", "ScriptedClock", "ScriptedTcpRsu", "plaza_config"]


class ScriptedClock:
    """Wall-clock time that started at the scripted frames' T0 (their cards and entries fit)."""

    def __init__(self, start: float = T0) -> None:
        self._offset = start - time.time()

    def time(self) -> float:
        return time.time() + self._offset


class ScriptedTcpRsu:
    """An RSU the test drives frame by frame; frames from the lane arrive in `received`."""

    def __init__(self, envelope: EnvelopeKind = EnvelopeKind.V3) -> None:
        self.envelope = envelope
        self.received: asyncio.Queue[tuple[int, Frame]] = asyncio.Queue()
        self.connections = 0
        self.on_frame: list[object] = []  # hooks: callables run when a lane frame arrives
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._connected = asyncio.Event()
        self._seq = SeqCounter(Side.RSU)
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writer = writer
        self._connected.set()
        decoder = StreamDecoder(self.envelope)
        try:
            while chunk := await reader.read(65536):
                for item in decoder.feed(chunk):
                    assert not isinstance(item, Rejected), item
                    seq = getattr(item, "seq", None)
                    if seq is None:
                        seq = item.rsctl  # type: ignore[union-attr]
                    if not item.data:
                        await self.received.put((seq, None))  # type: ignore[arg-type]
                        continue
                    frame = decode_frame(item.data)
                    for hook in self.on_frame:
                        hook(frame)  # type: ignore[operator]
                    await self.received.put((seq, frame))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if self._writer is writer:
                self._writer = None
                self._connected.clear()
            writer.close()

    async def connected(self) -> None:
        await asyncio.wait_for(self._connected.wait(), 5)

    def send(self, frame: Frame, seq: int | None = None) -> int:
        """Send a frame now; returns the SEQ (or RSCTL) used."""
        assert self._writer is not None, "no lane connected"
        if seq is None:
            seq = self._seq.value if self.envelope is EnvelopeKind.V3 else 0x18
            self._seq = self._seq.next()
        data = encode_frame(frame)
        raw = encode_v3(seq, data) if self.envelope is EnvelopeKind.V3 else encode_bcc(seq, data)
        self._writer.write(raw)
        return seq

    async def expect(self, kind: type, timeout: float = 5.0) -> Frame:
        """The next lane frame, which must be of `kind` (empty answers skipped)."""
        while True:
            _, frame = await asyncio.wait_for(self.received.get(), timeout)
            if frame is not None:
                break
        assert isinstance(frame, kind), f"expected {kind.__name__}, got {frame!r}"
        return frame

    async def drop(self) -> None:
        """Close the lane's connection (an RSU restart)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            self._connected.clear()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def write_fees(path: Path) -> Path:
    """A fee table of two stations: ENTRY_STATION -> STATION costs FEE (class 1)."""
    stations = ((NETWORK, ENTRY_STATION), (NETWORK, STATION))
    fees = np.full((2, 2, len(ALL_CLASSES)), 1000, dtype=np.uint32)
    fees[1, 0, 0] = FEE
    write_fee_table(FeeTable("fees-test-1", "hash", "2024-01-01T00:00:00Z", stations, fees),
                    path)
    return path


def plaza_config(tmp_path: Path, ports: dict[int, int], *, mode: LaneMode = LaneMode.EXIT,
                 envelope: EnvelopeKind = EnvelopeKind.V3, **changes: object) -> PlazaConfig:
    """A plaza with one lane per (lane number -> RSU port), fast reconnection."""
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_toml(Policy("policy-test")), encoding="utf-8")
    values: dict[str, object] = dict(
        network=NETWORK, station=STATION, name="test plaza",
        lanes=tuple(LaneSettings(number, mode, "127.0.0.1", port, envelope)
                    for number, port in ports.items()),
        policy=policy, fee_table=write_fees(tmp_path / "fees.etcfee"),
        journal=tmp_path / "journal.sqlite3",
        reconnect=Reconnect(initial_s=0.05, max_s=0.2, jitter=0.1),
        timeouts=RuntimeTimeouts(connect_s=1.0, shutdown_s=3.0, drain_s=2.0),
    )
    values.update(changes)
    return PlazaConfig(**values)  # type: ignore[arg-type]
