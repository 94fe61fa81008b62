"""Scenario values: lanes, arrivals, speeds, class mix, card population, keys, faults and radio.

Pure values with validation (`ScenarioError` naming table and field); reading TOML files is
`rsu_sim.scenario_file`'s job. `mixed_scenario()` and `clean_scenario()` are built in.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, fields, replace

from protocols.frames import LaneMode
from protocols.records import VehicleClass
from rsu_sim.errors import ScenarioError
from rsu_sim.model.radio import RadioConfig


class Fault(enum.Enum):
    """A fault injected into a vehicle (persistent) or into one pass (per-pass)."""

    NO_CARD = "no_card"  #: the OBU holds no ICC
    TAMPERED = "tampered"  #: the OBU was removed from the windscreen
    EXPIRED_OBU = "expired_obu"  #: the OBU contract has expired
    EXPIRED_CARD = "expired_card"  #: the card has expired
    BLACKLISTED = "blacklisted"  #: the card is on the blacklist
    PLATE_MISMATCH = "plate_mismatch"  #: the card's plate differs from the OBU's vehicle file
    CLASS_MISMATCH = "class_mismatch"  #: the OBU's class is higher than the card's
    INSUFFICIENT_BALANCE = "insufficient_balance"  #: a B card holding less than any toll
    LOW_BATTERY = "low_battery"  #: the OBU reports a low battery
    STALE_ENTRY = "stale_entry"  #: the entry record is older than the lane's limit
    MISSING_ENTRY = "missing_entry"  #: the card at an exit holds no open entry
    RADIO_FADE = "radio_fade"  #: per pass: frames are lost at the fade rate
    ZONE_EXIT_EARLY = "zone_exit_early"  #: per pass: the vehicle leaves the zone early
    RSU_RESTART = "rsu_restart"  #: per pass: the RSU restarts while this vehicle arrives


#: Faults drawn once per pass rather than once per vehicle.
PASS_FAULTS = frozenset({Fault.RADIO_FADE, Fault.ZONE_EXIT_EARLY, Fault.RSU_RESTART})


def _require(ok: bool, table: str, name: str, message: str) -> None:
    if not ok:
        raise ScenarioError(message, table=table, field=name)


def _probability(value: float, table: str, name: str) -> None:
    _require(isinstance(value, int | float) and 0.0 <= value <= 1.0, table, name,
             f"{value!r} is not a probability in [0, 1]")


def _network(value: str, table: str, name: str) -> None:
    _require(len(value) == 4 and value.isdigit(), table, name,
             f"network {value!r} must be 4 BCD digits")


@dataclass(frozen=True, slots=True)
class LaneSpec:
    """One simulated lane: its RSU serves one lane controller on `port` (None: no TCP server)."""

    lane_id: str
    mode: LaneMode
    network: str = "3701"
    station: int = 1
    lane_number: int = 1
    port: int | None = None

    def __post_init__(self) -> None:
        _require(bool(self.lane_id), "lanes", "id", "a lane needs an id")
        _network(self.network, "lanes", "network")
        _require(0 < self.station <= 0xFFFF, "lanes", "station", f"{self.station} not 1..65535")
        _require(0 < self.lane_number <= 0xFF, "lanes", "lane", f"{self.lane_number} not 1..255")
        _require(self.port is None or 0 < self.port <= 0xFFFF, "lanes", "port",
                 f"{self.port} is not a TCP port")


@dataclass(frozen=True, slots=True)
class PoissonArrivals:
    """Poisson arrivals at `rate_per_hour` vehicles per hour on every lane."""

    rate_per_hour: float = 600.0

    def __post_init__(self) -> None:
        _require(0 < self.rate_per_hour <= 20_000, "arrivals", "rate_per_hour",
                 f"{self.rate_per_hour!r} vehicles/hour is not in (0, 20000]")


@dataclass(frozen=True, slots=True)
class ReplayedArrivals:
    """A replayed list of arrivals: seconds from the start, each on the lane of the same index."""

    times: tuple[float, ...]
    lanes: tuple[str, ...]

    def __post_init__(self) -> None:
        _require(len(self.times) == len(self.lanes), "arrivals", "lanes",
                 f"{len(self.times)} times but {len(self.lanes)} lanes")
        _require(all(t >= 0 and math.isfinite(t) for t in self.times), "arrivals", "times",
                 "arrival times must be finite seconds >= 0")


ArrivalProcess = PoissonArrivals | ReplayedArrivals


@dataclass(frozen=True, slots=True)
class SpeedDistribution:
    """Vehicle speed in the zone: normal(mean, sd) clipped to [min, max], km/h."""

    mean_kmh: float = 30.0
    sd_kmh: float = 10.0
    min_kmh: float = 5.0
    max_kmh: float = 80.0

    def __post_init__(self) -> None:
        _require(self.sd_kmh >= 0, "speed", "sd_kmh", "must be >= 0")
        _require(0 < self.min_kmh <= self.max_kmh <= 200, "speed", "min_kmh",
                 "wants 0 < min_kmh <= max_kmh <= 200")
        _require(self.min_kmh <= self.mean_kmh <= self.max_kmh, "speed", "mean_kmh",
                 "must lie within [min_kmh, max_kmh]")


@dataclass(frozen=True, slots=True)
class ClassMix:
    """Relative weights of the vehicle classes (any scale; classes absent have weight 0)."""

    weights: tuple[tuple[VehicleClass, float], ...] = (
        (VehicleClass.PASSENGER_1, 0.80), (VehicleClass.PASSENGER_2, 0.04),
        (VehicleClass.PASSENGER_3, 0.02), (VehicleClass.PASSENGER_4, 0.02),
        (VehicleClass.TRUCK_1, 0.04), (VehicleClass.TRUCK_2, 0.03),
        (VehicleClass.TRUCK_3, 0.02), (VehicleClass.TRUCK_6, 0.03),
    )

    def __post_init__(self) -> None:
        for vehicle_class, weight in self.weights:
            _require(weight >= 0 and math.isfinite(weight), "classes", vehicle_class.name,
                     f"weight {weight!r} must be >= 0")
        _require(sum(w for _, w in self.weights) > 0, "classes", "", "all weights are zero")


@dataclass(frozen=True, slots=True)
class IssuerSpec:
    """A card issuer: GBK province name, 4-byte code (8 hex digits), network, plate prefix."""

    province: str
    code: str
    network: str
    plate_prefix: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        try:
            name = self.province.encode("gbk")
            prefix = self.plate_prefix.encode("gbk")
        except UnicodeEncodeError as exc:
            raise ScenarioError("province and plate prefix must be GBK text",
                                table="population.issuers", field="province") from exc
        _require(len(name) == 4, "population.issuers", "province",
                 f"{self.province!r} is not 4 bytes in GBK")
        _require(len(prefix) == 2, "population.issuers", "plate_prefix",
                 f"{self.plate_prefix!r} is not one GBK character")
        _require(len(self.code) == 8 and all(c in "0123456789ABCDEFabcdef" for c in self.code),
                 "population.issuers", "code", f"{self.code!r} is not 8 hex digits")
        _network(self.network, "population.issuers", "network")
        _require(self.weight >= 0, "population.issuers", "weight", "must be >= 0")

    @property
    def issuer_identifier(self) -> bytes:
        """The 8 bytes of 0015 / contract provider: GBK province name + code."""
        return self.province.encode("gbk") + bytes.fromhex(self.code)


#: Issuers of the built-in scenarios: mostly Shandong cards, some from neighbouring provinces.
DEFAULT_ISSUERS = (
    IssuerSpec("山东", "37010001", "3701", "鲁", 0.85),
    IssuerSpec("江苏", "32010001", "3201", "苏", 0.06),
    IssuerSpec("河北", "13010001", "1301", "冀", 0.05),
    IssuerSpec("河南", "41010001", "4101", "豫", 0.04),
)


@dataclass(frozen=True, slots=True)
class StationRef:
    """An upstream entry station a card's 0019 may name."""

    network: str
    station: int
    lane: int = 1

    def __post_init__(self) -> None:
        _network(self.network, "population", "upstream_stations")
        _require(0 < self.station <= 0xFFFF and 0 < self.lane <= 0xFF, "population",
                 "upstream_stations", f"station {self.station} lane {self.lane} out of range")


