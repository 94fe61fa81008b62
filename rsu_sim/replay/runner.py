"""The replay on a real connection: the capture's RSU frames sent to a lane as captured (SEQ and
DATA, retransmissions included), and the lane's answers collected per exchange.

The lane connects to the replay as to its RSU (the replay listens), or the replay connects to a
lane that listens (`connect`). Timing (our decisions): with times in the capture each RSU frame
goes at its captured offset divided by `speed`, counted from the lane's first frame (or from
the connection when the capture starts with an RSU frame); without times, or `paced`, as soon as
the lane has answered the frame before. Either way a frame never goes before the lane has
given as many answers to the one before as the capture shows, or `answer_wait_s` has passed, so
an answer is never taken for the answer to the next frame; frames go one per write, at least
`FRAME_GAP_S` apart, as an RSU writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from protocols.envelope import EnvelopeKind, V3Packet
from protocols.errors import FrameError
from protocols.frame_codec import decode_frame
from protocols.frames import Frame
from protocols.stream import Rejected, StreamDecoder
from rsu_sim.errors import ServeError
from rsu_sim.replay.capture import Captured
from rsu_sim.replay.compare import Exchange, exchanges

FRAME_GAP_S = 0.005
_READ_SIZE = 65536


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """How a capture is replayed (see the module docstring)."""

    speed: float = 1.0
    paced: bool = False
    answer_wait_s: float = 1.0
    connect_timeout_s: float = 60.0


@dataclass(slots=True)
class ReplayResult:
    """The capture's exchanges and, for each, the lane's answers in the replay."""

    capture: list[Exchange]
    answers: list[list[Frame]]
    rsu_frames_sent: int = 0
    lane_frames: int = 0
    undecodable: list[str] = field(default_factory=list)


class _Lane:
    """The lane's side of the connection: frames read, counted per exchange."""

    def __init__(self, reader: asyncio.StreamReader, slots: int) -> None:
        self.reader = reader
        self.answers: list[list[Frame]] = [[] for _ in range(slots)]
        self.current = 0
        self.first = asyncio.Event()
        self.changed = asyncio.Event()
        self.undecodable: list[str] = []

    async def read(self) -> None:
        decoder = StreamDecoder(EnvelopeKind.V3)
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await self.reader.read(_READ_SIZE):
                for item in decoder.feed(chunk):
                    if isinstance(item, Rejected):
                        self.undecodable.append(f"rejected bytes ({item.reason.value})")
                        continue
                    assert isinstance(item, V3Packet)  # the decoder reads V3 only
                    try:
                        frame = decode_frame(item.data)
                    except FrameError as exc:
                        self.undecodable.append(str(exc))
                        continue
                    self.answers[self.current].append(frame)
                    self.first.set()
                    self.changed.set()
        self.changed.set()

    async def wait_answers(self, slot: int, count: int, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(self.answers[slot]) < count and (left := deadline - loop.time()) > 0:
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
            if self.reader.at_eof():
                return


async def replay(frames: list[Captured], host: str, port: int, *, connect: bool = False,
                 options: ReplayOptions = ReplayOptions(),
                 on_listening: Callable[[int], object] | None = None) -> ReplayResult:
    """Replay `frames` (one connection's) to the lane at or from `host`:`port`."""
    if options.speed <= 0:
        raise ServeError(f"speed {options.speed!r} must be > 0")
    capture = exchanges(frames)
    reader, writer = await _connection(host, port, connect, options, on_listening)
    lane = _Lane(reader, len(capture))
    reading = asyncio.create_task(lane.read())
    result = ReplayResult(capture, lane.answers)
    loop = asyncio.get_running_loop()
    try:
        timed = not options.paced and all(f.at is not None for f in frames)
        start_capture = frames[0].at
        if capture[0].answers:  # the lane speaks first (its C0): the clock starts with it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lane.first.wait(), options.connect_timeout_s)
        start = loop.time()
        last_write = float("-inf")
        for index, exchange in enumerate(capture[1:], start=1):
            await lane.wait_answers(index - 1, len(capture[index - 1].answers),
                                    options.answer_wait_s)
            rsu = exchange.rsu
            assert rsu is not None
            due = loop.time()
            if timed and rsu.at is not None and start_capture is not None:
                due = max(due, start + (rsu.at - start_capture) / options.speed)
            due = max(due, last_write + FRAME_GAP_S)
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            lane.current = index
            writer.write(rsu.raw)
            await writer.drain()
            last_write = loop.time()
            result.rsu_frames_sent += 1
        await lane.wait_answers(len(capture) - 1, len(capture[-1].answers),
                                options.answer_wait_s)
    except (ConnectionError, OSError):
        pass  # the lane went away: what it answered so far is compared
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
    result.lane_frames = sum(len(a) for a in lane.answers)
    result.undecodable = lane.undecodable
    return result


async def _connection(host: str, port: int, connect: bool, options: ReplayOptions,
                      on_listening: Callable[[int], object] | None
                      ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if connect:
        try:
            return await asyncio.wait_for(asyncio.open_connection(host, port),
                                          options.connect_timeout_s)
        except (OSError, TimeoutError) as exc:
            raise ServeError(f"cannot connect to the lane at {host}:{port}: {exc}") from exc
    accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put((reader, writer))

    try:
        server = await asyncio.start_server(accept, host, port)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    try:
        if on_listening is not None:
            on_listening(int(server.sockets[0].getsockname()[1]))
        try:
            return await asyncio.wait_for(accepted.get(), options.connect_timeout_s)
        except TimeoutError:
            raise ServeError(f"no lane connected to {host}:{port} within "
                             f"{options.connect_timeout_s:.0f} s") from None
    finally:
        server.close()
