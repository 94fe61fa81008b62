"""Clearing from the broker: every plaza's `…/transactions` through an MQTT 5 shared
subscription, batch by batch, each batch acknowledged only once its store transaction has
committed (`centre.link.mqtt`: manual acknowledgement on a persistent session).

A batch is what has arrived when the first message of it is taken, and what follows within
`linger_s`, up to `batch_size` (the broker's in-flight limit bounds it too: mosquitto sends
at most `max_inflight_messages` unacknowledged messages to a session, 20 by default). Killed
at any moment, the process has either committed a batch or not; the broker sends every message
not acknowledged again to the next process under the same client id, and the store's keys turn
the committed ones into redeliveries. So a record is booked exactly once, and none is lost.
A store that fails (another process holding SQLite's write lock and hanging, PostgreSQL
restarting) holds the batch back, unacknowledged, and it is tried again with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from centre.clearing.arrivals import from_message
from centre.clearing.clearer import BatchReport, Clearer, Inbound, Unreadable
from centre.clearing.values import Source
from centre.errors import BrokerError, ClearingInputError, StoreError
from centre.link.mqtt import BrokerSettings, Delivery, SharedSubscription, shared_subscription

#: The topics of every plaza's lanes (`etc/{network}/{station}/{lane}/transactions`).
TRANSACTION_FILTER = "etc/+/+/+/transactions"
DEFAULT_GROUP = "clearing"
#: How long a batch waits for a message already received to be handed over.
QUEUED_WAIT_S = 0.002
#: Records per store transaction at most.
DEFAULT_BATCH = 500


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """How the consumer takes its batches and when it stops on its own."""

    group: str = DEFAULT_GROUP
    filters: tuple[str, ...] = (TRANSACTION_FILTER,)
    batch_size: int = DEFAULT_BATCH
    linger_s: float = 0.02
    #: stop after this long without a message (None: run until told to stop)
    idle_exit_s: float | None = None
    #: settle UNRESOLVED records from the cards' later transactions this often
    settle_every_s: float = 60.0
    reconnect_s: tuple[float, float] = (0.5, 15.0)  # first delay, cap (doubling)


@dataclass(slots=True)
class ConsumerStats:
    """What a consumer did so far."""

    messages: int = 0
    batches: int = 0
    committed_s: float = 0.0  # wall time spent clearing and committing
    sessions: int = 0
    lost_sessions: int = 0
    report: BatchReport = field(default_factory=BatchReport)

    def to_dict(self) -> dict[str, object]:
        return {"messages": self.messages, "batches": self.batches,
                "committed_s": round(self.committed_s, 3), "sessions": self.sessions,
                "lost_sessions": self.lost_sessions, "taken": dict(sorted(
                    self.report.taken.items())),
                "findings": len(self.report.findings)}


def inbound(delivery: Delivery) -> Inbound:
    """A delivered message as clearing takes it."""
    try:
        return from_message(delivery.payload, delivery.topic)
    except ClearingInputError as exc:
        return Unreadable(Source.MQTT, delivery.topic, str(exc),
                          delivery.payload.decode("utf-8", errors="replace"))


async def _take_batch(subscription: SharedSubscription, options: ConsumerOptions,
                      stop: asyncio.Event) -> list[Delivery]:
    """Wait for a first message (or `stop`, or the idle limit), then gather what follows within
    `linger_s`."""
    first = await subscription.next(options.idle_exit_s, stop)
    if first is None:
        return []
    batch = [first]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.linger_s
    while len(batch) < options.batch_size:
        batch += subscription.drain(options.batch_size - len(batch))
        left = deadline - loop.time()
        if len(batch) >= options.batch_size or left <= 0:
            break
        more = await subscription.next(max(left, QUEUED_WAIT_S))
        if more is None:
            break
        batch.append(more)
    return batch


async def _durably(clearer: Clearer, items: list[Inbound], options: ConsumerOptions,
                   stop: asyncio.Event, on_session: Callable[[str, str], None]
                   ) -> BatchReport | None:
    """Clear `items`, again while the store fails (a write lock held by a process that hangs, a
    database restarting), acknowledging nothing meanwhile; None when told to stop first."""
    delay = options.reconnect_s[0]
    while True:
        try:
            return await asyncio.to_thread(clearer.clear, items)
        except StoreError as exc:
            on_session("store failing", f"{exc}; the batch again in {delay:.1f} s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return None
        delay = min(delay * 2, options.reconnect_s[1])


async def consume(clearer: Clearer, settings: BrokerSettings, options: ConsumerOptions,
                  stop: asyncio.Event | None = None,
                  on_batch: Callable[[Sequence[Delivery], BatchReport, ConsumerStats], None]
                  = lambda deliveries, report, stats: None,
                  on_session: Callable[[str, str], None] = lambda state, detail: None
                  ) -> ConsumerStats:
    """Clear from the broker until `stop` is set (or the idle limit passes); reconnects with
    back-off when the session is lost, the broker sending the unacknowledged messages again."""
    stop = stop or asyncio.Event()
    stats = ConsumerStats()
    delay = options.reconnect_s[0]
    last_settle = time.monotonic()
    while not stop.is_set():
        try:
            async with shared_subscription(settings, options.group, options.filters) as sub:
                stats.sessions += 1
                on_session("subscribed", settings.address)
                delay = options.reconnect_s[0]
                while not stop.is_set():
                    deliveries = await _take_batch(sub, options, stop)
                    if not deliveries:
                        return stats  # stopped, or idle for idle_exit_s
                    started = time.monotonic()
                    items = [inbound(d) for d in deliveries]
                    report = await _durably(clearer, items, options, stop, on_session)
                    if report is None:
                        return stats  # stopped while the store was failing: nothing acked
                    if started - last_settle >= options.settle_every_s:
                        report.merge(await asyncio.to_thread(clearer.settle_due))
                        last_settle = started
                    sub.ack(deliveries)  # only now: the batch is committed
                    stats.committed_s += time.monotonic() - started
                    stats.messages += len(deliveries)
                    stats.batches += 1
                    stats.report.merge(report)
                    on_batch(deliveries, report, stats)
        except BrokerError as exc:
            stats.lost_sessions += 1
            on_session("lost", str(exc))
            if stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, options.reconnect_s[1])
    return stats
