"""Card populations: the vehicles of a run, each with its OBU, vehicle file and initial card data.

Records are immutable initial state keyed by a stable `vehicle_id`; the card emulator keeps the
mutable card state (balance, CTC, 0019) from there. Sans-IO: randomness comes from the numpy
Generator passed in, drawn a batch at a time so that 10,000 vehicles take a fraction of a second.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from protocols.records import (
    ALL_CLASSES,
    CardType,
    EntryExitRecord,
    EntryExitStatus,
    IssuerInfo,
    ObuStatus,
    ObuSystemInfo,
    Plate,
    PlateColour,
    TamperStatus,
    VehicleClass,
    VehicleInfo,
)
from rsu_sim.errors import PopulationError
from rsu_sim.model.scenario import PASS_FAULTS, Fault, Scenario, StationRef

#: Plate letters and characters: I and O are not used on Chinese plates.
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PLATE_CHARACTERS = "0123456789" + PLATE_LETTERS
#: Our decision: cards and OBUs are valid ten years (3652 days) from issue.
VALIDITY_DAYS = 3652
#: Our decision: a stale entry is older than 72 h by 1 h to 30 days.
STALE_AFTER_S = 72 * 3600
#: Our decision: an upstream trip to a simulated exit lasts 10 minutes to 4 hours.
TRIP_RANGE_S = (600, 4 * 3600)
#: Our decision for vehicle files: (length dm, width dm, height dm, wheels, axles, wheelbase dm,
#: load kg or seats) by the class's first digit group.
_DIMENSIONS = {
    0: (48, 18, 15, 4, 2, 28, 5),  # passenger cars and buses, scaled below
    1: (90, 25, 32, 6, 2, 50, 10_000),  # trucks
    2: (80, 25, 30, 6, 2, 45, 8_000),  # special-purpose vehicles
}


class TripRole(enum.Enum):
    """Where a new vehicle is heading, which decides its initial 0019."""

    #: to a simulated entry lane: the card holds a closed trip or nothing
    TO_ENTRY = "to_entry"
    #: to a simulated exit lane with an entry written upstream (or missing/stale per the faults)
    TO_EXIT = "to_exit"


@dataclass(frozen=True, slots=True)
class CardData:
    """The initial state of a vehicle's ICC."""

    issuer_info: IssuerInfo
    balance: int  # fen (for an A card, the issuer's figure)
    ctc: int  # offline transaction counter
    entry_exit: EntryExitRecord | None  # None: never written, the file is all zero

    @property
    def card_number(self) -> str:
        """Network number + application serial."""
        return self.issuer_info.card_number

    @property
    def card_type(self) -> int:
        """CardType of the card."""
        return self.issuer_info.card_type


@dataclass(frozen=True, slots=True)
class VehicleRecord:
    """A simulated vehicle: OBU (MAC address, ESAM files) and its card, with persistent faults."""

    vehicle_id: int
    obu_id: int  # the OBU's 4-byte air-link MAC address, OBUID on the PC-RSU link
    system_info: ObuSystemInfo
    vehicle_info: VehicleInfo
    card: CardData | None
    faults: frozenset[Fault]

    @property
    def plate(self) -> Plate:
        """The plate in the OBU's vehicle file."""
        return self.vehicle_info.plate

    @property
    def vehicle_class(self) -> int:
        """The class in the OBU's vehicle file."""
        return self.vehicle_info.vehicle_class

    @property
    def blacklisted(self) -> bool:
        """True when the card is to be on the lane's blacklist."""
        return Fault.BLACKLISTED in self.faults and self.card is not None


