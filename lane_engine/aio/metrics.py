"""The plaza's Prometheus metrics (the only module that imports prometheus_client).

Counters and histograms follow the event bus; gauges are read from the plaza when scraped.
Each plaza has its own registry, so several plazas in one process (tests, the demo) do not mix.

| metric | type | labels | what |
|---|---|---|---|
| `etc_lane_info` | gauge (1) | network, station, name, version | the plaza and the software |
| `etc_lane_state` | gauge (1 for the current one) | lane, state | the lane's state machine |
| `etc_lane_rsu_connected` | gauge | lane | 1 while the RSU connection is up |
| `etc_lane_transactions_total` | counter | lane, outcome, reason | vehicles by outcome and reason |
| `etc_lane_unresolved_settled_total` | counter | lane, outcome | UNRESOLVED settled later |
| `etc_lane_decision_seconds` | histogram | lane | B2 handled (ObuDetected) to the outcome event |
| `etc_lane_last_vehicle_timestamp_seconds` | gauge | lane | UNIX time of the latest outcome |
| `etc_lane_last_vehicle` | gauge (1) | lane, outcome, reason | the latest outcome |
| `etc_lane_rsu_reconnects_total` | counter | lane | RSU links lost or not made, retried |
| `etc_lane_frames_rejected_total` | counter | lane | bytes from the RSU that were no frame |
| `etc_lane_alarms_total` | counter | alarm | alarms raised |
| `etc_lane_outbox_backlog` | gauge | | records not yet published |
| `etc_lane_broker_connected` | gauge | | 1 while the plaza MQTT session is up (absent: no broker) |
| `etc_lane_broker_disconnects_total` | counter | | plaza MQTT sessions lost or not made |
| `etc_lane_journal_commit_seconds` | histogram | | one group commit (SQLite writes and fsync) |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lane_engine.aio.bus import FrameRejected, LaneEvent, RsuDisconnected
from lane_engine.core.effects import (
    ObuDetected,
    ObuLost,
    ObuReread,
    TransactionCompleted,
    TransactionFailed,
    TransactionUnresolved,
    UnresolvedTransactionSettled,
    VehicleRefused,
)
from lane_engine.core.machine import LaneState
from lane_engine.core.outcomes import TransactionRecord
from lane_engine.station.events import Alarm, BrokerLink, LinkState

__all__ = ["CONTENT_TYPE", "DECISION_BUCKETS", "PlazaMetrics", "PlazaView"]

#: The exposition format `exposition()` writes, as served on `/metrics`.
CONTENT_TYPE: str = CONTENT_TYPE_LATEST
#: Decision latency buckets, seconds: a vehicle is decided in tens to hundreds of milliseconds.
DECISION_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0)
#: Commit time buckets, seconds: an fsync takes from tens of microseconds to tens of ms.
COMMIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
#: OBUs seen (B2) whose outcome has not come yet, per plaza: past this the oldest are forgotten.
_OPEN_PASSES = 10_000
_OUTCOMES = (TransactionCompleted, VehicleRefused, TransactionFailed, TransactionUnresolved)


class PlazaView(Protocol):
    """What the metrics read of the plaza when scraped."""

    def lane_states(self) -> Mapping[int, tuple[LaneState, bool]]:
        """Each lane's state and whether its RSU connection is up."""
        ...

    def broker_connected(self) -> bool | None:
        """Whether the plaza's MQTT session is up; None without a broker."""
        ...

    def outbox_backlog(self) -> int:
        """Records not yet published."""
        ...


@dataclass(slots=True)
class _LastVehicle:
    at: float
    outcome: str
    reason: str


