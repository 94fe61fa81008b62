"""The station side of an end-to-end run: an MQTT subscriber that stays subscribed across broker
outages, and the checks every run must pass (delivery once per idempotency key, audit)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiomqtt

from lane_engine.journal import EntryState
from rsu_sim.plaza.run import PlazaRunResult
from rsu_sim.plaza.setup import PLAZA_NETWORK, PLAZA_STATION
from tests.support.broker import Broker

TOPIC = f"etc/{PLAZA_NETWORK}/{PLAZA_STATION}/+/transactions"
ALARMS = f"etc/{PLAZA_NETWORK}/{PLAZA_STATION}/alarms"


class Station:
    """Subscribes to every lane's transactions and the plaza's alarms (QoS 1) and resubscribes
    after an outage; `subscribed` is set while it is, and the test clears it before stopping
    the broker. It gets in as the broker wants (TLS, client certificate, password)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.messages: list[dict[str, Any]] = []
        self.alarms: list[dict[str, Any]] = []
        self.subscribed = asyncio.Event()
        self.sessions = 0
        self.client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Station:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.subscribed.wait(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                async with aiomqtt.Client(self.broker.host, self.broker.port,
                                          **self.broker.client_options()) as client:
                    self.client = client
                    await client.subscribe([(TOPIC, 1), (ALARMS, 1)])
                    self.sessions += 1
                    self.subscribed.set()
                    async for message in client.messages:
                        document = json.loads(bytes(message.payload))  # type: ignore[arg-type]
                        if str(message.topic) == ALARMS:
                            self.alarms.append(document)
                        else:
                            self.messages.append(document)
            except aiomqtt.MqttError:
                self.subscribed.clear()
                await asyncio.sleep(0.05)

    async def gate(self, delay: float) -> None:
        """The plaza's sleep: short back-off, and no reconnection while we are not subscribed
        (a record published then would reach nobody: the broker keeps no sessions)."""
        await asyncio.sleep(min(delay, 0.2))
        await self.subscribed.wait()

    def latest(self) -> dict[str, dict[str, Any]]:
        """Received records by idempotency key, the highest outbox seq of each kept."""
        kept: dict[str, dict[str, Any]] = {}
        for message in self.messages:
            key = message["idempotency_key"]
            if key not in kept or message["seq"] > kept[key]["seq"]:
                kept[key] = message
        return kept

    async def wait_for(self, keys: set[str], timeout: float = 15.0) -> None:
        """Until every key in `keys` has arrived (or the timeout)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not keys <= self.latest().keys():
                    await asyncio.sleep(0.05)


async def check_delivered_once(result: PlazaRunResult, station: Station) -> int:
    """Every closed journal record reached the station exactly once after de-duplication, as
    its final version; returns how many records that is."""
    closed = {e.record.idempotency_key: e.record for e in result.journal
              if e.state is EntryState.CLOSED}
    await station.wait_for(set(closed))
    received = station.latest()
    assert not [e.record.transaction_id for e in result.journal if e.state is EntryState.OPEN]
    assert received.keys() == closed.keys(), (
        f"missing {sorted(closed.keys() - received.keys())[:5]}, "
        f"unexpected {sorted(received.keys() - closed.keys())[:5]}")
    for key, record in closed.items():
        got = received[key]["record"]
        assert (got["transaction_id"], got["outcome"]) == (
            record.transaction_id, record.outcome.value), key
    return len(closed)


def check_audit(result: PlazaRunResult) -> None:
    """The journal reconciles with the simulated cards."""
    assert result.audit.clean, result.audit.render()
    assert result.audit.counts["card purchases"] > 0
