"""A site's devices bound to a world file: every card change written before the frame that
reports it leaves, PSAM serials reserved before they are handed out, and the same devices
brought back on a restart.

The server tells the world which cards are in play (`watch` when a vehicle arrives, `release`
when its pass ends) and calls `sync` before it sends any frame: sync compares each card in play
with what the file holds and writes what changed, with the card's new log entries, in one
transaction. A card changes only while an RSU serves it, so the cards in play are all there is
to look at. Our decision for serials: `WorldSerialStore` reserves `SERIAL_BLOCK` at a time, and
a restart continues after the last reserved block (a gap, never a reuse).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from keys.errors import SerialStoreError
from keys.serial_store import MAX_SERIAL
from protocols.record_codec import encode_issuer_info, encode_system_info
from rsu_sim.errors import WorldError
from rsu_sim.model.card import Card
from rsu_sim.model.obu import Obu
from rsu_sim.model.population import CardPopulation
from rsu_sim.site.served import Site
from rsu_sim.world.store import CardChange, CardRow, ObuRow, WorldStore

#: Serials a PSAM reserves per write to the world file (our decision, as `keys.FileSerialStore`).
SERIAL_BLOCK = 64
#: Meta key of the number of the scenario's arrivals fed to the lanes so far.
ARRIVALS_FED = "arrivals_fed"
#: Meta key of the population's digest (`population_digest`).
POPULATION = "population"


class WorldSerialStore:
    """A PSAM's terminal trans serials, reserved in the world file block by block."""

    def __init__(self, store: WorldStore, terminal_number: bytes, *,
                 block: int = SERIAL_BLOCK, first: int = 1) -> None:
        self._store = store
        self._terminal = bytes(terminal_number)
        self._block = block
        reserved = store.reserved_serial(self._terminal)
        self._next = first if reserved is None else reserved
        self._until = self._next

    @property
    def next_serial(self) -> int:
        """The serial `allocate` gives next."""
        return self._next

    def allocate(self) -> int:
        """The next serial; its block is in the world file before it is handed out."""
        if self._next > MAX_SERIAL:
            raise SerialStoreError("terminal trans serials exhausted")
        if self._next >= self._until:
            until = min(self._next + self._block, MAX_SERIAL + 1)
            try:
                self._store.reserve_serials(self._terminal, until)
            except WorldError as exc:
                raise SerialStoreError(str(exc)) from exc
            self._until = until
        serial = self._next
        self._next += 1
        return serial


def population_digest(population: CardPopulation) -> str:
    """A digest of who the population is (vehicle, OBUID, card): a restart that would build a
    different one (another scenario, seed or code) is refused."""
    digest = hashlib.sha256()
    for record in sorted(population, key=lambda r: r.vehicle_id):
        card = record.card.card_number if record.card is not None else "-"
        digest.update(f"{record.vehicle_id}:{record.obu_id}:{card}\n".encode())
    return digest.hexdigest()


@dataclass(slots=True)
class _Kept:
    """What the world file holds of one card."""

    balance: int
    ctc: int
    record: bytes
    logged: int  # log entries written


def _kept(card: Card) -> _Kept:
    return _Kept(card.balance, card.ctc, card.record_raw, len(card.log))


