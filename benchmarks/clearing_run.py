"""Clearing throughput over a real mosquitto: a lane's records published by the lane's own
station link (`lane_engine.station.mqtt.MqttLink` draining a durable journal's outbox), then
cleared by the centre's consumer (`centre.clearing.consumer.consume`: shared subscription,
durable SQLite store, acknowledged after commit). Both rates are records per wall second.

The records are a clean simulation's (entry and exit lanes, genuine TACs), their cards
registered at the centre, so every record is checked in full: TAC, CTC, list, fee × policy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
import time
from pathlib import Path

from centre.clearing.clearer import BatchReport, Clearer
from centre.clearing.consumer import ConsumerOptions, ConsumerStats, consume
from centre.clearing.evidence import TacCheck
from centre.clearing.tariff import Tariff
from centre.link.mqtt import BrokerSettings, Delivery
from centre.store.devices import CardRecord
from centre.store.registry import CustomerData, Outlet, VehicleData
from centre.store.store import Store
from centre.values import CardKind, CardStatus, PaymentMethod
from lane_engine.config import MqttSettings, Reconnect
from lane_engine.core.outcomes import TransactionRecord
from lane_engine.core.policy import Policy
from lane_engine.journal import EntryState, MemoryJournal, SqliteJournal
from lane_engine.station.mqtt import MqttLink
from lane_engine.station.topics import Topics
from protocols.records import CardType
from rsu_sim.harness import GroupCommitJournal, Simulation, SimulationOptions
from rsu_sim.harness.setup import POLICY_VERSION
from rsu_sim.model.scenario import clean_scenario
from tests.support.broker import Broker

#: Our decision for the clearing broker: a session may have this many messages in flight (the
#: consumer's batch is bounded by it; mosquitto's default is 20).
INFLIGHT = 1000


@dataclasses.dataclass
class ClearingBroker(Broker):
    """The tests' mosquitto with a session in-flight limit (a clearing deployment's, or
    mosquitto's default of 20)."""

    inflight: int = INFLIGHT

    def _settings(self) -> str:
        return super()._settings() + f"max_inflight_messages {self.inflight}\n"


@dataclasses.dataclass(frozen=True)
class Workload:
    records: list[TransactionRecord]
    simulation: Simulation


def workload(vehicles: int) -> Workload:
    """A clean run's closed records (every one a transaction clearing takes)."""
    journal = MemoryJournal()
    sim = Simulation(clean_scenario(), GroupCommitJournal(journal), SimulationOptions(vehicles))
    sim.run()
    records = [e.record for e in journal.entries() if e.state is EntryState.CLOSED]
    return Workload(records, sim)


def centre_store(path: Path, work: Workload) -> Store:
    """A store holding every card of the workload, as issued."""
    store = Store.open(str(path))
    at = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    outlet = Outlet("370101001", "3701-01", "bench outlet", bytes.fromhex("370101000001"))
    with store.transaction() as tx:
        tx.registry.add_outlet(outlet)
        for n, record in enumerate({r.card_number: r for r in work.records}.values()):
            customer = tx.registry.add_customer(
                CustomerData("person", f"c{n}", "passport", f"P{n:08d}"), outlet.outlet_id, at)
            vehicle = tx.registry.add_vehicle(customer, VehicleData(f"B{n:06d}", 0, 1), at)
            kind = CardKind.A if record.card_type == CardType.CREDIT else CardKind.B
            tx.devices.add_card(CardRecord(
                record.card_number, kind, vehicle, customer, outlet.outlet_id, CardStatus.ACTIVE,
                at, at, vehicle_class=1, key_version=1, algorithm=4,
                start_date=at.date(), expiry_date=at.date().replace(year=2034),
                payment_method=PaymentMethod.WECHAT if kind is CardKind.B else None))
    return store


async def publish_rate(broker: Broker, records: list[TransactionRecord], journal_path: Path,
                       lanes: tuple[int, ...]) -> float:
    """Records per second the lane's station link publishes from a durable journal."""
    network, station = records[0].lane_network, records[0].lane_station
    with SqliteJournal(journal_path) as journal:
        with journal.batch():
            for record in records:
                journal.close(record)
        link = MqttLink(MqttSettings(broker.host, broker.port, batch_size=100),
                        Topics(network, station), "bench-lane", lanes, journal,
                        on_centre=_ignore, reconnect=Reconnect(), rng=random.Random(1))
        started = time.perf_counter()
        task = asyncio.create_task(link.run())
        while journal.pending_count():
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        link.close(drain_s=1.0)
        await asyncio.wait_for(task, 30)
    return len(records) / elapsed


async def _ignore(kind: str, payload: bytes) -> None:
    pass


async def clearing_rate(broker: Broker, clearer: Clearer, expected: int, batch_size: int
                        ) -> tuple[float, ConsumerStats]:
    """Records per second made durable, from the first message taken to the last commit."""
    settings = BrokerSettings(broker.host, broker.port, client_id="bench-clearing")
    marks: list[float] = []

    def batch(deliveries: list[Delivery] | object, report: BatchReport,
              stats: ConsumerStats) -> None:
        marks.append(time.perf_counter())

    first: list[float] = []

    def session(state: str, detail: str) -> None:
        if state == "subscribed":
            first.append(time.perf_counter())

    stats = await consume(clearer, settings, ConsumerOptions(batch_size=batch_size,
                                                             idle_exit_s=1.0),
                          on_batch=batch, on_session=session)
    if stats.messages != expected:
        raise AssertionError(f"cleared {stats.messages} of {expected} messages")
    return stats.messages / (marks[-1] - first[0]), stats


async def register(broker: Broker) -> None:
    """The clearing session exists before the lane publishes, so its messages wait for it."""
    settings = BrokerSettings(broker.host, broker.port, client_id="bench-clearing")
    await consume(_NoStore(), settings, ConsumerOptions(idle_exit_s=0.2))  # type: ignore[arg-type]


class _NoStore:
    def clear(self, items: object, now: object = None) -> BatchReport:
        raise AssertionError("no message is expected while registering")

    def settle_due(self, now: object = None) -> BatchReport:
        return BatchReport()


def clearer_for(store: Store, work: Workload) -> Clearer:
    sim = work.simulation
    late_enough = dt.datetime.fromtimestamp(sim.scenario.start_unix, dt.UTC) + \
        dt.timedelta(hours=6)
    return Clearer(store, TacCheck(sim.key_set), Tariff(sim.fees, Policy(POLICY_VERSION)),
                   clock=lambda: late_enough)
