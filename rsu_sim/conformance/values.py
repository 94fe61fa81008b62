"""The judge's values: the lanes and link it is told about, the lane records it reads, and what
it follows per connection (the RSU frame waiting for an answer, each OBU's pass)."""

from __future__ import annotations

from dataclasses import dataclass, field

from protocols.frames import (
    Frame,
    LaneMode,
    ObuFound,
    Purchase,
    TacRefetched,
    TransactionResult,
    VehicleAndCard,
)
from rsu_sim.conformance.report import FrameRef, LaneResult
from rsu_sim.conformance.tariff import Charge


@dataclass(frozen=True, slots=True)
class LaneUnderTest:
    """A scenario lane as the judge needs it: who it is and where it stands."""

    lane_id: str
    mode: LaneMode
    network: str
    station: int
    lane_number: int


@dataclass(frozen=True, slots=True)
class LinkTiming:
    """The RSU's retransmission of an unanswered frame (`pc-rsu.md` §1.1)."""

    retransmit_interval_s: float = 0.120
    max_retransmissions: int = 3

    @property
    def give_up_s(self) -> float:
        """After its first sending, when the RSU gives a frame up."""
        return (self.max_retransmissions + 1) * self.retransmit_interval_s


@dataclass(frozen=True, slots=True)
class LaneRecord:
    """What the judge reads of a lane's own transaction record (for the cash due)."""

    lane_number: int
    card_number: str
    at: float  # the record's transaction time, UNIX seconds
    outcome: str
    cash_fee: int


@dataclass(slots=True)
class Waiting:
    """An RSU frame waiting for the lane's answer, and its copies."""

    frame: Frame
    name: str
    seq: int
    at: float
    obu_id: int
    copies: int = 1
    answers: int = 0
    answered_at: float | None = None
    answer: FrameRef | None = None

    def ref(self) -> FrameRef:
        """The frame as evidence names it."""
        return FrameRef("TX", self.name, self.seq, self.at)


@dataclass(slots=True)
class ObuPass:
    """One OBU's pass through the zone, as the frames tell it."""

    obu_id: int
    b2: ObuFound
    b2_ref: FrameRef
    b4: VehicleAndCard | None = None
    b4_ref: FrameRef | None = None
    c6: list[tuple[Purchase, FrameRef, str]] = field(default_factory=list)  # frame, ref, why
    results: list[tuple[TransactionResult | TacRefetched, FrameRef]] = field(default_factory=list)
    last_lane: FrameRef | None = None  # the last lane frame about this OBU
    last_error_at: float | None = None  # the last B5/B8 with an error
    moot: bool = False  # the connection ended (or a C0 came) before the lane's last turn

    def vehicle(self) -> str:
        """The vehicle as evidence names it: OBU, and card and plate when the B4 told them."""
        text = f"OBU {self.obu_id:08x}"
        if self.b4 is not None and self.b4.issuer_info is not None:
            text += f" card {self.b4.issuer_info.card_number}"
        if self.b4 is not None and self.b4.vehicle_info is not None:
            text += f" plate {self.b4.vehicle_info.plate.text}"
        return text


@dataclass(slots=True)
class LaneState:
    """A lane under test while it is judged: its verdicts so far, and the charges whose cash
    due its records must show."""

    spec: LaneUnderTest
    result: LaneResult
    charges: list[tuple[ObuPass, Charge, str]] = field(default_factory=list)  # short B cards


@dataclass(slots=True)
class Connection:
    """One connection of a lane: the RSU frames waiting for answers and the passes on it."""

    name: str
    lane: LaneState
    opened_at: float
    closed_at: float | None = None
    frames: int = 0
    last_lane_seq: int | None = None
    heartbeat: Waiting | None = None
    session: Waiting | None = None
    current: ObuPass | None = None
    recent: dict[int, ObuPass] = field(default_factory=dict)


__all__ = ["Connection", "LaneRecord", "LaneState", "LaneUnderTest", "LinkTiming", "ObuPass",
           "Waiting"]
