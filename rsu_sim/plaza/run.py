"""The simulator's TCP RSUs (`rsu_sim.server.serve`) and a real lane-engine plaza (`run_plaza`)
in one event loop, over real sockets on loopback; then the journal read back and audited.

A composition root, reused by `python -m rsu_sim.plaza.demo`, the end-to-end tests and the real-TCP
benchmark. `EdgeTally` listens on the plaza's event bus (counts and decision latency measured at
the edge); `collect` turns a finished run into a `PlazaRunResult` (also for a run whose lane is a
separate `lane-engine run` process).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from lane_engine.aio.bus import EventBus, LaneEvent
from lane_engine.aio.clock import Sleep
from lane_engine.aio.plaza import run_plaza
from lane_engine.config import MetricsSettings, MqttSettings, RuntimeTimeouts
from lane_engine.core.effects import (
    CashRequired,
    ObuDetected,
    RecoveryStarted,
    TransactionCompleted,
    TransactionFailed,
    TransactionUnresolved,
    UnresolvedTransactionSettled,
    VehicleRefused,
)
from lane_engine.core.outcomes import TransactionRecord
from lane_engine.journal import JournalEntry, SqliteJournal
from rsu_sim.plaza.setup import DEFAULT_TIMEOUTS, PreparedRun, plaza_config
from rsu_sim.results.audit import AuditReport, audit
from rsu_sim.results.files import CardState, final_cards
from rsu_sim.server.frame_log import ServeSummary
from rsu_sim.server.server import StartTraffic, serve

#: Lane events that carry a vehicle's outcome.
_DECISIONS = (TransactionCompleted, CashRequired, VehicleRefused, TransactionFailed,
              TransactionUnresolved)
#: Our decision: a demo or test run that has not ended by then is stopped (s per arrival).
RUN_DEADLINE_PER_ARRIVAL_S = 1.0


def decision_latency_definition() -> str:
    """What the decision latency measures (our decision): wall time at the edge, in this
    process, from the lane's `ObuDetected` (its B2 read) to its outcome event for that OBU
    (completed, cash, refused, failed or unresolved), through the real sockets and journal."""
    return "B2 read by the lane -> its outcome event, wall ms at the edge"


@dataclass(slots=True)
class EdgeTally:
    """Listens on a plaza's bus: each transaction's latest outcome, decision latencies and
    recoveries, as the lane application would see them."""

    clock: Callable[[], float] = time.perf_counter
    outcomes: dict[str, TransactionRecord] = field(default_factory=dict)
    latencies_s: list[float] = field(default_factory=list)
    recoveries_started: int = 0
    settled_later: int = 0
    _detected: dict[tuple[int | None, int], float] = field(default_factory=dict)

    def __call__(self, event: LaneEvent) -> None:
        what = event.event
        if isinstance(what, ObuDetected):
            self._detected[(event.lane, what.obu_id)] = self.clock()
        elif isinstance(what, _DECISIONS):
            record = what.record
            self.outcomes[record.transaction_id] = record
            started = self._detected.pop((event.lane, record.obu_id), None)
            if started is not None:
                self.latencies_s.append(self.clock() - started)
        elif isinstance(what, RecoveryStarted):
            self.recoveries_started += 1
        elif isinstance(what, UnresolvedTransactionSettled):
            self.settled_later += 1
            self.outcomes[what.record.transaction_id] = what.record

    @property
    def decided(self) -> int:
        """Transactions with an outcome so far."""
        return len(self.outcomes)

    def by_outcome(self) -> Counter[str]:
        """Transactions so far by their latest outcome."""
        return Counter(record.outcome.value for record in self.outcomes.values())


@dataclass(frozen=True, slots=True)
class PlazaRunResult:
    """A finished run: the server's summary, the journal, the audit and the edge's view."""

    serve: ServeSummary
    journal: tuple[JournalEntry, ...]
    cards: tuple[CardState, ...]
    audit: AuditReport
    edge: EdgeTally
    outbox_backlog: int
    wall_s: float


def collect(run: PreparedRun, served: ServeSummary, edge: EdgeTally, wall_s: float
            ) -> PlazaRunResult:
    """Read the run's journal back and audit it against the site's final cards."""
    journal = SqliteJournal(run.files.journal, create=False)
    try:
        entries = tuple(journal.entries())
        backlog = journal.pending_count()
    finally:
        journal.close_journal()
    cards = tuple(final_cards(run.site.fleet, run.site.traffic.population))
    report = audit(entries, cards, run.site.key_set)
    return PlazaRunResult(served, entries, cards, report, edge, backlog, wall_s)


def arrivals_of(run: PreparedRun, vehicles: int | None) -> int:
    """How many arrivals a run of `vehicles` (None: the whole scenario) feeds."""
    total = len(run.site.traffic.arrivals)
    return total if vehicles is None else min(total, vehicles)


async def run_plaza_against_sim(
    run: PreparedRun,
    *,
    speed: float,
    vehicles: int | None = None,
    mqtt: MqttSettings | None = None,
    metrics: MetricsSettings | None = None,
    bus: EventBus | None = None,
    edge: EdgeTally | None = None,
    timeouts: RuntimeTimeouts = DEFAULT_TIMEOUTS,
    sleep: Sleep = asyncio.sleep,
    frame_log: str | Path | TextIO | None = None,
    deadline_s: float | None = None,
    on_ready: Callable[[Mapping[str, int]], object] | None = None,
) -> PlazaRunResult:
    """Serve the run's RSUs on ephemeral loopback ports and run the plaza against them until
    the traffic has passed (or `deadline_s`); then stop the plaza, collect and audit.

    A fault of the plaza stops the traffic and is raised once the server has closed.
    """
    bus = bus or EventBus()
    edge = edge or EdgeTally()
    unsubscribe = bus.subscribe(edge)
    stop_traffic, stop_lanes = asyncio.Event(), asyncio.Event()
    plaza: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    if deadline_s is None:
        deadline_s = 60.0 + RUN_DEADLINE_PER_ARRIVAL_S * arrivals_of(run, vehicles)
    watchdog = loop.call_later(deadline_s, stop_traffic.set)

    def ready(ports: Mapping[str, int]) -> None:
        config = plaza_config(run, ports, mqtt=mqtt, timeouts=timeouts, metrics=metrics)
        task = asyncio.create_task(run_plaza(config, stop=stop_lanes, bus=bus, sleep=sleep))
        task.add_done_callback(lambda _: stop_traffic.set())
        plaza.append(task)
        if on_ready is not None:
            on_ready(ports)

    started = time.monotonic()
    try:
        served = await serve(run.scenario, base_port=0, stop=stop_traffic, vehicles=vehicles,
                             on_ready=ready, speed=speed, start_traffic=StartTraffic.ALL,
                             site=run.site, frame_log=frame_log)
    finally:
        watchdog.cancel()
        stop_lanes.set()
        try:
            for task in plaza:
                await task
        finally:
            unsubscribe()
    return collect(run, served, edge, time.monotonic() - started)
