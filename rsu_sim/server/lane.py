"""One lane's RSU at the asyncio edge: its TCP port, its lane connection, its timers.

The sans-IO `Rsu` does the work; `LaneServer` feeds it frames and vehicles at their times, wakes
it at `get_timer()`, and writes every frame it sends in one socket write. The scenario's faults
are applied as the virtual-time harness applies them (`rsu_sim.site.devices.pass_faults`
for radio fades, early zone exits and duplicated session frames, `rsu_sim.site.devices.corrupt`
for bytes flipped on the link), and an RSU restart drops the lane's connection. Our decisions
live in `RealTimeClock`, `LaneServer.accept`, `LaneServer.disconnected` and `FRAME_GAP_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable

from protocols.envelope import EnvelopeKind, Side, V3Packet, encode_v3, seq_side
from protocols.errors import FrameError
from protocols.frame_codec import decode_frame, encode_frame, nonstandard_values
from protocols.frames import UnknownFrame
from protocols.stream import Rejected, StreamDecoder, StreamItem
from rsu_sim.errors import ServeError, WorldError
from rsu_sim.model.rsu_effects import LaneFrameRejected, PassEnded, RsuEffect, SendFrame
from rsu_sim.model.scenario import Fault, FaultMix
from rsu_sim.model.streams import VehicleArrival
from rsu_sim.server.frame_log import (
    CONNECTED,
    DISCONNECTED,
    NO_CONNECTION,
    Direction,
    FrameLog,
    ServeSummary,
    connection_name,
)
from rsu_sim.site.devices import corrupt, pass_faults
from rsu_sim.site.served import Site, SiteLane
from rsu_sim.world.durable import DurableWorld

logger = logging.getLogger("rsu_sim.server.server")

#: Our decision: at least this long between two frames written on one connection, so that a
#: lane reading one frame per socket read never finds two in its buffer (`pc-rsu.md` §1.1).
FRAME_GAP_S = 0.005
_READ_SIZE = 65536
#: On stop, frames already queued for the lane are still written for up to this long.
CLOSE_FLUSH_S = 1.0


class RealTimeClock:
    """The RSUs' clock (our decision): seconds of the event loop's monotonic time since the
    server started; every RSU of the site shares it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._epoch = loop.time()

    def now(self) -> float:
        """The RSU time of this moment."""
        return self._loop.time() - self._epoch

    def loop_time(self, rsu_time: float) -> float:
        """The event-loop time of an RSU time (for `call_at`)."""
        return self._epoch + rsu_time


class _Connection:
    """One accepted lane connection: its decoder and the queue its writer task drains."""

    def __init__(self, writer: asyncio.StreamWriter, name: str) -> None:
        self.writer = writer
        self.name = name
        self.decoder = StreamDecoder(EnvelopeKind.V3)
        self.outgoing: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
        self.write_task: asyncio.Task[None] | None = None
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


