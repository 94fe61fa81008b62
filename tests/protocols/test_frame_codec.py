"""Frame codec: round trips, flat versus interpreted codecs, length checks, B1 and B4 rules."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import (
    FrameDecodeError,
    FrameEncodeError,
    HeartbeatLayout,
    build_heartbeat,
    decode_frame,
    encode_frame,
    heartbeat_layout,
)
from protocols.frame_codec import (
    B0_FIXED_LENGTH,
    FRAME_LENGTHS,
    PSAM_INFO_LENGTH,
    nonstandard_values,
)
from protocols.frames import (
    FrameType,
    Heartbeat,
    Initialise,
    LaneMode,
    RefetchTac,
    UnknownFrame,
    VehicleAndCard,
)
from protocols.records import Plate
from tests.protocols import golden, strategies

SETTINGS = settings(max_examples=30, deadline=None)


@pytest.mark.parametrize(
    "frame_type", list(strategies.FRAMES), ids=lambda t: t.name if t else "unknown"
)
@SETTINGS
@given(data=st.data())
def test_every_frame_type_round_trips(frame_type: FrameType | None, data: st.DataObject) -> None:
    frame = data.draw(strategies.FRAMES[frame_type])
    encoded = encode_frame(frame)
    if frame_type in FRAME_LENGTHS:
        assert len(encoded) == FRAME_LENGTHS[frame_type]
    assert decode_frame(encoded) == frame
    assert decode_frame(encoded, compiled=False) == frame


def _data_of_length(frame_type: FrameType) -> st.SearchStrategy[bytes]:
    if frame_type in FRAME_LENGTHS:
        size = st.just(FRAME_LENGTHS[frame_type] - 1)
    elif frame_type is FrameType.B0:
        size = st.integers(0, 3).map(lambda n: B0_FIXED_LENGTH - 1 + PSAM_INFO_LENGTH * n)
    else:
        size = st.integers(0, 30)
    return size.flatmap(lambda n: st.binary(min_size=n, max_size=n)).map(
        lambda body: bytes([frame_type]) + body
    )


def _outcome(data: bytes, compiled: bool) -> Any:
    try:
        return decode_frame(data, compiled=compiled)
    except FrameDecodeError:
        return FrameDecodeError


@pytest.mark.parametrize("frame_type", list(FrameType), ids=lambda t: t.name)
@SETTINGS
@given(data=st.data())
def test_flat_and_interpreted_parsers_agree(frame_type: FrameType, data: st.DataObject) -> None:
    raw = data.draw(_data_of_length(frame_type))
    assert _outcome(raw, compiled=True) == _outcome(raw, compiled=False)


@pytest.mark.parametrize(
    "frame_type", list(strategies.FRAMES), ids=lambda t: t.name if t else "unknown"
)
@SETTINGS
@given(data=st.data())
def test_flat_and_interpreted_encoders_agree(
    frame_type: FrameType | None, data: st.DataObject
) -> None:
    frame = data.draw(strategies.FRAMES[frame_type])
    assert encode_frame(frame) == encode_frame(frame, compiled=False)


def _spoiled(value: Any) -> list[Any]:
    """Values of the same kind as `value` that no field of its size can hold."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int):
        return [-1, 1 << 32]
    if isinstance(value, bytes):
        return [value + b"\x00", value[:-1]] if value else [b"\x00"]
    if isinstance(value, str):
        return [value + "0", value[:-1], "x" * len(value)]
    if isinstance(value, Plate):
        return [Plate(value.raw + b"\x00")]
    return []


def _encoded(frame: Any, compiled: bool) -> Any:
    try:
        return encode_frame(frame, compiled=compiled)
    except FrameEncodeError:
        return FrameEncodeError


@pytest.mark.parametrize(
    "frame_type", [t for t in strategies.FRAMES if t is not None], ids=lambda t: t.name
)
@SETTINGS
@given(data=st.data())
def test_flat_and_interpreted_encoders_refuse_the_same_bad_fields(
    frame_type: FrameType, data: st.DataObject
) -> None:
    frame = data.draw(strategies.FRAMES[frame_type])
    spoilable = [
        (field.name, bad)
        for field in dataclasses.fields(frame)
        for bad in _spoiled(getattr(frame, field.name))
    ]
    name, bad = data.draw(st.sampled_from(spoilable))
    spoiled = dataclasses.replace(frame, **{name: bad})
    flat = _encoded(spoiled, compiled=True)
    assert flat == _encoded(spoiled, compiled=False)
    if flat is not FrameEncodeError:  # a field that really had room for it: still a round trip
        assert decode_frame(flat) == decode_frame(flat, compiled=False)


@SETTINGS
@given(st.binary(max_size=200))
def test_whatever_decodes_reencodes_to_the_same_bytes(raw: bytes) -> None:
    try:
        frame = decode_frame(raw)
    except FrameDecodeError:
        return
    assert encode_frame(frame) == raw


@pytest.mark.parametrize("frame_type", sorted(FRAME_LENGTHS), ids=lambda t: t.name)
@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_length_names_the_frame_type_and_lengths(frame_type: FrameType, delta: int) -> None:
    size = FRAME_LENGTHS[frame_type] + delta
    with pytest.raises(FrameDecodeError) as caught:
        decode_frame(bytes([frame_type]) + bytes(size - 1))
    message = str(caught.value)
    assert frame_type.name in message
    assert str(size) in message and str(FRAME_LENGTHS[frame_type]) in message


