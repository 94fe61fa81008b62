"""The lane's end of an RSU connection: bytes before the end, the lane's wait, a lost peer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from lane_engine.aio.wire import Wire

Peer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def connected(peer: Peer) -> AsyncIterator[Wire]:
    server = await asyncio.start_server(peer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        _, wire = await asyncio.get_running_loop().create_connection(Wire, "127.0.0.1", port)
        try:
            yield wire
        finally:
            await wire.close()
    finally:
        server.close()
        await server.wait_closed()


async def wait_until_ended(wire: Wire) -> bytes:
    received = b""
    while not wire.ended:
        await wire.wait(5.0)
        received += wire.take()
    return received + wire.take()


async def test_bytes_sent_before_the_peer_closes_all_come_before_the_end() -> None:
    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"first")
        await writer.drain()
        writer.write(b"second")
        writer.close()

    async with connected(peer) as wire:
        assert await wait_until_ended(wire) == b"firstsecond"
        assert wire.error is None
        assert wire.take() == b""


async def test_after_the_peer_closes_its_side_the_lane_can_still_write() -> None:
    heard: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write_eof()
        heard.set_result(await reader.read(100))
        writer.close()

    async with connected(peer) as wire:
        await wait_until_ended(wire)
        wire.write(b"late answer")
        await wire.drain()
        wire._transport.write_eof()  # type: ignore[union-attr]
        assert await asyncio.wait_for(heard, 5.0) == b"late answer"


async def test_a_wait_ends_at_its_timeout_without_data() -> None:
    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.close()

    async with connected(peer) as wire:
        await asyncio.wait_for(wire.wait(0.01), 5.0)
        assert not wire.readable


async def test_a_wake_ends_the_wait_before_its_timeout() -> None:
    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.close()

    async with connected(peer) as wire:
        asyncio.get_running_loop().call_later(0.01, wire.wake)
        await asyncio.wait_for(wire.wait(None), 5.0)
        assert not wire.readable


async def test_once_the_connection_is_lost_drain_raises_oserror() -> None:
    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async with connected(peer) as wire:
        await wait_until_ended(wire)
        await wire.close()
        with pytest.raises(OSError):
            await wire.drain()


async def test_a_flood_is_taken_a_budget_at_a_time_and_its_socket_read_paused() -> None:
    # The peer writes 1 MiB at once; the lane takes READ_BUDGET bytes a turn, in order, and the
    # socket is not read while more than HIGH_WATER bytes wait (the rest stays in TCP).
    from lane_engine.aio.wire import HIGH_WATER, READ_BUDGET

    flood = bytes(range(256)) * 4096
    written: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(flood)
        await writer.drain()
        written.set_result(None)
        writer.close()

    async with connected(peer) as wire:
        received = b""
        most_waiting = 0
        while True:
            if not wire.readable:
                await wire.wait(5.0)
                continue
            await asyncio.sleep(0.001)  # the lane is slow: bytes pile up, up to the high water
            most_waiting = max(most_waiting, wire._waiting)
            chunk = wire.take()
            if not chunk:
                break  # the end of the stream
            assert len(chunk) <= READ_BUDGET
            received += chunk
        assert received == flood
        assert written.done()
        # data_received hands over up to one socket read (256 KiB) past the high water
        assert most_waiting <= HIGH_WATER + 256 * 1024


async def test_take_keeps_what_is_over_the_limit_for_the_next_call() -> None:
    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"abcdefghij")
        await writer.drain()
        writer.close()

    async with connected(peer) as wire:
        while not wire.ended:
            await wire.wait(5.0)
        assert wire.take(3) == b"abc"
        assert wire.readable
        assert wire.take(4) == b"defg"
        assert wire.take(100) == b"hij"
        assert wire.take(100) == b"" and wire.ended