class PlazaMetrics:
    """The registry of one plaza; subscribe it to the bus (`bus.subscribe(metrics)`) and call
    `committed(seconds)` after each journal commit."""

    def __init__(self, plaza: PlazaView, info: Mapping[str, str]) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.transactions = Counter(
            "etc_lane_transactions", "Vehicles decided, by outcome and reason",
            ["lane", "outcome", "reason"], registry=registry)
        self.settled = Counter(
            "etc_lane_unresolved_settled", "UNRESOLVED transactions settled on a later sighting",
            ["lane", "outcome"], registry=registry)
        self.decisions = Histogram(
            "etc_lane_decision_seconds", "B2 handled (ObuDetected) to the vehicle's outcome",
            ["lane"], buckets=DECISION_BUCKETS, registry=registry)
        self.reconnects = Counter(
            "etc_lane_rsu_reconnects", "RSU connections lost or not made, then retried",
            ["lane"], registry=registry)
        self.rejected = Counter(
            "etc_lane_frames_rejected", "Bytes from the RSU that were not a good frame",
            ["lane"], registry=registry)
        self.alarms = Counter("etc_lane_alarms", "Alarms raised", ["alarm"], registry=registry)
        self.broker_disconnects = Counter(
            "etc_lane_broker_disconnects", "Plaza MQTT sessions lost or not made",
            registry=registry)
        self.commits = Histogram(
            "etc_lane_journal_commit_seconds", "One group commit: SQLite writes and fsync",
            buckets=COMMIT_BUCKETS, registry=registry)
        self.last: dict[int, _LastVehicle] = {}
        self._detected: dict[tuple[int, int], float] = {}
        registry.register(_ScrapeTime(plaza, self.last, dict(info)))
        self._handlers: dict[type, Callable[[int | None, float, Any], None]] = {
            ObuDetected: self._detected_at,
            ObuLost: self._forget,
            ObuReread: self._forget,
            UnresolvedTransactionSettled: self._settled,
            RsuDisconnected: self._rsu_lost,
            FrameRejected: lambda lane, at, e: self.rejected.labels(str(lane)).inc(e.count),
            Alarm: self._alarm,
            BrokerLink: self._broker,
            **dict.fromkeys(_OUTCOMES, self._outcome),
        }

    def __call__(self, event: LaneEvent) -> None:
        handler = self._handlers.get(type(event.event))
        if handler is not None:
            handler(event.lane, event.at, event.event)

    def committed(self, seconds: float) -> None:
        """A journal commit took `seconds`."""
        self.commits.observe(seconds)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    # ------------------------------------------------------------ events

    def _detected_at(self, lane: int | None, at: float, event: ObuDetected) -> None:
        if lane is None:
            return
        if len(self._detected) >= _OPEN_PASSES:
            self._detected.pop(next(iter(self._detected)))
        self._detected[(lane, event.obu_id)] = at

    def _forget(self, lane: int | None, at: float, event: ObuLost | ObuReread) -> None:
        if lane is not None:
            self._detected.pop((lane, event.obu_id), None)

    def _outcome(self, lane: int | None, at: float, event: Any) -> None:
        if lane is None:
            return  # start-up recovery of a previous run's intents: not a vehicle now
        record: TransactionRecord = event.record
        outcome, reason = record.outcome.value, record.reason.name
        self.transactions.labels(str(lane), outcome, reason).inc()
        started = self._detected.pop((lane, record.obu_id), None)
        if started is not None:
            self.decisions.labels(str(lane)).observe(max(0.0, at - started))
        self.last[lane] = _LastVehicle(at, outcome, reason)

    def _settled(self, lane: int | None, at: float, event: UnresolvedTransactionSettled
                 ) -> None:
        self.settled.labels(str(lane), event.record.outcome.value).inc()

    def _rsu_lost(self, lane: int | None, at: float, event: RsuDisconnected) -> None:
        if event.retry_in_s is not None:
            self.reconnects.labels(str(lane)).inc()

    def _alarm(self, lane: int | None, at: float, event: Alarm) -> None:
        if not event.cleared:
            self.alarms.labels(event.kind.value).inc()

    def _broker(self, lane: int | None, at: float, event: BrokerLink) -> None:
        if lane is None and event.state is LinkState.LOST:
            self.broker_disconnects.inc()


class _ScrapeTime(Collector):
    """The gauges read from the plaza at each scrape."""

    def __init__(self, plaza: PlazaView, last: Mapping[int, _LastVehicle],
                 info: dict[str, str]) -> None:
        self._plaza, self._last, self._info = plaza, last, info

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("etc_lane_info", "The plaza and the software",
                                 labels=sorted(self._info))
        info.add_metric([self._info[k] for k in sorted(self._info)], 1)
        yield info
        lanes = self._plaza.lane_states()
        state = GaugeMetricFamily("etc_lane_state", "1 for the lane's current state",
                                  labels=["lane", "state"])
        rsu = GaugeMetricFamily("etc_lane_rsu_connected", "1 while the RSU connection is up",
                                labels=["lane"])
        for number, (current, connected) in sorted(lanes.items()):
            for each in LaneState:
                state.add_metric([str(number), each.value], 1 if current is each else 0)
            rsu.add_metric([str(number)], 1 if connected else 0)
        yield state
        yield rsu
        at = GaugeMetricFamily("etc_lane_last_vehicle_timestamp_seconds",
                               "UNIX time of the lane's latest outcome", labels=["lane"])
        latest = GaugeMetricFamily("etc_lane_last_vehicle", "1: the lane's latest outcome",
                                   labels=["lane", "outcome", "reason"])
        for number, last in sorted(self._last.items()):
            at.add_metric([str(number)], last.at)
            latest.add_metric([str(number), last.outcome, last.reason], 1)
        yield at
        yield latest
        yield GaugeMetricFamily("etc_lane_outbox_backlog", "Records not yet published",
                                value=self._plaza.outbox_backlog())
        broker = self._plaza.broker_connected()
        if broker is not None:
            yield GaugeMetricFamily("etc_lane_broker_connected",
                                    "1 while the plaza's MQTT session is up", value=int(broker))
