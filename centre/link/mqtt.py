"""The centre's MQTT sessions (the only module of `centre` that imports aiomqtt).

`session` is a plain one: the status lists' announcements (retained) and the lanes' status
topics they watch to see a new list version arrive.

`SharedSubscription` is how clearing listens: an MQTT 5 shared subscription
(`$share/<group>/<filter>`), so that several clearing processes split one broker's messages,
on a persistent session (clean start off, a session expiry), with **manual acknowledgement**:
a message is acknowledged (PUBACK) only when the caller says so, after the records it carries
are durable. aiomqtt 2.x does not offer manual acknowledgement itself (its issue #345 is open);
the paho client underneath it does (`manual_ack_set`, `ack`, paho-mqtt ≥ 2.0), and this module
is the one place that reaches it, refusing to start when it is missing.

What that buys: a process that dies holding unacknowledged messages loses none of them. The
broker keeps them in the process's session and sends them again when a process comes back under
the same client id (mosquitto keeps a dead member's queue of a shared subscription for its
session; it does not hand it to the other members), and the store's idempotency keys make every
one that had already been committed a no-op. While a member is away, the broker keeps queueing
its share of new messages for it (set the broker's `max_queued_messages` accordingly).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from centre.errors import BrokerError

#: Our decision: a clearing session lives a day after its process is gone, long enough for a
#: restart (or a person) to bring it back; the broker drops it after that.
DEFAULT_SESSION_EXPIRY_S = 86_400


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker is and who we are to it."""

    host: str
    port: int = 1883
    client_id: str = "etc-centre-clearing"
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None  # TLS when given
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = 30
    session_expiry_s: int = DEFAULT_SESSION_EXPIRY_S

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as delivered: acknowledge it with `SharedSubscription.ack` once handled."""

    topic: str
    payload: bytes
    mid: int
    qos: int


def _tls(settings: BrokerSettings) -> ssl.SSLContext | None:
    if settings.ca_file is None:
        return None
    try:
        context = ssl.create_default_context(cafile=str(settings.ca_file))
        if settings.cert_file is not None:
            context.load_cert_chain(str(settings.cert_file),
                                    None if settings.key_file is None else str(settings.key_file))
    except (OSError, ssl.SSLError) as exc:
        raise BrokerError(f"TLS files cannot be loaded: {exc}") from exc
    return context


class SharedSubscription:
    """Messages of a shared subscription, taken one by one and acknowledged by the caller.

    A wait for the next message is never cancelled: aiomqtt's iterator drops a message it had
    already taken from its queue when the wait for it is cancelled, and that message would
    stay unacknowledged, in flight, until the session ends. So a wait that times out goes on in
    the background and the next call picks it up.
    """

    def __init__(self, client: aiomqtt.Client) -> None:
        self._client = client
        self._messages = client.messages.__aiter__()
        self._pending: asyncio.Future[Delivery] | None = None

    async def _take(self) -> Delivery:
        try:
            message = await self._messages.__anext__()
        except aiomqtt.MqttError as exc:
            raise BrokerError(f"the session ended: {exc}") from exc
        except StopAsyncIteration as exc:
            raise BrokerError("the session ended") from exc
        return _delivery(message)

    def drain(self, limit: int) -> list[Delivery]:
        """Up to `limit` messages already received, without waiting: taken straight from
        aiomqtt's queue (its iterator costs two tasks a message; the queue's `get` is safe
        against a wait that is pending meanwhile)."""
        queue = self._client._queue
        taken: list[Delivery] = []
        while len(taken) < limit and not queue.empty():
            taken.append(_delivery(queue.get_nowait()))
        return taken

    async def next(self, timeout: float | None = None,
                   stop: asyncio.Event | None = None) -> Delivery | None:
        """The next message; None when `timeout` passes or `stop` is set first (BrokerError
        when the session is lost)."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._take())
            # A wait the session's end leaves behind fails with nobody to hear it: seen here.
            self._pending.add_done_callback(_seen)
        waits: set[asyncio.Future[Any]] = {self._pending}
        stopping = None if stop is None else asyncio.ensure_future(stop.wait())
        if stopping is not None:
            waits.add(stopping)
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if stopping is not None:
                stopping.cancel()
        if not self._pending.done():
            return None
        taken, self._pending = self._pending, None
        return taken.result()

    def queued(self) -> int:
        """Messages received and not yet taken."""
        return len(self._client.messages)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge messages (PUBACK): the broker forgets them."""
        paho = self._client._client
        for delivery in deliveries:
            if delivery.qos > 0:
                paho.ack(delivery.mid, delivery.qos)


def _delivery(message: aiomqtt.Message) -> Delivery:
    payload = message.payload
    if isinstance(payload, str):
        payload = payload.encode()
    elif not isinstance(payload, bytes | bytearray):
        payload = b"" if payload is None else str(payload).encode()
    return Delivery(str(message.topic), bytes(payload), message.mid, message.qos)


def _seen(future: asyncio.Future[Delivery]) -> None:
    if not future.cancelled():
        future.exception()


@asynccontextmanager
async def shared_subscription(settings: BrokerSettings, group: str, filters: Sequence[str]
                              ) -> AsyncIterator[SharedSubscription]:
    """A persistent MQTT 5 session subscribed to `$share/<group>/<filter>` for each filter at
    QoS 1, delivering without acknowledging (see the module docstring)."""
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = settings.session_expiry_s
    client = aiomqtt.Client(
        settings.host, settings.port, identifier=settings.client_id,
        protocol=aiomqtt.ProtocolVersion.V5, clean_start=False, properties=properties,
        username=settings.username, password=settings.password, tls_context=_tls(settings),
        keepalive=settings.keepalive_s)
    paho = client._client  # the paho client aiomqtt drives: the one that can hold back PUBACKs
    if not hasattr(paho, "manual_ack_set") or not hasattr(paho, "ack"):
        raise BrokerError("this paho-mqtt cannot acknowledge by hand (needs paho-mqtt >= 2.0): "
                          "refusing to clear without acknowledging after durability")
    paho.manual_ack_set(True)
    try:
        async with client:
            await client.subscribe([(f"$share/{group}/{topic}", 1) for topic in filters])
            yield SharedSubscription(client)
    except aiomqtt.MqttError as exc:
        raise BrokerError(f"{settings.address}: {exc}") from exc


async def publish(settings: BrokerSettings, messages: Sequence[tuple[str, bytes]],
                  client_id: str | None = None) -> None:
    """Publish `(topic, payload)` messages at QoS 1, each acknowledged by the broker."""
    client = aiomqtt.Client(
        settings.host, settings.port, identifier=client_id,
        username=settings.username, password=settings.password, tls_context=_tls(settings),
        keepalive=settings.keepalive_s)
    client.pending_calls_threshold = len(messages) + 10
    try:
        async with client:
            for topic, payload in messages:
                await client.publish(topic, payload, qos=1)
    except aiomqtt.MqttError as exc:
        raise BrokerError(f"{settings.address}: {exc}") from exc


class Session:
    """A plain session (clean start, QoS 1): publish, retained or not, subscribe, read."""

    def __init__(self, client: aiomqtt.Client, address: str) -> None:
        self._client = client
        self._address = address
        self._messages = client.messages.__aiter__()

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish at QoS 1; returns once the broker acknowledged it."""
        try:
            await self._client.publish(topic, payload, qos=1, retain=retain)
        except aiomqtt.MqttError as exc:
            raise BrokerError(f"{self._address}: {exc}") from exc

    async def subscribe(self, filters: Sequence[str]) -> None:
        try:
            await self._client.subscribe([(topic, 1) for topic in filters])
        except aiomqtt.MqttError as exc:
            raise BrokerError(f"{self._address}: {exc}") from exc

    async def next(self, timeout_s: float) -> Delivery | None:
        """The next message of the subscriptions, None when none came within `timeout_s`."""
        try:
            message = await asyncio.wait_for(self._messages.__anext__(), timeout_s)
        except TimeoutError:
            return None
        except (aiomqtt.MqttError, StopAsyncIteration) as exc:
            raise BrokerError(f"{self._address}: the session ended: {exc}") from exc
        payload = message.payload
        data = payload if isinstance(payload, bytes | bytearray) else str(payload or "").encode()
        return Delivery(str(message.topic), bytes(data), message.mid, message.qos)


@asynccontextmanager
async def session(settings: BrokerSettings, client_id: str | None = None
                  ) -> AsyncIterator[Session]:
    """A plain session with the broker (for the centre's announcements and what it watches)."""
    client = aiomqtt.Client(
        settings.host, settings.port, identifier=client_id,
        username=settings.username, password=settings.password, tls_context=_tls(settings),
        keepalive=settings.keepalive_s)
    try:
        async with client:
            yield Session(client, settings.address)
    except aiomqtt.MqttError as exc:
        raise BrokerError(f"{settings.address}: {exc}") from exc
