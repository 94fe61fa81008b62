"""Stream decoder: whole, byte by byte, every split, garbage, resynchronisation, robustness."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import (
    BccPacket,
    EnvelopeKind,
    FrameError,
    Rejected,
    RejectReason,
    StreamDecoder,
    StreamItem,
    V3Packet,
    decode_packet,
    encode_bcc,
    encode_v3,
    with_frames,
)
from protocols.frames import Frame
from tests.protocols import golden

V3_STREAM = b"".join(golden.raw(frame) for frame in golden.V3)
BCC_STREAM = b"".join(golden.raw(frame) for frame in golden.BCC)
STREAMS = {EnvelopeKind.V3: (V3_STREAM, golden.V3), EnvelopeKind.BCC: (BCC_STREAM, golden.BCC)}


def run(kind: EnvelopeKind, chunks: list[bytes], max_length: int = 4096) -> list[StreamItem]:
    decoder = StreamDecoder(kind, max_length)
    items: list[StreamItem] = []
    for chunk in chunks:
        items += decoder.feed(chunk)
    return items + decoder.close()


def packets(items: list[StreamItem]) -> list[V3Packet | BccPacket]:
    return [item for item in items if not isinstance(item, Rejected)]


def expected_packets(kind: EnvelopeKind) -> list[V3Packet | BccPacket]:
    return [decode_packet(golden.raw(frame), kind) for frame in STREAMS[kind][1]]


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_whole_stream_gives_every_golden_packet_and_nothing_else(kind: EnvelopeKind) -> None:
    items = run(kind, [STREAMS[kind][0]])
    assert items == expected_packets(kind)


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_byte_by_byte_gives_the_same_items(kind: EnvelopeKind) -> None:
    stream = STREAMS[kind][0]
    assert run(kind, [stream[i : i + 1] for i in range(len(stream))]) == run(kind, [stream])


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_every_split_point_gives_the_same_items(kind: EnvelopeKind) -> None:
    stream = b"\x01\x02\xff" + STREAMS[kind][0] + b"\xfe\x00"
    whole = run(kind, [stream])
    for cut in range(len(stream) + 1):
        assert run(kind, [stream[:cut], stream[cut:]]) == whole, cut


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_trailing_garbage_is_reported_after_the_packets(kind: EnvelopeKind) -> None:
    items = run(kind, [STREAMS[kind][0] + b"\x12\x34"])
    assert items[:-1] == expected_packets(kind)
    assert items[-1] == Rejected(RejectReason.GARBAGE, b"\x12\x34", len(STREAMS[kind][0]))


def _is_subsequence(wanted: list[object], got: list[object]) -> bool:
    remaining = iter(got)
    return all(any(item == candidate for candidate in remaining) for item in wanted)


@settings(max_examples=60, deadline=None)
@given(
    garbage=st.lists(st.binary(max_size=24), min_size=len(golden.V3) + 1,
                     max_size=len(golden.V3) + 1),
    cut=st.integers(0, 400),
)
def test_v3_garbage_between_frames_loses_no_frame(garbage: list[bytes], cut: int) -> None:
    parts = [garbage[0]]
    for frame, junk in zip(golden.V3, garbage[1:], strict=True):
        parts += [golden.raw(frame), junk]
    stream = b"".join(parts)
    items = run(EnvelopeKind.V3, [stream[:cut], stream[cut:]])
    assert _is_subsequence(expected_packets(EnvelopeKind.V3), packets(items))  # type: ignore[arg-type]
    assert items == run(EnvelopeKind.V3, [stream])


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(
        st.sampled_from([golden.raw(frame) for frame in golden.V3])
        | st.sampled_from([golden.raw(frame)[:-1] + b"\x00" for frame in golden.V3])
        | st.binary(max_size=12),
        max_size=8,
    ),
)
def test_v3_chunks_of_one_frame_each_give_what_the_whole_stream_gives(
    chunks: list[bytes],
) -> None:
    # Whole frames, frames with a spoiled CRC and garbage, each read as one chunk.
    assert run(EnvelopeKind.V3, chunks) == run(EnvelopeKind.V3, [b"".join(chunks)])


@settings(max_examples=60, deadline=None)
@given(
    garbage=st.lists(st.binary(max_size=24).map(lambda b: b.replace(b"\xff", b"")),
                     min_size=len(golden.BCC) + 1, max_size=len(golden.BCC) + 1),
    cut=st.integers(0, 400),
)
def test_legacy_garbage_between_frames_loses_no_frame(garbage: list[bytes], cut: int) -> None:
    # Legacy garbage is FF-free here: an FF in garbage can pose as an ETX (see `protocols.stream`).
    parts = [garbage[0]]
    for frame, junk in zip(golden.BCC, garbage[1:], strict=True):
        parts += [golden.raw(frame), junk]
    stream = b"".join(parts)
    items = run(EnvelopeKind.BCC, [stream[:cut], stream[cut:]])
    assert packets(items) == expected_packets(EnvelopeKind.BCC)
    assert items == run(EnvelopeKind.BCC, [stream])


def test_v3_bad_crc_restarts_after_its_stx_so_a_swallowed_frame_survives() -> None:
    good = encode_v3(0x02, b"\xcf\x00")
    # A corrupted header claims a LEN that covers the good frame behind it.
    bad = b"\xff\xff\x00\x01\x00\x00\x00\x0c" + b"\xc4\x01"
    items = run(EnvelopeKind.V3, [bad + good])
    assert items[0] == Rejected(RejectReason.TRUNCATED, bad, 0,
                                "LEN 12: a valid frame starts inside it")
    assert items[1:] == [V3Packet(0x02, b"\xcf\x00")]


def test_v3_bad_crc_frame_is_refused_for_its_checksum() -> None:
    good = encode_v3(0x02, b"\xcf\x00")
    bad = good[:-1] + bytes([good[-1] ^ 1])
    items = run(EnvelopeKind.V3, [bad + good])
    assert items == [Rejected(RejectReason.BAD_CHECKSUM, bad, 0, "CRC-16/X-25 mismatch (LEN 2)"),
                     V3Packet(0x02, b"\xcf\x00")]


def test_v3_good_frame_after_a_truncated_one_is_found_at_close() -> None:
    good = encode_v3(0x03, b"\xcf\x00")
    items = run(EnvelopeKind.V3, [b"\xff\xff\x00\x01\x00\x00\x00\x40\xb0" + good])
    assert [type(item) for item in items] == [Rejected, V3Packet]
    assert items[0].reason is RejectReason.TRUNCATED  # type: ignore[union-attr]


def test_v3_oversized_len_is_rejected_and_the_next_frame_decoded() -> None:
    good = encode_v3(0x04, b"\xcf\x00")
    items = run(EnvelopeKind.V3, [b"\xff\xff\x00\x01\x00\x00\x10\x00" + good], max_length=100)
    assert [item.reason for item in items if isinstance(item, Rejected)] == [RejectReason.OVERSIZED]
    assert packets(items) == [V3Packet(0x04, b"\xcf\x00")]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\xff\xff\x08\xb0\xfe\x02\xb8\xff", RejectReason.BAD_ESCAPE),
        (b"\xff\xff\x08\xb0\xb9\xff", RejectReason.BAD_CHECKSUM),
        (b"\xff\xff\x08\xff", RejectReason.MALFORMED),
    ],
)
def test_legacy_errors_are_typed_and_do_not_lose_the_next_frame(
    frame: bytes, reason: RejectReason
) -> None:
    good = encode_bcc(0x08, b"\xb1\x00")
    items = run(EnvelopeKind.BCC, [frame + good])
    assert [item.reason for item in items if isinstance(item, Rejected)] == [reason]
    assert packets(items) == [BccPacket(0x08, b"\xb1\x00")]
    assert isinstance(items[0].error, FrameError)  # type: ignore[union-attr]


def test_legacy_frame_cut_short_by_the_next_stx_is_rejected_and_the_next_kept() -> None:
    good = encode_bcc(0x18, b"\xb1\x00")
    items = run(EnvelopeKind.BCC, [good[:5] + good])
    assert [type(item) for item in items] == [Rejected, BccPacket]


def test_legacy_empty_answer_frame() -> None:
    assert run(EnvelopeKind.BCC, [encode_bcc(0x89, b"")]) == [BccPacket(0x89, b"")]


def test_long_garbage_is_reported_in_bounded_pieces() -> None:
    items = run(EnvelopeKind.V3, [bytes(1000)], max_length=100)
    assert all(isinstance(item, Rejected) and len(item.raw) <= 110 for item in items)
    assert b"".join(item.raw for item in items) == bytes(1000)  # type: ignore[union-attr]


def test_with_frames_pairs_packets_with_frames_or_errors() -> None:
    stream = V3_STREAM + encode_v3(0x05, b"\xc4\x01\x00") + b"\x00"
    pairs = list(with_frames(run(EnvelopeKind.V3, [stream])))
    frames: list[Frame | FrameError] = [result for _, result in pairs]
    assert len(pairs) == len(golden.V3) + 2
    assert not any(isinstance(result, FrameError) for result in frames[: len(golden.V3)])
    assert pairs[-2][0] == V3Packet(0x05, b"\xc4\x01\x00") and isinstance(pairs[-2][1], FrameError)
    assert pairs[-1][0] is None and isinstance(pairs[-1][1], FrameError)


# ---------------------------------------------------------------- robustness


@pytest.mark.parametrize("kind", list(EnvelopeKind))
@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=600), cuts=st.lists(st.integers(0, 600), max_size=5))
def test_random_bytes_never_raise_and_account_for_every_byte(
    kind: EnvelopeKind, data: bytes, cuts: list[int]
) -> None:
    points = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
    chunks = [data[a:b] for a, b in itertools.pairwise(points)]
    items = run(kind, chunks, max_length=64)
    assert items == run(kind, [data], max_length=64)
    list(with_frames(items))
    assert all(isinstance(item, V3Packet | BccPacket | Rejected) for item in items)


@settings(max_examples=150, deadline=None)
@given(
    frame=st.sampled_from(golden.FRAMES),
    edits=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255), st.sampled_from("rid")),
                   min_size=1, max_size=4),
)
def test_mutated_golden_frames_raise_only_protocol_errors(
    frame: dict[str, object], edits: list[tuple[int, int, str]]
) -> None:
    raw = bytearray(golden.raw(frame))  # type: ignore[arg-type]
    for position, value, action in edits:
        at = position % (len(raw) + 1)
        if action == "r" and at < len(raw):
            raw[at] = value
        elif action == "i":
            raw.insert(at, value)
        elif action == "d" and at < len(raw):
            del raw[at]
    kind = EnvelopeKind(frame["envelope"])
    try:
        packet = decode_packet(bytes(raw), kind)
    except FrameError:
        packet = None
    if packet is not None:
        list(with_frames([packet]))
    list(with_frames(run(kind, [bytes(raw)])))


# ---------------------------------------------------------------- neighbours of damaged frames


def _every_split(kind: EnvelopeKind, raw: bytes) -> list[StreamItem]:
    """The items of `raw`, after checking that every split into two reads gives the same."""
    whole = run(kind, [raw])
    for cut in range(len(raw) + 1):
        assert run(kind, [raw[:cut], raw[cut:]]) == whole, cut
    return whole


def test_v3_frame_that_lost_its_last_byte_does_not_take_the_next_frame() -> None:
    # The first CF lost its last CRC byte, BA FF: the FF it borrows is the next frame's STX.
    # Both frames come out (the first one's CRC passes with the borrowed byte, so its DATA is
    # right); the decoder on main lost the second CF.
    raw = bytes.fromhex("ffff001000000002cf43ba" "ffff002000000002cf001c2a")
    assert _every_split(EnvelopeKind.V3, raw) == [V3Packet(0x10, b"\xcf\x43"),
                                                  V3Packet(0x20, b"\xcf\x00")]


def test_v3_frame_that_lost_its_first_byte_borrows_it_from_a_frame_ending_in_ff() -> None:
    first = encode_v3(0x01, b"\xb1\x00\x01\x72")
    assert first[-1] == 0xFF  # its CRC ends in FF
    second = encode_v3(0x02, b"\xb1\x00")
    raw = first + second[1:]  # the second lost its first STX byte
    assert _every_split(EnvelopeKind.V3, raw) == [V3Packet(0x01, b"\xb1\x00\x01\x72"),
                                                  V3Packet(0x02, b"\xb1\x00")]


def test_legacy_frame_that_lost_its_etx_does_not_take_the_next_frame() -> None:
    # The B1 after a C4 without its ETX was always lost on main; now the C4's "ETX" is also
    # the first byte of the B1's STX, and both come out.
    raw = bytes.fromhex("ffff98c4015d" "ffff89b100000038ff")
    assert _every_split(EnvelopeKind.BCC, raw) == [BccPacket(0x98, b"\xc4\x01"),
                                                   BccPacket(0x89, b"\xb1\x00\x00\x00")]


def test_v3_valid_frame_inside_a_truncated_one_is_not_held_back() -> None:
    # A header claiming 4096 bytes does not delay the good frame behind it until 4 KiB arrive.
    good = encode_v3(0x03, b"\xcf\x00")
    decoder = StreamDecoder(EnvelopeKind.V3)
    items = decoder.feed(b"\xff\xff\x00\x01\x00\x00\x10\x00" + good)
    assert packets(items) == [V3Packet(0x03, b"\xcf\x00")]
    assert items[0] == Rejected(RejectReason.TRUNCATED, b"\xff\xff\x00\x01\x00\x00\x10\x00", 0,
                                "LEN 4096: a valid frame starts inside it")


def test_v3_good_frame_ending_the_read_is_not_held_back_for_its_last_ff() -> None:
    frame = encode_v3(0x01, b"\xb1\x00\x01\x72")  # CRC ends in FF: a next STX may start there
    decoder = StreamDecoder(EnvelopeKind.V3)
    assert decoder.feed(frame) == [V3Packet(0x01, b"\xb1\x00\x01\x72")]


def test_refused_frame_alone_is_reported_once_its_span_is_read() -> None:
    good = encode_v3(0x02, b"\xcf\x00")
    bad = good[:-1] + bytes([good[-1] ^ 1])
    decoder = StreamDecoder(EnvelopeKind.V3)
    assert decoder.feed(bad) == [Rejected(RejectReason.BAD_CHECKSUM, bad, 0,
                                          "CRC-16/X-25 mismatch (LEN 2)")]


@pytest.mark.parametrize("kind", list(EnvelopeKind))
def test_a_flood_of_refused_frames_costs_a_bounded_number_of_items(kind: EnvelopeKind) -> None:
    # 10,000 short refused frames back to back: eight items of their own, then one run cut
    # into pieces of max_length + 10 bytes.
    bad = (b"\xff\xff\x00\x01\x00\x00\x00\x00\x12\x34" if kind is EnvelopeKind.V3
           else b"\xff\xff\x08\xb1\x00\x00\xff")
    flood = bad * 10_000
    items = run(kind, [flood[i : i + 4096] for i in range(0, len(flood), 4096)])
    assert all(isinstance(item, Rejected) for item in items)
    assert b"".join(item.raw for item in items) == flood  # type: ignore[union-attr]
    assert len(items) <= 8 + len(flood) // 4106 + 1
    assert items[0].raw == bad  # type: ignore[union-attr]
