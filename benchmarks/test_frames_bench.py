"""Frames: decode and encode of every PC-RSU frame type, the default path (the flat `struct` codec
generated from each Struct; construct's compiled parser for B0, which has none) vs construct's
interpreted parser and builder, beside a hand-written `struct` codec for B2, B4, B5, C6;
CRC-16/X-25 table vs a bitwise loop vs fastcrc (Rust).
"""

from __future__ import annotations

import pytest

from benchmarks import struct_frames
from benchmarks.samples import every_frame
from protocols.crc import crc16_x25
from protocols.envelope import encode_v3
from protocols.frame_codec import decode_frame, encode_frame
from protocols.frames import FrameType

FRAMES = every_frame()
DATA = {name: encode_frame(frame) for name, frame in FRAMES.items()}
#: A B4 in its V3 envelope (the largest frame the lane receives): what the CRC runs over.
CRC_INPUT = encode_v3(0x10, DATA["B4"])[2:-2]
CHECK = b"123456789"
#: Frame types without a flat codec (a PSAM array sized by the frame's length): B0.
NOT_FLAT = frozenset({FrameType.B0.name})


def fast_path(name: str, *, decode: bool) -> str:
    """What `compiled=True` runs for frame `name`."""
    if name not in NOT_FLAT:
        return "flat (struct) codec"
    return "construct compiled" if decode else "construct builder"


@pytest.mark.parametrize("name", list(FRAMES))
@pytest.mark.parametrize("compiled", [True, False], ids=["fast", "interpreted"])
def test_decode(benchmark, name: str, compiled: bool) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = f"frames decode {name}"
    benchmark.extra_info.update(kind="decode", frame=name, bytes=len(DATA[name]),
                                impl=fast_path(name, decode=True) if compiled
                                else "construct interpreted")
    data = DATA[name]
    assert benchmark(decode_frame, data, compiled=compiled) == FRAMES[name]


@pytest.mark.parametrize("name", list(struct_frames.DECODERS))
def test_decode_struct_baseline(benchmark, name: str) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = f"frames decode {name}"
    benchmark.extra_info.update(kind="decode", frame=name, impl="struct")
    assert benchmark(struct_frames.DECODERS[name], DATA[name]) == FRAMES[name]


@pytest.mark.parametrize("name", list(FRAMES))
@pytest.mark.parametrize("compiled", [True, False], ids=["fast", "interpreted"])
def test_encode(benchmark, name: str, compiled: bool) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = f"frames encode {name}"
    benchmark.extra_info.update(kind="encode", frame=name,
                                impl=fast_path(name, decode=False) if compiled
                                else "construct interpreted")
    assert benchmark(encode_frame, FRAMES[name], compiled=compiled) == DATA[name]


@pytest.mark.parametrize("name", list(struct_frames.ENCODERS))
def test_encode_struct_baseline(benchmark, name: str) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = f"frames encode {name}"
    benchmark.extra_info.update(kind="encode", frame=name, impl="struct")
    assert benchmark(struct_frames.ENCODERS[name], FRAMES[name]) == DATA[name]


def crc16_x25_bitwise(data: bytes) -> int:
    """CRC-16/X-25 bit by bit (the textbook loop): the slow baseline."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def _fastcrc():  # type: ignore[no-untyped-def]
    fastcrc = pytest.importorskip("fastcrc", reason="fastcrc (bench extra) is not installed")
    return fastcrc.crc16.ibm_sdlc  # CRC-16/IBM-SDLC is CRC-16/X-25 under its other name


CRC_IMPLS = {"table (protocols.crc)": lambda: crc16_x25, "bitwise loop": lambda: crc16_x25_bitwise,
             "fastcrc (Rust)": _fastcrc}


@pytest.mark.parametrize("impl", list(CRC_IMPLS))
def test_crc16_x25(benchmark, impl: str) -> None:  # type: ignore[no-untyped-def]
    crc = CRC_IMPLS[impl]()
    assert crc(CHECK) == 0x906E and crc(CRC_INPUT) == crc16_x25(CRC_INPUT)
    benchmark.group = "crc16-x25"
    benchmark.extra_info.update(kind="crc", impl=impl, bytes=len(CRC_INPUT))
    benchmark(crc, CRC_INPUT)