class LaneServer:
    """One lane's RSU on its own TCP port, for one lane connection at a time."""

    def __init__(self, lane: SiteLane, site: Site, clock: RealTimeClock, log: FrameLog,
                 summary: ServeSummary, on_pass_ended: Callable[[PassEnded], None],
                 world: DurableWorld | None = None,
                 on_failure: Callable[[BaseException], None] | None = None,
                 connection_names: Callable[[], str] | None = None) -> None:
        self.lane_id = lane.spec.lane_id
        self.rsu = lane.rsu
        self.initialised = asyncio.Event()
        self._rng = lane.link_rng
        self._site = site
        self._faults: FaultMix = site.scenario.faults
        self._clock = clock
        self._log = log
        self._summary = summary
        self._on_pass_ended = on_pass_ended
        self._world = world
        self._on_failure = on_failure
        self._connection_names = connection_names or _counter()
        self._failed = False
        self._loop = asyncio.get_running_loop()
        self._conn: _Connection | None = None
        self._server: asyncio.Server | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._last_sent: SendFrame | None = None
        self._closed = False

    # ------------------------------------------------------------ listening

    async def start(self, host: str, port: int) -> int:
        """Listen on `host`:`port`; returns the bound port."""
        try:
            self._server = await asyncio.start_server(self._serve, host, port)
        except OSError as exc:
            raise ServeError(f"lane {self.lane_id}: cannot listen on {host}:{port}: "
                             f"{exc.strerror or exc}") from exc
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and the RSU's timers, write what is queued (for at most
        `CLOSE_FLUSH_S`), then drop the lane."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._server is not None:
            self._server.close()
        if self._conn is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._conn.outgoing.join(), CLOSE_FLUSH_S)
        if self._conn is not None:
            self._forget(self._conn, "server stopping")
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = self.accept(writer)
        try:
            while chunk := await reader.read(_READ_SIZE):
                if self._conn is not conn:
                    break
                self._received(conn, conn.decoder.feed(chunk))
            if self._conn is conn:
                self._received(conn, conn.decoder.close())
        except (ConnectionError, OSError) as exc:
            logger.info("lane %s: connection error: %s", self.lane_id, exc)
        except asyncio.CancelledError:
            # The server is stopping and asyncio cancels this connection's task. Python 3.11's
            # stream protocol asks a cancelled handler task for its exception and prints the
            # CancelledError as a traceback, so the handler ends normally instead.
            pass
        finally:
            if self._conn is conn:
                self.disconnected("lane closed the connection")

    def accept(self, writer: asyncio.StreamWriter) -> _Connection:
        """A lane connected (our decision): a second connection replaces the first, which is
        closed; the RSU restarts (the new lane sends C0), as a lane that reconnects after a
        half-open link expects. Refusing it would lock the lane out until the old link dies."""
        if self._conn is not None:
            self.disconnected("replaced by a new lane connection")
        conn = self._conn = _Connection(writer, self._connection_names())
        conn.write_task = asyncio.create_task(self._write_loop(conn))
        self._summary.connections += 1
        self._log.note(self.lane_id, f"{CONNECTED} {conn.peer}", conn.name)
        logger.info("lane %s: connected from %s", self.lane_id, conn.peer)
        self._apply(self.rsu.start(self._clock.now()))
        return conn

    def disconnected(self, reason: str) -> None:
        """The lane is gone (our decision): the RSU restarts and waits for C0, so it does not
        beacon and vehicles drive through unserved until a lane initialises it again."""
        if self._conn is not None:
            self._forget(self._conn, reason)
        self._apply(self.rsu.restart(self._clock.now()))

    def _forget(self, conn: _Connection, reason: str) -> None:
        self._conn = None
        if conn.write_task is not None:
            conn.write_task.cancel()
        conn.writer.transport.abort()
        self._log.note(self.lane_id, f"{DISCONNECTED} {reason}", conn.name)
        logger.info("lane %s: disconnected: %s", self.lane_id, reason)

    # ------------------------------------------------------------ frames in

    def _received(self, conn: _Connection, items: list[StreamItem]) -> None:
        for item in items:
            if isinstance(item, Rejected):
                self._rejected(conn, f"RX rejected ({item.reason.value}): {item.raw.hex()}")
                continue
            assert isinstance(item, V3Packet)  # the decoder reads the V3 envelope only
            raw = encode_v3(item.seq, item.data)
            try:
                frame = decode_frame(item.data)
            except FrameError as exc:
                self._rejected(conn, f"RX undecodable ({exc}): {raw.hex()}")
                continue
            self._summary.frames_received += 1
            self._log.frame(self.lane_id, conn.name, Direction.RX, raw)
            if seq_side(item.seq) is not Side.LANE:
                self._log.note(self.lane_id, f"RX SEQ {item.seq:02x} is not a lane SEQ (X0)",
                               conn.name)
            if isinstance(frame, UnknownFrame):
                self._rejected(conn, f"RX unknown frame type {frame.frame_type:02X}, ignored")
                continue
            for value in nonstandard_values(frame):
                self._log.note(self.lane_id, f"RX {value}: kept as sent, frame answered",
                               conn.name)
            self._apply(self.rsu.receive_frame(frame, self._clock.now()))
            if self.rsu.initialised:
                self.initialised.set()

    def _rejected(self, conn: _Connection, text: str) -> None:
        self._summary.rejected_inputs += 1
        self._log.note(self.lane_id, text, conn.name)
        logger.warning("lane %s: %s", self.lane_id, text)

    # ------------------------------------------------------------ vehicles and faults

    def vehicle_arrived(self, arrival: VehicleArrival) -> None:
        """A vehicle of the traffic stream enters this lane's zone now."""
        if Fault.RSU_RESTART in arrival.faults:
            self._summary.restarts += 1
            self._log.note(self.lane_id, "fault: RSU restart")
            self.disconnected("RSU restart (fault)")
        now = self._clock.now()
        obu = self._site.fleet.obu(arrival.vehicle)
        if self._world is not None:
            self._world.watch(obu)
        faults = pass_faults(arrival, self._site.scenario, self._rng)
        self._apply(self.rsu.vehicle_arrived(now, obu, now + arrival.dwell_s, faults))

    # ------------------------------------------------------------ effects and timers

    def _apply(self, effects: list[RsuEffect]) -> None:
        synced = False
        for effect in effects:
            if isinstance(effect, SendFrame):
                if not synced:
                    synced = self._durable()
                if synced:
                    self._send(effect)
            elif isinstance(effect, PassEnded):
                if self._world is not None and self._durable():
                    self._world.release(effect.vehicle_id)
                self._summary.ended[effect.how] += 1
                self._on_pass_ended(effect)
            elif isinstance(effect, LaneFrameRejected):
                self._log.note(self.lane_id, f"RX {type(effect.frame).__name__} ignored: "
                                             f"{effect.detail}", self._conn_name)
        self._reschedule()

    @property
    def _conn_name(self) -> str:
        return self._conn.name if self._conn is not None else NO_CONNECTION

    def _durable(self) -> bool:
        """Write what the world changed before a frame reports it; False (and the run stops)
        when the world file cannot be written: no frame may report what is not durable."""
        if self._world is None:
            return True
        if self._failed:
            return False
        try:
            self._world.sync()
        except WorldError as exc:
            self._failed = True
            self._log.note(self.lane_id, f"world not written, serving stops: {exc}")
            logger.error("lane %s: %s", self.lane_id, exc)
            if self._on_failure is not None:
                self._on_failure(exc)
            return False
        return True

    def _send(self, sent: SendFrame) -> None:
        conn = self._conn
        if conn is None:
            return  # no lane: nobody hears it
        raw = encode_v3(sent.seq, encode_frame(sent.frame))
        wire = raw
        if self._faults.corrupted_tcp and self._rng.random() < self._faults.corrupted_tcp:
            wire = corrupt(raw, self._rng)
            self._summary.corrupted_frames += 1
        if self._last_sent == sent:
            self._summary.duplicated_frames += 1  # the pass's duplicate-frame hook
        self._last_sent = sent
        conn.outgoing.put_nowait((raw, wire))

    async def _write_loop(self, conn: _Connection) -> None:
        last = float("-inf")
        try:
            while True:
                raw, wire = await conn.outgoing.get()
                wait = last + FRAME_GAP_S - self._loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                conn.writer.write(wire)  # one frame, one write
                self._summary.frames_sent += 1
                self._log.frame(self.lane_id, conn.name, Direction.TX, raw)
                if wire != raw:
                    at = next(i for i, (a, b) in enumerate(zip(raw, wire, strict=True)) if a != b)
                    self._log.note(self.lane_id, f"fault: TX corrupted on the wire, byte {at} "
                                                 f"{raw[at]:02x}->{wire[at]:02x}", conn.name)
                await conn.writer.drain()
                conn.outgoing.task_done()
                last = self._loop.time()
        except (ConnectionError, OSError) as exc:
            logger.info("lane %s: write failed: %s", self.lane_id, exc)

    def _reschedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._closed:
            return
        due = self.rsu.get_timer()
        if due is not None:
            self._due = due
            self._timer = self._loop.call_at(self._clock.loop_time(due), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        # The loop may fire a hair early (its clock resolution): run what was due all the same.
        self._apply(self.rsu.handle_timer(max(self._clock.now(), self._due)))


def _counter() -> Callable[[], str]:
    """Connection names c1, c2, ... for a lane server on its own."""
    numbers = itertools.count(1)
    return lambda: connection_name(next(numbers))
