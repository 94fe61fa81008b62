"""Flat codecs generated from construct Structs: what they take on, and what they leave alone."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from construct import Array, Bytes, Const, ConstError, GreedyBytes, Int8ub, Int24ub, Struct, this
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import RecordError
from protocols.fields import FOREIGN_ERRORS, EnumField
from protocols.flat_codec import flat_codec
from protocols.frames import LaneMode


@dataclass(frozen=True, slots=True)
class Sample:
    mode: int
    weight: int
    tag: bytes
    tail: bytes


SAMPLE = Struct(
    Const(b"\x5a"),
    "weight" / Int24ub,
    "mode" / EnumField(Int8ub, LaneMode),
    "tag" / Bytes(2),
    "tail" / GreedyBytes,
)
NAMES = ("mode", "weight", "tag", "tail")


@given(
    st.integers(0, 255), st.integers(0, 0xFFFFFF), st.binary(min_size=2, max_size=2), st.binary()
)
def test_flat_codec_matches_construct(mode: int, weight: int, tag: bytes, tail: bytes) -> None:
    codec = flat_codec(Sample, SAMPLE, NAMES)
    assert codec is not None and codec.greedy_tail and codec.size == 7
    value = Sample(mode, weight, tag, tail)
    raw = codec.encode(value)
    assert raw == SAMPLE.build({"mode": mode, "weight": weight, "tag": tag, "tail": tail})
    decoded = codec.decode(raw)
    assert decoded == value
    assert isinstance(decoded.mode, LaneMode) == (mode in set(LaneMode))


def test_flat_codec_checks_the_constant_and_the_sizes() -> None:
    codec = flat_codec(Sample, SAMPLE, NAMES)
    assert codec is not None
    with pytest.raises(ConstError):
        codec.decode(b"\x00" + bytes(6))
    with pytest.raises(RecordError, match="tag"):
        codec.encode(Sample(1, 2, b"abc", b""))
    with pytest.raises(FOREIGN_ERRORS):
        codec.encode(Sample(1, 1 << 24, b"ab", b""))
    with pytest.raises(FOREIGN_ERRORS):
        codec.encode(Sample(256, 1, b"ab", b""))


@pytest.mark.parametrize(
    "struct_",
    [
        Struct("mode" / Int8ub, "weight" / Array(this.mode, Int8ub), "tag" / Bytes(2),
               "tail" / GreedyBytes),
        Struct("mode" / Int8ub, "weight" / Int8ub, "tag" / Bytes(this.mode), "tail" / GreedyBytes),
        Struct("mode" / Int8ub, "weight" / Int8ub, "tag" / Bytes(2)),  # no "tail"
    ],
    ids=["array", "size from the context", "names differ"],
)
def test_layouts_that_cannot_be_flattened_get_no_flat_codec(struct_: Struct) -> None:
    assert flat_codec(Sample, struct_, NAMES) is None
