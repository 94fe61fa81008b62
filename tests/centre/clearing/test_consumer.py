"""Clearing from a real mosquitto: a shared subscription, acknowledged only after the batch is
committed, so a consumer that fails before committing has its messages sent again."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from centre.clearing.clearer import Clearer
from centre.clearing.consumer import ConsumerOptions, consume
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
    options = ConsumerOptions(idle_exit_s=1.5, batch_size=7)
    subscribing = asyncio.ensure_future(consume(clearer(store), settings, options))
    await asyncio.sleep(0.5)
    records = _records()
    await publish(settings, records + records[:10], client_id="plaza")
    stats = await subscribing
    assert stats.messages == len(records) + 10
    assert stats.report.taken["redelivery"] == 10
    assert _booked(store) == len(records)


async def test_a_batch_not_committed_is_not_acknowledged_and_comes_again(
        mqtt_broker: Broker, store: Store) -> None:
    settings = BrokerSettings(mqtt_broker.host, mqtt_broker.port, client_id="clearing-t2")
    options = ConsumerOptions(idle_exit_s=1.5, batch_size=1000)
    base = clearer(store)
    failing = FailingOnce(store, base.tac, base.tariff)
    await consume(base, settings, ConsumerOptions(idle_exit_s=0.3))  # the session exists
    await publish(settings, _records(), client_id="plaza")
    with pytest.raises(RuntimeError):
        await consume(failing, settings, options)
    assert _booked(store) == 0
    stats = await consume(base, settings, options)  # the same client id: the session's messages
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
    await consume(base, settings, ConsumerOptions(idle_exit_s=0.3))
    await publish(settings, _records(), client_id="plaza")
    stats = await consume(StoreFailingOnce(store, base.tac, base.tariff), settings,
                          ConsumerOptions(idle_exit_s=1.5, reconnect_s=(0.05, 0.1)),
                          on_session=lambda state, detail: sessions.append(state))
    assert "store failing" in sessions
    assert stats.messages == len(_records()) and _booked(store) == len(_records())
