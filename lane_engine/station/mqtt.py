"""The station link over MQTT (the only module that imports aiomqtt).

* `etc/{network}/{station}/{lane}/transactions`: QoS 1, the journal's outbox drained in order;
  an entry is marked published only after its PUBACK, so a broker outage loses nothing and may
  repeat a record after a reconnection (consumers de-duplicate by `idempotency_key`).
* `etc/{network}/{station}/{lane}/status`: QoS 1, retained; one MQTT session per lane, whose
  last will sets the lane "offline" when the process dies.
* `etc/{network}/{station}/centre/{blacklist/full, blacklist/delta, policy, fee-table}`:
  subscribed (QoS 1); payloads are handed to `on_centre` undecoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiomqtt

from lane_engine.aio.clock import Random, Sleep, backoff_delay
from lane_engine.config import MqttSettings, Reconnect
from lane_engine.journal import OutboxEntry
from lane_engine.journal.codec import record_to_dict

#: What the centre publishes to a plaza, as topic suffixes after `centre/`.
CENTRE_KINDS = ("blacklist/full", "blacklist/delta", "policy", "fee-table")


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names of one plaza."""

    network: str
    station: int

    @property
    def root(self) -> str:
        return f"etc/{self.network}/{self.station}"

    def transactions(self, lane: int) -> str:
        return f"{self.root}/{lane}/transactions"

    def status(self, lane: int) -> str:
        return f"{self.root}/{lane}/status"

    def centre(self, kind: str) -> str:
        return f"{self.root}/centre/{kind}"

    def centre_kind(self, topic: str) -> str | None:
        """The centre message kind of a topic, or None when it is not one of ours."""
        prefix = f"{self.root}/centre/"
        kind = topic[len(prefix):] if topic.startswith(prefix) else None
        return kind if kind in CENTRE_KINDS else None


