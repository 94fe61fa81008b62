"""PC-RSU frames (an envelope's DATA) ⇄ typed values: one construct Struct per frame type.

`decode_frame` checks the length of DATA against its type before any parser sees it, and only then
uses the flat codec that `protocols.flat_codec` generates from the Struct (construct's interpreted
parser on request). Every error is a `FrameDecodeError` or `FrameEncodeError`.

Strict about structure, lenient about values (our decision, for vendor lanes and RSUs): a coded
field whose value its enum does not know (a vendor LaneMode 13h) is kept as the plain number and
the frame still decodes. The Struct table below is the one place that says which values are
standard: each coded field names its enum, and `nonstandard_values(frame)` lists the fields of a
decoded frame whose values are not members of it, for the caller to note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from construct import Bytes, Const, GreedyBytes, Int8ub, Int16ub, Int32ub, Struct, this

from protocols import record_codec as rc
from protocols.errors import FrameDecodeError, FrameEncodeError, RecordError
from protocols.fields import (
    FOREIGN_ERRORS,
    BcdDate,
    BcdDateTime,
    BcdDigits,
    EnumField,
    OptionalBcdDateTime,
    RecordField,
    TypedStruct,
    ValueArray,
    coded_fields,
)
from protocols.frames import (
    AlgFlag,
    AntennaControl,
    B2Error,
    B4Error,
    B5Error,
    Continue,
    DeviceStatus,
    DeviceType,
    Frame,
    FrameType,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    ObuFound,
    PsamInfo,
    Purchase,
    RefetchTac,
    RsuStatus,
    SetAntenna,
    Stop,
    StopType,
    TacRefetched,
    TransactionResult,
    TransMode,
    TransType,
    UnknownFrame,
    VehicleAndCard,
)
from protocols.frozen import fast_init
from protocols.records import ObuStatus, TamperStatus

__all__ = [
    "B0_FIXED_LENGTH",
    "B1_MIN_LENGTH",
    "FRAME_LENGTHS",
    "PSAM_INFO_LENGTH",
    "HeartbeatLayout",
    "NonStandardValue",
    "build_heartbeat",
    "decode_frame",
    "encode_frame",
    "heartbeat_layout",
    "nonstandard_values",
]

B0_FIXED_LENGTH = 18
PSAM_INFO_LENGTH = 9
B1_MIN_LENGTH = 4
_CODEC_ERRORS: tuple[type[Exception], ...] = (RecordError, *FOREIGN_ERRORS)


def _type(frame_type: FrameType) -> Const:
    return Const(bytes([frame_type]))


_STATION = RecordField(rc.ENTRY_EXIT_LENGTH, rc.decode_entry_exit, rc.encode_entry_exit)

_PSAM_INFO = TypedStruct(
    PsamInfo,
    Struct(
        "channel" / Int8ub,
        "version" / Int8ub,
        "auth_status" / Int8ub,
        "terminal_number" / Bytes(6),
    ),
)

_STRUCTS: dict[FrameType, TypedStruct] = {
    FrameType.C0: TypedStruct(Initialise, Struct(
        _type(FrameType.C0),
        "unix_time" / Int32ub,
        "date_time" / BcdDateTime(),
        "lane_mode" / EnumField(Int8ub, LaneMode),
        "bst_interval_ms" / Int8ub,
        "tx_power" / Int8ub,
        "pll_channel_id" / Int8ub,
        "trans_mode" / EnumField(Int8ub, TransMode),
        "flag_id" / Bytes(3),
        "reserved" / Bytes(2),
    )),
    FrameType.C1: TypedStruct(Continue, Struct(
        _type(FrameType.C1),
        "obu_id" / Int32ub,
        "obu_div_factor" / Bytes(8),
    )),
    FrameType.C2: TypedStruct(Stop, Struct(
        _type(FrameType.C2),
        "obu_id" / Int32ub,
        "stop_type" / EnumField(Int8ub, StopType),
        "unix_time" / Int32ub,
    )),
    FrameType.C4: TypedStruct(SetAntenna, Struct(
        _type(FrameType.C4),
        "control" / EnumField(Int8ub, AntennaControl),
    )),
    FrameType.C6: TypedStruct(Purchase, Struct(
        _type(FrameType.C6),
        "obu_id" / Int32ub,
        "obu_div_factor" / Bytes(8),
        "consume_money" / Int32ub,
        "purchase_time" / BcdDateTime(),
        "station" / _STATION,
    )),
    FrameType.C8: TypedStruct(RefetchTac, Struct(
        _type(FrameType.C8),
        "obu_id" / Int32ub,
        "ep_serial" / Int16ub,
    )),
    FrameType.CF: TypedStruct(HeartbeatAnswer, Struct(
        _type(FrameType.CF),
        "status" / Int8ub,
    )),
    FrameType.B0: TypedStruct(DeviceStatus, Struct(
        _type(FrameType.B0),
        "rsu_status" / EnumField(Int8ub, RsuStatus),
        "psam_num_reported" / Int8ub,
        # Field quirk: the entry count comes from the frame length, not from PSAMNum.
        "psam_info" / ValueArray(_PSAM_INFO, this._.psam_count),
        "rsu_alg_id" / Int8ub,
        "rsu_manu_id" / Int8ub,
        "rsu_id" / Bytes(3),
        "rsu_version" / Bytes(2),
        "work_status" / Int8ub,
        "flag_id" / Bytes(3),
        "reserved" / Bytes(4),
    )),
    FrameType.B1: TypedStruct(Heartbeat, Struct(
        _type(FrameType.B1),
        "ctrl_status1" / Int8ub,
        "ctrl_status2" / Int8ub,
        "ctrl_status3" / Int8ub,
        "body" / GreedyBytes,
    )),
    FrameType.B2: TypedStruct(ObuFound, Struct(
        _type(FrameType.B2),
        "obu_id" / Int32ub,
        "error_code" / EnumField(Int8ub, B2Error),
        "antenna_id" / Int8ub,
        "device_type" / EnumField(Int8ub, DeviceType),
        "issuer_identifier" / Bytes(8),
        "contract_type" / Int8ub,
        "contract_version" / Int8ub,
        "serial_number" / BcdDigits(8),
        "date_of_issue" / BcdDate(),
        "date_of_expire" / BcdDate(),
        "equipment_cv" / Int8ub,
        "obu_status" / EnumField(Int8ub, ObuStatus),
        "tamper_status" / EnumField(Int8ub, TamperStatus),
    )),
    FrameType.B4: TypedStruct(VehicleAndCard, Struct(
        _type(FrameType.B4),
        "obu_id" / Int32ub,
        "error_code" / EnumField(Int8ub, B4Error),
        "trans_type" / EnumField(Int8ub, TransType),
        "vehicle_info" / RecordField(
            rc.VEHICLE_INFO_LENGTH, rc.decode_vehicle_info, rc.encode_vehicle_info,
            zero_is_none=True,
        ),
        "card_rest_money" / Int32ub,
        # 0015 travels in its 50-byte form; a 43-byte record is zero-padded into the slot.
        "issuer_info" / RecordField(
            rc.ISSUER_INFO_LENGTH, rc.decode_issuer_info, rc.encode_issuer_info,
            zero_is_none=True,
        ),
        "last_station" / RecordField(
            rc.ENTRY_EXIT_LENGTH, rc.decode_entry_exit, rc.encode_entry_exit, zero_is_none=True
        ),
    )),
    FrameType.B5: TypedStruct(TransactionResult, Struct(
        _type(FrameType.B5),
        "obu_id" / Int32ub,
        "error_code" / EnumField(Int8ub, B5Error),
        "psam_no" / Bytes(6),
        "trans_time" / OptionalBcdDateTime(),
        "trans_type" / EnumField(Int8ub, TransType),
        "alg_flag" / EnumField(Int8ub, AlgFlag),
        "key_version" / Int8ub,
        "tac" / Bytes(4),
        "icc_pay_serial" / Int16ub,
        "psam_trans_serial" / Int32ub,
        "card_balance" / Int32ub,
    )),
    FrameType.B8: TypedStruct(TacRefetched, Struct(
        _type(FrameType.B8),
        "obu_id" / Int32ub,
        "error_code" / EnumField(Int8ub, B5Error),
        "tac" / Bytes(4),
        "mac2" / Bytes(4),
        "card_rest_money" / Int32ub,
    )),
}

_TYPE_OF: dict[type, FrameType] = {codec.value_type: t for t, codec in _STRUCTS.items()}

#: Per frame class, its coded fields and the enum that holds their standard values.
_CODED: dict[type, tuple[tuple[str, type[IntEnum]], ...]] = {
    codec.value_type: coded_fields(codec.struct) for codec in _STRUCTS.values()
}


@dataclass(frozen=True, slots=True)
class NonStandardValue:
    """A coded field of a decoded frame whose value is not one of its enum's (kept as sent)."""

    frame: str  # the frame type, e.g. "C0"
    field: str
    value: int
    standard: str  # the enum whose members are the standard values

    def __str__(self) -> str:
        return f"{self.frame} {self.field} {self.value:#04x} is not a standard {self.standard}"


