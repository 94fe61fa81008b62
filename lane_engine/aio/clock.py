"""The one clock of the process and the reconnection back-off (both injectable for tests)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from lane_engine.config import Reconnect

__all__ = [
    "Clock",
    "Random",
    "Sleep",
    "SystemClock",
    "backoff_delay",
    "sleep_or_stop",
]


class Clock(Protocol):
    """Wall-clock seconds (UNIX time): the `now` handed to the core and stamped on records."""

    def time(self) -> float: ...


class SystemClock:
    """`time.time()`, the clock of a real lane."""

    def time(self) -> float:
        """Now, in UNIX seconds."""
        return time.time()


class Random(Protocol):
    """What the back-off needs of a random source (`random.Random` fits)."""

    def random(self) -> float: ...


#: How the runtime waits between attempts; tests inject their own to gate reconnections.
Sleep = Callable[[float], Awaitable[None]]


def backoff_delay(attempt: int, policy: Reconnect, rng: Random) -> float:
    """Seconds to wait before attempt `attempt + 1` after `attempt` failures (attempt >= 1):
    doubling from `initial_s`, capped at `max_s`, scaled by a jitter factor from `rng`."""
    base = min(policy.max_s, policy.initial_s * 2 ** min(attempt - 1, 32))
    return base * (1.0 + policy.jitter * (2.0 * rng.random() - 1.0))


async def sleep_or_stop(delay: float, stop: asyncio.Event, sleep: Sleep = asyncio.sleep) -> bool:
    """Wait `delay` seconds with `sleep` or until `stop` is set; True when stopped."""
    if stop.is_set():
        return True
    waiter = asyncio.ensure_future(stop.wait())
    sleeper = asyncio.ensure_future(sleep(delay))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, sleeper):
            task.cancel()
    return stop.is_set()
