"""From the outlet's desk to the lane, over a real mosquitto: a card issued and topped up at the
centre enters at a real lane-engine plaza (the simulator's RSU model on TCP, the card's own
keys); the card is reported lost, the centre publishes the next delta, the lane applies it and
says so in its status, the centre times that, and the lane refuses the card at its next pass."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from pathlib import Path

import pytest

from centre.link.mqtt import BrokerSettings
from centre.lists.announcing import announce
from centre.lists.publishing import publish_version
from centre.service.loading import top_up
from centre.service.status import report_loss
from centre.values import CENTRE_ZONE, PaymentMethod
from lane_engine.aio.bus import EventBus, LaneEvent
from lane_engine.aio.plaza import Plaza
from lane_engine.config import LaneSettings, MqttSettings, PlazaConfig, Reconnect
from lane_engine.core.effects import TransactionCompleted, VehicleRefused
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.core.policy import Policy
from lane_engine.files.policy import policy_toml
from protocols.frames import LaneMode
from rsu_sim.site.card_image import load_obu
from tests.centre.service.desk import ok, open_desk
from tests.e2e.one_vehicle_rsu import OneVehicleRsu
from tests.support.broker import Broker

pytestmark = pytest.mark.broker

PLAZA = ("3701", 101)
TERMINAL = bytes.fromhex("370100010101")


def _now() -> dt.datetime:
    return dt.datetime.now(CENTRE_ZONE)


async def _until(condition: object, timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)


async def test_a_card_reported_lost_is_refused_by_the_lane_after_the_next_delta(
        tmp_path: Path, mqtt_broker: Broker) -> None:
    desk = open_desk(str(tmp_path / "centre.sqlite3"), tmp_path / "tray")
    centre, lists = desk.centre, tmp_path / "lists"
    desk.customer()
    card, obu_number = desk.b_card(), desk.obu()
    ok(top_up(centre, desk.request(), card, 10_000, PaymentMethod.CASH, desk.reader(card)))
    first = publish_version(centre.store, lists, "card", _now(), full=True)
    assert first is not None and first.full_path is not None
    broker = BrokerSettings(mqtt_broker.host, mqtt_broker.port)
    await announce(broker, [first], [PLAZA], lists, wait_s=0, clock=_now)

    rsu = OneVehicleRsu(desk.keys, TERMINAL)
    port = await rsu.start()
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_toml(Policy("p-1", reread_window_s=1)), encoding="utf-8")
    config = PlazaConfig(
        PLAZA[0], PLAZA[1], "entry plaza", (LaneSettings(1, LaneMode.ENTRY, "127.0.0.1", port),),
        policy, blacklist=first.full_path, journal=tmp_path / "lane.sqlite3",
        mqtt=MqttSettings(mqtt_broker.host, mqtt_broker.port),
        reconnect=Reconnect(initial_s=0.05, max_s=0.2, jitter=0.1))
    bus, events = EventBus(), []
    bus.subscribe(events.append)

    def seen(kind: type) -> list[LaneEvent]:
        return [e for e in events if isinstance(e.event, kind)]

    stop = asyncio.Event()
    plaza = Plaza(config, bus=bus, rng=random.Random(1))
    task = asyncio.create_task(plaza.run(stop))
    try:
        await asyncio.wait_for(rsu.initialised.wait(), 15)
        obu = load_obu(desk.folder / f"obu-{obu_number}.json", desk.folder / f"card-{card}.json")
        await rsu.drive(obu)
        await _until(lambda: seen(TransactionCompleted))
        [entered] = seen(TransactionCompleted)
        assert entered.event.record.outcome is Outcome.ENTRY_WRITTEN  # type: ignore[union-attr]

        ok(report_loss(centre, desk.request(at=_now()), card))
        second = publish_version(centre.store, lists, "card", _now())
        assert second is not None and second.version.version == 2
        arrivals = await announce(broker, [second], [PLAZA], lists, wait_s=10, clock=_now,
                                  store=centre.store)
        assert arrivals is not None and set(arrivals.seen) == {"3701/101"}
        reached = arrivals.first_at("3701/101")
        assert reached is not None
        loss_reported = second.changes[0].at
        assert second.version.published_at <= reached
        assert dt.timedelta(0) < reached - loss_reported < dt.timedelta(seconds=10)
        print(f"loss report to the lane's status: {(reached - loss_reported).total_seconds():.3f}"
              f" s (publishing to the lane: "
              f"{(reached - second.version.published_at).total_seconds():.3f} s)")
        with centre.store.transaction() as tx:
            assert [a.lane for a in tx.lists.arrivals("card", 2)] == [1]

        await asyncio.sleep(1.1)  # past the lane's re-read window
        await rsu.drive(obu)
        await _until(lambda: seen(VehicleRefused))
        [refused] = seen(VehicleRefused)
        assert refused.event.reason is ReasonCode.BLACKLISTED  # type: ignore[union-attr]
        assert refused.event.record.blacklist_version == 2  # type: ignore[union-attr]
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await rsu.stop()
        centre.store.close()