class CardPopulation:
    """The store of every vehicle of a run, by stable id and by OBUID."""

    def __init__(self, records: Sequence[VehicleRecord] = ()) -> None:
        self._by_id: dict[int, VehicleRecord] = {}
        self._by_obu: dict[int, VehicleRecord] = {}
        self.add(records)

    def add(self, records: Sequence[VehicleRecord]) -> None:
        """Add vehicles; ids and OBUIDs must be new."""
        for record in records:
            if record.vehicle_id in self._by_id or record.obu_id in self._by_obu:
                raise PopulationError(f"vehicle {record.vehicle_id} or its OBUID is taken")
            self._by_id[record.vehicle_id] = record
            self._by_obu[record.obu_id] = record

    def __getitem__(self, vehicle_id: int) -> VehicleRecord:
        try:
            return self._by_id[vehicle_id]
        except KeyError:
            raise PopulationError(f"no vehicle {vehicle_id}") from None

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[VehicleRecord]:
        return iter(self._by_id.values())

    def by_obu_id(self, obu_id: int) -> VehicleRecord | None:
        """The vehicle whose OBU has this MAC address, if any."""
        return self._by_obu.get(obu_id)

    def blacklisted_card_numbers(self) -> frozenset[str]:
        """Card numbers the lane's blacklist must hold for this population."""
        return frozenset(r.card.card_number for r in self if r.blacklisted and r.card)


def generate_plates(prefixes: Sequence[str], rng: np.random.Generator) -> list[str]:
    """One plate per prefix: province prefix, a letter, five alphanumerics (e.g. 鲁L71R86)."""
    n = len(prefixes)
    letters = rng.integers(0, len(PLATE_LETTERS), size=n).tolist()
    rest = rng.integers(0, len(PLATE_CHARACTERS), size=(n, 5)).tolist()
    return [
        prefix + PLATE_LETTERS[letter] + "".join(PLATE_CHARACTERS[c] for c in chars)
        for prefix, letter, chars in zip(prefixes, letters, rest, strict=True)
    ]


def _unique_plates(prefixes: list[str], rng: np.random.Generator, taken: set[str]) -> list[str]:
    plates = generate_plates(prefixes, rng)
    for i, plate in enumerate(plates):
        while plate in taken:
            plate = generate_plates([prefixes[i]], rng)[0]
        taken.add(plate)
        plates[i] = plate
    return plates


@dataclass(frozen=True, slots=True)
class IdSpace:
    """Where a population's ids come from: vehicle ids from `first_vehicle_id` on (they end
    the card and OBU serials), OBU MAC addresses drawn from [low, high) of `obu_ids`. Disjoint
    spaces give disjoint populations (the shards of a run)."""

    first_vehicle_id: int = 1
    obu_ids: tuple[int, int] = (1, 0xFFFF_FFFF)  # never 0 nor the broadcast address

    def __post_init__(self) -> None:
        low, high = self.obu_ids
        if self.first_vehicle_id < 1 or not 1 <= low < high <= 0xFFFF_FFFF:
            raise PopulationError(f"bad id space: vehicles from {self.first_vehicle_id}, "
                                  f"OBU ids [{low}, {high})")


#: The ids of a run that is not split into shards.
WHOLE_RUN_IDS = IdSpace()


def _unique_obu_ids(n: int, rng: np.random.Generator, taken: set[int],
                    space: tuple[int, int]) -> list[int]:
    low, high = space
    if n > high - low:
        raise PopulationError(f"{n} OBUs do not fit OBU ids [{low}, {high})")
    ids = rng.integers(low, high, size=n).tolist()
    for i, obu_id in enumerate(ids):
        while obu_id in taken:
            obu_id = int(rng.integers(low, high))
        taken.add(obu_id)
        ids[i] = obu_id
    return ids


def _class_pair(vehicle_class: VehicleClass, mismatch: bool) -> tuple[VehicleClass, VehicleClass]:
    """(OBU class, card class); with a mismatch the OBU's class is the higher one."""
    if not mismatch:
        return vehicle_class, vehicle_class
    index = ALL_CLASSES.index(vehicle_class)
    if index == 0:
        return ALL_CLASSES[1], ALL_CLASSES[0]
    return vehicle_class, ALL_CLASSES[index - 1]


def _plate_colour(vehicle_class: VehicleClass) -> PlateColour:
    small = vehicle_class in (VehicleClass.PASSENGER_1, VehicleClass.PASSENGER_2)
    return PlateColour.BLUE if small else PlateColour.YELLOW


