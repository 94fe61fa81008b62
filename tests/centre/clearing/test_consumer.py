"""Clearing from a real mosquitto: a shared subscription, acknowledged only after the batch is
committed, so a consumer that fails before committing has its messages sent again."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from centre.clearing.clearer import Clearer
from centre.clearing.consumer import ConsumerOptions, ConsumerStats, consume
from centre.clearing.values import ClearingState
from centre.errors import StoreError
from centre.link.mqtt import BrokerSettings, publish
from centre.store.store import Store
from centre.values import CardKind
from tests.centre.clearing.records import T0, card_number, clearer, entry, message, register
from tests.centre.store.helpers import opened
from tests.support.broker import Broker

pytestmark = pytest.mark.broker
CARDS = [card_number(n) for n in range(1, 9)]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = opened(str(tmp_path / "centre.sqlite3"))
    register(store, dict.fromkeys(CARDS, CardKind.B))
    return store


def _records() -> list[tuple[str, bytes]]:
    out = []
    for n, card in enumerate(CARDS):
        for trip in range(5):
            record = entry(card, trip, T0 + dt.timedelta(hours=trip, minutes=n),
                           serial=100 * n + trip)
            out.append((f"etc/3701/{record.lane_station}/1/transactions",
                        message(record, 100 * n + trip)))
    return out


def _booked(store: Store) -> int:
    with store.transaction() as tx:
        return tx.clearing.counts().get(ClearingState.BOOKED, 0)


#: A bound on a whole consume call, so a lost message fails the test instead of hanging it; the
#: tests end on what they wait for (a count of messages, a session), never on an idle time,
#: which a loaded machine can stretch past any limit between two deliveries.
DEADLINE_S = 60.0


async def _consume_until(clearer: Clearer, settings: BrokerSettings, options: ConsumerOptions,
                         messages: int, subscribed: asyncio.Event | None = None,
                         sessions: list[str] | None = None) -> ConsumerStats:
    """Consume until `messages` have been cleared and acknowledged."""
    stop = asyncio.Event()

    def on_batch(deliveries: object, report: object, stats: ConsumerStats) -> None:
        if stats.messages >= messages:
            stop.set()

    def on_session(state: str, detail: str) -> None:
        if sessions is not None:
            sessions.append(state)
        if state == "subscribed" and subscribed is not None:
            subscribed.set()

    return await asyncio.wait_for(
        consume(clearer, settings, options, stop, on_batch=on_batch, on_session=on_session),
        DEADLINE_S)


class FailingOnce(Clearer):
    """A clearer whose first batch fails before anything is committed."""

    failed = False

    def clear(self, items, now=None):  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed = True
            raise RuntimeError("the store went away")
        return super().clear(items, now)


async def test_every_published_record_is_booked_once(mqtt_broker: Broker, store: Store) -> None:
    settings = BrokerSettings(mqtt_broker.host, mqtt_broker.port, client_id="clearing-t1")
    records = _records()
    subscribed = asyncio.Event()
    consuming = asyncio.ensure_future(_consume_until(
        clearer(store), settings, ConsumerOptions(batch_size=7), len(records) + 10, subscribed))
    await asyncio.wait_for(subscribed.wait(), DEADLINE_S)  # a message published before is lost
    await publish(settings, records + records[:10], client_id="plaza")
    stats = await consuming
    assert stats.messages == len(records) + 10
    assert stats.report.taken["redelivery"] == 10
    assert _booked(store) == len(records)


async def test_a_batch_not_committed_is_not_acknowledged_and_comes_again(
        mqtt_broker: Broker, store: Store) -> None:
    settings = BrokerSettings(mqtt_broker.host, mqtt_broker.port, client_id="clearing-t2")
    options = ConsumerOptions(batch_size=1000)
    base = clearer(store)
    failing = FailingOnce(store, base.tac, base.tariff)
    await consume(base, settings, ConsumerOptions(idle_exit_s=0.3))  # the session exists
    await publish(settings, _records(), client_id="plaza")
    with pytest.raises(RuntimeError):
        await _consume_until(failing, settings, options, len(_records()))
    assert _booked(store) == 0
    # the same client id: the session's messages, those the failed batch held among them
    stats = await _consume_until(base, settings, options, len(_records()))
    assert stats.messages == len(_records())
    assert _booked(store) == len(_records())


class StoreFailingOnce(Clearer):
    """A clearer whose store fails on the first batch (a write lock held elsewhere)."""

    failed = False

    def clear(self, items, now=None):  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed = True
            raise StoreError("centre.sqlite3: cannot begin a transaction: database is locked")
        return super().clear(items, now)


async def test_a_failing_store_holds_the_batch_back_and_tries_it_again(
        mqtt_broker: Broker, store: Store) -> None:
    settings = BrokerSettings(mqtt_broker.host, mqtt_broker.port, client_id="clearing-t3")
    base = clearer(store)
    sessions: list[str] = []
    await consume(base, settings, ConsumerOptions(idle_exit_s=0.3))  # the session exists
    await publish(settings, _records(), client_id="plaza")
    stats = await _consume_until(StoreFailingOnce(store, base.tac, base.tariff), settings,
                                 ConsumerOptions(reconnect_s=(0.05, 0.1)), len(_records()),
                                 sessions=sessions)
    assert "store failing" in sessions
    assert stats.messages == len(_records()) and _booked(store) == len(_records())
