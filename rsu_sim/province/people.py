"""The province's people and their days, drawn from a numpy Generator (sans-IO): who owns which
vehicle, which card they hold and how they behave, and each day's trips (entry plaza and time,
exit plaza and time, lanes) and visits to an outlet.

Our decisions: a vehicle's first trip starts at its home plaza and each next trip where the
last one ended; departures follow a morning and an evening peak over a flat day; a trip takes
10 minutes plus its distance at about 95 km/h (the distance read from the fee table's class-1
fee at 45 fen/km), and a vehicle waits at least 20 minutes between trips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from centre.values import CardKind
from protocols.records import VehicleClass
from rsu_sim.model.population import PLATE_CHARACTERS, PLATE_LETTERS
from rsu_sim.model.scenario import ClassMix
from rsu_sim.province.config import ProvinceConfig
from rsu_sim.province.site import Site

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
#: Fen per km of a class-1 trip (the synthetic networks' base rate), to read distances.
FEN_PER_KM = 45
MAX_TRIPS_A_DAY = 4
GAP_S = 20 * 60


def id_card_number(serial: int) -> str:
    """A resident identity number (GB 11643) with its check digit, unique per serial."""
    body = f"37010219{serial % 10**9:09d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True, slots=True)
class Person:
    """A vehicle and its holder, as issued: what stays the same all run."""

    vehicle_id: int
    plate: str
    plate_colour: int
    vehicle_class: int
    kind: CardKind
    home: int  # plaza index
    outlet: int  # outlet index, the one that issued the card
    careless: bool  # lets a B card run short
    cancels: bool  # cancels on the first morning
    opening_top_up: int  # fen


@dataclass(frozen=True, slots=True)
class Trip:
    """One trip: entry at a plaza's entry lane, exit at another plaza's exit lane."""

    vehicle_id: int
    entry_at: float  # UNIX seconds
    entry_plaza: int
    entry_lane: int
    exit_at: float
    exit_plaza: int
    exit_lane: int


def _plates(n: int, rng: np.random.Generator) -> list[str]:
    taken: set[str] = set()
    plates: list[str] = []
    while len(plates) < n:
        letter = PLATE_LETTERS[int(rng.integers(len(PLATE_LETTERS)))]
        rest = "".join(PLATE_CHARACTERS[int(c)] for c in rng.integers(0, len(PLATE_CHARACTERS),
                                                                       size=5))
        plate = f"鲁{letter}{rest}"
        if plate not in taken:
            taken.add(plate)
            plates.append(plate)
    return plates


def people(config: ProvinceConfig, rng: np.random.Generator) -> list[Person]:
    """Every vehicle of the province with its holder's habits."""
    n, habits = config.vehicles, config.habits
    mix = ClassMix()
    classes = [c for c, _ in mix.weights]
    weights = np.array([w for _, w in mix.weights])
    drawn = rng.choice(len(classes), size=n, p=weights / weights.sum()).tolist()
    credit = (rng.random(n) < habits.a_card_share).tolist()
    careless = (rng.random(n) < habits.careless_share).tolist()
    cancels = (rng.random(n) < habits.cancel_on_first_day).tolist()
    homes = rng.integers(0, config.plazas, size=n).tolist()
    opening = rng.integers(habits.opening_top_up[0], habits.opening_top_up[1] + 1,
                           size=n).tolist()
    plates = _plates(n, rng)
    out = []
    for k in range(n):
        vehicle_class = classes[drawn[k]]
        small = vehicle_class in (VehicleClass.PASSENGER_1, VehicleClass.PASSENGER_2)
        kind = CardKind.A if credit[k] else CardKind.B
        out.append(Person(k + 1, plates[k], 0 if small else 1, int(vehicle_class), kind,
                          homes[k], homes[k] % config.outlets, careless[k] and kind is CardKind.B,
                          cancels[k] and kind is CardKind.B, (opening[k] // 100) * 100))
    return out


def _departures(k: int, rng: np.random.Generator) -> list[float]:
    """k departure times in hours of the day: morning and evening peaks over a flat day."""
    which = rng.random(k)
    hours = np.where(which < 0.35, rng.normal(8.0, 1.2, k),
                     np.where(which < 0.7, rng.normal(17.5, 1.5, k), rng.uniform(6.0, 22.0, k)))
    return sorted(float(h) for h in np.clip(hours, 0.25, 23.0))


class TripPlanner:
    """Each day's trips of the province's vehicles."""

    def __init__(self, config: ProvinceConfig, site: Site) -> None:
        self.config = config
        self.site = site
        self._distance_s: dict[tuple[int, int], float] = {}

    def travel_s(self, entry: int, exit_: int) -> float:
        """How long a trip between two plazas takes (see the module docstring)."""
        key = (entry, exit_)
        found = self._distance_s.get(key)
        if found is None:
            a, b = self.site.plazas[entry], self.site.plazas[exit_]
            fee = self.site.fees.fee(a.network, a.station, (b.network, b.station),
                                     VehicleClass.PASSENGER_1) or 0
            found = self._distance_s[key] = 600.0 + fee / FEN_PER_KM / 95.0 * 3600.0
        return found

    def day(self, day_start: float, where: dict[int, int], free_at: dict[int, float],
            drivers: list[int], rng: np.random.Generator) -> list[Trip]:
        """The trips of `drivers` on the day starting at `day_start`; `where` (plaza index) and
        `free_at` (when a vehicle is back) are read and moved on."""
        config = self.config
        counts = np.minimum(rng.poisson(config.habits.trips_per_day, len(drivers)),
                            MAX_TRIPS_A_DAY).tolist()
        plazas = config.plazas
        trips = []
        for vehicle_id, k in zip(drivers, counts, strict=True):
            if not k:
                continue
            for hour in _departures(k, rng):
                entry = where[vehicle_id]
                start = max(day_start + hour * 3600.0, free_at.get(vehicle_id, 0.0) + GAP_S)
                if start >= day_start + 86_400.0:
                    break
                exit_ = int(rng.integers(plazas - 1))
                exit_ += exit_ >= entry
                arrive = start + self.travel_s(entry, exit_) * float(rng.uniform(0.9, 1.3))
                trips.append(Trip(
                    vehicle_id, start, entry, 1 + int(rng.integers(config.entry_lanes)),
                    arrive, exit_, config.entry_lanes + 1 + int(rng.integers(config.exit_lanes))))
                where[vehicle_id] = exit_
                free_at[vehicle_id] = arrive
        return trips
