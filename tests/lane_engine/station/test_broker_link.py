"""The station link tells what its sessions do (connecting, connected, lost with the reason and
the backlog), speaks TLS with a client certificate and a password, and delivers alarms, queued
while the broker is away."""

from __future__ import annotations

import asyncio
import json
import random
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from lane_engine.config import MqttSettings, MqttTls, Reconnect
from lane_engine.errors import ConfigError
from lane_engine.journal import SqliteJournal
from lane_engine.station.events import Alarm, AlarmKind, BrokerLink, LinkState
from lane_engine.station.mqtt import MqttLink, Topics, tls_context
from lane_engine.times import parse_time
from tests.lane_engine.station.test_mqtt import refusal
from tests.support.broker import BROKER_USER, Broker, find_mosquitto, free_port

pytestmark = pytest.mark.broker

TOPICS = Topics("3701", 120)
Seen = list[tuple[int | None, BrokerLink]]


async def _ignore(kind: str, payload: bytes) -> None:
    pass


@asynccontextmanager
async def running(settings: MqttSettings, journal: SqliteJournal,
                  seen: Seen) -> AsyncIterator[MqttLink]:
    link = MqttLink(settings, TOPICS, "lane-test", (1,), journal, on_centre=_ignore,
                    rng=random.Random(3), reconnect=Reconnect(initial_s=0.05, max_s=0.2),
                    on_link=lambda lane, state: seen.append((lane, state)))
    task = asyncio.create_task(link.run())
    try:
        yield link
    finally:
        link.close(drain_s=2.0)
        await asyncio.wait_for(task, 15)


async def until(condition: Any, timeout: float = 15) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


def plaza_states(seen: Seen) -> list[LinkState]:
    return [link.state for lane, link in seen if lane is None]


async def test_a_broker_that_is_not_there_is_reported_then_its_arrival(tmp_path: Path) -> None:
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("Debian's mosquitto is not installed")
    port, seen = free_port(), []
    broker = Broker(binary, tmp_path, port)
    with SqliteJournal() as journal:
        for n in range(3):
            journal.record_refusal(refusal(n))
        async with running(MqttSettings("127.0.0.1", port), journal, seen) as link:
            await until(lambda: plaza_states(seen).count(LinkState.LOST) >= 2)
            lost = next(state for lane, state in seen
                        if lane is None and state.state is LinkState.LOST)
            assert "refused" in lost.detail.lower(), lost
            assert (lost.broker, lost.backlog, lost.failures) == (f"127.0.0.1:{port}", 3, 1)
            assert lost.retry_in_s is not None and lost.retry_in_s > 0
            assert any(lane == 1 and s.state is LinkState.LOST for lane, s in seen)
            assert not link.connected
            broker.start()
            try:
                await until(lambda: journal.pending_count() == 0)
                assert LinkState.CONNECTED in plaza_states(seen) and link.connected
            finally:
                link.close(drain_s=2.0)
                await asyncio.sleep(0.5)
                broker.stop()


def tls_settings(broker: Broker, **changes: Any) -> MqttSettings:
    assert broker.tls is not None
    fields: dict[str, Any] = {
        "username": BROKER_USER[0], "password": BROKER_USER[1], "publish_timeout_s": 2.0,
        "tls": MqttTls(broker.tls.ca, broker.tls.client_cert, broker.tls.client_key)}
    fields.update(changes)
    return MqttSettings(broker.host, broker.port, **fields)


def station_client(broker: Broker) -> aiomqtt.Client:
    assert broker.tls is not None
    context = ssl.create_default_context(cafile=str(broker.tls.ca))
    context.load_cert_chain(str(broker.tls.client_cert), str(broker.tls.client_key))
    return aiomqtt.Client(broker.host, broker.port, username=BROKER_USER[0],
                          password=BROKER_USER[1], tls_context=context)


async def test_alarms_and_records_go_over_tls_with_a_password(mqtt_tls_broker: Broker) -> None:
    received: list[tuple[str, dict[str, Any]]] = []
    seen: Seen = []
    async with station_client(mqtt_tls_broker) as station:
        await station.subscribe("etc/3701/120/#", qos=1)

        async def collect() -> None:
            async for message in station.messages:
                received.append((str(message.topic), json.loads(bytes(message.payload))))  # type: ignore[arg-type]

        collector = asyncio.create_task(collect())
        with SqliteJournal() as journal:
            journal.record_refusal(refusal(1))
            async with running(tls_settings(mqtt_tls_broker), journal, seen) as link:
                link.send_alarm(Alarm(AlarmKind.RSU_DOWN, 1, "cannot connect: refused"))
                link.send_alarm(Alarm(AlarmKind.RSU_DOWN, 1, "connected", cleared=True))
                await until(lambda: len([t for t, _ in received if t.endswith("alarms")]) == 2
                            and any(t.endswith("transactions") for t, _ in received))
        collector.cancel()
    alarms = [payload for topic, payload in received if topic == TOPICS.alarms]
    assert [(a["alarm"], a["state"], a["lane"], a["plaza"]) for a in alarms] == [
        ("rsu_down", "raised", 1, "3701/120"), ("rsu_down", "cleared", 1, "3701/120")]
    assert alarms[0]["detail"] == "cannot connect: refused" and parse_time(alarms[0]["at"]) > 0
    connected = next(s for lane, s in seen if lane is None and s.state is LinkState.CONNECTED)
    assert connected.tls


@pytest.mark.parametrize("change", ["password", "certificate", "plain"])
async def test_the_broker_refuses_a_lane_without_its_credentials(
    mqtt_tls_broker: Broker, change: str
) -> None:
    tls = mqtt_tls_broker.tls
    assert tls is not None
    changes: dict[str, Any] = {
        "password": {"password": "wrong"},
        "certificate": {"tls": MqttTls(tls.ca, tls.stranger_cert, tls.stranger_key)},
        "plain": {"tls": None, "publish_timeout_s": 0.5},
    }[change]
    settings = tls_settings(mqtt_tls_broker, **changes)
    seen: Seen = []
    with SqliteJournal() as journal:
        async with running(settings, journal, seen):
            await until(lambda: LinkState.LOST in plaza_states(seen))
    assert LinkState.CONNECTED not in plaza_states(seen)
    lost = next(s for lane, s in seen if lane is None and s.state is LinkState.LOST)
    if change == "password":
        assert "not authorized" in lost.detail.lower(), lost.detail


def test_tls_files_that_do_not_load_are_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigError, match=r"mqtt\.tls\.ca_file: .*missing\.pem"):
        tls_context(MqttTls(ca_file=missing))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"mqtt\.tls\.cert_file: .*garbage\.pem"):
        tls_context(MqttTls(cert_file=garbage))
