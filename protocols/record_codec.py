"""Card and OBU file records ⇄ bytes: ICC 0015 and 0019, ESAM system information, vehicle file.

Layouts follow `card.md`; each is one construct Struct, from which `protocols.flat_codec` generates
the fast codec used by default. Every error is a `RecordError`.
"""

from __future__ import annotations

from typing import Any

from construct import Bytes, Int8ub, Int16ub, Int24ub, Int32ub, Struct

from protocols.errors import RecordError
from protocols.fields import (
    FOREIGN_ERRORS,
    BcdDate,
    BcdDigits,
    EnumField,
    PlateBytes,
    TypedStruct,
)
from protocols.records import (
    CardType,
    EntryExitRecord,
    EntryExitStatus,
    IssuerInfo,
    ObuStatus,
    ObuSystemInfo,
    PlateColour,
    TamperStatus,
    VehicleClass,
    VehicleInfo,
)

__all__ = [
    "ENTRY_EXIT_LENGTH",
    "ISSUER_INFO_LENGTH",
    "ISSUER_INFO_SHORT_LENGTH",
    "SYSTEM_INFO_LENGTH",
    "VEHICLE_INFO_LENGTH",
    "decode_entry_exit",
    "decode_issuer_info",
    "decode_system_info",
    "decode_vehicle_info",
    "encode_entry_exit",
    "encode_issuer_info",
    "encode_system_info",
    "encode_vehicle_info",
]

ISSUER_INFO_LENGTH = 50
ISSUER_INFO_SHORT_LENGTH = 43
ENTRY_EXIT_LENGTH = 43
SYSTEM_INFO_LENGTH = 29
VEHICLE_INFO_LENGTH = 79


def _issuer_info(reserved_length: int) -> TypedStruct:
    """File 0015 with a reserved tail of `reserved_length` bytes (7, or 0 on older cards)."""
    return TypedStruct(
        IssuerInfo,
        Struct(
            "issuer_identifier" / Bytes(8),
            "card_type" / EnumField(Int8ub, CardType),
            "card_version" / Int8ub,
            "network" / BcdDigits(2),
            "card_serial" / BcdDigits(8),
            "start_date" / BcdDate(),
            "expiry_date" / BcdDate(),
            "plate" / PlateBytes(),
            "user_type" / Int8ub,
            "plate_colour" / EnumField(Int8ub, PlateColour),
            "vehicle_class" / EnumField(Int8ub, VehicleClass),
            "reserved" / Bytes(reserved_length),
        ),
    )


#: the two forms of 0015, by their length
_ISSUER_INFO = {
    ISSUER_INFO_LENGTH: _issuer_info(ISSUER_INFO_LENGTH - ISSUER_INFO_SHORT_LENGTH),
    ISSUER_INFO_SHORT_LENGTH: _issuer_info(0),
}

_ENTRY_EXIT = TypedStruct(
    EntryExitRecord,
    Struct(
        "app_type" / Int8ub,
        "record_length" / Int8ub,
        "lock_flag" / Int8ub,
        "network" / BcdDigits(2),
        "station" / Int16ub,
        "lane" / Int8ub,
        "time" / Int32ub,
        "vehicle_class" / EnumField(Int8ub, VehicleClass),
        "status" / EnumField(Int8ub, EntryExitStatus),
        "last_gantry" / Bytes(3),
        "last_gantry_time" / Int32ub,
        "plate" / PlateBytes(),
        "plate_colour" / EnumField(Int8ub, PlateColour),
        "truck_axles" / Int8ub,
        "truck_weight_kg" / Int24ub,
        "vehicle_status_flag" / Int8ub,
        "accumulated_fee" / Int32ub,
    ),
)

#: ESAM system information file, our layout (29 bytes): offsets 0-25 as `card.md` §2 lists them,
#: byte 26 OBU status and byte 27 tamper status as `card.md` numbers them, and EquipmentCV, which
#: B2 reports but `card.md` does not place, appended as byte 28. B2 carries the same fields in its
#: own order (EquipmentCV first), see `frame_codec`.
_SYSTEM_INFO = TypedStruct(
    ObuSystemInfo,
    Struct(
        "contract_provider" / Bytes(8),
        "contract_type" / Int8ub,
        "contract_version" / Int8ub,
        "contract_serial" / BcdDigits(8),
        "signed_date" / BcdDate(),
        "expiry_date" / BcdDate(),
        "obu_status" / EnumField(Int8ub, ObuStatus),
        "tamper_status" / EnumField(Int8ub, TamperStatus),
        "equipment_cv" / Int8ub,
    ),
)

