"""A lane's fixed identity and timing, and the lane's local clock (China time)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lane_engine.errors import ConfigError
from lane_engine.times import LANE_TIME_ZONE, iso_time, lane_datetime
from protocols.frames import LaneMode

__all__ = [
    "LaneConfig",
    "LocalSecond",
    "Timeouts",
    "lane_local_time",
    "lane_unix_time",
]


def lane_local_time(now: float) -> dt.datetime:
    """UNIX seconds `now` as the lane's naive local date-time, whole seconds (UTC+8)."""
    return dt.datetime.fromtimestamp(int(now), LANE_TIME_ZONE).replace(tzinfo=None)


class LocalSecond:
    """The lane local time of one second, as a naive date-time (what the card is sent), its date
    and its record text (`iso_time`, with the offset); `at` works them out once per second (a
    vehicle's frames share most seconds)."""

    __slots__ = ("date", "second", "text", "time")

    def __init__(self) -> None:
        self.second: int | None = None
        self.time = dt.datetime.min
        self.date = self.time.date()
        self.text = ""

    def at(self, now: float) -> LocalSecond:
        """This object, set to the second of `now`."""
        second = int(now)
        if second != self.second:
            self.time = local = lane_local_time(second)
            self.second, self.date = second, local.date()
            self.text = iso_time(second, "seconds")
        return self


def lane_unix_time(text: str) -> int:
    """The UNIX seconds of a record time (`LocalSecond.text`; one without an offset is lane
    local time). ValueError when `text` is not such a time."""
    return int(lane_datetime(text).timestamp())


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long the lane waits for the RSU, in seconds of the injected clock."""

    #: C0 sent, no B0 yet (or a faulty B0): send C0 again after this
    initialise: float = 5.0
    #: C1 sent after B2, no B4 yet: the OBU is given up (nothing was started)
    vehicle_read: float = 2.0
    #: C6 sent, no B5 yet: above the RSU's 3 x 120 ms retransmissions of its own frames
    purchase: float = 1.5
    #: C8 sent, no B8 yet: ask again (up to `refetch_attempts` C8 in all)
    refetch: float = 1.0
    #: how many C8 the lane sends for one lost transaction before leaving it for clearing
    refetch_attempts: int = 3


@dataclass(frozen=True, slots=True)
class LaneConfig:
    """Who this lane is and how it drives its RSU; fixed for the life of a connection."""

    network: str  # 4 BCD digits, e.g. "3701"
    station: int
    lane: int
    mode: LaneMode
    timeouts: Timeouts = Timeouts()
    bst_interval_ms: int = 10
    tx_power: int = 10  # 0..31
    pll_channel_id: int = 0

    def __post_init__(self) -> None:
        if len(self.network) != 4 or not self.network.isdigit():
            raise ConfigError(f"network {self.network!r} is not 4 digits")
        if not 0 <= self.station <= 0xFFFF or not 0 <= self.lane <= 0xFF:
            raise ConfigError(f"station {self.station} or lane {self.lane} out of range")
        if not 0 <= self.tx_power <= 31:
            raise ConfigError(f"tx_power {self.tx_power} out of range 0..31")
        if self.timeouts.refetch_attempts < 1:
            raise ConfigError("refetch_attempts must be at least 1")
