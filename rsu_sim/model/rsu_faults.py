"""Fault hooks of one pass through the RSU's zone (for the scenario's fault mix)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from protocols.frames import FrameType
from protocols.frozen import fast_init


class TearPoint(enum.Enum):
    """Where a fault hook breaks a pass (see `PassFaults`)."""

    #: the VST never arrives: the OBU is not found
    VST = "vst"
    #: the GetSecure request is lost (after B2, before B4)
    GET_SECURE = "get_secure"
    #: the INITIALIZE + UPDATE CACHE request is lost: the card is untouched
    INIT_REQUEST = "init_request"
    #: the INITIALIZE answer is lost: the card opened a purchase, nothing committed
    INIT_RESPONSE = "init_response"
    #: the DEBIT request is lost: the card did not commit
    DEBIT_REQUEST = "debit_request"
    #: the DEBIT answer is lost: the card committed
    DEBIT_RESPONSE = "debit_response"
    #: B5 is built but never reaches the lane
    B5_TO_LANE = "b5_to_lane"
    #: the GET TRANSACTION PROVE request is lost
    PROVE = "prove"


@fast_init
@dataclass(frozen=True, slots=True)
class PassFaults:
    """Fault hooks of one pass, for the scenario's fault mix.

    `tear` breaks that one exchange (every retry of it is lost); with `leave_zone` the vehicle
    leaves the zone right there instead, so every later exchange of the pass fails too.
    `loss_probability` replaces the radio's frame loss (a fade); the frame types in `duplicate`
    are sent to the lane twice (same SEQ, same DATA).
    """

    tear: TearPoint | None = None
    leave_zone: bool = False
    loss_probability: float | None = None
    duplicate: frozenset[FrameType] = field(default_factory=frozenset)


NO_FAULTS = PassFaults()
