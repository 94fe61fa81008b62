"""The in-process event bus a lane application listens to: barrier, fee display, cash, RSU link.

Core events and barrier commands pass through unchanged, wrapped in `LaneEvent` with the lane
number and the time; the runtime adds its own events about the RSU connection and, when asked,
about every frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from protocols.frames import Frame, LaneFrame
from protocols.frozen import fast_init

__all__ = [
    "CentreUpdate",
    "EndpointListening",
    "EventBus",
    "FrameReceived",
    "FrameRejected",
    "FrameSent",
    "JournalFailed",
    "LaneEvent",
    "Listener",
    "RsuConnected",
    "RsuDisconnected",
]


@fast_init
@dataclass(frozen=True, slots=True)
class RsuConnected:
    """The TCP connection to the lane's RSU is up; the lane starts again (C0 -> B0)."""

    host: str
    port: int


@fast_init
@dataclass(frozen=True, slots=True)
class RsuDisconnected:
    """The connection to the RSU dropped or could not be made; the runtime will retry."""

    detail: str
    retry_in_s: float | None  # None while shutting down


@fast_init
@dataclass(frozen=True, slots=True)
class FrameRejected:
    """Bytes from the RSU that were not a good envelope or frame (logged, skipped): the first
    refusal's detail, and how many refusals and bytes it stands for (a lane reports at most
    one a second while an RSU keeps sending bad bytes, `connection.REJECTIONS_EVERY_S`)."""

    detail: str
    count: int = 1
    bytes: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class FrameReceived:
    """A frame decoded from the RSU's stream (only on a bus made with `frames=True`); its
    `LaneEvent.at` is when the bytes carrying it were read from the connection."""

    frame: Frame
    seq: int  # the envelope's SEQ (V3) or RSCTL (legacy)


@fast_init
@dataclass(frozen=True, slots=True)
class FrameSent:
    """A lane frame written to the RSU's connection (only on a bus made with `frames=True`);
    its `LaneEvent.at` is just after the write."""

    frame: LaneFrame


@fast_init
@dataclass(frozen=True, slots=True)
class EndpointListening:
    """The plaza serves `/metrics` and `/healthz` on `address` (host:port; a plaza-wide event)."""

    address: str


@fast_init
@dataclass(frozen=True, slots=True)
class JournalFailed:
    """A journal commit failed (a plaza-wide event): the plaza stops, nothing after the failure
    may claim to be durable."""

    detail: str


@fast_init
@dataclass(frozen=True, slots=True)
class CentreUpdate:
    """Data from the centre was applied or refused (a plaza-wide event: lane None)."""

    kind: str  # "blacklist/full", "blacklist/delta", "policy", "fee-table"
    applied: bool
    version: str  # "" when refused before the version was known
    detail: str = ""  # why it was refused


@fast_init
@dataclass(frozen=True, slots=True)
class LaneEvent:
    """Something a lane did or saw: a core event, a barrier command or a runtime event."""

    lane: int | None  # None: the plaza as a whole
    at: float  # clock seconds
    event: object


Listener = Callable[[LaneEvent], None]


class EventBus:
    """Fan-out of lane events to callbacks and to async iterators (one queue per listener).

    A slow iterator does not hold the lanes back: past `queue_size` waiting events, the oldest
    are dropped for it and counted in `dropped`. With `frames=True` the runtime also publishes
    every frame in and out (`FrameReceived`, `FrameSent`): for tracing and latency measurement.
    """

    def __init__(self, queue_size: int = 10_000, *, frames: bool = False) -> None:
        self.frames = frames
        self._callbacks: list[Listener] = []
        self._queues: list[asyncio.Queue[LaneEvent]] = []
        self._queue_size = queue_size
        self.dropped = 0

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call `callback` for every event; returns the function that unsubscribes it."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[LaneEvent]]:
        """`async with bus.listen() as events: async for event in events: ...`"""
        queue: asyncio.Queue[LaneEvent] = asyncio.Queue(self._queue_size)
        self._queues.append(queue)

        async def events() -> AsyncIterator[LaneEvent]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            self._queues.remove(queue)

    def publish(self, event: LaneEvent) -> None:
        """Hand `event` to every listener now (callbacks run synchronously, in order)."""
        for callback in list(self._callbacks):
            callback(event)
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)
