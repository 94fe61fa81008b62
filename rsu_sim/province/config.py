"""What a simulated province of many days is made of: its size, how its people drive and pay,
how the plazas' uploads fail, and the faults a run may inject. Values with validation
(`ScenarioError` naming the table and field); `province_from_table` reads a scenario file's
`[days]` table (every key optional, unknown keys refused).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace
from typing import Any

from rsu_sim.errors import ScenarioError

#: The province's clock (UTC+8), as the lanes' and the centre's.
ZONE = dt.timezone(dt.timedelta(hours=8), "CST")
#: Our decision: a run starts on a Monday, and its cards are issued the day before.
DEFAULT_START = dt.date(2026, 11, 2)


def _check(ok: bool, table: str, name: str, message: str) -> None:
    if not ok:
        raise ScenarioError(message, table=table, field=name)


def _share(value: float, table: str, name: str) -> None:
    _check(isinstance(value, int | float) and 0.0 <= value <= 1.0, table, name,
           f"{value!r} is not a share in [0, 1]")


def _span(value: tuple[float, float], table: str, name: str) -> None:
    _check(len(value) == 2 and 0 <= value[0] <= value[1], table, name,
           f"{value!r} is not [low, high] with 0 <= low <= high")


@dataclass(frozen=True, slots=True)
class Habits:
    """How the population drives, pays and loses its cards."""

    #: mean trips (entry → exit) per vehicle per day (Poisson), at most 4 a day
    trips_per_day: float = 0.45
    #: share of vehicles with an A card (credit); the rest hold B cards
    a_card_share: float = 0.3
    #: first top-up of a new B card, fen
    opening_top_up: tuple[int, int] = (20_000, 60_000)
    #: a careful holder tops up when the balance falls below this (fen) ...
    top_up_below: int = 8_000
    #: ... by an amount in this range (fen)
    top_up_amount: tuple[int, int] = (10_000, 40_000)
    #: share of B-card holders who let the card run short (they top up on 1 low day in 5)
    careless_share: float = 0.08
    #: chance per vehicle and day that its card is lost (reported at an outlet)
    loss_per_vehicle_day: float = 0.0004
    #: share of lost cards found again (unlocked next day); the rest are replaced
    unlock_share: float = 0.5
    #: share of B-card holders who cancel on the first morning (refunded 30 days later)
    cancel_on_first_day: float = 0.002
    #: A-card bills: issued on this day of the run (0: none); most are paid within 3 days
    bill_day: int = 15

    def __post_init__(self) -> None:
        t = "days.habits"
        _check(0 <= self.trips_per_day <= 4, t, "trips_per_day", "must be in [0, 4]")
        for name in ("a_card_share", "careless_share", "loss_per_vehicle_day", "unlock_share",
                     "cancel_on_first_day"):
            _share(getattr(self, name), t, name)
        for name in ("opening_top_up", "top_up_amount"):
            _span(getattr(self, name), t, name)
        _check(self.top_up_below >= 0, t, "top_up_below", "must be >= 0")
        _check(self.bill_day >= 0, t, "bill_day", "must be >= 0")


@dataclass(frozen=True, slots=True)
class Uploads:
    """How the plazas reach the centre, and how that fails."""

    #: the plazas send their outbox this often (s)
    interval_s: float = 60.0
    #: chance per plaza and day of a broker outage of `outage_hours` (uploads late, in window)
    outage_per_plaza_day: float = 0.1
    outage_hours: tuple[float, float] = (1.0, 8.0)
    #: chance per plaza and day of being offline all day: its journal goes up as a file next day
    offline_per_plaza_day: float = 0.03
    #: the centre publishes a card-list delta this often when there are changes (s)
    list_interval_s: float = 300.0
    #: how long a published list takes to reach a plaza (s)
    list_delay_s: tuple[float, float] = (30.0, 900.0)

    def __post_init__(self) -> None:
        t = "days.uploads"
        _check(self.interval_s > 0 and self.list_interval_s > 0, t, "interval_s", "must be > 0")
        _share(self.outage_per_plaza_day, t, "outage_per_plaza_day")
        _share(self.offline_per_plaza_day, t, "offline_per_plaza_day")
        _span(self.outage_hours, t, "outage_hours")
        _span(self.list_delay_s, t, "list_delay_s")


@dataclass(frozen=True, slots=True)
class Injected:
    """Faults a run injects on purpose; clearing must find exactly these."""

    #: this lane ("<plaza>/<lane>", plaza 1-based) uploads every record twice, on `fault_day`
    double_upload_lane: str | None = None
    #: this exit lane prices with a wrong (stale) fee table for the whole run
    wrong_fee_lane: str | None = None
    #: records forged on `fault_day`: a real debit sent again with another amount, its TAC kept
    forged_tacs: int = 0
    #: one debit of `fault_day` is lost on the way and arrives this many days later (0: none)
    late_upload_days: int = 0
    #: the day (0-based) the double upload, the forgeries and the lost upload happen
    fault_day: int = 1

    def __post_init__(self) -> None:
        _check(self.forged_tacs >= 0 and self.late_upload_days >= 0 and self.fault_day >= 0,
               "days.faults", "forged_tacs", "counts and days must be >= 0")

    @property
    def any(self) -> bool:
        return bool(self.double_upload_lane or self.wrong_fee_lane or self.forged_tacs
                    or self.late_upload_days)


@dataclass(frozen=True, slots=True)
class ProvinceConfig:
    """A simulated province: `vehicles` issued through the centre, `plazas` toll stations with
    their entry and exit lanes, `days` of traffic from `start`."""

    days: int
    vehicles: int
    plazas: int = 10
    entry_lanes: int = 2
    exit_lanes: int = 2
    outlets: int = 4
    seed: int = 1
    start: dt.date = DEFAULT_START
    #: per pass: radio fades and early zone exits (what leaves purchases UNRESOLVED)
    radio_fade: float = 0.002
    zone_exit_early: float = 0.002
    habits: Habits = field(default_factory=Habits)
    uploads: Uploads = field(default_factory=Uploads)
    faults: Injected = field(default_factory=Injected)

    def __post_init__(self) -> None:
        t = "days"
        _check(self.days >= 1, t, "days", "a run has at least one day")
        _check(self.vehicles >= 1, t, "vehicles", "a run has at least one vehicle")
        _check(2 <= self.plazas <= 500, t, "plazas", "wants 2..500 plazas")
        _check(1 <= self.entry_lanes <= 20 and 1 <= self.exit_lanes <= 20, t, "entry_lanes",
               "wants 1..20 entry and exit lanes per plaza")
        _check(1 <= self.outlets <= 99, t, "outlets", "wants 1..99 outlets")
        _share(self.radio_fade, t, "radio_fade")
        _share(self.zone_exit_early, t, "zone_exit_early")
        for name in ("double_upload_lane", "wrong_fee_lane"):
            self.lane_of(getattr(self.faults, name), name)
        wrong = self.lane_of(self.faults.wrong_fee_lane)
        # An entry lane prices nothing: a wrong table there would be a fault that never shows.
        _check(wrong is None or wrong[1] > self.entry_lanes, "days.faults", "wrong_fee_lane",
               f"{self.faults.wrong_fee_lane!r} is an entry lane (lanes 1..{self.entry_lanes});"
               f" a wrong fee table needs an exit lane")
        faults = self.faults
        if faults.double_upload_lane or faults.forged_tacs or faults.late_upload_days:
            _check(faults.fault_day < self.days, "days.faults", "fault_day",
                   f"day {faults.fault_day} is not one of the run's days (0..{self.days - 1}):"
                   " the double upload, forgeries and lost upload would never happen")

    def lane_of(self, text: str | None, name: str = "lane") -> tuple[int, int] | None:
        """(plaza index 0-based, lane number) of a `<plaza>/<lane>` name."""
        if text is None:
            return None
        plaza, slash, lane = text.partition("/")
        ok = slash and plaza.isdigit() and lane.isdigit() and 1 <= int(plaza) <= self.plazas \
            and 1 <= int(lane) <= self.entry_lanes + self.exit_lanes
        _check(bool(ok), "days.faults", name, f"{text!r} is not <plaza>/<lane> of this province")
        return int(plaza) - 1, int(lane)

    @property
    def start_at(self) -> dt.datetime:
        """Midnight of the first day, in the province's zone."""
        return dt.datetime.combine(self.start, dt.time(0, 0), ZONE)

    def with_faults(self, **changes: Any) -> ProvinceConfig:
        return replace(self, faults=replace(self.faults, **changes))


