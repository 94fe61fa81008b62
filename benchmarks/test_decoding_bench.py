"""Decoding under attack: MiB/s of the stream decoder on adversarial streams (all FF, repeated
fake V3 headers, maximal LEN, escape storms, refused-frame floods) next to random bytes and valid
frames, both envelopes, read in 4 KiB chunks (a TCP read); and the mutation campaign over the
golden frames (frames lost next to garbage and damaged frames). The target: every adversarial
stream within 3× of the random stream's speed, measured in the same run.
"""

from __future__ import annotations

import random
import time

import pytest

from protocols import EnvelopeKind, StreamDecoder, encode_bcc, encode_v3
from protocols.stream import warm_up
from tests.protocols import golden
from tests.protocols.campaign import AFTER_GARBAGE, AFTER_TRUNCATED, run_campaign

SIZE = 1 << 20
READ = 4096
ROUNDS = 5


def _repeat(pattern: bytes) -> bytes:
    return (pattern * (SIZE // len(pattern) + 1))[:SIZE]


def _valid(kind: EnvelopeKind) -> bytes:
    frames = golden.V3 if kind is EnvelopeKind.V3 else golden.BCC
    return _repeat(b"".join(golden.raw(frame) for frame in frames))


#: stream name -> (adversarial, bytes of one envelope's stream)
STREAMS = {
    "random": (False, lambda kind: random.Random(1).randbytes(SIZE)),
    "valid frames": (False, _valid),
    "all FF": (True, lambda kind: b"\xff" * SIZE),
    "FF FF 00 repeated": (True, lambda kind: _repeat(b"\xff\xff\x00")),
    "fake V3 headers, LEN 0": (True, lambda kind: _repeat(b"\xff\xff\x00\x01\x00\x00\x00\x00")),
    "fake V3 headers, maximal LEN": (
        True, lambda kind: _repeat(b"\xff\xff\x00\x01\x00\x00\x10\x00")),
    "refused frames back to back": (True, lambda kind: _repeat(
        encode_v3(1, b"\xcf\x00")[:-1] + b"\x00" if kind is EnvelopeKind.V3
        else encode_bcc(8, b"\xb1\x00")[:-2] + b"\x00\xff")),
    "escape storm": (True, lambda kind: _repeat(b"\xff\xff\x08" + b"\xfe" * 61)),
    "valid escapes, no ETX": (
        True, lambda kind: _repeat(b"\xff\xff\x08" + b"\xfe\x00\xfe\x01" * 5000)),
}


def _decode(kind: EnvelopeKind, data: bytes, read: int) -> int:
    decoder = StreamDecoder(kind)
    items = 0
    for start in range(0, len(data), read):
        items += len(decoder.feed(data[start : start + read]))
    return items + len(decoder.close())


@pytest.mark.parametrize("kind", list(EnvelopeKind), ids=lambda k: k.value)
@pytest.mark.parametrize("stream", list(STREAMS))
def test_decoding_speed(benchmark, kind: EnvelopeKind, stream: str) -> None:  # type: ignore[no-untyped-def]
    warm_up()
    adversarial, make = STREAMS[stream]
    data = make(kind)
    benchmark.group = f"decoding {kind.value}"
    cpu: list[float] = []

    def timed() -> int:
        start = time.process_time()
        items = _decode(kind, data, READ)
        cpu.append(time.process_time() - start)
        return items

    items = benchmark.pedantic(timed, rounds=ROUNDS, iterations=1)
    best = min(cpu)
    benchmark.extra_info.update(
        kind="decoding", envelope=kind.value, stream=stream, adversarial=adversarial,
        bytes=len(data), read_bytes=READ, items=items,
        mib_per_cpu_s=round(len(data) / best / 2**20, 1))


@pytest.mark.parametrize("read", [64, 1024, 65536])
def test_decoding_speed_by_read_size(benchmark, read: int) -> None:  # type: ignore[no-untyped-def]
    """The worst V3 stream read in other sizes: per-read costs, not per-byte ones."""
    warm_up()
    data = STREAMS["fake V3 headers, maximal LEN"][1](EnvelopeKind.V3)[: SIZE // 4]
    benchmark.group = "decoding v3 by read size"
    cpu: list[float] = []

    def timed() -> int:
        start = time.process_time()
        items = _decode(EnvelopeKind.V3, data, read)
        cpu.append(time.process_time() - start)
        return items

    benchmark.pedantic(timed, rounds=ROUNDS, iterations=1)
    benchmark.extra_info.update(kind="decoding-read", read_bytes=read,
                                mib_per_cpu_s=round(len(data) / min(cpu) / 2**20, 1))


@pytest.mark.parametrize("kind", list(EnvelopeKind), ids=lambda k: k.value)
def test_mutation_campaign(benchmark, kind: EnvelopeKind) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = "mutation campaign"
    result = benchmark.pedantic(lambda: run_campaign(kind, seed=1, inputs=20_000), rounds=1,
                                iterations=1)
    assert result.crash_count == 0, result.crashes
    benchmark.extra_info.update(
        kind="campaign", envelope=kind.value, seed=1, inputs=result.inputs,
        frames=result.total.frames, lost=result.total.lost,
        lost_after_garbage=result.by_neighbour[AFTER_GARBAGE].lost,
        frames_after_garbage=result.by_neighbour[AFTER_GARBAGE].frames,
        lost_after_truncated=result.by_neighbour[AFTER_TRUNCATED].lost,
        frames_after_truncated=result.by_neighbour[AFTER_TRUNCATED].frames,
        lost_chunked=result.chunked.lost, chunking_differs=result.chunking_differs,
        recovered=result.recovered, false_packets=result.false_packets,
        crashes=result.crash_count)
