"""The lane's end of one RSU connection as an asyncio protocol: bytes read are kept until the
lane takes them, one waiter is woken by data, end of stream or a stop.

A protocol rather than streams: a `StreamReader.read` task and an `asyncio.wait` per chunk
cost more event-loop work than the lane's own handling of the frame.

A hostile or broken RSU cannot take the plaza's loop: the lane takes at most `READ_BUDGET`
bytes a turn (`take`), and the socket is not read while more than `HIGH_WATER` bytes wait, so a
flood costs memory and CPU of its own lane only, and the RSU's writes block on TCP.
"""

from __future__ import annotations

import asyncio

__all__ = [
    "HIGH_WATER",
    "READ_BUDGET",
    "TIMER_SLACK_S",
    "Wire",
]

#: How much earlier than asked a kept wake-up timer may fire (our decision: 1 ms; an early wake
#: costs one more turn of the lane's loop, a new timer for every read costs more).
TIMER_SLACK_S = 0.001
#: The most bytes the lane decodes in one turn of the loop before it lets the other lanes run
#: (our decision: 16 KiB, some 80 of the largest frames; at the decoder's slowest, fake V3
#: headers with the maximal LEN, about 0.1 ms of CPU).
READ_BUDGET = 16 * 1024
#: Reading from the socket pauses while more than this waits, and resumes below `READ_BUDGET`.
HIGH_WATER = 4 * READ_BUDGET


class Wire(asyncio.Protocol):
    """Bytes from the RSU, write flow control, and the lane's single waiter."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._chunks: list[bytes] = []
        self._waiting = 0  # bytes in _chunks
        self._reading_paused = False
        #: The RSU's stream ended (end of file or connection lost); `error` if by a fault.
        self.ended = False
        self.error: OSError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._drained: asyncio.Future[None] | None = None
        self._closed = self._loop.create_future()
        #: The wake-up timer of `wait`, kept from one wait to the next while its time holds
        #: (a lane waits for the same deadline across many reads), and when it is due.
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._waiting += len(data)
        if (self._waiting > HIGH_WATER and not self._reading_paused
                and self._transport is not None):
            self._transport.pause_reading()
            self._reading_paused = True
        self.wake()

    def eof_received(self) -> bool:
        self.ended = True
        self.wake()
        return True  # half-open: what the lane still writes goes out; the lane closes

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.error is None:
            self.error = exc if isinstance(exc, OSError) else ConnectionError(str(exc))
        self.ended = True
        self.wake()
        if not self._closed.done():
            self._closed.set_result(None)
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # ------------------------------------------------------------ the lane's side

    def take(self, limit: int = READ_BUDGET) -> bytes:
        """The bytes read since the last call, `limit` at the most (b"" when nothing is
        waiting); what is left stays for the next call (`readable`)."""
        if not self._chunks:
            return b""
        if self._waiting <= limit:
            chunks, self._chunks = self._chunks, []
            taken = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        else:
            parts: list[bytes] = []
            size = 0
            while size < limit:
                chunk = self._chunks[0]
                if size + len(chunk) <= limit:
                    parts.append(self._chunks.pop(0))
                    size += len(chunk)
                else:
                    parts.append(chunk[: limit - size])
                    self._chunks[0] = chunk[limit - size :]
                    size = limit
            taken = b"".join(parts)
        self._waiting -= len(taken)
        if self._reading_paused and self._waiting < READ_BUDGET and self._transport is not None:
            self._transport.resume_reading()
            self._reading_paused = False
        return taken

    @property
    def readable(self) -> bool:
        """Bytes are waiting, or the stream has ended."""
        return bool(self._chunks) or self.ended

    def wake(self) -> None:
        """End the lane's current `wait` (if any)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        """Until `wake` or `timeout` seconds (None: no limit), whichever comes first (or a little
        earlier: a timer armed for a deadline up to `TIMER_SLACK_S` before this one is kept, and
        the caller finds nothing due and waits again)."""
        loop = self._loop
        if timeout is not None:
            due = loop.time() + timeout
            timer = self._timer
            if timer is None or not due - TIMER_SLACK_S <= self._timer_due <= due:
                if timer is not None:
                    timer.cancel()
                self._timer = loop.call_at(due, self._timer_fired)
                self._timer_due = due
        waiter = loop.create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None

    def _timer_fired(self) -> None:
        self._timer = None
        self.wake()

    def write(self, data: bytes) -> None:
        """One write on the connection (dropped silently once it is lost: `drain` tells)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    @property
    def must_drain(self) -> bool:
        """Whether `drain` has anything to do (the buffer is full or the connection is gone);
        the lane skips the `await` otherwise."""
        return (self._paused or self._closed.done()
                or (self._transport is not None and self._transport.is_closing()))

    async def drain(self) -> None:
        """Wait until the socket buffer has room again (raises OSError when the RSU is gone)."""
        if self._closed.done() or (self._transport is not None
                                   and self._transport.is_closing()):
            raise self.error or ConnectionResetError("Connection lost")
        if self._paused:
            self._drained = self._loop.create_future()
            await self._drained
            if self._closed.done():
                raise self.error or ConnectionResetError("Connection lost")

    async def close(self) -> None:
        """Close the connection and wait until it is closed."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.close()
        await self._closed