def _from(kind: type, table: dict[str, Any], where: str) -> Any:
    names = {f.name: f for f in fields(kind)}
    unknown = sorted(set(table) - set(names))
    _check(not unknown, where, unknown[0] if unknown else "", f"unknown key {unknown[:1]}")
    values = {}
    for name, value in table.items():
        if isinstance(value, list):
            value = tuple(value)
        values[name] = value
    try:
        return kind(**values)
    except TypeError as exc:
        raise ScenarioError(str(exc), table=where) from exc


def province_from_table(table: dict[str, Any], days: int | None, vehicles: int | None
                        ) -> ProvinceConfig:
    """The `[days]` table of a scenario file (with `habits`, `uploads`, `faults` sub-tables);
    `days` and `vehicles` from the command line win over the table's."""
    top = {k: v for k, v in table.items() if k not in ("habits", "uploads", "faults")}
    if days is not None:
        top["days"] = days
    if vehicles is not None:
        top["vehicles"] = vehicles
    _check("days" in top and "vehicles" in top, "days", "days", "needs days and vehicles")
    for name, kind in (("habits", Habits), ("uploads", Uploads), ("faults", Injected)):
        sub = table.get(name, {})
        _check(isinstance(sub, dict), f"days.{name}", "", "must be a table")
        top[name] = _from(kind, sub, f"days.{name}")
    if "start" in top and isinstance(top["start"], str):
        try:
            top["start"] = dt.date.fromisoformat(top["start"])
        except ValueError:
            raise ScenarioError(f"{top['start']!r} is not a date", table="days",
                                field="start") from None
    config: ProvinceConfig = _from(ProvinceConfig, top, "days")
    return config
