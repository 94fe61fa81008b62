"""A fixed-seed mutation campaign over the golden frames: do damaged neighbours cost good frames?

Each input is a stream of segments: intact frames (the golden frames, and their DATA in fresh
envelopes) with noise between them: garbage (random bytes, runs of FF, fake V3 headers, FE
storms, pieces of frames) and damaged frames (truncated, last byte lost, a byte replaced, inserted
or deleted). The stream is decoded whole and in random chunks; an intact frame is lost when its
packet is missing from the output (matched in stream order).

`python -m tests.protocols.campaign --seconds 60 --seed 1` runs it for a given time (`make fuzz`)
and prints, per envelope, the inputs tried, crashes and frames lost.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from protocols import (
    BccPacket,
    EnvelopeKind,
    Rejected,
    StreamDecoder,
    StreamItem,
    V3Packet,
    decode_packet,
    encode_bcc,
    encode_v3,
    with_frames,
)
from tests.protocols import golden

Packet = V3Packet | BccPacket
DecoderFactory = Callable[[EnvelopeKind], StreamDecoder]

#: what precedes an intact frame in the stream
AFTER_GARBAGE = "garbage"
AFTER_TRUNCATED = "truncated frame"
AFTER_DAMAGED = "damaged frame"
AFTER_FRAME = "intact frame"


@dataclass
class Tally:
    """Intact frames seen and lost, by what preceded them."""

    frames: int = 0
    lost: int = 0

    def add(self, lost: bool) -> None:
        self.frames += 1
        self.lost += lost

    @property
    def percent(self) -> float:
        return 100.0 * self.lost / self.frames if self.frames else 0.0


@dataclass
class CampaignResult:
    """What one campaign over one envelope found."""

    envelope: EnvelopeKind
    seed: int
    inputs: int = 0
    #: inputs whose decoding raised (the input's hex and the exception), the first few kept
    crashes: list[tuple[str, str]] = field(default_factory=list)
    crash_count: int = 0
    #: every intact frame, whole-stream decoding
    total: Tally = field(default_factory=Tally)
    by_neighbour: dict[str, Tally] = field(default_factory=dict)
    #: intact frames lost when the same stream was fed in random chunks
    chunked: Tally = field(default_factory=Tally)
    #: inputs whose chunked decoding gave other items than the whole-stream decoding
    chunking_differs: int = 0
    #: damaged frames whose packet came out all the same (their damage spared the checked bytes:
    #: a legacy frame that lost its ETX, a V3 frame that lost its last CRC byte and borrowed it)
    recovered: int = 0
    #: packets that are no frame of the input (garbage or damage that passed its checksum)
    false_packets: int = 0
    #: the first few inputs that lost a frame (hex), to reproduce
    losses: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{self.envelope.value}: {self.inputs:,} inputs tried, {self.crash_count} crashes, "
            f"frames lost {self.total.lost:,} of {self.total.frames:,} "
            f"({self.total.percent:.4f} %)",
        ]
        for name, tally in sorted(self.by_neighbour.items()):
            lines.append(f"  after {name}: {tally.lost:,} of {tally.frames:,} lost "
                         f"({tally.percent:.4f} %)")
        lines.append(f"  chunked reads: {self.chunked.lost:,} of {self.chunked.frames:,} lost, "
                     f"{self.chunking_differs:,} inputs decoded differently from whole")
        lines.append(f"  damaged frames recovered: {self.recovered:,}; packets that are no frame "
                     f"of the input (noise that passed the checksum): {self.false_packets:,}")
        lines.extend(f"  crash: {text} on {raw}" for raw, text in self.crashes)
        lines.extend(f"  lost a frame: {raw}" for raw in self.losses)
        return "\n".join(lines)


class StreamMaker:
    """Builds campaign inputs of one envelope from a seeded random source."""

    def __init__(self, envelope: EnvelopeKind, rng: random.Random) -> None:
        self.envelope = envelope
        self.rng = rng
        frames = golden.V3 if envelope is EnvelopeKind.V3 else golden.BCC
        self.golden = [golden.raw(frame) for frame in frames]
        self.datas = [decode_packet(raw, envelope).data for raw in self.golden]

    def intact(self) -> bytes:
        """A golden frame as captured, or its DATA in a fresh envelope."""
        rng = self.rng
        if rng.random() < 0.5:
            return rng.choice(self.golden)
        data = rng.choice(self.datas)
        if self.envelope is EnvelopeKind.V3:
            return encode_v3(rng.randrange(256), data)
        return encode_bcc(rng.randrange(256), data)

    def garbage(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(7)
        size = rng.randrange(1, 33)
        if kind == 0:
            return rng.randbytes(size)
        if kind == 1:
            return b"\xff" * size
        if kind == 2:  # a fake V3 header, then a few bytes
            length = rng.choice([0, 1, 2, rng.randrange(4097), 4096, 0xFFFF])
            header = b"\xff\xff\x00" + bytes([rng.randrange(256)]) + b"\x00\x00"
            return header + length.to_bytes(2, "big") + rng.randbytes(rng.randrange(12))
        if kind == 3:  # an FE storm behind an STX
            return b"\xff\xff" + bytes([rng.randrange(255)]) + b"\xfe" * size
        if kind == 4:
            return bytes(rng.choice(b"\x00\xfe\xff\x01") for _ in range(size))
        if kind == 5:  # the start or the end of a frame
            frame = self.intact()
            cut = rng.randrange(1, len(frame))
            return frame[:cut] if rng.random() < 0.5 else frame[cut:]
        return b"\xff\xff" + rng.randbytes(size)

    def damaged(self) -> tuple[str, bytes, bytes]:
        """(what, bytes, the intact frame) of an intact frame spoiled one way."""
        rng = self.rng
        intact = self.intact()
        frame = bytearray(intact)
        kind = rng.randrange(5)
        if kind == 0:
            return AFTER_TRUNCATED, bytes(frame[:-1]), intact  # last byte lost (BCC: the ETX)
        if kind == 1:
            return AFTER_TRUNCATED, bytes(frame[: rng.randrange(1, len(frame))]), intact
        at = rng.randrange(len(frame))
        if kind == 2:
            frame[at] = (frame[at] + rng.randrange(1, 256)) % 256
        elif kind == 3:
            frame.insert(at, rng.randrange(256))
        else:
            del frame[at]
        return AFTER_DAMAGED, bytes(frame), intact

    def stream(self) -> tuple[bytes, list[tuple[bytes, str]], list[bytes]]:
        """An input, its intact frames in order (each with what preceded it), and the frames
        its damaged frames were made from."""
        rng = self.rng
        parts: list[bytes] = []
        intact: list[tuple[bytes, str]] = []
        originals: list[bytes] = []
        before = AFTER_FRAME
        for _ in range(rng.randrange(2, 7)):
            choice = rng.random()
            if choice < 0.35:
                junk = self.garbage()
                parts.append(junk)
                before = AFTER_GARBAGE
            elif choice < 0.8:
                before, junk, original = self.damaged()
                parts.append(junk)
                originals.append(original)
            frame = self.intact()
            parts.append(frame)
            intact.append((frame, before))
            before = AFTER_FRAME
        if rng.random() < 0.5:
            if rng.random() < 0.5:
                parts.append(self.garbage())
            else:
                _, junk, original = self.damaged()
                parts.append(junk)
                originals.append(original)
        return b"".join(parts), intact, originals


def decode(factory: DecoderFactory, envelope: EnvelopeKind,
           chunks: Sequence[bytes]) -> list[StreamItem]:
    decoder = factory(envelope)
    items: list[StreamItem] = []
    for chunk in chunks:
        items += decoder.feed(chunk)
    items += decoder.close()
    list(with_frames(items))  # frame decoding must not raise either
    return items


def matched(expected: list[Packet], got: list[Packet]) -> list[bool]:
    """For each expected packet, whether it was found (in order) among `got`."""
    found = []
    at = 0
    for packet in expected:
        index = next((i for i in range(at, len(got)) if got[i] == packet), None)
        found.append(index is not None)
        if index is not None:
            at = index + 1
    return found


def _chunks(rng: random.Random, raw: bytes) -> list[bytes]:
    cuts = sorted(rng.randrange(len(raw) + 1) for _ in range(rng.randrange(1, 6)))
    points = [0, *cuts, len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(points)]


def run_campaign(
    envelope: EnvelopeKind,
    seed: int,
    *,
    inputs: int | None = None,
    seconds: float | None = None,
    factory: DecoderFactory = StreamDecoder,
    keep: int = 5,
) -> CampaignResult:
    """Runs `inputs` inputs, or as many as fit in `seconds` of wall time."""
    rng = random.Random(f"{envelope.value}:{seed}")
    maker = StreamMaker(envelope, rng)
    result = CampaignResult(envelope, seed)
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        if inputs is not None and result.inputs >= inputs:
            break
        if deadline is not None and result.inputs % 64 == 0 and time.monotonic() > deadline:
            break
        raw, intact, originals = maker.stream()
        result.inputs += 1
        try:
            whole = decode(factory, envelope, [raw])
            chunked = decode(factory, envelope, _chunks(rng, raw))
        except Exception as exc:  # a crash is what the campaign is looking for
            result.crash_count += 1
            if len(result.crashes) < keep:
                result.crashes.append((raw.hex(), repr(exc)))
            continue
        expected = [decode_packet(frame, envelope) for frame, _ in intact]
        got = [item for item in whole if not isinstance(item, Rejected)]
        found = matched(expected, got)
        for (_, before), ok in zip(intact, found, strict=True):
            result.total.add(not ok)
            result.by_neighbour.setdefault(before, Tally()).add(not ok)
        if not all(found) and len(result.losses) < keep:
            result.losses.append(raw.hex())
        spare = list(got)
        for packet in (p for p, ok in zip(expected, found, strict=True) if ok):
            spare.remove(packet)
        for original in originals:
            packet = decode_packet(original, envelope)
            if packet in spare:
                spare.remove(packet)
                result.recovered += 1
        result.false_packets += len(spare)
        got_chunked = [item for item in chunked if not isinstance(item, Rejected)]
        for ok in matched(expected, got_chunked):
            result.chunked.add(not ok)
        result.chunking_differs += chunked != whole
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.protocols.campaign",
        description="Fixed-seed mutation campaign over the golden frames: inputs tried, crashes "
                    "and frames lost, per envelope. Exit status 1 on a crash.")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="wall time for both envelopes together (default: 60)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error("--seconds must be > 0")
    crashed = False
    for envelope in EnvelopeKind:
        result = run_campaign(envelope, args.seed, seconds=args.seconds / len(EnvelopeKind))
        print(result.summary(), flush=True)
        crashed |= result.crash_count > 0
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
