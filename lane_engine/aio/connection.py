"""One lane and its RSU over TCP: connect, start the lane (C0 -> B0), feed frames and timers to
the core, reconnect with back-off, and settle what is in flight when the link or the process ends.

The lane lives as long as the process: a lost connection is told to it (`Lane.connection_lost`)
and it starts again on the next, keeping what it knows of its vehicles.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from lane_engine.aio.bus import FrameReceived, FrameRejected, RsuConnected, RsuDisconnected
from lane_engine.aio.clock import Clock, Random, Sleep, backoff_delay, sleep_or_stop
from lane_engine.aio.executor import EffectExecutor
from lane_engine.aio.link import Garbled, RsuLink
from lane_engine.aio.wire import Wire
from lane_engine.config import LaneSettings, PlazaConfig
from lane_engine.core.effects import Effect
from lane_engine.core.lane import Lane
from lane_engine.core.machine import LaneState
from protocols.envelope import EnvelopeKind

__all__ = [
    "FLOOD_PAUSE_S",
    "FRAMES_PER_TURN",
    "IN_FLIGHT",
    "REJECTIONS_EVERY_S",
    "LaneRunner",
]

#: While an RSU keeps sending bad bytes, its lane reports them at most this often (one
#: FrameRejected with the first refusal's detail and the count since), so a flood does not
#: flood the log (our decision).
REJECTIONS_EVERY_S = 1.0
#: How long a flooded lane waits before it reads on (our decision: at most `wire.READ_BUDGET`
#: bytes a millisecond from one RSU, about a tenth of a core at the decoder's slowest).
FLOOD_PAUSE_S = 0.001
#: The most frames a lane handles in one turn of the loop (our decision; a read of
#: `wire.READ_BUDGET` bytes holds more only when the RSU floods the lane with small frames).
FRAMES_PER_TURN = 64
#: A purchase is in flight: its intent is journaled and the card may be debited.
IN_FLIGHT = frozenset({LaneState.PURCHASING, LaneState.RECOVERING})


class LaneRunner:
    """Drives one lane against its RSU, over one connection after another, for the life of the
    process."""

    def __init__(
        self,
        settings: LaneSettings,
        config: PlazaConfig,
        lane: Lane,
        executor: EffectExecutor,
        *,
        clock: Clock,
        rng: Random,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._config = config
        self._executor = executor
        self._clock = clock
        self._rng = rng
        self._sleep = sleep
        self.lane = lane
        self.connected = False
        self.connections = 0
        self._rejections: FrameRejected | None = None  # refusals not yet reported
        self._rejections_due = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, serve and reconnect until `stop` is set; return once everything is settled."""
        failures = 0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                _, wire = await asyncio.wait_for(
                    loop.create_connection(Wire, self.settings.rsu_host, self.settings.rsu_port),
                    self._config.timeouts.connect_s,
                )
            except OSError as exc:  # TimeoutError is an OSError
                failures += 1
                await self._pause(failures, f"cannot connect: {exc or type(exc).__name__}", stop)
                continue
            failures = 0
            why = await self._serve(wire, stop)
            if not stop.is_set():
                failures = 1
                await self._pause(failures, why, stop)

    async def _pause(self, failures: int, why: str, stop: asyncio.Event) -> None:
        delay = backoff_delay(failures, self._config.reconnect, self._rng)
        self._executor.emit(RsuDisconnected(why, delay))
        await sleep_or_stop(delay, stop, self._sleep)

    async def _serve(self, wire: Wire, stop: asyncio.Event) -> str:
        """One connection; returns why it ended."""
        link = RsuLink(wire, self.settings.envelope)
        lane = self.lane
        self.connected = True
        self.connections += 1
        self._executor.emit(RsuConnected(self.settings.rsu_host, self.settings.rsu_port))
        stopping = asyncio.ensure_future(stop.wait())
        stopping.add_done_callback(lambda _: wire.wake())
        try:
            await self._execute(lane.start(self._clock.time()), link)
            return await self._loop(lane, link, wire, stopping)
        except OSError as exc:
            return f"connection failed: {exc or type(exc).__name__}"
        finally:
            stopping.cancel()
            self.connected = False
            self._report_rejections(self._clock.time())
            self._rejections_due = 0.0
            # The RSU is gone: frames are dropped, the rest (journal, events) is executed.
            await self._executor.execute(lane.connection_lost(self._clock.time()), None)
            with contextlib.suppress(OSError):
                await wire.close()
            if stop.is_set():
                self._executor.emit(RsuDisconnected("stopped", None))

    async def _loop(self, lane: Lane, link: RsuLink, wire: Wire,
                    stopping: asyncio.Future[Any]) -> str:
        drain_until: float | None = None
        while True:
            deadline = lane.get_timer()
            if drain_until is not None:
                if lane.state not in IN_FLIGHT:
                    return "stopped"
                deadline = drain_until if deadline is None else min(deadline, drain_until)
            stop_now = drain_until is None and stopping.done()
            if not stop_now and not wire.readable:
                timeout = None if deadline is None else max(0.0, deadline - self._clock.time())
                await wire.wait(timeout)
                stop_now = drain_until is None and stopping.done()
            if stop_now:
                # No new vehicles; let a purchase in flight settle by its own timers.
                drain_until = self._clock.time() + self._config.timeouts.shutdown_s
                await self._execute(lane.set_antenna(False), link)
                continue
            if wire.readable:
                chunk = wire.take()
                if not chunk:
                    if wire.error is not None:
                        raise wire.error
                    return "the RSU closed the connection"
                await self._on_bytes(chunk, self._clock.time(), lane, link)
                if not wire.readable:
                    continue
                # More than a turn's bytes wait: the RSU sends faster than any RSU does, a
                # flood. Its lane's due timers still run, and the lane reads on only after a
                # pause, so the flood takes a bounded share of the loop (and of the GIL the
                # journal's writer thread needs), never the other lanes' turns.
                now = self._clock.time()
                if drain_until is not None and now >= drain_until:
                    return "stopped with a purchase in flight"
                due = lane.get_timer()
                if due is not None and now >= due:
                    await self._execute(lane.handle_timer(now), link)
                await asyncio.sleep(FLOOD_PAUSE_S)
                continue
            now = self._clock.time()
            if drain_until is not None and now >= drain_until:
                return "stopped with a purchase in flight"
            await self._execute(lane.handle_timer(now), link)

    def _rejected(self, item: Garbled, now: float) -> None:
        """Counts a refusal; reports at once after a quiet second, else with the next report."""
        if self._rejections is None:
            self._rejections = FrameRejected(item.detail, 1, item.size)
        else:
            pending = self._rejections
            self._rejections = FrameRejected(pending.detail, pending.count + 1,
                                             pending.bytes + item.size)
        if now >= self._rejections_due:
            self._report_rejections(now)

    def _report_rejections(self, now: float) -> None:
        if self._rejections is not None:
            self._executor.emit(self._rejections)
            self._rejections = None
            self._rejections_due = now + REJECTIONS_EVERY_S

    async def _on_bytes(self, chunk: bytes, read_at: float, lane: Lane, link: RsuLink) -> None:
        for count, item in enumerate(link.feed(chunk), start=1):
            if count % FRAMES_PER_TURN == 0:
                await asyncio.sleep(0)  # a flood of frames: the other lanes run in between
            if isinstance(item, Garbled):
                self._rejected(item, read_at)
                continue
            self._report_rejections(read_at)  # what came before this frame, told before it
            if self._executor.frame_events:
                self._executor.emit(FrameReceived(item.frame, item.seq), at=read_at)
            effects = lane.receive_frame(item.frame, self._clock.time(), item.seq)
            sent, resume = self._executor.start(effects, link)
            if resume is not None:  # a C6 after its intent: wait for the intent's group commit
                sent = await self._executor.finish(effects, link, sent, resume)
            if sent == 0 and link.envelope is EnvelopeKind.BCC:
                link.answer_empty()  # the legacy PC answers every RSU frame
            if link.must_flush:
                await link.flush()

    async def _execute(self, effects: list[Effect], link: RsuLink) -> None:
        await self._executor.execute(effects, link)
        if link.must_flush:
            await link.flush()
