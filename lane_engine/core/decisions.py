"""Pure checks of OBU, card and vehicle (`rules.md` §3): each answers with a reason code or None.

Every "our decision" of the lane's refusal behaviour lives here, one function each.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum

from lane_engine.core.outcomes import ReasonCode
from lane_engine.core.ports import CardBlacklist
from lane_engine.errors import LaneError
from protocols.frames import B2Error, B4Error, B5Error, DeviceType, ObuFound, StopType
from protocols.frames import VehicleAndCard as B4
from protocols.records import CardType, ObuStatus, TamperStatus

__all__ = [
    "Refusal",
    "Settlement",
    "b4_error_reason",
    "b5_settlement",
    "b8_settlement",
    "card_refusal",
    "charged_class",
    "is_rsu_heartbeat",
    "obu_div_factor",
    "obu_refusal",
    "stop_type_for",
]

Refusal = tuple[ReasonCode, str]  # the reason and a detail for the operator

# One mask for the fast path: no bit of it set means no OBU-status refusal.
_OBU_BAD_BITS = (
    ObuStatus.ICC_ABSENT | ObuStatus.ICC_ERROR | ObuStatus.OBU_LOCKED | ObuStatus.OBU_TAMPERED
)
_KNOWN_CARD_TYPES = frozenset({CardType.CREDIT, CardType.STORED_VALUE})


def is_rsu_heartbeat(b2: ObuFound) -> bool:
    """A B2 with ErrorCode 80h and OBUID 0 is some RSUs' heartbeat: no OBU present.

    Our decision: it is not answered (it is not an OBU to continue or stop).
    """
    return b2.error_code == B2Error.NO_OBU and b2.obu_id == 0


def obu_refusal(b2: ObuFound, today: dt.date) -> Refusal | None:
    """Why the OBU of this B2 cannot be traded with, or None (checks in `rules.md` §3 order)."""
    status = b2.obu_status
    expire = b2.date_of_expire
    if (
        b2.error_code == B2Error.OK
        and not status & _OBU_BAD_BITS
        and b2.tamper_status != TamperStatus.REMOVED
        and (expire is None or expire >= today)
        and b2.device_type != DeviceType.CPC_CARD
    ):
        return None
    if b2.error_code != B2Error.OK:
        return ReasonCode.OBU_READ_FAILED, f"B2 error {b2.error_code:#04x}"
    if b2.device_type == DeviceType.CPC_CARD:
        return ReasonCode.UNSUPPORTED_CARD, "CPC card"
    if expire is not None and expire < today:
        return ReasonCode.OBU_EXPIRED, f"OBU expired {expire.isoformat()}"
    if b2.tamper_status == TamperStatus.REMOVED or status & ObuStatus.OBU_TAMPERED:
        return ReasonCode.OBU_TAMPERED, f"tamper {b2.tamper_status:#04x} status {int(status):#04x}"
    if status & ObuStatus.OBU_LOCKED:
        return ReasonCode.OBU_LOCKED, ""
    if status & ObuStatus.ICC_ABSENT:
        return ReasonCode.OBU_NO_CARD, ""
    return ReasonCode.CARD_ERROR, "OBU reports an ICC error"


def b4_error_reason(error_code: int) -> ReasonCode:
    """The reason for a B4 ErrorCode other than 00h (our decision for the grouping)."""
    if error_code in (B4Error.NO_DSRC_REPLY, B4Error.UPLINK_DECODE_ERROR):
        return ReasonCode.RADIO_LOST
    if error_code in (B4Error.VEHICLE_DECRYPT_FAILED, B4Error.VEHICLE_CHECK_CODE_WRONG):
        return ReasonCode.VEHICLE_INFO_UNREADABLE
    return ReasonCode.CARD_ERROR


def card_refusal(b4: B4, today: dt.date, blacklist: CardBlacklist) -> Refusal | None:
    """Why the card and vehicle of this B4 are refused before pricing, or None."""
    if b4.error_code != B4Error.OK:
        return b4_error_reason(b4.error_code), f"B4 error {b4.error_code:#04x}"
    card, vehicle = b4.issuer_info, b4.vehicle_info
    if vehicle is None:
        return ReasonCode.VEHICLE_INFO_UNREADABLE, "vehicle file zero-filled"
    if card is None:
        return ReasonCode.CARD_ERROR, "0015 zero-filled"
    if card.card_type not in _KNOWN_CARD_TYPES:
        return ReasonCode.UNSUPPORTED_CARD, f"card type {card.card_type:#04x}"
    if card.expiry_date is not None and card.expiry_date < today:
        return ReasonCode.CARD_EXPIRED, f"card expired {card.expiry_date.isoformat()}"
    if card.start_date is not None and card.start_date > today:
        return ReasonCode.CARD_NOT_YET_VALID, f"card valid from {card.start_date.isoformat()}"
    try:
        listed = blacklist.reason_for(card.card_number)
    except LaneError as exc:
        return ReasonCode.CARD_ERROR, f"malformed card number: {exc}"
    if listed is not None:
        return ReasonCode.BLACKLISTED, listed.name
    if card.plate.raw != vehicle.plate.raw or card.plate_colour != vehicle.plate_colour:
        return ReasonCode.PLATE_MISMATCH, (
            f"card {card.plate.text}/{card.plate_colour} OBU {vehicle.plate.text}/"
            f"{vehicle.plate_colour}"
        )
    return None


def charged_class(base_class: int, obu_class: int, card_class: int) -> tuple[int, bool]:
    """The class to charge and whether the classes disagree (our decision: the highest class).

    `base_class` is the entry record's class at an exit, the OBU's at an entry; the OBU's or the
    card's class wins when higher, and any disagreement between them is flagged.
    """
    charged = max(base_class, obu_class, card_class)
    return charged, charged != base_class or obu_class != card_class


def stop_type_for(reason: ReasonCode) -> StopType:
    """How a refused OBU is stopped (our decision): after a radio fault the RSU may find it again
    (END); after any decision about the vehicle or card it is frozen for this pass (FREEZE)."""
    if reason in _RETRYABLE:
        return StopType.END
    return StopType.FREEZE


_RETRYABLE = frozenset(
    {ReasonCode.RADIO_LOST, ReasonCode.OBU_READ_FAILED, ReasonCode.PURCHASE_FAILED,
     ReasonCode.RESULT_UNKNOWN}
)


class Settlement(Enum):
    """What a B5 or B8 ErrorCode says about the card's debit."""

    #: the card committed: TAC in hand
    COMMITTED = "committed"
    #: the card certainly did not commit
    NOT_DEBITED = "not_debited"
    #: the card may have committed: ask with C8
    IN_DOUBT = "in_doubt"


