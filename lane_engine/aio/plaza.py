"""A plaza: one process, many lanes, one journal (group commit), one station link.

`run_plaza(config, stop=...)` is the whole process as a coroutine: the CLI runs it with signal
handlers setting `stop`; a demo or a test runs it in its own event loop.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any

from lane_engine.aio.alarms import AlarmBook
from lane_engine.aio.bus import (
    CentreUpdate,
    EndpointListening,
    EventBus,
    JournalFailed,
    LaneEvent,
    RsuConnected,
    RsuDisconnected,
)
from lane_engine.aio.clock import Clock, Random, Sleep, SystemClock
from lane_engine.aio.committer import GroupCommitter
from lane_engine.aio.connection import LaneRunner
from lane_engine.aio.data import LaneData, load_blacklist, load_fees, load_lane_data
from lane_engine.aio.executor import EffectExecutor
from lane_engine.aio.outbox import CommittedOutbox
from lane_engine.config import LaneSettings, MetricsSettings, PlazaConfig
from lane_engine.core.effects import RsuFaulted, RsuReady, TransactionUnresolved
from lane_engine.core.lane import Lane
from lane_engine.core.machine import LaneState
from lane_engine.core.outcomes import ReasonCode
from lane_engine.core.settling import UnresolvedBook
from lane_engine.errors import ConfigError, LaneError
from lane_engine.journal import JournalFilter, SqliteJournal
from lane_engine.station import centre
from lane_engine.station.events import Alarm, BrokerLink
from lane_engine.station.mqtt import MqttLink, Topics
from lane_engine.times import iso_time
from protocols.stream import warm_up as load_stream_decoder

if TYPE_CHECKING:
    from lane_engine.aio.endpoint import PlazaEndpoint

__all__ = [
    "Plaza",
    "run_plaza",
]

#: How many of the newest journal entries are read to resume each lane's transaction counter.
_RESUME_WINDOW = 1000
#: The events after which a lane's status topic is published again.
_STATUS_EVENTS = frozenset({RsuConnected, RsuDisconnected, RsuReady, RsuFaulted})


class Plaza:
    """The lanes of one station in one process."""

    def __init__(
        self,
        config: PlazaConfig,
        *,
        bus: EventBus | None = None,
        clock: Clock | None = None,
        rng: Random | None = None,
        sleep: Sleep = asyncio.sleep,
        data: LaneData | None = None,
    ) -> None:
        self.config = config
        self.bus = bus or EventBus()
        self.clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._data = data
        self.runners: dict[int, LaneRunner] = {}
        #: The UNRESOLVED purchases of every lane: a card may show up again at any of them.
        self.unresolved = UnresolvedBook()
        self.link: MqttLink | None = None
        #: Raises and clears the alarms (on the bus, and on the alarms topic with a broker).
        self.alarms = AlarmBook(self._alarm)
        self.failure: BaseException | None = None
        #: `/metrics` and `/healthz` while running, with `[metrics]` in the configuration.
        self.endpoint: PlazaEndpoint | None = None
        self._stop: asyncio.Event | None = None
        self._journal: SqliteJournal | None = None
        self._committer: GroupCommitter | None = None
        self._outbox: CommittedOutbox | None = None

    @property
    def data(self) -> LaneData:
        """The versions in force."""
        assert self._data is not None, "the plaza is not running"
        return self._data

    async def run(self, stop: asyncio.Event) -> None:
        """Serve every lane until `stop` is set, then settle, drain and close."""
        self._stop = stop
        config = self.config
        if self._data is None:
            self._data = load_lane_data(config)
        load_stream_decoder()  # numba's cache loaded now, not in a lane's first bad read
        journal = SqliteJournal(config.journal, clock=self.clock.time)
        committer: GroupCommitter | None = None
        outbox: CommittedOutbox | None = None
        try:
            counters = self._recover(journal)
            committer = GroupCommitter(journal, on_commit=self._committed,
                                       on_failure=self._journal_failed,
                                       writer_thread=config.commit_on_writer_thread)
            # Read off the writer thread's connection: a read never waits for a commit.
            outbox = self._outbox = CommittedOutbox(committer)
            if config.mqtt is not None:
                self.link = MqttLink(
                    config.mqtt, Topics(config.network, config.station), config.client_id,
                    [lane.number for lane in config.lanes], outbox,
                    on_centre=self.apply_centre, reconnect=config.reconnect, rng=self._rng,
                    sleep=self._sleep, clock=self.clock, on_link=self._broker_link,
                )
            for settings in config.lanes:
                executor = EffectExecutor(settings.number, committer, self.bus, self.clock)
                lane = self._make_lane(settings, counters.get(settings.number, 0))
                self.runners[settings.number] = LaneRunner(
                    settings, config, lane, executor, clock=self.clock, rng=self._rng,
                    sleep=self._sleep,
                )
            self._journal, self._committer = journal, committer
            if config.metrics is not None:
                self.endpoint = await self._open_endpoint(config.metrics)
                self.bus.publish(LaneEvent(None, self.clock.time(),
                                           EndpointListening(self.endpoint.address)))
            unsubscribe = self.bus.subscribe(self._on_event)
            unsubscribe_alarms = self.bus.subscribe(self.alarms)
            link_task = asyncio.ensure_future(self.link.run()) if self.link else None
            for number in self.runners:
                self._publish_status(number)
            try:
                await asyncio.gather(*(self._guarded(r.run(stop)) for r in self.runners.values()))
                # The closes of the last vehicles; a failure is reported through on_failure.
                await self._guarded(committer.drained())
            finally:
                unsubscribe()
                unsubscribe_alarms()
                if self.link is not None and link_task is not None:
                    self.link.close(config.timeouts.drain_s)
                    await link_task
        finally:
            if self.endpoint is not None:
                await self.endpoint.close()
            if committer is not None:
                committer.close()  # waits for the writer thread, commits anything left
            if outbox is not None:
                outbox.close()
                self._outbox = None
            journal.close_journal()
            self._journal = None
        if self.failure is not None:
            raise self.failure

    # ------------------------------------------------------------ lanes

    def _make_lane(self, settings: LaneSettings, first_transaction: int) -> Lane:
        """The lane for the life of the process, sharing the plaza's UNRESOLVED book."""
        data = self.data
        return Lane(self.config.lane_config(settings), data.policy, data.fees, data.blacklist,
                    tac_verifier=data.verifier, first_transaction=first_transaction,
                    unresolved=self.unresolved)

    async def _guarded(self, work: asyncio.Future[None] | object) -> None:
        try:
            await work  # type: ignore[misc]
        except Exception as exc:  # one lane's fault stops the plaza, reported by run()
            self._failed(exc)

    def _journal_failed(self, exc: BaseException) -> None:
        self.bus.publish(LaneEvent(None, self.clock.time(), JournalFailed(str(exc))))
        self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        if self._stop is not None:
            self._stop.set()

    def _broker_link(self, lane: int | None, link: BrokerLink) -> None:
        self.bus.publish(LaneEvent(lane, self.clock.time(), link))

    def _alarm(self, alarm: Alarm) -> None:
        self.bus.publish(LaneEvent(alarm.lane, self.clock.time(), alarm))
        if self.link is not None:
            self.link.send_alarm(alarm)

    def _committed(self) -> None:
        if self.link is not None:
            self.link.wake()
        if self.endpoint is not None and self._committer is not None:
            self.endpoint.metrics.committed(self._committer.last_commit_s)

    # ------------------------------------------------------------ metrics and health

    async def _open_endpoint(self, settings: MetricsSettings) -> PlazaEndpoint:
        from lane_engine.aio.endpoint import open_endpoint  # prometheus_client, when asked

        config = self.config
        try:
            return await open_endpoint(self, self.bus, settings, {
                "network": config.network, "station": str(config.station), "name": config.name})
        except OSError as exc:
            raise ConfigError(f"{config.source}: metrics: cannot listen on "
                              f"{settings.host}:{settings.port}: {exc.strerror or exc}") from exc

    def lane_states(self) -> dict[int, tuple[LaneState, bool]]:
        """Each lane's state and whether its RSU connection is up."""
        return {n: (r.lane.state, r.connected) for n, r in self.runners.items()}

    def broker_connected(self) -> bool | None:
        """Whether the plaza's MQTT session is up; None without a broker."""
        return None if self.link is None else self.link.connected

    def outbox_backlog(self) -> int:
        """Records not yet published (0 when the journal is closed)."""
        return 0 if self._outbox is None else self._outbox.pending_count()

    def health(self) -> dict[str, Any]:
        """`status` ("ok" while serving, "stopping", "failing" after a fatal fault), each lane's
        state and RSU link, the broker link, the outbox backlog, and the time."""
        if self.failure is not None:
            status, detail = "failing", str(self.failure)
        else:
            stopping = self._stop is None or self._stop.is_set()
            status, detail = ("stopping" if stopping else "ok"), ""
        broker = self.broker_connected()
        return {
            "status": status, "detail": detail,
            "plaza": f"{self.config.network}/{self.config.station}",
            "lanes": {str(n): {"state": state.value,
                               "rsu": "connected" if up else "disconnected"}
                      for n, (state, up) in sorted(self.lane_states().items())},
            "broker": None if broker is None else ("connected" if broker else "disconnected"),
            "outbox_backlog": self.outbox_backlog(),
            "at": iso_time(self.clock.time()),
        }

    def _recover(self, journal: SqliteJournal) -> dict[int, int]:
        """Close intents a previous run left open (UNRESOLVED, for clearing; kept in the book
        for a later sighting of their cards) and find where each lane's transaction counter
        stands."""
        ours = {lane.number for lane in self.config.lanes}
        for record in journal.open_intents():
            if (record.lane_network, record.lane_station) != (self.config.network,
                                                              self.config.station):
                continue
            result = journal.mark_unresolved_for_clearing(record.transaction_id,
                                                          ReasonCode.RESULT_UNKNOWN)
            # The open intent, as priced (not the closed copy): what a sighting settles.
            self.unresolved.remember_intent(record)
            self.bus.publish(LaneEvent(record.lane_number, self.clock.time(),
                                       TransactionUnresolved(result.record)))
        counters: dict[int, int] = {}
        prefix = f"{self.config.network}-{self.config.station:05d}-"
        for entry in journal.entries(JournalFilter(limit=_RESUME_WINDOW, newest_first=True)):
            parts = entry.record.transaction_id.removeprefix(prefix).split("-")
            if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
                lane, counter = int(parts[0]), int(parts[1])
                if lane in ours:
                    counters[lane] = max(counters.get(lane, 0), counter)
        return counters

    # ------------------------------------------------------------ status

    def status(self, lane: int) -> dict[str, object]:
        """The lane's status as published on its status topic."""
        runner = self.runners[lane]
        data = self.data
        return {
            "lane": lane,
            "status": "online",
            "rsu": "connected" if runner.connected else "disconnected",
            "lane_state": runner.lane.state.value,
            "mode": runner.settings.mode.name.lower(),
            "policy_version": data.policy.version,
            "fee_table_version": str(data.fees.version),
            "blacklist_version": data.blacklist.version,
            "at": iso_time(self.clock.time()),
        }

    def _publish_status(self, lane: int) -> None:
        if self.link is not None:
            self.link.set_status(lane, self.status(lane))

    def _on_event(self, event: LaneEvent) -> None:
        # Called for every event of every lane: the type test first, it is the cheap one.
        if type(event.event) in _STATUS_EVENTS and event.lane in self.runners:
            self._publish_status(event.lane)

    # ------------------------------------------------------------ data from the centre

    async def apply_centre(self, kind: str, payload: bytes) -> None:
        """Apply one centre message (see `centre`); a bad one is refused and reported."""
        try:
            version = await self._apply(kind, payload)
        except (LaneError, OSError, ValueError) as exc:
            self.bus.publish(LaneEvent(None, self.clock.time(),
                                       CentreUpdate(kind, False, "", str(exc))))
            return
        if version is not None:
            self.bus.publish(LaneEvent(None, self.clock.time(),
                                       CentreUpdate(kind, True, version)))
            for lane in self.runners:
                self._publish_status(lane)

    async def _apply(self, kind: str, payload: bytes) -> str | None:
        data = self.data
        if kind == "blacklist/delta":
            delta = centre.decode_blacklist_delta(payload)
            updated = await asyncio.to_thread(centre.applied_delta, data.blacklist, delta)
            if updated is None:
                return None
            self.replace_blacklist(updated)
            return str(updated.version)
        if kind == "policy":
            policy = centre.decode_policy(payload)
            if policy.version == data.policy.version:
                return None
            self.replace_policy(policy)
            return policy.version
        note = centre.decode_announcement(payload, kind)
        if kind == "blacklist/full":
            if int(note.version) <= data.blacklist.version:
                return None
            full = await asyncio.to_thread(load_blacklist, note.path)
            self.replace_blacklist(data.blacklist.replaced_by(full))
            return str(full.version)
        if note.version == str(data.fees.version):
            return None
        fees = await asyncio.to_thread(load_fees, self.config, note.path)
        if str(fees.version) != note.version:
            raise ValueError(f"fee table {note.path} is version {fees.version}, "
                             f"announced {note.version}")
        self.replace_fee_schedule(fees)
        return note.version

    def replace_policy(self, policy: centre.Policy) -> None:
        """Every lane uses `policy` from its next vehicle on."""
        self.data.policy = policy
        for runner in self.runners.values():
            runner.lane.replace_policy(policy)

    def replace_fee_schedule(self, fees: object) -> None:
        """Every lane uses `fees` from its next vehicle on."""
        self.data.fees = fees  # type: ignore[assignment]
        for runner in self.runners.values():
            runner.lane.replace_fee_schedule(fees)  # type: ignore[arg-type]

    def replace_blacklist(self, blacklist: centre.Blacklist) -> None:
        """Every lane uses `blacklist` from its next vehicle on."""
        self.data.blacklist = blacklist
        for runner in self.runners.values():
            runner.lane.replace_blacklist(blacklist)


async def run_plaza(
    config: PlazaConfig,
    *,
    stop: asyncio.Event | None = None,
    bus: EventBus | None = None,
    clock: Clock | None = None,
    rng: Random | None = None,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Run a plaza until `stop` is set (or a fatal fault); returns once everything is settled."""
    plaza = Plaza(config, bus=bus, clock=clock, rng=rng, sleep=sleep)
    await plaza.run(stop or asyncio.Event())
