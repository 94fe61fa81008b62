"""The station link over MQTT (the only module that imports aiomqtt).

Topics and payloads are in `lane_engine.station.topics`:

* `{lane}/transactions`: QoS 1, the journal's outbox drained in order; an entry is marked
  published only after its PUBACK, so a broker outage loses nothing and may repeat a record after
  a reconnection (consumers de-duplicate by `idempotency_key`).
* `{lane}/status`: QoS 1, retained; one MQTT session per lane, whose last will sets the lane
  "offline" when the process dies.
* `alarms`: QoS 1, not retained; alarms wait in memory while the broker is away and go first
  when it is back (at most `ALARM_BACKLOG`; the oldest are dropped, and counted).
* `centre/{blacklist/full, blacklist/delta, policy, fee-table}`: subscribed (QoS 1); payloads
  are handed to `on_centre` undecoded.

Every session reports its state (`BrokerLink`: connecting, connected, lost with the reason, the
delay before the next attempt and the outbox backlog) to `on_link`. TLS (CA, client certificate)
and username/password come from `MqttSettings`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import aiomqtt

from lane_engine.aio.clock import Clock, Random, Sleep, SystemClock, backoff_delay
from lane_engine.config import MqttSettings, MqttTls, Reconnect
from lane_engine.errors import ConfigError
from lane_engine.journal import OutboxEntry
from lane_engine.station.events import Alarm, BrokerLink, LinkState
from lane_engine.station.topics import (
    CENTRE_KINDS,
    Topics,
    alarm_payload,
    offline_payload,
    status_payload,
    transaction_payload,
)

__all__ = [
    "ALARM_BACKLOG",
    "CentreHandler",
    "LinkListener",
    "MqttLink",
    "Outbox",
    "Topics",
    "offline_payload",
    "tls_context",
    "transaction_payload",
]

#: Alarms kept while the broker is away.
ALARM_BACKLOG = 1000


def tls_context(tls: MqttTls) -> ssl.SSLContext:
    """The client side of TLS to the broker (ConfigError naming the file that does not load)."""
    try:
        context = ssl.create_default_context(
            cafile=None if tls.ca_file is None else str(tls.ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"mqtt.tls.ca_file: {tls.ca_file}: cannot load: {exc}") from exc
    if tls.cert_file is not None:
        try:
            context.load_cert_chain(str(tls.cert_file),
                                    None if tls.key_file is None else str(tls.key_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"mqtt.tls.cert_file: {tls.cert_file}: cannot load the client "
                              f"certificate and key: {exc}") from exc
    return context


class Outbox(Protocol):
    """What the publisher needs of the journal."""

    def outbox_batch(self, limit: int) -> list[OutboxEntry]: ...

    def mark_published(self, up_to_seq: int) -> int: ...

    def pending_count(self) -> int: ...


CentreHandler = Callable[[str, bytes], Awaitable[None]]
#: Told of every session's state: the lane of a status session (None: the plaza session).
LinkListener = Callable[[int | None, BrokerLink], None]


class MqttLink:
    """Publishes the outbox, the lanes' status and the alarms, and listens to the centre, with
    reconnection.

    `run()` returns after `close()`: the alarms and the outbox are drained for at most `drain_s`
    seconds, every lane's status is set "offline", and the sessions end.
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
        clock: Clock | None = None,
        on_link: LinkListener = lambda lane, link: None,
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
        self._clock = clock or SystemClock()
        self._on_link = on_link
        self._tls = None if settings.tls is None else tls_context(settings.tls)
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._give_up_at: float | None = None
        self._status: dict[int, bytes] = {}
        self._status_changed = {lane: asyncio.Event() for lane in self._lanes}
        self._alarms: deque[tuple[Alarm, float]] = deque()
        self.published = 0
        self.disconnects = 0
        self.alarms_sent = 0
        self.alarms_dropped = 0
        #: Whether the plaza session (outbox, alarms, centre) is up.
        self.connected = False

    # ------------------------------------------------------------ called by the plaza

    def wake(self) -> None:
        """New outbox entries were committed."""
        self._wake.set()

    def set_status(self, lane: int, status: dict[str, Any]) -> None:
        """The lane's current status (published retained, latest wins)."""
        self._status[lane] = status_payload(status)
        self._status_changed[lane].set()

    def send_alarm(self, alarm: Alarm) -> None:
        """Publish `alarm` on the alarms topic, stamped now (queued while the broker is away)."""
        if len(self._alarms) >= ALARM_BACKLOG:
            self._alarms.popleft()
            self.alarms_dropped += 1
        self._alarms.append((alarm, self._clock.time()))
        self._wake.set()

    def close(self, drain_s: float) -> None:
        """Finish: drain the alarms and the outbox for at most `drain_s`, then go offline."""
        self._give_up_at = asyncio.get_running_loop().time() + drain_s
        self._closing.set()
        self._wake.set()
        for event in self._status_changed.values():
            event.set()

    async def run(self) -> None:
        """Run every session until `close()` and the drain are done."""
        sessions = [self._session(self._client_id, None, self._drain, self._listen)]
        for lane in self._lanes:
            sessions.append(self._session(
                f"{self._client_id}-lane{lane}", lane,
                lambda client, lane=lane: self._publish_status(client, lane),  # type: ignore[misc]
                self._watch,
            ))
        await asyncio.gather(*sessions)

    # ------------------------------------------------------------ sessions

    def _report(self, lane: int | None, state: LinkState, identifier: str, **fields: Any) -> None:
        backlog = self._outbox.pending_count() if lane is None else 0
        self._on_link(lane, BrokerLink(state, self._settings.address, identifier,
                                       backlog=backlog, tls=self._tls is not None, **fields))

    def _client(self, identifier: str, lane: int | None) -> aiomqtt.Client:
        settings = self._settings
        will = None if lane is None else aiomqtt.Will(
            self.topics.status(lane), offline_payload(lane, self._clock.time(), "connection lost"),
            qos=1, retain=True)
        client = aiomqtt.Client(
            settings.host, settings.port, identifier=identifier, will=will,
            username=settings.username or None, password=settings.password or None,
            tls_context=self._tls, keepalive=settings.keepalive_s,
            timeout=settings.publish_timeout_s,
        )
        # A batch is pipelined on purpose: that many publishes in flight are no warning.
        client.pending_calls_threshold = settings.batch_size + 10
        return client

    async def _session(
        self,
        identifier: str,
        lane: int | None,
        body: Callable[[aiomqtt.Client], Awaitable[None]],
        watcher: Callable[[aiomqtt.Client], Awaitable[None]],
    ) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            self._report(lane, LinkState.CONNECTING, identifier)
            try:
                async with self._client(identifier, lane) as client:
                    failures = 0
                    if lane is None:
                        self.connected = True
                    self._report(lane, LinkState.CONNECTED, identifier)
                    await _until_first(body(client), watcher(client))
                    return
            except aiomqtt.MqttError as exc:
                self.disconnects += 1
                failures += 1
                detail = str(exc) or type(exc).__name__
            finally:
                if lane is None:
                    self.connected = False
            delay: float | None = backoff_delay(failures, self._reconnect, self._rng)
            if self._give_up_at is not None:
                left = self._give_up_at - loop.time()
                delay = None if left <= 0 else min(delay or 0.0, left)
            self._report(lane, LinkState.LOST, identifier, detail=detail, retry_in_s=delay,
                         failures=failures)
            if delay is None:
                return  # closing and the broker is away: the outbox keeps what is left
            if self._give_up_at is not None:
                await self._sleep(delay)
                continue
            sleeper = asyncio.ensure_future(self._sleep(delay))
            closing = asyncio.ensure_future(self._closing.wait())
            await asyncio.wait({sleeper, closing}, return_when=asyncio.FIRST_COMPLETED)
            sleeper.cancel()
            closing.cancel()

    async def _send_alarms(self, client: aiomqtt.Client) -> None:
        plaza = f"{self.topics.network}/{self.topics.station}"
        while self._alarms:
            alarm, at = self._alarms[0]
            await client.publish(self.topics.alarms, alarm_payload(alarm, plaza, at), qos=1)
            self._alarms.popleft()  # only once the broker has it
            self.alarms_sent += 1

    async def _drain(self, client: aiomqtt.Client) -> None:
        """Publish the alarms and the outbox in order until closing (then until both are empty
        or out of time)."""
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            await self._send_alarms(client)
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
                await client.publish(topic, offline_payload(lane, self._clock.time(), "shutdown"),
                                     qos=1, retain=True)
                return
            payload = self._status.get(lane)
            if payload is not None and payload != last:
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
