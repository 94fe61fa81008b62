"""`StreamDecoder.idle`: nothing pending, so a good frame fed now is exactly one packet and the
decoder is idle again (the simulator's link hands frames over as values only then)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import StreamDecoder, V3Packet, encode_v3


@settings(max_examples=200, deadline=None)
@given(seq=st.integers(0, 255), data=st.binary(min_size=1, max_size=300).map(
    lambda d: d.replace(b"\x00", b"\xff")))
def test_a_good_frame_on_an_idle_decoder_is_one_packet_and_leaves_it_idle(
        seq: int, data: bytes) -> None:
    decoder = StreamDecoder()
    assert decoder.idle
    for _ in range(2):
        assert decoder.feed(encode_v3(seq, data)) == [V3Packet(seq, data)]
        assert decoder.idle


def test_a_partial_frame_is_pending_until_it_is_whole() -> None:
    raw = encode_v3(0x01, bytes.fromhex("b1000000"))
    decoder = StreamDecoder()
    assert decoder.feed(raw[:5]) == [] and not decoder.idle
    assert decoder.feed(raw[5:]) == [V3Packet(0x01, bytes.fromhex("b1000000"))]
    assert decoder.idle


def test_a_spoiled_frame_holding_a_header_keeps_the_decoder_waiting() -> None:
    # DATA that holds what looks like the start of another frame, CRC spoiled: after the
    # rejection the decoder waits on that inner "frame", so the next frame's bytes are its.
    inner = bytes.fromhex("ffff0001000000200000")
    raw = bytearray(encode_v3(0x02, b"\xb1" + inner))
    raw[-1] ^= 0xFF
    decoder = StreamDecoder()
    decoder.feed(bytes(raw))
    assert not decoder.idle
