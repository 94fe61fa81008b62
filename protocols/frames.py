"""PC-RSU frames (the DATA of an envelope) as typed values, both directions (`pc-rsu.md` §2).

Only values live here; bytes are converted by `protocols.frame_codec` (`encode_frame`,
`decode_frame`). OBUIDs are ints (the 4-byte air-link MAC address); BCD date-times are naive
`datetime.datetime` values; money is an int of fen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from protocols.frozen import fast_init
from protocols.records import EntryExitRecord, IssuerInfo, ObuStatus, VehicleInfo

__all__ = [
    "AlgFlag",
    "AntennaControl",
    "B2Error",
    "B4Error",
    "B5Error",
    "Continue",
    "DeviceStatus",
    "DeviceType",
    "Frame",
    "FrameType",
    "Heartbeat",
    "HeartbeatAnswer",
    "Initialise",
    "LaneFrame",
    "LaneMode",
    "ObuFound",
    "PsamInfo",
    "Purchase",
    "RefetchTac",
    "RsuFrame",
    "RsuStatus",
    "SetAntenna",
    "Stop",
    "StopType",
    "TacRefetched",
    "TransMode",
    "TransType",
    "TransactionResult",
    "UnknownFrame",
    "VehicleAndCard",
]


class FrameType(IntEnum):
    """DATA[0]: the frame type."""

    #: PC → RSU initialise
    C0 = 0xC0
    #: PC → RSU continue with this OBU (or acknowledge B5)
    C1 = 0xC1
    #: PC → RSU stop this OBU
    C2 = 0xC2
    #: PC → RSU antenna on/off
    C4 = 0xC4
    #: PC → RSU purchase: write record and debit
    C6 = 0xC6
    #: PC → RSU re-fetch the TAC of a lost transaction
    C8 = 0xC8
    #: PC → RSU heartbeat answer
    CF = 0xCF
    #: RSU → PC device status
    B0 = 0xB0
    #: RSU → PC heartbeat
    B1 = 0xB1
    #: RSU → PC OBU found
    B2 = 0xB2
    #: RSU → PC vehicle and card information
    B4 = 0xB4
    #: RSU → PC transaction result
    B5 = 0xB5
    #: RSU → PC TAC re-fetched
    B8 = 0xB8


class LaneMode(IntEnum):
    """C0 LaneMode."""

    #: ETC entry lane
    ENTRY = 0x03
    #: ETC exit lane
    EXIT = 0x04


class TransMode(IntEnum):
    """C0 TransMode."""

    #: composite transaction (the only one used here)
    COMPOSITE = 0x01


class StopType(IntEnum):
    """C2 StopType."""

    #: end this OBU and search for a new one
    END = 0x01
    #: resend the current frame
    RESEND = 0x02
    #: freeze this OBUID: do not trade with it again in this pass
    FREEZE = 0x03


class AntennaControl(IntEnum):
    """C4 ControlType."""

    #: antenna off
    OFF = 0x00
    #: antenna on
    ON = 0x01


class RsuStatus(IntEnum):
    """B0 RSUStatus."""

    #: normal
    NORMAL = 0x00
    #: PSAM reset failed
    PSAM_RESET_FAILED = 0x01
    #: antenna link failed
    ANTENNA_LINK_FAILED = 0x02
    #: controller initialisation error
    CONTROLLER_INIT_ERROR = 0x03


class DeviceType(IntEnum):
    """B2 DeviceType."""

    #: double-chip OBU: ESAM plus an inserted ICC
    DOUBLE_CHIP_OBU = 0x01
    #: single-chip OBU
    SINGLE_CHIP_OBU = 0x02
    #: CPC card
    CPC_CARD = 0x03


class B2Error(IntEnum):
    """B2 ErrorCode values with a known meaning (other values are kept as plain ints)."""

    #: OBU found and read
    OK = 0x00
    #: no OBU present: a heartbeat in some RSUs (OBUID 0)
    NO_OBU = 0x80


class B4Error(IntEnum):
    """B4 ErrorCode values with a known meaning (other values are kept as plain ints)."""

    #: all read
    OK = 0x00
    #: no DSRC reply
    NO_DSRC_REPLY = 0x01
    #: uplink decode error
    UPLINK_DECODE_ERROR = 0x02
    #: vehicle information decryption failed in the PSAM
    VEHICLE_DECRYPT_FAILED = 0x05
    #: vehicle information check code wrong
    VEHICLE_CHECK_CODE_WRONG = 0x06
    #: entry file (0019) read failed
    ENTRY_FILE_READ_FAILED = 0x0A
    #: card file read failures 11h-15h
    CARD_READ_FAILED_11 = 0x11
    #: card read failure
    CARD_READ_FAILED_12 = 0x12
    #: card read failure
    CARD_READ_FAILED_13 = 0x13
    #: card read failure
    CARD_READ_FAILED_14 = 0x14
    #: card read failure
    CARD_READ_FAILED_15 = 0x15


class B5Error(IntEnum):
    """B5/B8 ErrorCode values with a known meaning (other values are kept as plain ints)."""

    #: transaction done
    OK = 0x00
    #: PSAM MAC1 computation failed
    PSAM_MAC1_FAILED = 0x06
    #: MAC2 check failed
    MAC2_CHECK_FAILED = 0x07
    #: TAC failed
    TAC_FAILED = 0x08
    #: purchase failure: no radio reply (the card may or may not have committed)
    PURCHASE_NO_REPLY = 0x10
    #: purchase failure
    PURCHASE_FAILED_11 = 0x11
    #: purchase failure
    PURCHASE_FAILED_12 = 0x12
    #: purchase failure
    PURCHASE_FAILED_13 = 0x13
    #: purchase failure
    PURCHASE_FAILED_14 = 0x14
    # Extended codes (our decision, the simulator's and the lane's shared reading; the field
    # leaves card refusals vendor-specific):
    #: C8/B8: the card holds no transaction with that CTC, so nothing was debited
    CARD_NOT_DEBITED = 0x20
    #: the card refused INITIALIZE FOR CAPP PURCHASE with 9401 (insufficient balance)
    CARD_INSUFFICIENT_BALANCE = 0x21
    #: the card refused DEBIT with 9302 (MAC1 invalid)
    CARD_MAC1_INVALID = 0x22
    #: the card answered 6283 (application locked)
    CARD_LOCKED = 0x23
    #: the card answered another status word
    CARD_OTHER_ERROR = 0x24


class AlgFlag(IntEnum):
    """B5 AlgFlag and the algorithm id of INITIALIZE FOR CAPP PURCHASE."""

    #: 3DES family
    TDES = 0x00
    #: SM4 family
    SM4 = 0x04


class TransType(IntEnum):
    """Transaction types on the PC-RSU link and in the purchase cryptography."""

    #: simple purchase
    SIMPLE_PURCHASE = 0x06
    #: composite purchase (B5 TransType, MAC1/TAC input)
    COMPOSITE_PURCHASE = 0x09
    #: composite transaction (B4 TransType)
    COMPOSITE = 0x10


# ---------------------------------------------------------------- PC → RSU


@fast_init
@dataclass(frozen=True, slots=True)
class Initialise:
    """C0: initialise the RSU; answered by B0."""

    unix_time: int
    date_time: dt.datetime
    lane_mode: int  # LaneMode where standard
    bst_interval_ms: int
    tx_power: int  # 0..31
    pll_channel_id: int
    trans_mode: int = TransMode.COMPOSITE  # TransMode where standard
    flag_id: bytes = b"\x00\x00\x00"
    reserved: bytes = b"\x00\x00"


@fast_init
@dataclass(frozen=True, slots=True)
class Continue:
    """C1: go on with this OBU (after B2), or acknowledge B5 and release it."""

    obu_id: int
    obu_div_factor: bytes  # 8


@fast_init
@dataclass(frozen=True, slots=True)
class Stop:
    """C2: stop trading with this OBU."""

    obu_id: int
    stop_type: int  # StopType where standard
    unix_time: int


@fast_init
@dataclass(frozen=True, slots=True)
class SetAntenna:
    """C4: switch the antenna on or off; answered by a B1."""

    control: int  # AntennaControl where standard


@fast_init
@dataclass(frozen=True, slots=True)
class Purchase:
    """C6: composite purchase: debit ConsumeMoney and write the new 0019 record."""

    obu_id: int
    obu_div_factor: bytes  # 8
    consume_money: int  # fen
    purchase_time: dt.datetime
    station: EntryExitRecord  # the new 0019 record


@fast_init
@dataclass(frozen=True, slots=True)
class RefetchTac:
    """C8: ask for the TAC of the transaction with the card offline serial `ep_serial`."""

    obu_id: int
    ep_serial: int


@fast_init
@dataclass(frozen=True, slots=True)
class HeartbeatAnswer:
    """CF: the PC's answer to B1."""

    status: int


