"""The province's toll plazas in virtual time: per lane an RSU emulator facing a lane-engine core
(the harness's `LanePair`: real frames, real crypto), per plaza one journal with its outbox and
one UNRESOLVED book, the card list the plaza holds, and its uplink to the centre (the outbox
drained as the MQTT transaction messages the station link publishes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lane_engine.core.blacklist import Blacklist
from lane_engine.core.lane import Lane
from lane_engine.core.unresolved import UnresolvedBook
from lane_engine.journal import JournalEntry, MemoryJournal, OutboxEntry
from lane_engine.station.topics import Topics, transaction_payload
from rsu_sim.harness.events import EventQueue
from rsu_sim.harness.journal_sink import GroupCommitJournal
from rsu_sim.harness.run import LanePair, SimulationOptions
from rsu_sim.harness.setup import lane_config
from rsu_sim.harness.summary import Tally
from rsu_sim.model.obu import Obu
from rsu_sim.model.random_bytes import BufferedRandomBytes
from rsu_sim.model.rsu_effects import RsuConfig
from rsu_sim.model.scenario import Fault, Scenario
from rsu_sim.model.streams import EARLY_EXIT_SHARE
from rsu_sim.province.site import Plaza, Site
from rsu_sim.site.devices import faults_of_pass, lane_rsu

#: Our decision: the simulated RSUs send their heartbeat hourly (a field RSU: every 10 s), as a
#: month of 10-second heartbeats would be most of a run's work and tells clearing nothing.
HEARTBEAT_S = 3600.0


class PlazaRun:
    """One plaza: its lanes, journal and list, driven by the province's clock."""

    def __init__(self, plaza: Plaza, site: Site, scenario: Scenario, queue: EventQueue,
                 tally: Tally, rng: np.random.Generator, *, stale_fee_lane: int | None = None
                 ) -> None:
        self.plaza = plaza
        self.options = SimulationOptions()
        self.scenario = scenario
        self.queue = queue
        self.tally = tally
        self.memory = MemoryJournal(clock=lambda: queue.now)
        self.journal = GroupCommitJournal(self.memory)
        self.topics = Topics(plaza.network, plaza.station)
        self._rng = rng
        book = UnresolvedBook()
        self.pairs: dict[int, LanePair] = {}
        config = RsuConfig(heartbeat_interval_s=HEARTBEAT_S)
        for spec in plaza.lanes:
            fees = site.stale_fees if spec.lane_number == stale_fee_lane else site.fees
            lane = Lane(lane_config(spec), site.policy,
                        fees.slice_for(plaza.network, plaza.station), Blacklist.empty(0),
                        unresolved=book)
            rsu = lane_rsu(spec, scenario, site.key_set, np.random.default_rng(rng.integers(2**63)),
                           BufferedRandomBytes(np.random.default_rng(rng.integers(2**63))),
                           config)
            self.pairs[spec.lane_number] = LanePair(self, spec, rsu, lane, rng)
        self.list_version = 0

    def start(self, now: float) -> None:
        for pair in self.pairs.values():
            pair.rsu_effects(pair.rsu.start(now))
            pair.connect(now)

    def stop(self, now: float) -> None:
        for pair in self.pairs.values():
            pair.disconnect(now)
        self.journal.commit()

    # ------------------------------------------------------------ traffic

    def vehicle_arrives(self, lane: int, obu: Obu, faults: frozenset[Fault]) -> Callable[[float],
                                                                                         None]:
        """The action of `obu` entering the zone of `lane`."""
        pair = self.pairs[lane]
        rng = self._rng
        speed = self.scenario.speed
        kmh = float(np.clip(rng.normal(speed.mean_kmh, speed.sd_kmh), speed.min_kmh,
                            speed.max_kmh))
        dwell = self.scenario.radio.zone_length_m / (kmh / 3.6)
        if Fault.ZONE_EXIT_EARLY in faults:
            dwell *= float(rng.uniform(*EARLY_EXIT_SHARE))
        hooks = faults_of_pass(faults, self.scenario, rng)

        def arrive(now: float) -> None:
            pair.rsu_effects(pair.rsu.vehicle_arrived(now, obu, now + dwell, hooks))
        return arrive

    def apply_list(self, blacklist: Blacklist) -> None:
        """The plaza applies a card list version, every lane from its next vehicle on."""
        for pair in self.pairs.values():
            pair.lane.replace_blacklist(blacklist)
        self.list_version = blacklist.version

    # ------------------------------------------------------------ uplink

    def outbox(self, limit: int = 10_000) -> list[OutboxEntry]:
        """The committed records not yet sent to the centre, in commit order."""
        self.journal.commit()
        return self.memory.outbox_batch(limit)

    def message(self, entry: OutboxEntry) -> tuple[str, bytes]:
        """The MQTT transaction message of an outbox entry, as the station link publishes it."""
        return self.topics.transactions(entry.record.lane_number), transaction_payload(entry)

    def sent(self, up_to_seq: int) -> None:
        self.memory.mark_published(up_to_seq)

    def journal_entry(self, transaction_id: str) -> JournalEntry | None:
        return self.memory.get(transaction_id)

    def entries(self) -> list[JournalEntry]:
        self.journal.commit()
        return list(self.memory.entries())