def test_b0_length_must_fit_whole_psam_entries() -> None:
    with pytest.raises(FrameDecodeError, match="B0"):
        decode_frame(bytes([FrameType.B0]) + bytes(B0_FIXED_LENGTH + 3))


def test_empty_data_is_a_decode_error() -> None:
    with pytest.raises(FrameDecodeError):
        decode_frame(b"")


@given(st.binary(max_size=3))
def test_b1_never_fails_even_when_too_short(tail: bytes) -> None:
    frame = decode_frame(bytes([FrameType.B1]) + tail)
    assert isinstance(frame, Heartbeat | UnknownFrame)
    assert encode_frame(frame) == bytes([FrameType.B1]) + tail


@SETTINGS
@given(
    st.lists(strategies.raw(3), max_size=4),
    st.lists(strategies.raw(3), max_size=4),
    st.lists(strategies.raw(4), max_size=4),
)
def test_b1_builder_follows_the_documented_layout(
    psam1: list[bytes], psam2: list[bytes], antennas: list[bytes]
) -> None:
    layout = HeartbeatLayout(tuple(psam1), tuple(psam2), tuple(antennas))
    frame = build_heartbeat(1, 2, 3, layout)
    data = encode_frame(frame)
    assert data[4] == len(psam1)
    assert len(data) == 4 + 3 + 3 * len(psam1) + 3 * len(psam2) + 4 * len(antennas)
    assert heartbeat_layout(decode_frame(data)) == layout  # type: ignore[arg-type]


def test_b1_builder_refuses_wrong_entry_sizes() -> None:
    with pytest.raises(FrameEncodeError):
        build_heartbeat(0, 0, 0, HeartbeatLayout(psam_status1=(b"\x00",)))


def test_b4_zero_filled_parts_are_none_and_none_encodes_to_zeros() -> None:
    frame = VehicleAndCard(1, 0x0A, 0x10, None, 500, None, None)
    data = encode_frame(frame)
    assert data[7:86] == bytes(79) and data[90:] == bytes(93)
    assert decode_frame(data) == frame


@SETTINGS
@given(
    strategies.FRAMES[FrameType.B4],
    strategies.issuer_info_50.filter(lambda record: any(record.issuer_identifier)),
)
def test_b4_carries_a_short_0015_zero_padded(frame: VehicleAndCard, issuer: Any) -> None:
    short = dataclasses.replace(issuer, reserved=b"")
    decoded = decode_frame(encode_frame(dataclasses.replace(frame, issuer_info=short)))
    assert decoded.issuer_info == dataclasses.replace(short, reserved=bytes(7))  # type: ignore[union-attr]


def test_bad_bcd_date_in_b2_is_a_frame_decode_error() -> None:
    b2 = next(frame for frame in golden.V3 if frame["fields"]["type"] == "B2")
    data = bytearray(golden.raw(b2)[8:-2])
    decode_frame(bytes(data))  # sound before the date is spoiled
    data[26:30] = bytes.fromhex("2020134a")
    with pytest.raises(FrameDecodeError, match="B2"):
        decode_frame(bytes(data))


@pytest.mark.parametrize("compiled", [True, False])
def test_an_unknown_coded_value_is_kept_raw_and_named(compiled: bool) -> None:
    vendor_c0 = (bytes.fromhex("c0") + bytes(4) + bytes.fromhex("20210104171356") + b"\x13"
                 + bytes.fromhex("0a0a0001") + bytes(5))
    frame = decode_frame(vendor_c0, compiled=compiled)
    assert isinstance(frame, Initialise) and frame.lane_mode == 0x13
    assert not isinstance(frame.lane_mode, LaneMode)
    assert [str(v) for v in nonstandard_values(frame)] == [
        "C0 lane_mode 0x13 is not a standard LaneMode"]
    assert encode_frame(frame, compiled=compiled) == vendor_c0
    stop = decode_frame(bytes.fromhex("c20000000109") + bytes(4), compiled=compiled)
    assert [(v.field, v.value) for v in nonstandard_values(stop)] == [("stop_type", 9)]


def test_standard_values_and_flags_are_not_named() -> None:
    for frame in golden.V3:
        assert nonstandard_values(decode_frame(golden.raw(frame)[8:-2])) == ()


def test_out_of_range_field_is_an_encode_error() -> None:
    with pytest.raises(FrameEncodeError, match="C8"):
        encode_frame(RefetchTac(obu_id=1, ep_serial=0x10000))


def test_failed_b5_with_an_all_zero_time_still_reports_its_error_code() -> None:
    golden_b5 = bytes.fromhex(
        "b5652bc7a30001370004727f20210104171356090001570bf7dc003f00000023fa0a1dcf"
    )
    zero_time = bytearray(golden_b5)
    zero_time[5] = 0x10  # ErrorCode: no radio reply
    zero_time[12:19] = bytes(7)  # TransTime left all zero
    for compiled in (True, False):
        frame = decode_frame(bytes(zero_time), compiled=compiled)
        assert frame.error_code == 0x10
        assert frame.trans_time is None
        assert frame.icc_pay_serial == 0x3F
    assert encode_frame(decode_frame(bytes(zero_time))) == bytes(zero_time)