@dataclass(frozen=True, slots=True)
class BalanceDistribution:
    """B-card balances: log-normal with `median_fen` and `sigma`, clipped to [min, max] fen."""

    median_fen: int = 30_000
    sigma: float = 1.0
    min_fen: int = 0
    max_fen: int = 2_000_000

    def __post_init__(self) -> None:
        table = "population.b_balance"
        _require(self.median_fen > 0, table, "median_fen", "must be > 0")
        _require(self.sigma >= 0, table, "sigma", "must be >= 0")
        _require(0 <= self.min_fen <= self.max_fen <= 0xFFFF_FFFF, table, "min_fen",
                 "wants 0 <= min_fen <= max_fen <= 2^32-1")


@dataclass(frozen=True, slots=True)
class PopulationSpec:
    """How cards are drawn; `upstream_any` means "any station of the fee network"."""

    credit_share: float = 0.4
    issuers: tuple[IssuerSpec, ...] = DEFAULT_ISSUERS
    b_balance: BalanceDistribution = field(default_factory=BalanceDistribution)
    #: the issuer's balance figure on A cards (not money held)
    credit_balance_fen: int = 10_000_000
    #: share of exit arrivals that come with an entry from an upstream station (the rest entered
    #: at a simulated entry lane earlier in the run, when one is available)
    upstream_share: float = 0.7
    upstream_stations: tuple[StationRef, ...] = ()
    upstream_any: bool = True
    #: an entered vehicle may reach a simulated exit lane this long after its entry, s
    min_trip_s: float = 120.0

    def __post_init__(self) -> None:
        _probability(self.credit_share, "population", "credit_share")
        _probability(self.upstream_share, "population", "upstream_share")
        _require(bool(self.issuers) and sum(i.weight for i in self.issuers) > 0, "population",
                 "issuers", "at least one issuer with a weight > 0")
        _require(0 <= self.credit_balance_fen <= 0xFFFF_FFFF, "population",
                 "credit_balance_fen", "must fit 4 bytes")
        _require(self.upstream_any or bool(self.upstream_stations), "population",
                 "upstream_stations", 'give a list of stations or "any"')
        _require(self.min_trip_s >= 0, "population", "min_trip_s", "must be >= 0")


