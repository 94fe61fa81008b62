"""`Province`: many days of a simulated province in virtual time.

The day before the first: every vehicle's holder registers at an outlet, gets an A or B card
and an OBU (personalised by the centre) and tops the B card up. Then, day by day: the vehicles
drive their trips (entry lane → exit lane at another plaza, real frames and crypto at both),
B cards are topped up when low (careless holders let theirs run short: cash at the exit), cards
are lost (the loss goes on the centre's list, its delta reaches each plaza minutes later: a
lost card may be debited before), found and unlocked or replaced, a few holders cancel on the
first morning (refunded 30 days later), A cards are billed; the plazas upload their outboxes
every minute, some late (a broker outage), some a day later as a journal file (offline). After
the last day the centre's clock runs on until every upload window has closed. Deterministic by
seed (wall-clock figures aside).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from centre.clearing.clearer import Clearer
from centre.store.registry import CustomerData, Outlet
from centre.values import CardKind
from lane_engine.core.outcomes import TransactionRecord
from lane_engine.journal.export import write_jsonl
from rsu_sim.harness.events import EventQueue
from rsu_sim.harness.summary import Tally
from rsu_sim.model.card import Card
from rsu_sim.model.obu import Obu
from rsu_sim.model.scenario import Fault, FaultMix, Scenario
from rsu_sim.province.config import ProvinceConfig
from rsu_sim.province.desk import CardLists, Desk, vehicle_data
from rsu_sim.province.faults import FaultPlan
from rsu_sim.province.people import Person, TripPlanner, id_card_number, people
from rsu_sim.province.plazas import PlazaRun
from rsu_sim.province.site import Site
from rsu_sim.province.transport import Transport

DAY_S = 86_400.0
#: Outlets serve from 09:00 to 17:00.
OPEN_HOURS = (9.0, 17.0)
#: Our decision: the careless top up on one low day in five.
CARELESS_TOP_UP = 0.2
BILLS_PAID = 0.95


class CountingTally(Tally):
    """The harness's tally, counting outcomes instead of keeping every final record."""

    outcomes: Counter[str]

    def __init__(self) -> None:
        super().__init__()
        self.outcomes = Counter()

    def closed(self, record: TransactionRecord) -> None:
        self.outcomes[record.outcome.value] += 1


@dataclass(slots=True)
class Holder:
    """A vehicle's holder as the run goes: the card in the OBU, and what happened to it."""

    person: Person
    obu: Obu
    card_number: str
    cards: list[tuple[str, Card]] = field(default_factory=list)
    driving: bool = True
    lost_at: float | None = None

    @property
    def card(self) -> Card:
        return self.cards[-1][1]