def _vehicle_info(plate: Plate, vehicle_class: VehicleClass) -> VehicleInfo:
    length, width, height, wheels, axles, wheelbase, load = _DIMENSIONS[vehicle_class // 10]
    scale = vehicle_class % 10 or 1
    if vehicle_class // 10 == 0:
        length, load = length + 25 * (scale - 1), load + 10 * (scale - 1)
    else:
        wheels, axles, load = wheels + 2 * (scale - 1), axles + (scale - 1), load * scale
    return VehicleInfo(plate, _plate_colour(vehicle_class), vehicle_class, 0, length, width,
                       height, wheels, axles, wheelbase, load)


def _draw_faults(scenario: Scenario, n: int, rng: np.random.Generator) -> list[set[Fault]]:
    kinds = [(f, p) for f, p in scenario.faults.vehicle_fault_probabilities()
             if f not in PASS_FAULTS]
    draws = (rng.random(size=(n, len(kinds))) < np.array([p for _, p in kinds])).tolist()
    names = [fault for fault, _ in kinds]
    return [{f for f, hit in zip(names, row, strict=True) if hit} if any(row) else set()
            for row in draws]


def build_vehicles(
    scenario: Scenario,
    roles: Sequence[TripRole],
    reference_times: Sequence[float],
    exit_stations: Sequence[int | None],
    upstream: Sequence[StationRef],
    rng: np.random.Generator,
    first_id: int = 1,
    obu_ids: tuple[int, int] = WHOLE_RUN_IDS.obu_ids,
) -> list[VehicleRecord]:
    """New vehicles, one per role; `reference_times` (s from start) anchor their 0019 times and
    `exit_stations` name the exit each TO_EXIT vehicle heads for (its entry is elsewhere)."""
    n = len(roles)
    if not n:
        return []
    if first_id + n > 10**8:
        raise PopulationError("vehicle ids must stay below 10^8 (they end the card serial)")
    spec = scenario.population
    classes = [c for c, _ in scenario.classes.weights]
    class_p = np.array([w for _, w in scenario.classes.weights])
    issuer_p = np.array([i.weight for i in spec.issuers])
    class_idx = rng.choice(len(classes), size=n, p=class_p / class_p.sum()).tolist()
    issuer_idx = rng.choice(len(spec.issuers), size=n, p=issuer_p / issuer_p.sum()).tolist()
    credit = (rng.random(n) < spec.credit_share).tolist()
    dist = spec.b_balance
    balances = np.clip(np.rint(dist.median_fen * np.exp(dist.sigma * rng.standard_normal(n))),
                       dist.min_fen, dist.max_fen).astype(np.int64).tolist()
    low_balances = rng.integers(0, 100, size=n).tolist()
    card_age = rng.integers(30, 8 * 365, size=(n, 2)).tolist()  # days since issue: card, OBU
    expired_by = rng.integers(1, 400, size=(n, 2)).tolist()
    ctcs = rng.integers(0, 3000, size=n).tolist()
    serial_mid = rng.integers(0, 10_000, size=n).tolist()
    trip_s = rng.uniform(*TRIP_RANGE_S, size=n).tolist()
    stale_s = rng.uniform(3600, 30 * 86400, size=n).tolist()
    station_idx = rng.integers(0, max(len(upstream), 1), size=n).tolist()
    days_ago = rng.uniform(1, 60, size=n).tolist()
    coin = (rng.random(n) < 0.5).tolist()
    faults = _draw_faults(scenario, n, rng)
    prefixes = [spec.issuers[i].plate_prefix for i in issuer_idx]
    taken: set[str] = set()
    plates = _unique_plates(prefixes, rng, taken)
    other_plates = _unique_plates(prefixes, rng, taken)
    obu_id_of = _unique_obu_ids(n, rng, set(), obu_ids)
    today = dt.datetime.fromtimestamp(scenario.start_unix, dt.UTC).date()

    records = []
    for k in range(n):
        vehicle_id = first_id + k
        issuer = spec.issuers[issuer_idx[k]]
        fault_set = faults[k]
        if Fault.NO_CARD in fault_set:
            fault_set -= {Fault.EXPIRED_CARD, Fault.BLACKLISTED, Fault.PLATE_MISMATCH,
                          Fault.CLASS_MISMATCH, Fault.INSUFFICIENT_BALANCE}
        if roles[k] is not TripRole.TO_EXIT or not upstream:
            fault_set -= {Fault.STALE_ENTRY, Fault.MISSING_ENTRY}
        elif Fault.MISSING_ENTRY in fault_set:
            fault_set.discard(Fault.STALE_ENTRY)
        obu_class, card_class = _class_pair(classes[class_idx[k]],
                                            Fault.CLASS_MISMATCH in fault_set)
        plate = Plate.from_text(plates[k])
        mismatch = Fault.PLATE_MISMATCH in fault_set
        card_plate = Plate.from_text(other_plates[k]) if mismatch else plate

        signed = today - dt.timedelta(days=card_age[k][1])
        if Fault.EXPIRED_OBU in fault_set:
            signed = today - dt.timedelta(days=VALIDITY_DAYS + expired_by[k][1])
        status = ObuStatus(0)
        tamper = TamperStatus.INSTALLED
        if Fault.TAMPERED in fault_set:
            status |= ObuStatus.OBU_TAMPERED
            tamper = TamperStatus.REMOVED
        if Fault.LOW_BATTERY in fault_set:
            status |= ObuStatus.BATTERY_LOW
        if Fault.NO_CARD in fault_set:
            status |= ObuStatus.ICC_ABSENT
        system_info = ObuSystemInfo(
            issuer.issuer_identifier, 0x01, 0x10,
            f"{issuer.network}{signed.year:04d}{vehicle_id:08d}",
            signed, signed + dt.timedelta(days=VALIDITY_DAYS), 0x00, status, tamper,
        )
        card = None
        if Fault.NO_CARD not in fault_set:
            is_credit = credit[k] and Fault.INSUFFICIENT_BALANCE not in fault_set
            issued = today - dt.timedelta(days=card_age[k][0])
            if Fault.EXPIRED_CARD in fault_set:
                issued = today - dt.timedelta(days=VALIDITY_DAYS + expired_by[k][0])
            serial = f"{issued.year % 100:02d}{issued.month:02d}{serial_mid[k]:04d}{vehicle_id:08d}"
            info = IssuerInfo(
                issuer.issuer_identifier, CardType.CREDIT if is_credit else CardType.STORED_VALUE,
                0x10, issuer.network, serial, issued, issued + dt.timedelta(days=VALIDITY_DAYS),
                card_plate, 0, _plate_colour(card_class), card_class,
            )
            if is_credit:
                balance = spec.credit_balance_fen
            elif Fault.INSUFFICIENT_BALANCE in fault_set:
                balance = low_balances[k]
            else:
                balance = balances[k]
            record = _initial_record(
                roles[k], fault_set, scenario.start_unix + reference_times[k],
                trip_s[k], stale_s[k], days_ago[k], coin[k],
                _pick_station(upstream, station_idx[k], exit_stations[k]),
                card_class, card_plate, info.plate_colour,
            )
            card = CardData(info, balance, ctcs[k], record)
        records.append(VehicleRecord(vehicle_id, obu_id_of[k], system_info,
                                     _vehicle_info(plate, obu_class), card, frozenset(fault_set)))
    return records


def _pick_station(upstream: Sequence[StationRef], index: int, avoid: int | None) -> StationRef:
    """An upstream station, not the exit's own station when another is available."""
    if not upstream:
        return StationRef("3701", 1)
    station = upstream[index]
    if station.station == avoid and len(upstream) > 1:
        station = upstream[(index + 1) % len(upstream)]
    return station


def _initial_record(
    role: TripRole, faults: set[Fault], anchor: float, trip_s: float, stale_s: float,
    days_ago: float, blank: bool, station: StationRef, vehicle_class: int, plate: Plate,
    plate_colour: int,
) -> EntryExitRecord | None:
    """The card's 0019 before the run: an open upstream entry for exit-bound vehicles, else a
    closed earlier trip or (for half of the missing-entry faults and brand-new cards) nothing."""
    entering = role is TripRole.TO_EXIT and Fault.MISSING_ENTRY not in faults
    if entering:
        age = STALE_AFTER_S + stale_s if Fault.STALE_ENTRY in faults else trip_s
        status = EntryExitStatus.ENTERED
    else:
        if blank and Fault.MISSING_ENTRY in faults:
            return None
        age = days_ago * 86400
        status = EntryExitStatus.EXITED
    return EntryExitRecord(station.network, station.station, station.lane, int(anchor - age),
                           vehicle_class, status, plate, plate_colour)