# ---------------------------------------------------------------- RSU → PC


@fast_init
@dataclass(frozen=True, slots=True)
class PsamInfo:
    """One B0 PSAMInfo entry."""

    channel: int
    version: int
    auth_status: int  # 00 authorised
    terminal_number: bytes  # 6


@fast_init
@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """B0: RSU device status, the answer to C0.

    Field quirk: `psam_num_reported` is kept as sent; the entries are counted from the length.
    """

    rsu_status: int  # RsuStatus where known
    psam_num_reported: int
    psam_info: tuple[PsamInfo, ...]
    rsu_alg_id: int
    rsu_manu_id: int
    rsu_id: bytes  # 3
    rsu_version: bytes  # 2
    work_status: int
    flag_id: bytes = b"\x00\x00\x00"
    reserved: bytes = b"\x00\x00\x00\x00"


@fast_init
@dataclass(frozen=True, slots=True)
class Heartbeat:
    """B1: RSU heartbeat. Never an error: the first three status bytes are typed, the rest is kept
    raw in `body` (counts in the field do not always fit the documented layout)."""

    ctrl_status1: int
    ctrl_status2: int
    ctrl_status3: int
    body: bytes = b""


@fast_init
@dataclass(frozen=True, slots=True)
class ObuFound:
    """B2: an OBU answered the beacon."""

    obu_id: int
    error_code: int  # B2Error where known
    antenna_id: int
    device_type: int  # DeviceType where known
    issuer_identifier: bytes  # 8
    contract_type: int
    contract_version: int
    serial_number: str  # 16 BCD digits: the OBU number
    date_of_issue: dt.date | None
    date_of_expire: dt.date | None
    equipment_cv: int
    obu_status: ObuStatus
    tamper_status: int  # TamperStatus where known