_VEHICLE_INFO = TypedStruct(
    VehicleInfo,
    Struct(
        "plate" / PlateBytes(),
        "plate_colour" / EnumField(Int16ub, PlateColour),
        "vehicle_class" / EnumField(Int8ub, VehicleClass),
        "user_type" / Int8ub,
        "length_dm" / Int16ub,
        "width_dm" / Int8ub,
        "height_dm" / Int8ub,
        "wheels" / Int8ub,
        "axles" / Int8ub,
        "wheelbase_dm" / Int16ub,
        "load_or_seats" / Int24ub,
        "description" / Bytes(16),
        "engine_number" / Bytes(16),
        "reserved" / Bytes(20),
    ),
)


def _decode(
    codec: TypedStruct, raw: bytes, what: str, lengths: tuple[int, ...], compiled: bool
) -> Any:
    if len(raw) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise RecordError(f"{what} wants {wanted} bytes, got {len(raw)}")
    try:
        return codec.parse(bytes(raw), compiled=compiled)
    except RecordError as exc:
        raise RecordError(f"{what}: {exc}") from exc
    except FOREIGN_ERRORS as exc:
        raise RecordError(f"{what} does not fit its layout: {exc}") from exc


def _encode(codec: TypedStruct, record: Any, what: str, compiled: bool) -> bytes:
    try:
        return codec.build(record, compiled=compiled)
    except RecordError as exc:
        raise RecordError(f"{what}: {exc}") from exc
    except FOREIGN_ERRORS as exc:
        raise RecordError(f"{what} cannot be encoded: {exc}") from exc


# `compiled=False` below: construct's interpreted parser and builder, the reference definition.


def decode_issuer_info(raw: bytes, *, compiled: bool = True) -> IssuerInfo:
    """ICC file 0015 (50 bytes, or 43 from older cards: then `reserved` is empty)."""
    codec = _ISSUER_INFO.get(len(raw), _ISSUER_INFO[ISSUER_INFO_LENGTH])
    result: IssuerInfo = _decode(
        codec, raw, "0015", (ISSUER_INFO_LENGTH, ISSUER_INFO_SHORT_LENGTH), compiled
    )
    return result


def encode_issuer_info(record: IssuerInfo, *, compiled: bool = True) -> bytes:
    """The 50-byte (or, with empty `reserved`, 43-byte) form of file 0015."""
    extra = len(record.reserved)
    if extra not in (0, ISSUER_INFO_LENGTH - ISSUER_INFO_SHORT_LENGTH):
        raise RecordError(f"0015 reserved tail is {extra} bytes, wants 7 or 0")
    codec = _ISSUER_INFO[ISSUER_INFO_SHORT_LENGTH + extra]
    return _encode(codec, record, "0015", compiled)


def decode_entry_exit(raw: bytes, *, compiled: bool = True) -> EntryExitRecord:
    """ICC file 0019, the 43-byte entry/exit record."""
    result: EntryExitRecord = _decode(_ENTRY_EXIT, raw, "0019", (ENTRY_EXIT_LENGTH,), compiled)
    return result


def encode_entry_exit(record: EntryExitRecord, *, compiled: bool = True) -> bytes:
    """The 43 bytes of file 0019."""
    return _encode(_ENTRY_EXIT, record, "0019", compiled)


def decode_system_info(raw: bytes, *, compiled: bool = True) -> ObuSystemInfo:
    """ESAM system information file (29 bytes, our layout: see `_SYSTEM_INFO`)."""
    result: ObuSystemInfo = _decode(
        _SYSTEM_INFO, raw, "ESAM system information", (SYSTEM_INFO_LENGTH,), compiled
    )
    return result


def encode_system_info(record: ObuSystemInfo, *, compiled: bool = True) -> bytes:
    """The 29 bytes of the ESAM system information file."""
    return _encode(_SYSTEM_INFO, record, "ESAM system information", compiled)


def decode_vehicle_info(raw: bytes, *, compiled: bool = True) -> VehicleInfo:
    """ESAM vehicle information file, 79 bytes."""
    result: VehicleInfo = _decode(
        _VEHICLE_INFO, raw, "vehicle information", (VEHICLE_INFO_LENGTH,), compiled
    )
    return result


def encode_vehicle_info(record: VehicleInfo, *, compiled: bool = True) -> bytes:
    """The 79 bytes of the vehicle information file."""
    return _encode(_VEHICLE_INFO, record, "vehicle information", compiled)
