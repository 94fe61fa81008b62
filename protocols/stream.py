"""Sans-IO decoder for a PC-RSU byte stream (`pc-rsu.md` §1.3).

`StreamDecoder.feed(chunk)` returns, in stream order, the packets found and a `Rejected` value for
every run of bytes that was not a good envelope. The result does not depend on how the stream was
split into chunks. Frame decoding is separate (`with_frames` pairs each packet with its frame).

Resynchronisation (our decision): after a bad CRC, an oversized LEN or a truncated frame, the search
for the next ``FF FF`` restarts at the byte after the rejected frame's STX, not after its claimed
LEN: a corrupted LEN must not swallow the good frames that follow. Bytes inside a rejected frame
are reported once, as part of that frame, never again as garbage.

Known limit of the legacy envelope: garbage holding ``FF FF`` right before a frame can pose as a
frame whose "ETX" is the first byte of the real STX; if its BCC happens to match (1 in 256) the
real frame is lost. V3 frames are delimited by LEN and CRC and do not have this weakness.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from protocols.crc import crc16_x25
from protocols.envelope import (
    DEFAULT_MAX_LENGTH,
    ETX,
    STX,
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


class RejectReason(Enum):
    """Why bytes of the stream were not a packet."""

    #: bytes outside any envelope
    GARBAGE = "garbage"
    #: CRC-16/X-25 or BCC mismatch
    BAD_CHECKSUM = "bad checksum"
    #: LEN (or the legacy frame) larger than the configured maximum
    OVERSIZED = "oversized"
    #: the stream ended inside a frame
    TRUNCATED = "truncated"
    #: a legacy FE not followed by 00 or 01
    BAD_ESCAPE = "bad escape"
    #: a legacy frame without room for RSCTL and BCC
    MALFORMED = "malformed"


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
        self._buf = bytearray()
        self._pos = 0  # index in _buf of the first byte not yet consumed
        self._base = 0  # stream offset of _buf[0]
        self._suppress_until = 0  # stream offset: bytes before it were reported in a rejection
        self._garbage = bytearray()
        self._garbage_offset = 0
        self._out: list[StreamItem] = []

    @property
    def idle(self) -> bool:
        """Nothing is pending: every byte fed so far has been reported, so a good frame fed now
        comes out as that one packet and leaves the decoder idle again."""
        return not self._buf and not self._garbage

    def feed(self, chunk: bytes) -> list[StreamItem]:
        """Adds `chunk`; returns the packets and rejections now complete, in stream order."""
        if not self._buf and not self._garbage and self.envelope is EnvelopeKind.V3:
            packet = self._whole_v3(chunk)
            if packet is not None:
                self._base += len(chunk)
                return [packet]
        self._buf += chunk
        return self._run(final=False)

    def _whole_v3(self, chunk: bytes) -> V3Packet | None:
        """The packet when `chunk` is exactly one good V3 frame (the usual read), else None.

        With nothing pending, the scan would find the same packet and nothing else; anything
        short of that case goes the long way.
        """
        size = len(chunk)
        if size < V3_OVERHEAD or chunk[0] != ETX or chunk[1] != ETX or chunk[2] != V3_VERSION:
            return None
        length = chunk[6] << 8 | chunk[7]
        if chunk[4] or chunk[5] or length + V3_OVERHEAD != size or length > self.max_length:
            return None
        body = bytes(chunk[2:-2])
        if crc16_x25(body) != chunk[-2] << 8 | chunk[-1]:
            return None
        return V3Packet(seq=body[1], data=body[V3_HEADER_LENGTH - 2 :])

    def close(self) -> list[StreamItem]:
        """Ends the stream: whatever is left is reported (truncated frame, garbage)."""
        return self._run(final=True)

    # ---------------------------------------------------------------- scanning

    def _run(self, final: bool) -> list[StreamItem]:
        step = self._step_v3 if self.envelope is EnvelopeKind.V3 else self._step_bcc
        buf = self._buf
        while True:
            start = buf.find(STX, self._pos)
            if start < 0:
                end = len(buf)
                if not final and end > self._pos and buf[-1] == STX[0]:
                    end -= 1  # may be the first half of an STX
                if end > self._pos:
                    self._discard(end - self._pos)
                break
            if start > self._pos:
                self._discard(start - self._pos)
            if not step(final):
                break
        if final:
            self._flush_garbage()
        if self._pos:
            del buf[: self._pos]
            self._base += self._pos
            self._pos = 0
        out, self._out = self._out, []
        return out

    def _step_v3(self, final: bool) -> bool:
        """At an STX: consume a packet or a rejection and return True, or wait and return False."""
        buf, p = self._buf, self._pos
        available = len(buf) - p
        # VER must be 00 and the two high LEN bytes zero, as far as they have arrived
        if (available > 2 and buf[p + 2] != V3_VERSION) or any(buf[p + 4 : p + 6]):
            self._discard(1)  # not a header: this FF is garbage
            return True
        if available < V3_HEADER_LENGTH:
            if final:
                self._reject(RejectReason.TRUNCATED, available, "inside the V3 header")
                return True
            return False
        length = buf[p + 6] << 8 | buf[p + 7]
        if length > self.max_length:
            self._reject(
                RejectReason.OVERSIZED, V3_HEADER_LENGTH, f"LEN {length} > {self.max_length}"
            )
            return True
        total = V3_OVERHEAD + length
        if available < total:
            if final:
                self._reject(
                    RejectReason.TRUNCATED, available, f"LEN {length}, {available} bytes"
                )
                return True
            return False
        end = p + total
        body = bytes(buf[p + 2 : end - 2])
        if crc16_x25(body) != buf[end - 2] << 8 | buf[end - 1]:
            self._reject(RejectReason.BAD_CHECKSUM, total, "CRC-16/X-25 mismatch")
            return True
        self._emit(V3Packet(seq=body[1], data=body[V3_HEADER_LENGTH - 2 :]), total)
        return True

    def _step_bcc(self, final: bool) -> bool:
        """Legacy: the frame runs from STX to the first FF (escaping keeps FF out of it)."""
        buf, p = self._buf, self._pos
        if len(buf) - p < 3:
            if final:
                self._reject(RejectReason.TRUNCATED, len(buf) - p, "inside the legacy frame")
                return True
            return False
        if buf[p + 2] == ETX:
            self._discard(1)  # a run of FF: only the last two can be the STX
            return True
        end = buf.find(ETX, p + 2)
        limit = 2 * (self.max_length + 2) + 3  # everything escaped, plus STX and ETX
        if end < 0:
            if len(buf) - p > limit:
                self._reject(RejectReason.OVERSIZED, limit, f"no ETX within {limit} bytes")
            elif final:
                self._reject(RejectReason.TRUNCATED, len(buf) - p, "no ETX")
            else:
                return False
            return True
        # On an error the search goes on at the FF that ended the frame: it may be the first
        # byte of the next STX. It is reported with the rejected frame, not as garbage.
        size = end - p
        try:
            body = unescape(bytes(buf[p + 2 : end]))
        except FramingError as exc:
            self._reject(RejectReason.BAD_ESCAPE, size + 1, str(exc), consume=size)
            return True
        if len(body) < 2:
            self._reject(RejectReason.MALFORMED, size + 1, "no RSCTL and BCC", consume=size)
        elif len(body) - 2 > self.max_length:
            self._reject(
                RejectReason.OVERSIZED, size + 1, f"DATA {len(body) - 2} > {self.max_length}",
                consume=size,
            )
        elif bcc_of(body[:-1]) != body[-1]:
            self._reject(RejectReason.BAD_CHECKSUM, size + 1, "BCC mismatch", consume=size)
        else:
            self._emit(BccPacket(rsctl=body[0], data=body[1:-1]), size + 1)
        return True

    # ---------------------------------------------------------------- bookkeeping

    def _discard(self, count: int) -> None:
        """Moves `count` bytes to the pending garbage (unless already reported)."""
        if count <= 0:
            return
        offset = self._base + self._pos
        skip = min(count, max(0, self._suppress_until - offset))
        chunk = self._buf[self._pos + skip : self._pos + count]
        self._pos += count
        if not chunk:
            return
        start = offset + skip
        if self._garbage and self._garbage_offset + len(self._garbage) != start:
            self._flush_garbage()
        if not self._garbage:
            self._garbage_offset = start
        self._garbage += chunk
        # Long garbage is reported in pieces of a fixed size, so memory stays bounded and the
        # pieces do not depend on how the stream was chunked.
        piece = self.max_length + V3_OVERHEAD
        while len(self._garbage) >= piece:
            self._out.append(
                Rejected(RejectReason.GARBAGE, bytes(self._garbage[:piece]), self._garbage_offset)
            )
            del self._garbage[:piece]
            self._garbage_offset += piece

    def _flush_garbage(self) -> None:
        if self._garbage:
            self._out.append(
                Rejected(RejectReason.GARBAGE, bytes(self._garbage), self._garbage_offset)
            )
            self._garbage.clear()

    def _emit(self, packet: Packet, size: int) -> None:
        self._flush_garbage()
        self._out.append(packet)
        self._pos += size

    def _reject(self, reason: RejectReason, size: int, detail: str, consume: int = 2) -> None:
        """Reports `size` bytes from the current STX; consumes only `consume` (the STX) of them."""
        self._flush_garbage()
        offset = self._base + self._pos
        raw = bytes(self._buf[self._pos : self._pos + size])
        self._out.append(Rejected(reason, raw, offset, detail))
        self._suppress_until = max(self._suppress_until, offset + size)
        self._pos += consume


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
