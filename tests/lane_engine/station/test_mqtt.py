"""The MQTT link against a real mosquitto: the outbox goes out once, in order; a broker outage
loses nothing; the lanes' status is retained with a last will."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiomqtt
import pytest

from lane_engine.config import MqttSettings, Reconnect
from lane_engine.core.ledger import amend
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.journal import SqliteJournal
from lane_engine.station.mqtt import MqttLink, Topics
from lane_engine.times import parse_time
from tests.support.broker import Broker

pytestmark = pytest.mark.broker

NETWORK, STATION = "3701", 120
TOPICS = Topics(NETWORK, STATION)
TEMPLATE = TransactionRecord(
    transaction_id="", lane_network=NETWORK, lane_station=STATION, lane_number=1, mode="exit",
    outcome=Outcome.REFUSED, reason=ReasonCode.BLACKLISTED, obu_id=1, obu_serial="s",
    card_number="37011901230211225128", card_type=0x17, plate="", vehicle_class=1,
    entry_network="", entry_station=0, entry_time=0, fee=0, discounted_fee=0, amount_debited=0,
    cash_fee=0, balance_before=0, balance_after=0, ctc=-1, psam_terminal_number="",
    terminal_trans_serial=-1, tac="", alg_flag=0, key_version=0, transaction_time="",
    policy_version="p", fee_table_version="f",
)


def refusal(n: int, lane: int = 1) -> TransactionRecord:
    return amend(TEMPLATE, transaction_id=f"{NETWORK}-{STATION:05d}-{lane:03d}-{n:08d}-0",
                 lane_number=lane)


class Consumer:
    """A station-side subscriber that reconnects when told to; keeps every message."""

    def __init__(self, broker: Broker, topic: str) -> None:
        self.broker, self.topic = broker, topic
        self.messages: list[tuple[str, dict[str, Any] | bytes, bool]] = []
        self._task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready))
        await asyncio.wait_for(ready.wait(), 5)

    async def _run(self, ready: asyncio.Event) -> None:
        try:
            async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
                await client.subscribe(self.topic, qos=1)
                ready.set()
                async for message in client.messages:
                    payload = bytes(message.payload)  # type: ignore[arg-type]
                    try:
                        decoded: dict[str, Any] | bytes = json.loads(payload)
                    except ValueError:
                        decoded = payload
                    self.messages.append((str(message.topic), decoded, message.retain))
        except aiomqtt.MqttError:
            pass  # the broker went away; the test reconnects

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def keys(self) -> list[str]:
        return [m[1]["idempotency_key"] for m in self.messages if isinstance(m[1], dict)]

    async def wait_for_keys(self, count: int, timeout: float = 10) -> None:
        async def enough() -> None:
            while len(set(self.keys())) < count:
                await asyncio.sleep(0.02)
        await asyncio.wait_for(enough(), timeout)


class Gate:
    """The link's sleep: short, and held shut while the test wants the link to stay away."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(min(delay, 0.05))
        await self.open.wait()


@asynccontextmanager
async def link_running(broker: Broker, journal: SqliteJournal, lanes: tuple[int, ...] = (1,),
                       gate: Gate | None = None) -> AsyncIterator[MqttLink]:
    link = MqttLink(
        MqttSettings(broker.host, broker.port, publish_timeout_s=2.0, batch_size=16), TOPICS,
        "lane-test", lanes, journal, on_centre=_ignore, rng=random.Random(3),
        reconnect=Reconnect(initial_s=0.05, max_s=0.2), sleep=(gate or Gate()).sleep,
    )
    task = asyncio.create_task(link.run())
    try:
        yield link
    finally:
        link.close(drain_s=2.0)
        await asyncio.wait_for(task, 10)


async def _ignore(kind: str, payload: bytes) -> None:
    pass


async def test_every_outbox_record_arrives_once_in_order(mqtt_broker: Broker) -> None:
    consumer = Consumer(mqtt_broker, f"etc/{NETWORK}/{STATION}/+/transactions")
    await consumer.connect()
    with SqliteJournal() as journal:
        records = [refusal(n, lane=1 + n % 2) for n in range(40)]
        for record in records:
            journal.record_refusal(record)
        async with link_running(mqtt_broker, journal, lanes=(1, 2)) as link:
            await consumer.wait_for_keys(len(records))
        assert journal.pending_count() == 0
    await consumer.close()
    assert consumer.keys() == [r.idempotency_key for r in records]
    assert link.published == len(records)
    for topic, payload, _ in consumer.messages:
        assert isinstance(payload, dict)
        assert topic == TOPICS.transactions(payload["record"]["lane_number"])
        assert payload["record"]["outcome"] == Outcome.REFUSED.value


async def test_a_broker_outage_loses_nothing(mqtt_broker: Broker) -> None:
    consumer = Consumer(mqtt_broker, f"etc/{NETWORK}/{STATION}/+/transactions")
    await consumer.connect()
    gate = Gate()
    with SqliteJournal() as journal:
        before = [refusal(n) for n in range(20)]
        during = [refusal(n) for n in range(20, 45)]
        async with link_running(mqtt_broker, journal, gate=gate) as link:
            for record in before:
                journal.record_refusal(record)
            link.wake()
            await consumer.wait_for_keys(len(before))
            gate.open.clear()  # the link may not come back before the consumer listens again
            mqtt_broker.stop()
            for record in during:
                journal.record_refusal(record)
            link.wake()
            await asyncio.sleep(0.3)
            assert journal.pending_count() == len(during)  # waiting in the journal
            mqtt_broker.start()
            await consumer.close()
            await consumer.connect()
            gate.open.set()
            await consumer.wait_for_keys(len(before) + len(during))
        assert journal.pending_count() == 0
        assert link.disconnects >= 1
    await consumer.close()
    keys = consumer.keys()
    expected = [r.idempotency_key for r in before + during]
    # De-duplicated by key, each record exactly once, in outbox order.
    assert list(dict.fromkeys(keys)) == expected


async def test_status_is_retained_and_set_offline_on_close(mqtt_broker: Broker) -> None:
    with SqliteJournal() as journal:
        async with link_running(mqtt_broker, journal, lanes=(1, 2)) as link:
            link.set_status(1, {"lane": 1, "status": "online", "rsu": "connected"})
            link.set_status(2, {"lane": 2, "status": "online", "rsu": "disconnected"})
            late = Consumer(mqtt_broker, f"etc/{NETWORK}/{STATION}/+/status")
            await asyncio.sleep(0.3)
            await late.connect()  # subscribes after the fact: gets the retained status
            await asyncio.sleep(0.3)
            await late.close()
    retained = {topic: payload for topic, payload, was_retained in late.messages if was_retained}
    assert retained[TOPICS.status(1)] == {"lane": 1, "status": "online", "rsu": "connected"}
    assert retained[TOPICS.status(2)]["rsu"] == "disconnected"  # type: ignore[index]
    after = Consumer(mqtt_broker, TOPICS.status(1))
    await after.connect()
    await asyncio.sleep(0.3)
    await after.close()
    offline = after.messages[-1][1]
    assert isinstance(offline, dict)
    assert {k: offline[k] for k in ("lane", "status", "reason")} == {
        "lane": 1, "status": "offline", "reason": "shutdown"}
    assert abs(parse_time(offline["at"]) - time.time()) < 60
