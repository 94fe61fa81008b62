"""Baseline codecs written with plain `struct` for B2, B4, B5 and C6 (records included).

They give the same typed values and bytes as `protocols.frame_codec` for well-formed frames and
check nothing else: the floor a hand-written codec would reach, to compare construct against.
"""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag

from protocols.bcd import decode_date, decode_datetime, encode_date, encode_datetime
from protocols.frames import (
    B2Error,
    B4Error,
    B5Error,
    DeviceType,
    ObuFound,
    Purchase,
    TransactionResult,
    TransType,
    VehicleAndCard,
)
from protocols.records import (
    CardType,
    EntryExitRecord,
    EntryExitStatus,
    IssuerInfo,
    ObuStatus,
    Plate,
    PlateColour,
    TamperStatus,
    VehicleClass,
    VehicleInfo,
)

_B2 = struct.Struct(">BIBBB8sBB8s4s4sBBB")
_B5 = struct.Struct(">BIB6s7sBBB4sHII")
_C6 = struct.Struct(">BI8sI7s43s")
_B4 = struct.Struct(">BIBB79sI50s43s")
_ISSUER = struct.Struct(">8sBB2s8s4s4s12sBBB7s")
_ENTRY = struct.Struct(">BBB2sHBIBB3sI12sBB3sBI")
_VEHICLE = struct.Struct(">12sHBBHBBBBH3s16s16s20s")


def _enum(enum: type[IntEnum] | type[IntFlag], value: int) -> int:
    try:
        return enum(value)
    except ValueError:
        return value


def decode_b2(data: bytes) -> ObuFound:
    """B2 from its 37 bytes."""
    (_, obu_id, error, antenna, device, issuer, ctype, cversion, serial, issued, expires,
     cv, status, tamper) = _B2.unpack(data)
    return ObuFound(obu_id, _enum(B2Error, error), antenna, _enum(DeviceType, device), issuer,
                    ctype, cversion, serial.hex().upper(), decode_date(issued),
                    decode_date(expires), cv, ObuStatus(status), _enum(TamperStatus, tamper))


def encode_b2(frame: ObuFound) -> bytes:
    """The 37 bytes of a B2."""
    return _B2.pack(0xB2, frame.obu_id, frame.error_code, frame.antenna_id, frame.device_type,
                    frame.issuer_identifier, frame.contract_type, frame.contract_version,
                    bytes.fromhex(frame.serial_number), encode_date(frame.date_of_issue),
                    encode_date(frame.date_of_expire), frame.equipment_cv, frame.obu_status,
                    frame.tamper_status)


def decode_b5(data: bytes) -> TransactionResult:
    """B5 from its 36 bytes."""
    (_, obu_id, error, psam_no, when, ttype, alg, key_version, tac, ctc, serial,
     balance) = _B5.unpack(data)
    return TransactionResult(obu_id, _enum(B5Error, error), psam_no, decode_datetime(when),
                             _enum(TransType, ttype), alg, key_version, tac, ctc, serial,
                             balance)


def encode_b5(frame: TransactionResult) -> bytes:
    """The 36 bytes of a B5."""
    assert frame.trans_time is not None
    return _B5.pack(0xB5, frame.obu_id, frame.error_code, frame.psam_no,
                    encode_datetime(frame.trans_time), frame.trans_type, frame.alg_flag,
                    frame.key_version, frame.tac, frame.icc_pay_serial, frame.psam_trans_serial,
                    frame.card_balance)


def _decode_entry(raw: bytes) -> EntryExitRecord | None:
    if not any(raw):
        return None
    (app, length, lock, network, station, lane, time, vclass, status, gantry, gantry_time, plate,
     colour, axles, weight, flag, fee) = _ENTRY.unpack(raw)
    return EntryExitRecord(
        network.hex().upper(), station, lane, time, _enum(VehicleClass, vclass),
        _enum(EntryExitStatus, status), Plate(plate), _enum(PlateColour, colour), gantry,
        gantry_time, axles, int.from_bytes(weight), flag, fee, app, length, lock,
    )


