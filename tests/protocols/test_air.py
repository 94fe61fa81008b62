"""Air-link PDUs: round trips, sizes, FCS and robustness against any input."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.air import (
    BROADCAST_MAC,
    Bst,
    Channel,
    Direction,
    DownlinkFrame,
    EventReport,
    GetSecureRequest,
    GetSecureResponse,
    MmiResult,
    SetMmiRequest,
    SetMmiResponse,
    TransferChannelRequest,
    TransferChannelResponse,
    UplinkFrame,
    Vst,
    decode_air_frame,
    decode_downlink_frame,
    decode_uplink_frame,
    encode_air_frame,
)
from protocols.crc import crc16_x25
from protocols.errors import AirFrameError
from protocols.records import (
    CardType,
    EntryExitRecord,
    EntryExitStatus,
    IssuerInfo,
    ObuStatus,
    ObuSystemInfo,
    Plate,
    TamperStatus,
    VehicleClass,
)

SHANDONG = bytes.fromhex("C9BDB6AB37010001")

u8 = st.integers(0, 0xFF)
u32 = st.integers(0, 0xFFFF_FFFF)
dates = st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))
digits16 = st.text("0123456789", min_size=16, max_size=16)
plates = st.sampled_from(["鲁L71R86", "苏A12345", "京B9Z9Z9"]).map(Plate.from_text)
apdus = st.lists(st.binary(min_size=1, max_size=60), max_size=6).map(tuple)

system_infos = st.builds(
    ObuSystemInfo,
    contract_provider=st.just(SHANDONG),
    contract_type=u8,
    contract_version=u8,
    contract_serial=digits16,
    signed_date=dates,
    expiry_date=dates,
    equipment_cv=u8,
    obu_status=st.sampled_from(list(ObuStatus)),
    tamper_status=st.sampled_from(list(TamperStatus)),
)
issuer_infos = st.builds(
    IssuerInfo,
    issuer_identifier=st.just(SHANDONG),
    card_type=st.sampled_from(list(CardType)),
    card_version=u8,
    network=st.just("3701"),
    card_serial=digits16,
    start_date=dates,
    expiry_date=dates,
    plate=plates,
    user_type=st.just(0),
    plate_colour=st.just(0),
    vehicle_class=st.sampled_from(list(VehicleClass)),
)
entry_records = st.builds(
    EntryExitRecord,
    network=st.just("3701"),
    station=st.integers(0, 0xFFFF),
    lane=u8,
    time=u32,
    vehicle_class=st.sampled_from(list(VehicleClass)),
    status=st.sampled_from([EntryExitStatus.ENTERED, EntryExitStatus.EXITED]),
    plate=plates,
)
downlink_pdus = st.one_of(
    st.builds(Bst, beacon_id=u32, unix_time=u32, profile=u8),
    st.builds(GetSecureRequest, rnd_rsu=st.binary(min_size=8, max_size=8), file_id=u8,
              offset=st.integers(0, 0xFFFF), length=u8),
    st.builds(TransferChannelRequest, channel=st.sampled_from(list(Channel)), apdus=apdus),
    st.builds(SetMmiRequest, result=st.sampled_from(list(MmiResult))),
    st.just(EventReport()),
)
uplink_pdus = st.one_of(
    st.builds(Vst, system_info=system_infos, profile=u8,
              issuer_info=st.none() | issuer_infos, entry_exit=st.none() | entry_records,
              balance=st.none() | u32),
    st.builds(GetSecureResponse, encrypted_file=st.binary(max_size=96),
              authenticator=st.binary(min_size=8, max_size=8)),
    st.builds(TransferChannelResponse, channel=st.sampled_from(list(Channel)), apdus=apdus),
    st.just(SetMmiResponse()),
)
downlink_frames = st.builds(DownlinkFrame, mac_address=u32, pdu=downlink_pdus)
uplink_frames = st.builds(UplinkFrame, mac_address=u32, pdu=uplink_pdus, status=u8)


@settings(max_examples=150)
@given(downlink_frames)
def test_downlink_round_trip(frame: DownlinkFrame) -> None:
    assert decode_downlink_frame(encode_air_frame(frame)) == frame


@settings(max_examples=150)
@given(uplink_frames)
def test_uplink_round_trip(frame: UplinkFrame) -> None:
    raw = encode_air_frame(frame)
    assert decode_uplink_frame(raw) == frame
    assert decode_air_frame(raw, Direction.UPLINK) == frame


@settings(max_examples=100)
@given(st.one_of(downlink_frames, uplink_frames), st.data())
def test_any_changed_byte_fails_the_fcs(
    frame: DownlinkFrame | UplinkFrame, data: st.DataObject
) -> None:
    raw = bytearray(encode_air_frame(frame))
    index = data.draw(st.integers(0, len(raw) - 1))
    raw[index] ^= data.draw(st.integers(1, 0xFF))
    direction = Direction.UPLINK if isinstance(frame, UplinkFrame) else Direction.DOWNLINK
    with pytest.raises(AirFrameError):
        decode_air_frame(bytes(raw), direction)


@settings(max_examples=60)
@given(st.one_of(downlink_frames, uplink_frames))
def test_truncated_frames_are_refused(frame: DownlinkFrame | UplinkFrame) -> None:
    raw = encode_air_frame(frame)
    direction = Direction.UPLINK if isinstance(frame, UplinkFrame) else Direction.DOWNLINK
    for cut in range(len(raw)):
        with pytest.raises(AirFrameError):
            decode_air_frame(raw[:cut], direction)


def _with_fcs(body: bytes) -> bytes:
    return body + crc16_x25(body).to_bytes(2, "big")


@settings(max_examples=300)
@given(st.binary(max_size=200), st.sampled_from(list(Direction)))
def test_garbage_with_a_valid_fcs_decodes_or_raises_air_frame_error(
    body: bytes, direction: Direction
) -> None:
    # Anything but AirFrameError escaping (struct.error, IndexError, ...) fails the test.
    with contextlib.suppress(AirFrameError):
        decode_air_frame(_with_fcs(body), direction)


def test_trailing_bytes_inside_a_valid_fcs_are_refused() -> None:
    raw = encode_air_frame(DownlinkFrame(1, SetMmiRequest()))
    with pytest.raises(AirFrameError, match="left after"):
        decode_downlink_frame(_with_fcs(raw[:-2] + b"\x00"))


def test_a_pdu_in_the_wrong_direction_is_refused() -> None:
    with pytest.raises(AirFrameError):
        encode_air_frame(DownlinkFrame(1, SetMmiResponse()))  # type: ignore[arg-type]
    uplink = encode_air_frame(UplinkFrame(1, SetMmiResponse()))
    with pytest.raises(AirFrameError):
        decode_downlink_frame(uplink)


def test_fcs_is_crc16_x25_big_endian_over_the_frame() -> None:
    raw = encode_air_frame(DownlinkFrame(0x12345678, EventReport()))
    assert raw[:4] == bytes.fromhex("12345678")
    assert int.from_bytes(raw[-2:], "big") == crc16_x25(raw[:-2])


def test_sizes_are_realistic() -> None:
    system_info = ObuSystemInfo(SHANDONG, 1, 0x10, "3701012023109155", dt.date(2023, 1, 1),
                                dt.date(2033, 1, 1), 0, ObuStatus(0), TamperStatus.INSTALLED)
    issuer = IssuerInfo(SHANDONG, CardType.CREDIT, 0x10, "3701", "1901230211225128",
                        dt.date(2020, 11, 24), dt.date(2030, 11, 24), Plate.from_text("鲁L71R86"),
                        0, 0, 1)
    record = EntryExitRecord("3701", 12, 3, 1_700_000_000, 1, EntryExitStatus.ENTERED,
                             Plate.from_text("鲁L71R86"))
    bst = encode_air_frame(DownlinkFrame(BROADCAST_MAC, Bst(1, 1_700_000_000)))
    vst = encode_air_frame(UplinkFrame(7, Vst(system_info, issuer_info=issuer, entry_exit=record,
                                              balance=1000)))
    get_secure = encode_air_frame(UplinkFrame(7, GetSecureResponse(bytes(88), bytes(8))))
    # header 6 + tag, beacon, time, profile, AID list, 3 file ids + FCS
    assert len(bst) == 6 + 1 + 4 + 4 + 1 + 2 + 7 + 2
    # header 7 + VST head + system info 29 + three pre-read files (50, 43, 4) with 3-byte heads
    assert len(vst) == 7 + 4 + 29 + 1 + (3 + 50) + (3 + 43) + (3 + 4) + 2
    assert len(get_secure) == 7 + 4 + 88 + 8 + 2


def test_vst_without_card_carries_no_pre_read_data() -> None:
    system_info = ObuSystemInfo(SHANDONG, 1, 0x10, "3701012023109155", None, None, 0,
                                ObuStatus.ICC_ABSENT, TamperStatus.INSTALLED)
    frame = UplinkFrame(7, Vst(system_info))
    decoded = decode_uplink_frame(encode_air_frame(frame))
    assert isinstance(decoded.pdu, Vst)
    assert decoded.pdu.issuer_info is None and decoded.pdu.balance is None