def transaction_payload(entry: OutboxEntry) -> bytes:
    """The JSON of a published record: `idempotency_key`, the outbox `seq` and the `record`.

    The same outbox entry always gives the same bytes. A record left UNRESOLVED may later be
    followed by its settlement under the same key: consumers keep the latest by `seq`.
    """
    document = {
        "idempotency_key": entry.record.idempotency_key,
        "seq": entry.seq,
        "record": record_to_dict(entry.record),
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


def offline_payload(lane: int) -> bytes:
    """The retained status of a lane whose process is gone (also its last will)."""
    return json.dumps({"lane": lane, "status": "offline"}, sort_keys=True).encode()


class Outbox(Protocol):
    """What the publisher needs of the journal."""

    def outbox_batch(self, limit: int) -> list[OutboxEntry]: ...

    def mark_published(self, up_to_seq: int) -> int: ...


CentreHandler = Callable[[str, bytes], Awaitable[None]]


class MqttLink:
    """Publishes the outbox and the lanes' status, and listens to the centre, with reconnection.

    `run()` returns after `close()`: the outbox is drained for at most `drain_s` seconds, every
    lane's status is set "offline", and the sessions end.
    """

    def __init__(
        self,
        settings: MqttSettings,
        topics: Topics,
        client_id: str,
        lanes: Sequence[int],
        outbox: Outbox,
        *,
        on_centre: CentreHandler,
        reconnect: Reconnect,
        rng: Random,
        sleep: Sleep = asyncio.sleep,
        on_error: Callable[[str], None] = lambda text: None,
    ) -> None:
        self._settings = settings
        self.topics = topics
        self._client_id = client_id
        self._lanes = tuple(lanes)
        self._outbox = outbox
        self._on_centre = on_centre
        self._reconnect = reconnect
        self._rng = rng
        self._sleep = sleep
        self._on_error = on_error
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._give_up_at: float | None = None
        self._status: dict[int, bytes] = {lane: offline_payload(lane) for lane in self._lanes}
        self._status_changed = {lane: asyncio.Event() for lane in self._lanes}
        self.published = 0
        self.disconnects = 0

    # ------------------------------------------------------------ called by the plaza

    def wake(self) -> None:
        """New outbox entries were committed."""
        self._wake.set()

    def set_status(self, lane: int, status: dict[str, Any]) -> None:
        """The lane's current status (published retained, latest wins)."""
        self._status[lane] = json.dumps(status, sort_keys=True).encode()
        self._status_changed[lane].set()

    def close(self, drain_s: float) -> None:
        """Finish: drain what is in the outbox for at most `drain_s`, then go offline."""
        self._give_up_at = asyncio.get_running_loop().time() + drain_s
        self._closing.set()
        self._wake.set()
        for event in self._status_changed.values():
            event.set()

    async def run(self) -> None:
        """Run every session until `close()` and the drain are done."""
        sessions = [self._session(f"{self._client_id}", None, self._drain, self._listen)]
        for lane in self._lanes:
            sessions.append(self._session(
                f"{self._client_id}-lane{lane}",
                aiomqtt.Will(self.topics.status(lane), offline_payload(lane), qos=1, retain=True),
                lambda client, lane=lane: self._publish_status(client, lane),  # type: ignore[misc]
                self._watch,
            ))
        await asyncio.gather(*sessions)

    # ------------------------------------------------------------ sessions

    async def _session(
        self,
        identifier: str,
        will: aiomqtt.Will | None,
        body: Callable[[aiomqtt.Client], Awaitable[None]],
        watcher: Callable[[aiomqtt.Client], Awaitable[None]],
    ) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            try:
                async with aiomqtt.Client(
                    self._settings.host, self._settings.port, identifier=identifier, will=will,
                    keepalive=self._settings.keepalive_s,
                    timeout=self._settings.publish_timeout_s,
                ) as client:
                    failures = 0
                    await _until_first(body(client), watcher(client))
                    return
            except aiomqtt.MqttError as exc:
                self.disconnects += 1
                failures += 1
                self._on_error(f"MQTT {identifier}: {exc}")
            delay = backoff_delay(failures, self._reconnect, self._rng)
            if self._give_up_at is not None:
                left = self._give_up_at - loop.time()
                if left <= 0:
                    return  # closing and the broker is away: the outbox keeps what is left
                delay = min(delay, left)
                await self._sleep(delay)
                continue
            sleeper = asyncio.ensure_future(self._sleep(delay))
            closing = asyncio.ensure_future(self._closing.wait())
            await asyncio.wait({sleeper, closing}, return_when=asyncio.FIRST_COMPLETED)
            sleeper.cancel()
            closing.cancel()

    async def _drain(self, client: aiomqtt.Client) -> None:
        """Publish the outbox in order until closing (then until empty or out of time)."""
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            batch = self._outbox.outbox_batch(self._settings.batch_size)
            if not batch:
                if self._closing.is_set():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                continue
            if self._give_up_at is not None and loop.time() >= self._give_up_at:
                return
            # Pipelined: paho sends them in order on one connection; a prefix that was
            # acknowledged is marked, the rest goes again after a reconnection.
            results = await asyncio.gather(
                *(client.publish(self.topics.transactions(entry.record.lane_number),
                                 transaction_payload(entry), qos=1) for entry in batch),
                return_exceptions=True,
            )
            acked = next((i for i, r in enumerate(results) if isinstance(r, BaseException)),
                         len(batch))
            if acked:
                self._outbox.mark_published(batch[acked - 1].seq)
                self.published += acked
            if acked < len(batch):
                failure = results[acked]
                assert isinstance(failure, BaseException)
                if isinstance(failure, aiomqtt.MqttError):
                    raise failure
                raise aiomqtt.MqttError(f"publish failed: {failure!r}") from failure

    async def _listen(self, client: aiomqtt.Client) -> None:
        """Subscribe to the centre and hand its messages on; ends by MqttError on disconnect."""
        await client.subscribe([(self.topics.centre(kind), 1) for kind in CENTRE_KINDS])
        async for message in client.messages:
            kind = self.topics.centre_kind(str(message.topic))
            payload = message.payload
            if kind is None or not isinstance(payload, bytes | bytearray):
                continue
            await self._on_centre(kind, bytes(payload))

    async def _publish_status(self, client: aiomqtt.Client, lane: int) -> None:
        topic = self.topics.status(lane)
        changed = self._status_changed[lane]
        last: bytes | None = None
        while True:
            changed.clear()
            if self._closing.is_set():
                await client.publish(topic, offline_payload(lane), qos=1, retain=True)
                return
            payload = self._status[lane]
            if payload != last:
                await client.publish(topic, payload, qos=1, retain=True)
                last = payload
            await changed.wait()

    async def _watch(self, client: aiomqtt.Client) -> None:
        """Ends (MqttError) when the session drops, so that the body is restarted."""
        async for _ in client.messages:
            pass


async def _until_first(body: Awaitable[None], watcher: Awaitable[None]) -> None:
    """Run both; return when `body` returns, raise when either raises or the watcher ends."""
    body_task = asyncio.ensure_future(body)
    watch_task = asyncio.ensure_future(watcher)
    try:
        await asyncio.wait({body_task, watch_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (body_task, watch_task):
            task.cancel()
        await asyncio.gather(body_task, watch_task, return_exceptions=True)
    if body_task.done() and not body_task.cancelled() and body_task.exception() is None:
        return
    for task in (body_task, watch_task):
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    raise aiomqtt.MqttError("the MQTT session ended")