@dataclass(frozen=True, slots=True)
class KeySetSpec:
    """The key set: read from `file` when given, else generated from `seed`."""

    seed: int = 1
    file: str | None = None


@dataclass(frozen=True, slots=True)
class FaultMix:
    """Probabilities of each injected fault (per vehicle, per pass or per frame as documented)."""

    no_card: float = 0.0  #: per vehicle
    tampered: float = 0.0  #: per vehicle
    expired_obu: float = 0.0  #: per vehicle
    expired_card: float = 0.0  #: per vehicle
    blacklisted: float = 0.0  #: per vehicle
    plate_mismatch: float = 0.0  #: per vehicle
    class_mismatch: float = 0.0  #: per vehicle
    insufficient_balance: float = 0.0  #: per vehicle (forces a B card)
    low_battery: float = 0.0  #: per vehicle
    stale_entry: float = 0.0  #: per exit-bound vehicle with an upstream entry
    missing_entry: float = 0.0  #: per exit-bound vehicle with an upstream entry
    radio_fade: float = 0.0  #: per pass: the pass suffers `fade_loss_probability` frame loss
    fade_loss_probability: float = 0.3  #: frame loss during a fade (our decision)
    zone_exit_early: float = 0.0  #: per pass: the vehicle leaves after 10-50 % of its dwell
    corrupted_tcp: float = 0.0  #: per PC-RSU frame: a byte is flipped on the TCP link
    duplicate_frames: float = 0.0  #: per RSU frame: it is sent twice
    rsu_restart: float = 0.0  #: per pass: the RSU restarts before this vehicle

    def __post_init__(self) -> None:
        for item in fields(self):
            _probability(getattr(self, item.name), "faults", item.name)

    def vehicle_fault_probabilities(self) -> tuple[tuple[Fault, float], ...]:
        """The per-vehicle and per-pass faults with their probabilities."""
        return tuple((fault, getattr(self, fault.value)) for fault in Fault)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything a simulator run needs; times in the run are seconds from `start_unix`."""

    lanes: tuple[LaneSpec, ...]
    name: str = "scenario"
    seed: int = 0
    start_unix: int = 1_717_200_000  # 2024-06-01 08:00:00 +08:00
    duration_s: float = 3600.0
    arrivals: ArrivalProcess = field(default_factory=PoissonArrivals)
    speed: SpeedDistribution = field(default_factory=SpeedDistribution)
    classes: ClassMix = field(default_factory=ClassMix)
    population: PopulationSpec = field(default_factory=PopulationSpec)
    keys: KeySetSpec = field(default_factory=KeySetSpec)
    faults: FaultMix = field(default_factory=FaultMix)
    radio: RadioConfig = field(default_factory=RadioConfig)

    def __post_init__(self) -> None:
        _require(bool(self.lanes), "lanes", "", "a scenario needs at least one lane")
        ids = [lane.lane_id for lane in self.lanes]
        _require(len(set(ids)) == len(ids), "lanes", "id", f"lane ids repeat: {ids}")
        ports = [lane.port for lane in self.lanes if lane.port is not None]
        _require(len(set(ports)) == len(ports), "lanes", "port", f"ports repeat: {ports}")
        _require(self.duration_s > 0, "", "duration_s", "must be > 0")
        _require(0 <= self.start_unix <= 0xFFFF_FFFF, "", "start", "not a 4-byte UNIX time")
        # every draw of a run is seeded from it, and numpy's seeds are unsigned
        _require(isinstance(self.seed, int) and self.seed >= 0, "", "seed",
                 f"{self.seed!r} must be a whole number >= 0")
        if isinstance(self.arrivals, ReplayedArrivals):
            unknown = set(self.arrivals.lanes) - set(ids)
            _require(not unknown, "arrivals", "lanes", f"unknown lanes {sorted(unknown)}")

    def lane(self, lane_id: str) -> LaneSpec:
        """The lane called `lane_id`."""
        for lane in self.lanes:
            if lane.lane_id == lane_id:
                return lane
        raise ScenarioError(f"no lane {lane_id!r}", table="lanes", field="id")


def rebase_start(scenario: Scenario, now: float) -> Scenario:
    """The scenario moved in time for real-time serving (our decision): it starts
    `duration_s` before `now`, so every entry record and card date lies in the past of a lane
    whose clock is the wall clock, fresh entries stay within hours and stale ones stay stale."""
    return replace(scenario, start_unix=int(now - scenario.duration_s))


def _built_in_lanes() -> tuple[LaneSpec, ...]:
    return (
        LaneSpec("entry-1", LaneMode.ENTRY, "3701", 101, 1, 9527),
        LaneSpec("exit-1", LaneMode.EXIT, "3701", 102, 1, 9528),
    )


def mixed_scenario(seed: int = 20240601) -> Scenario:
    """The built-in mixed scenario: one entry and one exit lane, every fault enabled."""
    faults = FaultMix(
        no_card=0.01, tampered=0.01, expired_obu=0.01, expired_card=0.01, blacklisted=0.01,
        plate_mismatch=0.01, class_mismatch=0.01, insufficient_balance=0.02, low_battery=0.01,
        stale_entry=0.01, missing_entry=0.01, radio_fade=0.02, zone_exit_early=0.02,
        corrupted_tcp=0.001, duplicate_frames=0.01, rsu_restart=0.001,
    )
    return Scenario(_built_in_lanes(), name="mixed", seed=seed, faults=faults)


def clean_scenario(seed: int = 20240601) -> Scenario:
    """The built-in clean scenario: no injected faults and a loss-free radio."""
    return Scenario(_built_in_lanes(), name="clean", seed=seed,
                    radio=replace(RadioConfig(), frame_loss_probability=0.0))