class DurableWorld:
    """The site of a served world and its file; see the module docstring."""

    def __init__(self, store: WorldStore, site: Site, session: int) -> None:
        self.store = store
        self._release: Callable[[], None] = lambda: None
        self.site = site
        self.session = session
        self._in_play: Counter[int] = Counter()  # vehicle id -> passes holding it
        self._kept: dict[int, _Kept] = {}
        self._fed = int(store.meta().get(ARRIVALS_FED, "0"))
        self._fed_written = self._fed

    @property
    def arrivals_fed(self) -> int:
        """How many of the scenario's arrivals earlier runs and this one have fed."""
        return self._fed

    def fed(self, count: int) -> None:
        """`count` arrivals are fed so far (written with the next `sync`)."""
        self._fed = count

    # ------------------------------------------------------------ creating and restoring

    def populate(self) -> None:
        """Write every OBU and card of a new world in its first state."""
        obus, cards = [], []
        for record in self.site.traffic.population:
            obu = self.site.fleet.obu(record)
            card = obu.card
            number = None if card is None else card.issuer_info.card_number
            obus.append(ObuRow(record.vehicle_id, obu.obu_id, obu.system_info.contract_serial,
                               encode_system_info(obu.system_info), obu.vehicle_file, number))
            if card is not None:
                cards.append(_card_row(record.vehicle_id, card))
        self.store.populate(obus, cards)
        self.store.set_meta({POPULATION: population_digest(self.site.traffic.population)})

    def restore(self) -> int:
        """Bring every card back to the state the file holds; returns how many had changed.
        Refused when the site's population is not the one the world was made with."""
        stored = self.store.meta().get(POPULATION)
        if stored != population_digest(self.site.traffic.population):
            raise WorldError(f"{self.store.path}: the scenario now builds another population "
                             "than this world's (different scenario, seed or simulator)")
        logs = self.store.card_logs()
        population = self.site.traffic.population
        changed = 0
        for row in self.store.cards():
            obu = self.site.fleet.obu(population[row.vehicle_id])
            card = obu.card
            if card is None or card.issuer_info.card_number != row.card_number:
                raise WorldError(f"{self.store.path}: card {row.card_number} is not vehicle "
                                 f"{row.vehicle_id}'s")
            log = logs.get(row.card_number, [])
            if (row.balance, row.ctc, row.record) == (card.balance, card.ctc, card.record_raw) \
                    and not log:
                continue
            card.balance, card.ctc, card.record_raw = row.balance, row.ctc, row.record
            card.log = {entry.ctc: entry for entry in log}
            changed += 1
        return changed

    # ------------------------------------------------------------ serving

    def watch(self, obu: Obu) -> None:
        """A pass with this OBU begins: its card is in play until `release`."""
        card = obu.card
        if card is None:
            return
        vehicle = obu.vehicle_id
        if not self._in_play[vehicle]:
            self._kept.setdefault(vehicle, _kept(card))
        self._in_play[vehicle] += 1

    def release(self, vehicle_id: int) -> None:
        """The pass of this vehicle ended (call after the `sync` that follows it)."""
        if self._in_play[vehicle_id] <= 1:
            self._in_play.pop(vehicle_id, None)
            self._kept.pop(vehicle_id, None)
        else:
            self._in_play[vehicle_id] -= 1

    def sync(self) -> None:
        """Write every card in play that changed since it was last written, and the arrivals
        fed, in one durable transaction (nothing when nothing changed)."""
        states: list[CardChange] = []
        purchases = []
        fleet = self.site.fleet
        for vehicle, kept in self._kept.items():
            obu = fleet.get(vehicle)
            card = None if obu is None else obu.card
            if card is None:
                continue
            if (card.ctc, card.balance, card.record_raw, len(card.log)) == \
                    (kept.ctc, kept.balance, kept.record, kept.logged):
                continue
            number = card.issuer_info.card_number
            states.append(CardChange(number, card.balance, card.ctc, card.record_raw))
            if len(card.log) > kept.logged:
                purchases += [(number, entry) for _, entry in
                              sorted(card.log.items())[kept.logged:]]
        meta = {ARRIVALS_FED: str(self._fed)} if self._fed != self._fed_written else None
        if not states and meta is None:
            return
        self.store.save(states, purchases, self.session, meta)
        self._fed_written = self._fed
        for vehicle in self._kept:
            obu = fleet.get(vehicle)
            if obu is not None and obu.card is not None:
                self._kept[vehicle] = _kept(obu.card)

    def close(self, summary: str) -> None:
        """The run stops cleanly: write what is left, end the session, close the file."""
        try:
            self.sync()
            self.store.end_session(self.session, dt.datetime.now(dt.UTC), summary)
        finally:
            self.abandon()

    def hold(self, release: Callable[[], None]) -> None:
        """Call `release` (e.g. to drop the world's lock) when the world is closed."""
        self._release = release

    def abandon(self) -> None:
        """Close the file without ending the session (after a failure): the session stays
        open, as after a kill, and the world may be served again."""
        try:
            self.store.close()
        finally:
            self._release()


def _card_row(vehicle_id: int, card: Card) -> CardRow:
    algorithm = -1 if card.algorithm is None else int(card.algorithm)
    info = card.issuer_info
    return CardRow(info.card_number, vehicle_id, encode_issuer_info(info), info.card_type,
                   card.key_version, algorithm, card.balance, card.ctc, card.record_raw,
                   card.balance, card.ctc, card.record_raw)


__all__ = ["ARRIVALS_FED", "SERIAL_BLOCK", "DurableWorld", "WorldSerialStore",
           "population_digest"]
