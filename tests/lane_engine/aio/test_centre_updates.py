"""Data from the centre over MQTT reaches the lanes: a blacklist delta refuses the next card."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import aiomqtt
import pytest

from tcp_rsu import LANE, ScriptedClock, ScriptedTcpRsu, plaza_config  # isort: skip
from scripted_rsu import CARD, b0, b2, b4  # isort: skip

from lane_engine.aio.bus import EventBus, LaneEvent
from lane_engine.aio.plaza import CentreUpdate, Plaza
from lane_engine.config import MqttSettings
from lane_engine.core.blacklist import Blacklist, BlacklistDelta, Reason
from lane_engine.core.effects import RsuReady, VehicleRefused
from lane_engine.core.outcomes import ReasonCode
from lane_engine.core.policy import Policy
from lane_engine.files.blacklist import save_text
from lane_engine.files.policy import policy_toml
from lane_engine.station.centre import encode_blacklist_delta
from protocols.frames import Continue, Initialise, Stop
from tests.support.broker import Broker

pytestmark = pytest.mark.broker


async def wait_until(condition: object, timeout: float = 10) -> None:
    async def poll() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


async def test_a_blacklist_delta_from_the_centre_is_applied(
    tmp_path: Path, mqtt_broker: Broker
) -> None:
    listed = tmp_path / "blacklist.txt"
    save_text(listed, Blacklist.empty(5))
    rsu = ScriptedTcpRsu()
    await rsu.start()
    config = plaza_config(tmp_path, {LANE: rsu.port}, blacklist=listed,
                          mqtt=MqttSettings(mqtt_broker.host, mqtt_broker.port))
    root = "etc/3701/120/centre"
    async with aiomqtt.Client(mqtt_broker.host, mqtt_broker.port) as centre:
        # Retained before the lane is even up: it gets them when it subscribes.
        await centre.publish(f"{root}/blacklist/delta", encode_blacklist_delta(
            BlacklistDelta(5, ((CARD, Reason.LOST),))), qos=1, retain=True)
        stop, bus, events = asyncio.Event(), EventBus(), []
        bus.subscribe(events.append)
        plaza = Plaza(config, bus=bus, rng=random.Random(1), clock=ScriptedClock())
        task = asyncio.create_task(plaza.run(stop))

        def updates() -> list[CentreUpdate]:
            return [e.event for e in events if isinstance(e.event, CentreUpdate)]

        def seen(kind: type) -> list[LaneEvent]:
            return [e for e in events if isinstance(e.event, kind)]

        try:
            await wait_until(lambda: updates())
            await centre.publish(f"{root}/blacklist/delta", encode_blacklist_delta(
                BlacklistDelta(3, ((CARD, Reason.FORGED),))), qos=1, retain=True)
            await centre.publish(f"{root}/policy", policy_toml(Policy("policy-centre")).encode(),
                                 qos=1)
            await wait_until(lambda: len(updates()) >= 2)
            await rsu.connected()
            await rsu.expect(Initialise)
            rsu.send(b0())
            await wait_until(lambda: seen(RsuReady))
            rsu.send(b2())
            await rsu.expect(Continue)
            rsu.send(b4())
            await rsu.expect(Stop)
            await wait_until(lambda: seen(VehicleRefused))
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await rsu.stop()
    first, *rest = updates()
    assert (first.kind, first.applied, first.version) == ("blacklist/delta", True, "6")
    assert plaza.data.blacklist.version == 6
    assert plaza.data.blacklist.reason_for(CARD) is Reason.LOST  # the old delta changed nothing
    assert ("policy", True, "policy-centre") in [(u.kind, u.applied, u.version) for u in rest]
    refused = seen(VehicleRefused)[0].event
    assert refused.reason is ReasonCode.BLACKLISTED  # type: ignore[attr-defined]
    assert refused.record.blacklist_version == 6  # type: ignore[attr-defined]
    assert refused.record.policy_version == "policy-centre"  # type: ignore[attr-defined]


async def test_a_malformed_centre_message_is_refused_not_fatal(tmp_path: Path) -> None:
    config = plaza_config(tmp_path, {LANE: 1})
    events: list[LaneEvent] = []
    bus = EventBus()
    bus.subscribe(events.append)
    plaza = Plaza(config, bus=bus)
    stop = asyncio.Event()
    task = asyncio.create_task(plaza.run(stop))
    await wait_until(lambda: plaza.runners)
    await plaza.apply_centre("blacklist/delta", b"{not json")
    await plaza.apply_centre("fee-table", b'{"version": "x", "path": "/nowhere"}')
    stop.set()
    await asyncio.wait_for(task, 10)
    refused = [e.event for e in events if isinstance(e.event, CentreUpdate)]
    assert [(u.kind, u.applied) for u in refused] == [("blacklist/delta", False),
                                                       ("fee-table", False)]
