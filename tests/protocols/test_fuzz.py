"""Fuzz targets, one per decoder, bounded for `make test` (`make fuzz` runs the long campaign).

Inputs mix arbitrary bytes with the golden frames and pieces of them, since a fuzzer that never
produces a header never reaches the code behind it.
"""

from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import (
    EnvelopeKind,
    FrameError,
    Rejected,
    StreamDecoder,
    StreamItem,
    decode_frame,
    decode_packet,
    guess_envelope,
    with_frames,
)
from protocols.cli_decode import decode_one, frame_hex_of_line
from protocols.frames import FrameType
from tests.protocols import golden

GOLDEN = [golden.raw(frame) for frame in golden.FRAMES]
#: a V3 header with any SEQ and LEN, the bytes that make the scanner work hardest
headers = st.builds(lambda seq, length: b"\xff\xff\x00" + bytes([seq]) + b"\x00\x00"
                    + length.to_bytes(2, "big"), st.integers(0, 255),
                    st.sampled_from([0, 1, 2, 27, 4096, 4097, 0xFFFF]) | st.integers(0, 0xFFFF))
pieces = (
    st.binary(max_size=40)
    | st.sampled_from(GOLDEN)
    | st.sampled_from(GOLDEN).flatmap(lambda raw: st.integers(0, len(raw)).map(
        lambda cut: raw[:cut]))
    | st.sampled_from(GOLDEN).flatmap(lambda raw: st.integers(0, len(raw)).map(
        lambda cut: raw[cut:]))
    | headers
    | st.sampled_from([b"\xff" * 9, b"\xfe" * 9, b"\xff\xff\x00", b"\xfe\x01", b"\xff\xfe"])
)
streams = st.lists(pieces, max_size=12).map(b"".join)


def _decode(kind: EnvelopeKind, chunks: list[bytes], max_length: int) -> list[StreamItem]:
    decoder = StreamDecoder(kind, max_length)
    items: list[StreamItem] = []
    for chunk in chunks:
        items += decoder.feed(chunk)
    return items + decoder.close()


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _check_stream(kind: EnvelopeKind, data: bytes, cuts: list[int], max_length: int) -> None:
    whole = _decode(kind, [data], max_length)
    assert _decode(kind, _chunked(data, cuts), max_length) == whole
    for item in whole:
        if isinstance(item, Rejected):
            # every refused byte is the stream's own, at the offset given
            assert data[item.offset : item.offset + len(item.raw)] == item.raw
            assert 0 < len(item.raw) <= max_length + 10
    offsets = [item.offset for item in whole if isinstance(item, Rejected)]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    list(with_frames(whole))  # frame decoding raises nothing either


@settings(max_examples=200, deadline=None)
@given(data=streams, cuts=st.lists(st.integers(0, 500), max_size=6),
       max_length=st.sampled_from([16, 64, 4096]))
def test_fuzz_v3_stream_decoder(data: bytes, cuts: list[int], max_length: int) -> None:
    _check_stream(EnvelopeKind.V3, data, cuts, max_length)


@settings(max_examples=200, deadline=None)
@given(data=streams, cuts=st.lists(st.integers(0, 500), max_size=6),
       max_length=st.sampled_from([16, 64, 4096]))
def test_fuzz_legacy_stream_decoder(data: bytes, cuts: list[int], max_length: int) -> None:
    _check_stream(EnvelopeKind.BCC, data, cuts, max_length)


@settings(max_examples=200, deadline=None)
@given(data=streams)
def test_fuzz_decode_packet(data: bytes) -> None:
    for kind in (guess_envelope(data), *EnvelopeKind):
        try:
            packet = decode_packet(data, kind)
        except FrameError:
            continue
        assert _decode(kind, [data], max(4096, len(data))) == [packet]


@settings(max_examples=300, deadline=None)
@given(frame_type=st.sampled_from([t.value for t in FrameType]) | st.integers(0, 255),
       tail=st.binary(max_size=200))
def test_fuzz_frame_decoder(frame_type: int, tail: bytes) -> None:
    for compiled in (True, False):
        with contextlib.suppress(FrameError):
            decode_frame(bytes([frame_type]) + tail, compiled=compiled)


@settings(max_examples=200, deadline=None)
@given(line=st.text(alphabet="0123456789abcdefABCDEF fFxz#:.->\t", max_size=120)
       | st.sampled_from(GOLDEN).map(lambda raw: "12:00:01 RSU->PC " + raw.hex(" ")))
def test_fuzz_capture_line_decoder(line: str) -> None:
    hex_text = frame_hex_of_line(line)
    if hex_text is None:
        assert not line.split("#", 1)[0].strip()
        return
    for envelope in ("auto", "v3", "bcc"):
        with contextlib.suppress(ValueError, FrameError):
            decode_one(hex_text, envelope)


def test_capture_line_keeps_the_frame_after_a_prefix() -> None:
    raw = GOLDEN[0].hex()
    assert frame_hex_of_line(f"ff 12 zz {raw}") == raw
    assert frame_hex_of_line(f"2024-05-01 12:00:01 ff {raw}") == "ff" + raw


def test_binary_capture_file_is_refused_in_one_line(tmp_path: Path) -> None:
    capture = tmp_path / "capture.bin"
    capture.write_bytes(GOLDEN[0].hex().encode() + b"\nff\xfe\xff\n")
    result = subprocess.run([sys.executable, "-m", "protocols", "decode", "--file", str(capture)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr == (f"error: {capture}: line 2, column 3 (byte 77): "
                             "not UTF-8 text (byte 0xfe)\n")
    assert len(result.stdout.splitlines()) == 1  # the frame before it was decoded