class Province:
    """One run (see the module docstring)."""

    def __init__(self, config: ProvinceConfig, site: Site, desk: Desk, lists: CardLists,
                 transport: Transport, clearer: Clearer, out: Path,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.config = config
        self.clearer = clearer
        self.site = site
        self.desk = desk
        self.lists = lists
        self.transport = transport
        self.out = out
        self.progress = progress
        seeds = np.random.SeedSequence(config.seed).spawn(6)
        self._people_rng, self._day_seeds, self._lane_rng, self._service_rng, self._up_rng, \
            self._fault_rng = (np.random.default_rng(s) for s in seeds)
        self.start = config.start_at.timestamp()
        self.queue = EventQueue(self.start - DAY_S)
        self.tally = CountingTally()
        scenario = Scenario(tuple(lane for p in site.plazas for lane in p.lanes), name="province",
                            seed=config.seed,
                            faults=FaultMix(radio_fade=config.radio_fade,
                                            zone_exit_early=config.zone_exit_early))
        self.scenario = scenario
        wrong = config.lane_of(config.faults.wrong_fee_lane)
        self.plazas = [PlazaRun(p, site, scenario, self.queue, self.tally,
                                np.random.default_rng(self._lane_rng.integers(2**63)),
                                stale_fee_lane=wrong[1] if wrong and wrong[0] == p.index
                                else None) for p in site.plazas]
        self.planner = TripPlanner(config, site)
        self.holders: dict[int, Holder] = {}
        self.where: dict[int, int] = {}
        self.free_at: dict[int, float] = {}
        self.faults = FaultPlan(config, self)
        self.counts: Counter[str] = Counter()
        self.losses: list[tuple[str, float]] = []  # (card, loss time)
        self.offline: dict[int, float] = {}  # plaza index -> back at
        self.outage_until: dict[int, float] = {}
        self.list_due: dict[int, list[tuple[float, int]]] = {}  # plaza -> [(at, version)]
        self.send_wall_s = 0.0
        self.sent = 0
        self.keys_sent: set[str] = set()
        self.cpu_started = time.process_time()

    # ------------------------------------------------------------ clock

    def at(self, seconds: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)

    def now(self) -> float:
        return self.queue.now

    def _free_time(self, vehicle_id: int, day_start: float, rng: np.random.Generator,
                   trips: dict[int, list[tuple[float, float]]]) -> float | None:
        """An outlet time of the day when the vehicle is not on a trip, or None."""
        for _ in range(6):
            t = day_start + float(rng.uniform(*OPEN_HOURS)) * 3600.0
            if all(not (a - 600 <= t <= b + 600) for a, b in trips.get(vehicle_id, ())):
                return t
        return None

    # ------------------------------------------------------------ issuance (the day before)

    def issue_everyone(self) -> None:
        config, desk = self.config, self.desk
        begin = self.start - DAY_S + 8 * 3600.0
        step = 12 * 3600.0 / max(config.vehicles, 1)
        for k, person in enumerate(people(config, self._people_rng)):
            when = self.at(begin + k * step)
            outlet = self.site.outlets[person.outlet]
            desk.register(outlet, when, _customer(person), vehicle_data(
                person.plate, person.plate_colour, person.vehicle_class))
            number, card = desk.issue_card(outlet, when, person.kind, person.plate,
                                           person.plate_colour)
            image = desk.issue_obu(outlet, when, person.plate, person.plate_colour)
            obu = Obu(person.vehicle_id, person.vehicle_id, image.system_info,
                      image.vehicle_info, card, (image.algorithm, image.vehicle_key))
            holder = Holder(person, obu, number, [(number, card)])
            self.holders[person.vehicle_id] = holder
            self.where[person.vehicle_id] = person.home
            if person.kind is CardKind.B:
                desk.top_up(outlet, when, number, card, person.opening_top_up)
                self.counts["top-ups"] += 1
            self.counts["issued"] += 1

    # ------------------------------------------------------------ a day

    def plan_day(self, day: int) -> None:
        day_start = self.start + day * DAY_S
        rng = np.random.default_rng([self.config.seed, day, 7])
        traffic = day < self.config.days
        drivers = [v for v, h in self.holders.items() if h.driving] if traffic else []
        trips = self.planner.day(day_start, self.where, self.free_at, drivers, rng)
        busy: dict[int, list[tuple[float, float]]] = {}
        for trip in trips:
            busy.setdefault(trip.vehicle_id, []).append((trip.entry_at, trip.exit_at))
            self.queue.at(trip.entry_at, self._pass(trip.vehicle_id, trip.entry_plaza,
                                                    trip.entry_lane, rng))
            self.queue.at(trip.exit_at, self._pass(trip.vehicle_id, trip.exit_plaza,
                                                   trip.exit_lane, rng))
        self.counts["trips"] += len(trips)
        if traffic:
            self._plan_services(day, day_start, rng, busy)
        self._plan_uploads(day, day_start, rng)
        self.queue.at(day_start + 16 * 3600.0, self._pay_refunds)
        if self.config.habits.bill_day and day == self.config.habits.bill_day:
            self.queue.at(day_start + 3600.0, partial(self._bills, rng))
        self.faults.plan_day(day, day_start)

    def _pass(self, vehicle_id: int, plaza: int, lane: int, rng: np.random.Generator
              ) -> Callable[[float], None]:
        faults: set[Fault] = set()
        if rng.random() < self.config.radio_fade:
            faults.add(Fault.RADIO_FADE)
        if rng.random() < self.config.zone_exit_early:
            faults.add(Fault.ZONE_EXIT_EARLY)
        frozen = frozenset(faults)

        def go(now: float) -> None:
            holder = self.holders[vehicle_id]
            if holder.driving:
                self.plazas[plaza].vehicle_arrives(lane, holder.obu, frozen)(now)
                self.counts["passes"] += 1
        return go

    def _plan_services(self, day: int, day_start: float, rng: np.random.Generator,
                       busy: dict[int, list[tuple[float, float]]]) -> None:
        habits = self.config.habits
        for vehicle_id, holder in self.holders.items():
            if not holder.driving:
                continue
            person = holder.person
            if day == 0 and person.cancels:
                self.queue.at(day_start + 9.5 * 3600.0, partial(self._cancel, holder))
                continue
            if holder.lost_at is not None:
                self.queue.at(day_start + 10 * 3600.0,
                              partial(self._found_or_replaced, holder, rng))
                continue
            if rng.random() < habits.loss_per_vehicle_day:
                when = self._free_time(vehicle_id, day_start, rng, busy)
                if when is not None:
                    self.queue.at(when, partial(self._lose, holder))
                    continue
            if person.kind is CardKind.B and holder.card.balance < habits.top_up_below \
                    and (not person.careless or rng.random() < CARELESS_TOP_UP):
                when = self._free_time(vehicle_id, day_start, rng, busy)
                if when is not None:
                    amount = int(rng.integers(*habits.top_up_amount)) // 100 * 100
                    self.queue.at(when, partial(self._top_up, holder, amount))

    def _outlet(self, holder: Holder) -> Outlet:
        return self.site.outlets[holder.person.outlet]

    def _top_up(self, holder: Holder, amount: int, now: float) -> None:
        if holder.driving and holder.lost_at is None:
            self.desk.top_up(self._outlet(holder), self.at(now), holder.card_number,
                             holder.card, amount)
            self.counts["top-ups"] += 1

    def _lose(self, holder: Holder, now: float) -> None:
        self.desk.report_loss(self._outlet(holder), self.at(now), holder.card_number)
        holder.lost_at = now
        self.losses.append((holder.card_number, now))
        self.counts["cards lost"] += 1

    def _found_or_replaced(self, holder: Holder, rng: np.random.Generator, now: float) -> None:
        outlet = self._outlet(holder)
        if rng.random() < self.config.habits.unlock_share:
            self.desk.unlock(outlet, self.at(now), holder.card_number)
            self.counts["cards found and unlocked"] += 1
        else:
            number, card = self.desk.replace(outlet, self.at(now), holder.card_number)
            holder.cards.append((number, card))
            holder.card_number = number
            holder.obu.card = card
            self.counts["cards replaced"] += 1
            if holder.person.kind is CardKind.B:
                self.desk.top_up(outlet, self.at(now), number, card,
                                 holder.person.opening_top_up)
                self.counts["top-ups"] += 1
        holder.lost_at = None

    def _cancel(self, holder: Holder, now: float) -> None:
        self.desk.cancel(self._outlet(holder), self.at(now), holder.card_number, holder.card)
        holder.driving = False
        holder.obu.card = None
        self.counts["cards cancelled"] += 1

    def _pay_refunds(self, now: float) -> None:
        for _, amount in self.desk.pay_refunds_due(self.at(now)):
            self.counts["refunds paid"] += 1
            self.counts["refunded fen"] += amount

    def _bills(self, rng: np.random.Generator, now: float) -> None:
        for bill_id in self.desk.bill(self.at(now)):
            self.counts["bills"] += 1
            if rng.random() < BILLS_PAID:
                later = now + float(rng.uniform(1, 3)) * DAY_S
                self.queue.at(later, partial(self._pay_bill, bill_id))
                self.counts["bills paid"] += 1

    def _pay_bill(self, bill_id: int, now: float) -> None:
        self.desk.pay_bill(self.site.outlets[0], self.at(now), bill_id)

    # ------------------------------------------------------------ uploads and lists

    def _outage(self, index: int, hours: float, now: float) -> None:
        self.outage_until[index] = now + hours * 3600.0

    def _plan_uploads(self, day: int, day_start: float, rng: np.random.Generator) -> None:
        uploads = self.config.uploads
        traffic = day < self.config.days
        for plaza in self.plazas:
            index = plaza.plaza.index
            if traffic and rng.random() < uploads.offline_per_plaza_day:
                self.offline[index] = day_start + DAY_S + 6 * 3600.0
                self.counts["plaza-days offline"] += 1
                self.queue.at(self.offline[index], partial(self._back_online, plaza))
            elif traffic and rng.random() < uploads.outage_per_plaza_day:
                hours = float(rng.uniform(*uploads.outage_hours))
                begin = day_start + float(rng.uniform(0, 24 - hours)) * 3600.0
                self.queue.at(begin, partial(self._outage, index, hours))
                self.counts["broker outages"] += 1
        step = uploads.interval_s
        t = day_start + step
        while t <= day_start + DAY_S:
            self.queue.at(t, self._upload_tick)
            t += step
        t = day_start + uploads.list_interval_s
        while t <= day_start + DAY_S:
            self.queue.at(t, self._publish_lists)
            t += uploads.list_interval_s
        self.queue.at(day_start + DAY_S - 1.0, self._day_end)

    def _reachable(self, index: int, now: float) -> bool:
        if index in self.offline:
            return False
        return self.outage_until.get(index, 0.0) <= now

    def _upload_tick(self, now: float) -> None:
        messages: list[tuple[str, bytes]] = []
        marks: list[tuple[PlazaRun, int]] = []
        for plaza in self.plazas:
            if not self._reachable(plaza.plaza.index, now):
                continue
            batch = plaza.outbox()
            if not batch:
                continue
            for entry in batch:
                messages += self.faults.messages(plaza, entry, now)
            marks.append((plaza, batch[-1].seq))
        messages += self.faults.due(now)
        self._send(messages, now)
        for plaza, seq in marks:
            plaza.sent(seq)

    def _send(self, messages: list[tuple[str, bytes]], now: float) -> None:
        if not messages:
            return
        started = time.perf_counter()
        self.transport.send(messages, self.at(now))
        self.send_wall_s += time.perf_counter() - started
        self.sent += len(messages)
        self.keys_sent.update(json.loads(payload)["idempotency_key"] for _, payload in messages)

    def _back_online(self, plaza: PlazaRun, now: float) -> None:
        """An offline plaza's outbox goes up as its exported journal, then it is online."""
        batch = plaza.outbox()
        index = plaza.plaza.index
        del self.offline[index]
        if batch:
            folder = self.out / "uploads"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{plaza.plaza.network}-{plaza.plaza.station}-" \
                            f"{self.at(now).date().isoformat()}.jsonl"
            entries = [e for e in (plaza.journal_entry(o.record.transaction_id) for o in batch)
                       if e is not None]
            with path.open("w", encoding="utf-8") as stream:
                write_jsonl(entries, stream)
            started = time.perf_counter()
            self.transport.send_file(path, self.at(now))
            self.send_wall_s += time.perf_counter() - started
            self.sent += len(entries)
            self.keys_sent.update(e.record.idempotency_key for e in entries)
            plaza.sent(batch[-1].seq)
            self.counts["journal files uploaded"] += 1
        self._deliver_lists(plaza, now)

    def _publish_lists(self, now: float) -> None:
        version = self.lists.publish_due(self.at(now))
        if version is None:
            return
        self.counts["list versions"] += 1
        low, high = self.config.uploads.list_delay_s
        for plaza in self.plazas:
            index = plaza.plaza.index
            queue = self.list_due.setdefault(index, [])
            arrive = max(now + float(self._up_rng.uniform(low, high)),
                         queue[-1][0] + 1.0 if queue else 0.0)
            queue.append((arrive, version))
            self.queue.at(arrive, partial(self._deliver_lists, plaza))

    def _deliver_lists(self, plaza: PlazaRun, now: float) -> None:
        index = plaza.plaza.index
        if index in self.offline:
            return
        due = [v for at, v in self.list_due.get(index, []) if at <= now]
        if not due:
            return
        self.list_due[index] = [(at, v) for at, v in self.list_due[index] if at > now]
        newest = max(due)
        if newest > plaza.list_version:
            plaza.apply_list(self.lists.versions[newest])
            lanes = [spec.lane_number for spec in plaza.plaza.lanes]
            for version in due:
                self.lists.arrived(version, plaza.plaza.key, lanes, self.at(now))

    def _day_end(self, now: float) -> None:
        self._upload_tick(now)
        self.transport_settle(now)

    def transport_settle(self, now: float) -> None:
        """The centre's day end: UNRESOLVED records the cards' later transactions now tell."""
        self.transport.report.merge(self.clearer.settle_due(self.at(now)))

    # ------------------------------------------------------------ the run

    def run(self, closing_days: int) -> None:
        self.issue_everyone()
        for plaza in self.plazas:
            plaza.start(self.start - DAY_S)
        total = self.config.days + closing_days
        for day in range(total):
            self.plan_day(day)
            self.queue.run(self.start + (day + 1) * DAY_S)
            if self.progress is not None:
                self.progress(day + 1, total)
        end = self.start + total * DAY_S
        for plaza in self.plazas:
            plaza.stop(end)
        self._upload_tick(end)
        self.transport_settle(end)


def _customer(person: Person) -> CustomerData:
    return CustomerData("person", f"车主{person.vehicle_id}", "id_card",
                        id_card_number(person.vehicle_id), f"1380000{person.vehicle_id:04d}"[-11:])