def _encode_entry(r: EntryExitRecord) -> bytes:
    return _ENTRY.pack(r.app_type, r.record_length, r.lock_flag, bytes.fromhex(r.network),
                       r.station, r.lane, r.time, r.vehicle_class, r.status, r.last_gantry,
                       r.last_gantry_time, r.plate.raw, r.plate_colour, r.truck_axles,
                       r.truck_weight_kg.to_bytes(3), r.vehicle_status_flag, r.accumulated_fee)


def decode_b4(data: bytes) -> VehicleAndCard:
    """B4 from its 183 bytes."""
    _, obu_id, error, ttype, vraw, rest, iraw, eraw = _B4.unpack(data)
    vehicle = None
    if any(vraw):
        (plate, colour, vclass, user, length, width, height, wheels, axles, base, load, desc,
         engine, reserved) = _VEHICLE.unpack(vraw)
        vehicle = VehicleInfo(Plate(plate), _enum(PlateColour, colour), _enum(VehicleClass, vclass),
                              user, length, width, height, wheels, axles, base,
                              int.from_bytes(load), desc, engine, reserved)
    issuer = None
    if any(iraw):
        (ident, ctype, cversion, network, serial, start, expiry, plate, user, colour, vclass,
         reserved) = _ISSUER.unpack(iraw)
        issuer = IssuerInfo(ident, _enum(CardType, ctype), cversion, network.hex().upper(),
                            serial.hex().upper(), decode_date(start), decode_date(expiry),
                            Plate(plate), user, _enum(PlateColour, colour),
                            _enum(VehicleClass, vclass), reserved)
    return VehicleAndCard(obu_id, _enum(B4Error, error), _enum(TransType, ttype), vehicle, rest,
                          issuer, _decode_entry(eraw))


def encode_b4(frame: VehicleAndCard) -> bytes:
    """The 183 bytes of a B4 (every record present)."""
    v, i, e = frame.vehicle_info, frame.issuer_info, frame.last_station
    assert v is not None and i is not None and e is not None
    vraw = _VEHICLE.pack(v.plate.raw, v.plate_colour, v.vehicle_class, v.user_type, v.length_dm,
                         v.width_dm, v.height_dm, v.wheels, v.axles, v.wheelbase_dm,
                         v.load_or_seats.to_bytes(3), v.description, v.engine_number, v.reserved)
    iraw = _ISSUER.pack(i.issuer_identifier, i.card_type, i.card_version, bytes.fromhex(i.network),
                        bytes.fromhex(i.card_serial), encode_date(i.start_date),
                        encode_date(i.expiry_date), i.plate.raw, i.user_type, i.plate_colour,
                        i.vehicle_class, i.reserved)
    return _B4.pack(0xB4, frame.obu_id, frame.error_code, frame.trans_type, vraw,
                    frame.card_rest_money, iraw, _encode_entry(e))


def decode_c6(data: bytes) -> Purchase:
    """C6 from its 67 bytes."""
    _, obu_id, factor, money, when, station = _C6.unpack(data)
    decoded = _decode_entry(station)
    assert decoded is not None
    time = decode_datetime(when)
    assert time is not None
    return Purchase(obu_id, factor, money, time, decoded)


def encode_c6(frame: Purchase) -> bytes:
    """The 67 bytes of a C6."""
    return _C6.pack(0xC6, frame.obu_id, frame.obu_div_factor, frame.consume_money,
                    encode_datetime(frame.purchase_time), _encode_entry(frame.station))


DECODERS = {"B2": decode_b2, "B4": decode_b4, "B5": decode_b5, "C6": decode_c6}
ENCODERS = {"B2": encode_b2, "B4": encode_b4, "B5": encode_b5, "C6": encode_c6}
