"""Hypothesis strategies for every PC-RSU frame and card/OBU record value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import strategies as st

from protocols import record_codec as rc
from protocols.frames import (
    AntennaControl,
    Continue,
    DeviceStatus,
    FrameType,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    ObuFound,
    PsamInfo,
    Purchase,
    RefetchTac,
    SetAntenna,
    Stop,
    StopType,
    TacRefetched,
    TransactionResult,
    TransMode,
    UnknownFrame,
    VehicleAndCard,
)
from protocols.records import (
    EntryExitRecord,
    IssuerInfo,
    ObuStatus,
    ObuSystemInfo,
    Plate,
    VehicleInfo,
)

T = TypeVar("T")

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u24 = st.integers(0, 0xFFFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def raw(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size)


def digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


dates = st.dates()
optional_dates = st.none() | dates
datetimes = st.datetimes().map(lambda value: value.replace(microsecond=0))
plates = raw(12).map(Plate)
obu_status = u8.map(ObuStatus)

issuer_info_50 = st.builds(
    IssuerInfo,
    issuer_identifier=raw(8), card_type=u8, card_version=u8, network=digits(4),
    card_serial=digits(16), start_date=optional_dates, expiry_date=optional_dates, plate=plates,
    user_type=u8, plate_colour=u8, vehicle_class=u8, reserved=raw(7),
)
issuer_info = issuer_info_50 | issuer_info_50.map(
    lambda record: IssuerInfo(**{**_fields(record), "reserved": b""})
)
entry_exit = st.builds(
    EntryExitRecord,
    network=digits(4), station=u16, lane=u8, time=u32, vehicle_class=u8, status=u8, plate=plates,
    plate_colour=u8, last_gantry=raw(3), last_gantry_time=u32, truck_axles=u8,
    truck_weight_kg=u24, vehicle_status_flag=u8, accumulated_fee=u32, app_type=u8,
    record_length=u8, lock_flag=u8,
)
system_info = st.builds(
    ObuSystemInfo,
    contract_provider=raw(8), contract_type=u8, contract_version=u8, contract_serial=digits(16),
    signed_date=optional_dates, expiry_date=optional_dates, equipment_cv=u8,
    obu_status=obu_status, tamper_status=u8,
)
vehicle_info = st.builds(
    VehicleInfo,
    plate=plates, plate_colour=u16, vehicle_class=u8, user_type=u8, length_dm=u16,
    width_dm=u8, height_dm=u8, wheels=u8, axles=u8, wheelbase_dm=u16, load_or_seats=u24,
    description=raw(16), engine_number=raw(16), reserved=raw(20),
)


def _fields(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def _part(
    strategy: st.SearchStrategy[T], encode: Callable[[T], bytes]
) -> st.SearchStrategy[T | None]:
    """A B4 part: None, or a record that is not all zero bytes (all zero *is* None on the wire)."""
    return st.none() | strategy.filter(lambda record: any(encode(record)))


psam_info = st.builds(PsamInfo, channel=u8, version=u8, auth_status=u8, terminal_number=raw(6))

FRAMES: dict[FrameType | None, st.SearchStrategy[Any]] = {
    FrameType.C0: st.builds(
        Initialise, unix_time=u32, date_time=datetimes, lane_mode=st.sampled_from(LaneMode),
        bst_interval_ms=u8, tx_power=st.integers(0, 31), pll_channel_id=u8,
        trans_mode=st.sampled_from(TransMode), flag_id=raw(3), reserved=raw(2),
    ),
    FrameType.C1: st.builds(Continue, obu_id=u32, obu_div_factor=raw(8)),
    FrameType.C2: st.builds(Stop, obu_id=u32, stop_type=st.sampled_from(StopType), unix_time=u32),
    FrameType.C4: st.builds(SetAntenna, control=st.sampled_from(AntennaControl)),
    FrameType.C6: st.builds(
        Purchase, obu_id=u32, obu_div_factor=raw(8), consume_money=u32,
        purchase_time=datetimes, station=entry_exit,
    ),
    FrameType.C8: st.builds(RefetchTac, obu_id=u32, ep_serial=u16),
    FrameType.CF: st.builds(HeartbeatAnswer, status=u8),
    FrameType.B0: st.builds(
        DeviceStatus, rsu_status=u8, psam_num_reported=u8,
        psam_info=st.lists(psam_info, max_size=4).map(tuple), rsu_alg_id=u8, rsu_manu_id=u8,
        rsu_id=raw(3), rsu_version=raw(2), work_status=u8, flag_id=raw(3), reserved=raw(4),
    ),
    FrameType.B1: st.builds(
        Heartbeat, ctrl_status1=u8, ctrl_status2=u8, ctrl_status3=u8,
        body=st.binary(max_size=40),
    ),
    FrameType.B2: st.builds(
        ObuFound, obu_id=u32, error_code=u8, antenna_id=u8, device_type=u8,
        issuer_identifier=raw(8), contract_type=u8, contract_version=u8,
        serial_number=digits(16), date_of_issue=optional_dates, date_of_expire=optional_dates,
        equipment_cv=u8, obu_status=obu_status, tamper_status=u8,
    ),
    FrameType.B4: st.builds(
        VehicleAndCard, obu_id=u32, error_code=u8, trans_type=u8,
        vehicle_info=_part(vehicle_info, rc.encode_vehicle_info), card_rest_money=u32,
        issuer_info=_part(issuer_info_50, rc.encode_issuer_info),
        last_station=_part(entry_exit, rc.encode_entry_exit),
    ),
    FrameType.B5: st.builds(
        TransactionResult, obu_id=u32, error_code=u8, psam_no=raw(6), trans_time=datetimes,
        trans_type=u8, alg_flag=u8, key_version=u8, tac=raw(4), icc_pay_serial=u16,
        psam_trans_serial=u32, card_balance=u32,
    ),
    FrameType.B8: st.builds(
        TacRefetched, obu_id=u32, error_code=u8, tac=raw(4), mac2=raw(4), card_rest_money=u32,
    ),
    None: st.builds(
        UnknownFrame,
        data=st.tuples(
            u8.filter(lambda b: b not in set(FrameType)), st.binary(max_size=30)
        ).map(lambda parts: bytes([parts[0]]) + parts[1]),
    ),
}

any_frame = st.one_of(*FRAMES.values())

RecordCodec = tuple[st.SearchStrategy[Any], Callable[[Any], bytes], Callable[[bytes], Any]]
RECORDS: dict[str, RecordCodec] = {
    "0015": (issuer_info, rc.encode_issuer_info, rc.decode_issuer_info),
    "0019": (entry_exit, rc.encode_entry_exit, rc.decode_entry_exit),
    "system information": (system_info, rc.encode_system_info, rc.decode_system_info),
    "vehicle information": (vehicle_info, rc.encode_vehicle_info, rc.decode_vehicle_info),
}
