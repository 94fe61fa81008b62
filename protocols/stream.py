"""Sans-IO decoder for a PC-RSU byte stream (`pc-rsu.md` §1.3).

`StreamDecoder.feed(chunk)` returns, in stream order, the packets found and a `Rejected` value for
the bytes that were not a good envelope. Frame decoding is separate (`with_frames` pairs each
packet with its frame). Decoding takes time linear in the input whatever the bytes are: the
scanning is compiled (`protocols.stream_scan`, which says how frames are found). Benchmark
(`benchmarks/test_decoding_bench.py`, 1 MiB in 4 KiB reads, CPU per byte against random bytes
in the same run; four runs of 2026-12-04 at load average 2 to 7 on 2 cores): the slowest
adversarial stream, fake V3 headers with maximal LEN, at 2.9 to 3.1x, on the 3x target (each
of its bytes goes through the CRC register, which random bytes never reach); the other V3
streams within 2.2x, the legacy ones within 1.5x. The report gives the figures of its run.

Resynchronisation (our decision): a refused frame never consumes more than its STX, so a corrupted
LEN or a lost ETX does not swallow the frames that follow; of two valid frames that overlap, the
one that starts inside the other wins, unless it starts in the other's last two bytes (it shares
them as its STX: both are taken), so a frame that lost its last byte, or the next frame's first,
costs neither of them. Measured by the mutation campaign over the golden frames
(`tests/protocols/campaign.py`, `make fuzz SECONDS=120`, seed 1): 0 of 508,838 V3 frames and 0 of
895,766 legacy frames lost next to garbage and damaged frames, read whole or in random chunks
(the decoder before this one lost 0.02 % of V3 frames and 9.8 % of legacy ones, 43 % after a
frame that lost its last byte).

Each byte that is no packet is reported once. Between two packets, each refused frame is an item
of its own (the bytes of its span, with the reason it was refused), garbage between them another;
after the eighth refused frame of a gap, the rest of the gap is one run. Items are cut into
pieces of at most `max_length` + 10 bytes, so memory and the number of values stay bounded under
a flood. A refused frame is reported once no frame can start in its span any more; garbage when
the next frame or refused frame begins (or at `close`).

The result does not depend on how the stream was split into chunks, with one exception, the price
of never holding a good frame back for bytes that have not come: when a read ends exactly at the
end of a valid V3 frame and a header begins 3 to 7 bytes before that end, the frame is taken, and
the header (which could only be a valid frame starting inside it) is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from protocols.crc import crc16_x25
from protocols.envelope import (
    DEFAULT_MAX_LENGTH,
    ETX,
    V3_HEADER_LENGTH,
    V3_OVERHEAD,
    V3_VERSION,
    BccPacket,
    EnvelopeKind,
    Packet,
    V3Packet,
    bcc_of,
    unescape,
)
from protocols.errors import ChecksumError, FrameError, FramingError
from protocols.frame_codec import decode_frame
from protocols.frames import Frame

if TYPE_CHECKING:
    from protocols.stream_window import ScanWindow

__all__ = [
    "RejectReason",
    "Rejected",
    "StreamDecoder",
    "StreamItem",
    "decode_packet",
    "warm_up",
    "with_frames",
]


class RejectReason(Enum):
    """Why bytes of the stream were not a packet (for a run: why its first frame was refused)."""

    #: bytes outside any envelope
    GARBAGE = "garbage"
    #: CRC-16/X-25 or BCC mismatch
    BAD_CHECKSUM = "bad checksum"
    #: LEN (or the legacy frame) larger than the configured maximum
    OVERSIZED = "oversized"
    #: the frame ended early: the stream ended inside it, or a valid frame starts inside it
    TRUNCATED = "truncated"
    #: a legacy FE not followed by 00 or 01
    BAD_ESCAPE = "bad escape"
    #: a legacy frame without room for RSCTL and BCC
    MALFORMED = "malformed"


#: the scanners' reason codes, in their order
_REASONS = list(RejectReason)


@dataclass(frozen=True, slots=True)
class Rejected:
    """Bytes the decoder refused: why, the bytes, and the stream offset of the first one."""

    reason: RejectReason
    raw: bytes
    offset: int
    detail: str = ""

    @property
    def error(self) -> FrameError:
        """The matching exception value (ChecksumError or FramingError), for callers that raise."""
        text = f"{self.reason.value} at stream offset {self.offset}"
        if self.detail:
            text += f": {self.detail}"
        if self.reason is RejectReason.BAD_CHECKSUM:
            return ChecksumError(text)
        return FramingError(text)


StreamItem = Packet | Rejected


class StreamDecoder:
    """Finds envelopes of one kind in a byte stream split anywhere, with garbage in between."""

    def __init__(
        self, envelope: EnvelopeKind = EnvelopeKind.V3, max_length: int = DEFAULT_MAX_LENGTH
    ) -> None:
        self.envelope = envelope
        self.max_length = max_length
        self._offset = 0  # stream offset of the next byte, while no scanner is needed
        self._scanner: ScanWindow | None = None
        self._piece = max_length + V3_OVERHEAD
        self._run = bytearray()  # the pending piece of the current run of refused bytes
        self._run_offset = 0
        self._run_reason = RejectReason.GARBAGE
        self._run_detail = ""
        self._out: list[StreamItem] = []

    @property
    def idle(self) -> bool:
        """Nothing is pending: every byte fed so far has been reported (a V3 decoder may keep the
        last packet's CRC bytes, where no good frame can start), so a good frame fed now comes
        out as that one packet and leaves the decoder idle again."""
        scanner = self._scanner
        return not self._run and (scanner is None or scanner.settled)

    def feed(self, chunk: bytes) -> list[StreamItem]:
        """Adds `chunk`; returns the packets and rejections now complete, in stream order."""
        if not chunk:
            return []
        scanner = self._scanner
        if not self._run and (scanner is None or scanner.idle):
            packet = self._whole(chunk)
            if packet is not None:
                if scanner is None and self.envelope is EnvelopeKind.V3:
                    self._offset += len(chunk)
                else:
                    if scanner is None:
                        scanner = self._scanner = self._new_scanner()
                    scanner.skip(chunk)
                return [packet]
        if scanner is None:
            scanner = self._scanner = self._new_scanner()
        scanner.append(bytes(chunk))
        return self._scan(scanner, final=False)

    def _new_scanner(self) -> ScanWindow:
        from protocols.stream_window import ScanWindow

        return ScanWindow(self.envelope, self.max_length, self._offset)

    def close(self) -> list[StreamItem]:
        """Ends the stream: whatever is left is reported (truncated frame, garbage)."""
        scanner = self._scanner
        if scanner is None:
            return []
        return self._scan(scanner, final=True)

    # ---------------------------------------------------------------- whole frames

    def _whole(self, chunk: bytes) -> Packet | None:
        """The packet when `chunk` is exactly one good frame with nothing that could start a
        frame inside it (the usual read), else None: the scanner would find the same."""
        size = len(chunk)
        if size < 4 or chunk[0] != ETX or chunk[1] != ETX:
            return None
        if self.envelope is EnvelopeKind.V3:
            return _whole_v3(bytes(chunk), self.max_length)
        if chunk[2] == ETX or chunk[-1] != ETX or chunk.find(b"\xff", 2) != size - 1:
            return None
        try:
            body = unescape(bytes(chunk[2:-1]))
        except FramingError:
            return None
        if len(body) < 2 or len(body) - 2 > self.max_length or bcc_of(body[:-1]) != body[-1]:
            return None
        return BccPacket(rsctl=body[0], data=body[1:-1])

    # ---------------------------------------------------------------- scanning

    def _scan(self, scanner: ScanWindow, final: bool) -> list[StreamItem]:
        from protocols import stream_scan as scan

        for kind, start, end, reason, detail, arg, arg2, flags in scanner.run(final):
            if kind == scan.EV_RELEASE:
                self._release(scanner, start, end, _REASONS[reason], detail, arg, arg2,
                              flags & scan.NEW_ITEM)
                if flags & scan.ITEM_DONE:
                    self._flush()
            else:
                self._flush()
                self._out.append(self._packet(scanner, start, end))
        if final:
            self._flush()
        scanner.compact()
        out, self._out = self._out, []
        return out

    def _packet(self, scanner: ScanWindow, start: int, end: int) -> Packet:
        if scanner.v3:
            return V3Packet(seq=int(scanner.buf[start + 3 - scanner.base]),
                            data=scanner.bytes(start + V3_HEADER_LENGTH, end - 2))
        body = unescape(scanner.bytes(start + 2, end - 1))
        return BccPacket(rsctl=body[0], data=body[1:-1])

    def _release(self, scanner: ScanWindow, start: int, end: int, reason: RejectReason,
                 detail: int, arg: int, arg2: int, new: int) -> None:
        run = self._run
        if run and (new or reason is not self._run_reason
                    or self._run_offset + len(run) != start):
            self._flush()
        if not run:
            self._run_offset = start
            self._run_reason = reason
            self._run_detail = scanner.scan.describe(detail, arg, arg2, self.max_length)
        run += scanner.bytes(start, end)
        # Long runs are reported in pieces of a fixed size from the run's start, so memory stays
        # bounded and the pieces do not depend on how the stream was chunked.
        piece = self._piece
        while len(run) >= piece:
            self._out.append(Rejected(reason, bytes(run[:piece]), self._run_offset,
                                      self._run_detail))
            del run[:piece]
            self._run_offset += piece
            self._run_detail = ""

    def _flush(self) -> None:
        if self._run:
            self._out.append(Rejected(self._run_reason, bytes(self._run), self._run_offset,
                                      self._run_detail))
            self._run.clear()


def _whole_v3(chunk: bytes, max_length: int) -> V3Packet | None:
    """The packet when `chunk` is exactly one good V3 frame with no FF FF after its STX and no
    FF at its end (where the next frame's STX could begin)."""
    size = len(chunk)
    if (size < V3_OVERHEAD or chunk[2] != V3_VERSION or chunk[4] or chunk[5]
            or chunk[-1] == ETX):
        return None
    length = chunk[6] << 8 | chunk[7]
    if length + V3_OVERHEAD != size or length > max_length or chunk.find(b"\xff\xff", 1) >= 0:
        return None
    body = chunk[2:-2]
    if crc16_x25(body) != chunk[-2] << 8 | chunk[-1]:
        return None
    return V3Packet(seq=body[1], data=body[V3_HEADER_LENGTH - 2 :])


def decode_packet(raw: bytes, envelope: EnvelopeKind) -> Packet:
    """Exactly one envelope in `raw`; anything else raises the FrameError of the first problem."""
    decoder = StreamDecoder(envelope, max_length=max(DEFAULT_MAX_LENGTH, len(raw)))
    items = decoder.feed(raw) + decoder.close()
    packets = [item for item in items if not isinstance(item, Rejected)]
    for item in items:
        if isinstance(item, Rejected):
            raise item.error
    if len(packets) != 1:
        raise FramingError(f"expected one {envelope.value} envelope, found {len(packets)}")
    return packets[0]


def with_frames(
    items: Iterable[StreamItem], *, compiled: bool = True
) -> Iterator[tuple[Packet | None, Frame | FrameError]]:
    """Pairs each packet with its decoded frame (or the FrameError why not); a rejection gives
    ``(None, its error)``."""
    for item in items:
        if isinstance(item, Rejected):
            yield None, item.error
            continue
        try:
            yield item, decode_frame(item.data, compiled=compiled)
        except FrameError as exc:
            yield item, exc


def warm_up() -> None:
    """Loads (or compiles) the scanners from numba's cache, so no connection waits for it."""
    for envelope in EnvelopeKind:
        decoder = StreamDecoder(envelope)
        decoder.feed(b"\xff\xff\x00\x01\x00\x00\x00\x01\x00\xff")
        decoder.close()

