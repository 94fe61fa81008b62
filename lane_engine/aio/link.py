"""The byte side of one RSU connection: envelopes, SEQ/RSCTL numbering, one frame per write."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lane_engine.aio.wire import Wire
from protocols.envelope import (
    EnvelopeKind,
    SeqCounter,
    Side,
    V3Packet,
    answer_rsctl,
    encode_bcc,
    encode_v3,
)
from protocols.errors import FrameError
from protocols.frame_codec import decode_frame, encode_frame
from protocols.frames import Frame, LaneFrame
from protocols.frozen import fast_init
from protocols.stream import Rejected, StreamDecoder

__all__ = [
    "FIRST_LANE_RSCTL",
    "Garbled",
    "Received",
    "RsuLink",
]

#: The RSCTL of a lane frame sent before the RSU has sent anything (our decision: the answer to
#: the RSU's power-on RSCTL 98h, i.e. 89h).
FIRST_LANE_RSCTL = answer_rsctl(0x98)


@fast_init
@dataclass(frozen=True, slots=True)
class Received:
    """A frame from the RSU with its SEQ (V3) or RSCTL (legacy), the core's `seq`."""

    frame: Frame
    seq: int


@fast_init
@dataclass(frozen=True, slots=True)
class Garbled:
    """Bytes that were not a good envelope, or an envelope whose frame did not decode."""

    detail: str
    size: int = 0


class RsuLink:
    """Encodes lane frames into the configured envelope and decodes the RSU's byte stream.

    Every frame is written with one `write` call (field lane software reads one frame per read).
    """

    def __init__(self, wire: Wire, envelope: EnvelopeKind) -> None:
        self._wire = wire
        self.envelope = envelope
        self._decoder = StreamDecoder(envelope)
        self._seq = SeqCounter(Side.LANE)
        self._last_rsu_rsctl: int | None = None

    def send(self, frame: LaneFrame) -> None:
        """Write one frame in its own envelope."""
        self._write(encode_frame(frame))

    def answer_empty(self) -> None:
        """Legacy envelope: the empty frame that answers an RSU frame needing no data."""
        self._write(b"")

    def _write(self, data: bytes) -> None:
        if self.envelope is EnvelopeKind.V3:
            raw = encode_v3(self._seq.value, data)
            self._seq = self._seq.next()
        else:
            rsctl = (FIRST_LANE_RSCTL if self._last_rsu_rsctl is None
                     else answer_rsctl(self._last_rsu_rsctl))
            raw = encode_bcc(rsctl, data)
        self._wire.write(raw)

    @property
    def must_flush(self) -> bool:
        """Whether `flush` has anything to wait for (else the caller need not await it)."""
        return self._wire.must_drain

    async def flush(self) -> None:
        """Wait until the socket buffer has room again (raises OSError when the RSU is gone)."""
        await self._wire.drain()

    def feed(self, chunk: bytes) -> Iterator[Received | Garbled]:
        """The frames (and faults) in the next chunk of the RSU's stream, in order."""
        for item in self._decoder.feed(chunk):
            if isinstance(item, Rejected):
                yield Garbled(str(item.error), len(item.raw))
                continue
            seq = item.seq if isinstance(item, V3Packet) else item.rsctl
            if not isinstance(item, V3Packet):
                self._last_rsu_rsctl = item.rsctl
                if not item.data:
                    continue  # an RSU's empty answer to one of our frames
            try:
                yield Received(decode_frame(item.data), seq)
            except FrameError as exc:
                yield Garbled(str(exc), len(item.data))