@fast_init
@dataclass(frozen=True, slots=True)
class VehicleAndCard:
    """B4: vehicle file, balance, 0015 and 0019 read from the OBU and its card.

    A part the RSU could not read arrives zero-filled and is `None` here.
    """

    obu_id: int
    error_code: int  # B4Error where known
    trans_type: int  # TransType.COMPOSITE
    vehicle_info: VehicleInfo | None
    card_rest_money: int  # fen (for an A card, the issuer's figure)
    issuer_info: IssuerInfo | None
    last_station: EntryExitRecord | None


@fast_init
@dataclass(frozen=True, slots=True)
class TransactionResult:
    """B5: the result of the purchase, with the TAC."""

    obu_id: int
    error_code: int  # B5Error where known
    psam_no: bytes  # 6: the PSAM terminal number
    trans_time: dt.datetime | None  # None where a failed B5 carries an all-zero time
    trans_type: int  # TransType.COMPOSITE_PURCHASE
    alg_flag: int  # AlgFlag where known
    key_version: int
    tac: bytes  # 4
    icc_pay_serial: int  # the card's CTC used by this purchase
    psam_trans_serial: int
    card_balance: int  # fen, after the purchase


@fast_init
@dataclass(frozen=True, slots=True)
class TacRefetched:
    """B8: the TAC (and MAC2) of an earlier transaction, after C8."""

    obu_id: int
    error_code: int  # B5Error where known
    tac: bytes  # 4
    mac2: bytes  # 4
    card_rest_money: int


@fast_init
@dataclass(frozen=True, slots=True)
class UnknownFrame:
    """A DATA field whose type byte is not one of the frames above: kept whole, never a crash."""

    data: bytes

    @property
    def frame_type(self) -> int:
        return self.data[0] if self.data else -1


LaneFrame = Initialise | Continue | Stop | SetAntenna | Purchase | RefetchTac | HeartbeatAnswer
RsuFrame = DeviceStatus | Heartbeat | ObuFound | VehicleAndCard | TransactionResult | TacRefetched
Frame = LaneFrame | RsuFrame | UnknownFrame
