"""Envelope encoders, escaping, sequence numbers and the CRC."""

from __future__ import annotations

from functools import reduce
from operator import xor

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
from protocols.envelope import bcc_of, escape, unescape


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


@pytest.mark.parametrize(
    ("bad", "follower"), [("fe02", "02"), ("fe", "end of frame"), ("00fe", "end of frame"),
                          ("fefe00", "fe"), ("fe00fe", "end of frame")],
)
def test_bad_escape_is_a_framing_error_naming_the_follower(bad: str, follower: str) -> None:
    with pytest.raises(FramingError, match=f"escape: FE followed by {follower}$"):
        unescape(bytes.fromhex(bad))


def _unescape_bytewise(body: bytes) -> bytes | None:
    """Byte-by-byte reference for `unescape`: None where it must refuse."""
    out, i = bytearray(), 0
    while i < len(body):
        if body[i] != 0xFE:
            out.append(body[i])
            i += 1
        elif i + 1 < len(body) and body[i + 1] in (0x00, 0x01):
            out.append(0xFE + body[i + 1])
            i += 2
        else:
            return None
    return bytes(out)


@given(st.lists(st.sampled_from([0x00, 0x01, 0x02, 0xFE, 0xFF]), max_size=12).map(bytes))
def test_unescape_agrees_with_the_bytewise_reference(body: bytes) -> None:
    try:
        result: bytes | None = unescape(body)
    except FramingError:
        result = None
    assert result == _unescape_bytewise(body)


@given(st.binary(max_size=300))
def test_bcc_is_the_xor_of_every_byte(data: bytes) -> None:
    assert bcc_of(data) == reduce(xor, data, 0)


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
