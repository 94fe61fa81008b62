"""Envelope encoders, escaping, sequence numbers and the CRC."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols import (
    EnvelopeKind,
    FrameEncodeError,
    FramingError,
    SeqCounter,
    Side,
    answer_rsctl,
    crc16_x25,
    decode_packet,
    encode_bcc,
    encode_v3,
    seq_side,
)
from protocols.envelope import escape, unescape


def test_crc16_x25_check_value() -> None:
    assert crc16_x25(b"123456789") == 0x906E  # the catalogue check value of CRC-16/X-25


def _crc16_x25_bitwise(data: bytes) -> int:
    """The textbook reflected CRC, one bit at a time: the reference for the fast one."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


@given(st.binary(max_size=300))
def test_crc16_x25_agrees_with_the_bitwise_reference(data: bytes) -> None:
    assert crc16_x25(data) == _crc16_x25_bitwise(data)
    assert crc16_x25(bytearray(data)) == crc16_x25(memoryview(data)) == crc16_x25(data)


@given(st.binary(max_size=300))
def test_escaping_round_trips_and_leaves_no_ff(body: bytes) -> None:
    escaped = escape(body)
    assert 0xFF not in escaped
    assert unescape(escaped) == body


@pytest.mark.parametrize("bad", ["fe02", "fe", "00fe"])
def test_bad_escape_is_a_framing_error(bad: str) -> None:
    with pytest.raises(FramingError, match="escape"):
        unescape(bytes.fromhex(bad))


@given(st.integers(0, 255), st.binary(max_size=300))
def test_v3_and_legacy_packets_round_trip(header: int, data: bytes) -> None:
    v3 = decode_packet(encode_v3(header, data), EnvelopeKind.V3)
    bcc = decode_packet(encode_bcc(header, data), EnvelopeKind.BCC)
    assert (v3.seq, v3.data) == (header, data)  # type: ignore[union-attr]
    assert (bcc.rsctl, bcc.data) == (header, data)  # type: ignore[union-attr]


def test_encoders_refuse_out_of_range_headers() -> None:
    with pytest.raises(FrameEncodeError):
        encode_v3(256, b"\xc4\x01")
    with pytest.raises(FrameEncodeError):
        encode_bcc(-1, b"")


def test_decode_packet_refuses_two_packets_and_trailing_garbage() -> None:
    one = encode_v3(1, b"\xc4\x01")
    with pytest.raises(FramingError):
        decode_packet(one + one, EnvelopeKind.V3)
    with pytest.raises(FramingError):
        decode_packet(one + b"\x00", EnvelopeKind.V3)


@pytest.mark.parametrize("side", list(Side))
def test_seq_counters_cycle_one_to_nine_in_their_nibble(side: Side) -> None:
    counter, seen = SeqCounter(side), []
    for _ in range(18):
        seen.append(counter.value)
        assert seq_side(counter.value) is side
        counter = counter.next()
    xs = [value if side is Side.RSU else value >> 4 for value in seen]
    assert xs == list(range(1, 10)) * 2


def test_seq_side_of_foreign_values() -> None:
    assert seq_side(0x00) is None and seq_side(0x11) is None and seq_side(0xA0) is None


def test_lane_answers_rsctl_with_swapped_nibbles() -> None:
    assert answer_rsctl(0x98) == 0x89
    assert answer_rsctl(answer_rsctl(0x48)) == 0x48
