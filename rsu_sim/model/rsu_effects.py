"""What the simulated RSU puts out (`SendFrame`, `PassEnded`, `LaneFrameRejected`) and its
configuration; the machine itself is `rsu_sim.model.rsu.Rsu`."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from protocols.frames import RsuFrame
from protocols.frozen import fast_init


@fast_init
@dataclass(frozen=True, slots=True)
class RsuConfig:
    """Identity and link timing of the simulated RSU (our decisions unless `pc-rsu.md` says)."""

    rsu_id: bytes = b"\x00\x00\x01"
    rsu_manu_id: int = 0xA5
    rsu_version: bytes = b"\x01\x00"
    #: B0 Reserved: the interface version, V3.4 (`pc-rsu.md` §2)
    interface_version: bytes = bytes.fromhex("03040000")
    #: the RSU sends B1 this often (field)
    heartbeat_interval_s: float = 10.0
    #: an unanswered frame is sent again after this, same SEQ and DATA (field)
    retransmit_interval_s: float = 0.120
    #: retransmissions of an unanswered frame before the RSU gives up on it (field)
    max_retransmissions: int = 3
    #: BST period when C0 says 0 ms
    default_bst_interval_s: float = 0.010


class PassEnd(enum.Enum):
    """How the RSU's dealing with a vehicle ended."""

    #: C1 after B5/B8: SetMMI and Release
    RELEASED = "released"
    #: C2 from the lane
    STOPPED = "stopped"
    #: the OBU never answered the beacon before leaving the zone
    NOT_FOUND = "not_found"
    #: the RSU was not beaconing (not initialised, antenna off) while the vehicle passed
    NOT_SERVED = "not_served"
    #: the lane left a frame unanswered through every retransmission
    LANE_SILENT = "lane_silent"
    #: C0 or a restart dropped the session
    RESET = "reset"


@fast_init
@dataclass(frozen=True, slots=True)
class SendFrame:
    """Send `frame` to the lane at `at` with V3 SEQ `seq`; `attempt` 0 is the first sending."""

    frame: RsuFrame
    seq: int
    at: float
    attempt: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class PassEnded:
    """The RSU is done with a vehicle (the zone is free for the next one)."""

    vehicle_id: int
    obu_id: int
    at: float
    how: PassEnd


@fast_init
@dataclass(frozen=True, slots=True)
class LaneFrameRejected:
    """A lane frame the RSU cannot take in its phase (or about another OBU); it is ignored."""

    frame: object
    phase: object  # rsu.Phase
    detail: str


RsuEffect = SendFrame | PassEnded | LaneFrameRejected