_B5_NOT_DEBITED: dict[int, ReasonCode] = {
    B5Error.PSAM_MAC1_FAILED: ReasonCode.PSAM_ERROR,
    B5Error.CARD_NOT_DEBITED: ReasonCode.PURCHASE_FAILED,
    B5Error.CARD_INSUFFICIENT_BALANCE: ReasonCode.INSUFFICIENT_BALANCE,
    B5Error.CARD_MAC1_INVALID: ReasonCode.CARD_MAC_INVALID,
    B5Error.CARD_LOCKED: ReasonCode.CARD_LOCKED,
    B5Error.CARD_OTHER_ERROR: ReasonCode.CARD_ERROR,
}


def b5_settlement(error_code: int) -> tuple[Settlement, ReasonCode]:
    """What a B5 ErrorCode settles (our decision): 00h committed; PSAM MAC1 failure and the card's
    refusals (20h-24h) certainly not debited; everything else (10h-14h, MAC2/TAC failures,
    unknown codes) in doubt, to be asked with C8."""
    if error_code == B5Error.OK:
        return Settlement.COMMITTED, ReasonCode.OK
    reason = _B5_NOT_DEBITED.get(error_code)
    if reason is not None:
        return Settlement.NOT_DEBITED, reason
    return Settlement.IN_DOUBT, ReasonCode.RESULT_UNKNOWN


def b8_settlement(error_code: int) -> Settlement:
    """What a B8 ErrorCode settles (our decision): 00h committed, 20h not debited, else in doubt."""
    if error_code == B5Error.OK:
        return Settlement.COMMITTED
    if error_code == B5Error.CARD_NOT_DEBITED:
        return Settlement.NOT_DEBITED
    return Settlement.IN_DOUBT


def obu_div_factor(b2: ObuFound) -> bytes:
    """The OBUDivFactor of C1/C6 (our decision: the B2 IssuerIdentifier, the OBU's contract
    provider, which is what the RSU diversifies the ESAM keys with)."""
    return b2.issuer_identifier