def nonstandard_values(frame: Frame) -> tuple[NonStandardValue, ...]:
    """The coded fields of `frame` holding values their enum does not know (empty: all
    standard, or a frame without coded fields)."""
    coded = _CODED.get(type(frame))
    if not coded:
        return ()
    found = []
    for name, enum in coded:
        value = getattr(frame, name)
        if not isinstance(value, enum):
            found.append(NonStandardValue(_TYPE_OF[type(frame)].name, name, int(value),
                                          enum.__name__))
    return tuple(found)

#: DATA length of each fixed-size frame type, type byte included (`pc-rsu.md` §2).
FRAME_LENGTHS: dict[FrameType, int] = {
    FrameType.C0: 22, FrameType.C1: 13, FrameType.C2: 10, FrameType.C4: 2, FrameType.C6: 67,
    FrameType.C8: 7, FrameType.CF: 2, FrameType.B2: 37, FrameType.B4: 183, FrameType.B5: 36,
    FrameType.B8: 18,
}


#: the frame type of each known type byte (a dict lookup is cheaper than calling the IntEnum)
_FRAME_TYPE_OF_BYTE: dict[int, FrameType] = {int(t): t for t in FrameType}


def _context(frame_type: FrameType, length: int) -> dict[str, int]:
    """Checks the DATA length of `frame_type` and gives the counts the Struct needs."""
    wanted = FRAME_LENGTHS.get(frame_type)
    if wanted is not None:
        if length != wanted:
            raise FrameDecodeError(f"{frame_type.name} frame is {length} bytes, wants {wanted}")
        return {}
    if frame_type is FrameType.B0:
        extra = length - B0_FIXED_LENGTH
        if extra < 0 or extra % PSAM_INFO_LENGTH:
            raise FrameDecodeError(
                f"B0 frame is {length} bytes, wants {B0_FIXED_LENGTH} + {PSAM_INFO_LENGTH}×n"
            )
        return {"psam_count": extra // PSAM_INFO_LENGTH}
    return {}  # B1: any length from B1_MIN_LENGTH on, checked by the caller


def decode_frame(data: bytes, *, compiled: bool = True) -> Frame:
    """The typed frame in an envelope's DATA; an unknown type byte gives `UnknownFrame`.

    A B1 never fails: shorter than its three status bytes it is kept whole as `UnknownFrame`.
    `compiled=False` uses construct's interpreted parser (the results are the same); the default
    uses the flat codec generated from the same Struct (construct's compiled parser for B0).
    """
    data = bytes(data)
    if not data:
        raise FrameDecodeError("empty DATA: no frame type byte")
    frame_type = _FRAME_TYPE_OF_BYTE.get(data[0])
    if frame_type is None:
        return UnknownFrame(data)
    if frame_type is FrameType.B1 and len(data) < B1_MIN_LENGTH:
        return UnknownFrame(data)
    # The length is checked here, before any parser (flat codecs above all) sees the bytes.
    context = _context(frame_type, len(data))
    try:
        frame: Frame = _STRUCTS[frame_type].parse(data, compiled=compiled, **context)
    except _CODEC_ERRORS as exc:
        raise FrameDecodeError(f"{frame_type.name} frame: {exc}") from exc
    return frame


def encode_frame(frame: Frame, *, compiled: bool = True) -> bytes:
    """The DATA bytes of `frame` (type byte first).

    `compiled=False` uses construct's builder (the bytes are the same); the default uses the flat
    codec generated from the same Struct where there is one.
    """
    if isinstance(frame, UnknownFrame):
        return frame.data
    frame_type = _TYPE_OF.get(type(frame))
    if frame_type is None:
        raise FrameEncodeError(f"{type(frame).__name__} is not a PC-RSU frame")
    context: dict[str, Any] = {}
    if isinstance(frame, DeviceStatus):
        context["psam_count"] = len(frame.psam_info)
    try:
        return _STRUCTS[frame_type].build(frame, compiled=compiled, **context)
    except _CODEC_ERRORS as exc:
        raise FrameEncodeError(f"{frame_type.name} frame: {exc}") from exc


# ---------------------------------------------------------------- B1 documented layout


@fast_init
@dataclass(frozen=True, slots=True)
class HeartbeatLayout:
    """The B1 body as `pc-rsu.md` documents it: two groups of PSAM status, then antenna status."""

    psam_status1: tuple[bytes, ...] = ()  # 3 bytes each
    psam_status2: tuple[bytes, ...] = ()  # 3 bytes each
    antenna_status: tuple[bytes, ...] = ()  # 4 bytes each


def _entries(items: Sequence[bytes], size: int) -> bytes:
    if len(items) > 255 or any(len(item) != size for item in items):
        raise FrameEncodeError(f"B1 wants at most 255 status entries of {size} bytes")
    return bytes([len(items)]) + b"".join(items)


def build_heartbeat(
    ctrl_status1: int, ctrl_status2: int, ctrl_status3: int, layout: HeartbeatLayout
) -> Heartbeat:
    """A B1 whose body follows the documented layout (what a simulator should send)."""
    body = (
        _entries(layout.psam_status1, 3)
        + _entries(layout.psam_status2, 3)
        + _entries(layout.antenna_status, 4)
    )
    return Heartbeat(ctrl_status1, ctrl_status2, ctrl_status3, body)


def heartbeat_layout(frame: Heartbeat) -> HeartbeatLayout | None:
    """The documented layout of a B1 body, or None where the counts do not fit (field quirk)."""
    body, groups = frame.body, []
    for size in (3, 3, 4):
        if not body:
            return None
        count, body = body[0], body[1:]
        if len(body) < count * size:
            return None
        groups.append(tuple(body[i * size:(i + 1) * size] for i in range(count)))
        body = body[count * size:]
    if body:
        return None
    return HeartbeatLayout(groups[0], groups[1], groups[2])
