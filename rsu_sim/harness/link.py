"""One direction of a PC-RSU TCP link in virtual time: frames are encoded with the V3 envelope,
may be corrupted on the way, and are decoded from the byte stream on the far side.

Each frame is one write and one read (`pc-rsu.md` §1.1: frames are not coalesced), so the far
side sees exactly the bytes the near side wrote, flipped where the fault mix says so.

The bytes are made only when they can make a difference: a frame the fault mix corrupts, every
frame while the far side's decoder still holds bytes (a corrupted frame may have left a partial
"frame" that swallows the next one), and every frame when a capture is asked for. Otherwise a
good frame read by an idle decoder is exactly that frame again (`StreamDecoder.idle`), so it is
handed over as the value it is: the far side sees what the bytes would have given it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from protocols.envelope import V3Packet, encode_v3
from protocols.errors import FrameDecodeError
from protocols.frame_codec import decode_frame, encode_frame
from protocols.frames import Frame
from protocols.stream import StreamDecoder
from rsu_sim.site.devices import corrupt

Deliver = Callable[[Frame, int, float], None]
#: Sees every frame's bytes as written, as they went on the wire (corrupted or the same) and when.
Capture = Callable[[bytes, bytes, float], None]


@dataclass(slots=True)
class LinkStats:
    """What one direction of the link carried."""

    frames: int = 0
    corrupted: int = 0
    rejected: int = 0  # byte runs the decoder refused (bad CRC, garbage)
    undecodable: int = 0  # good envelopes whose DATA is not a frame
    byte_path: int = 0  # frames that went through real bytes (the rest as values)


class ByteLink:
    """Frames in at one end, frames out at the other `latency_s` later, through real bytes
    wherever bytes can differ from the frame."""

    def __init__(self, schedule: Callable[..., None],
                 deliver: Deliver, latency_s: float, corrupt_probability: float,
                 rng: np.random.Generator, capture: Capture | None = None) -> None:
        self._schedule = schedule
        self._deliver = deliver
        self._latency = latency_s
        self._corrupt_p = corrupt_probability
        self._rng = rng
        self._capture = capture
        self._decoder = StreamDecoder()
        self._last: tuple[Frame, int, bytes] | None = None
        self.stats = LinkStats()

    def reconnect(self) -> None:
        """A new TCP connection: bytes in flight on the old one are lost to the new decoder."""
        self._decoder = StreamDecoder()

    def _encode(self, frame: Frame, seq: int) -> bytes:
        last = self._last
        if last is not None and last[0] is frame and last[1] == seq:
            return last[2]  # a retransmission or duplicate: same SEQ, same DATA, same bytes
        raw = encode_v3(seq, encode_frame(frame))
        self._last = (frame, seq, raw)
        return raw

    def send(self, frame: Frame, seq: int, at: float) -> None:
        """Write `frame` with V3 SEQ `seq` at `at`; it is read `latency_s` later."""
        self.stats.frames += 1
        corrupted = bool(self._corrupt_p) and self._rng.random() < self._corrupt_p
        decoder, due = self._decoder, at + self._latency
        if not corrupted and self._capture is None:
            self._schedule(due, self._read_frame, decoder, frame, seq)
            return
        written = raw = self._encode(frame, seq)
        if corrupted:
            raw = corrupt(raw, self._rng)
            self.stats.corrupted += 1
        if self._capture is not None:
            self._capture(written, raw, at)
        self._schedule(due, self._read, decoder, raw)

    def _read_frame(self, now: float, decoder: StreamDecoder, frame: Frame, seq: int) -> None:
        if decoder is not self._decoder:
            return  # written on a connection that has since been dropped
        if decoder.idle:
            self._deliver(frame, seq, now)
        else:
            self._read(now, decoder, self._encode(frame, seq))

    def _read(self, now: float, decoder: StreamDecoder, raw: bytes) -> None:
        if decoder is not self._decoder:
            return  # written on a connection that has since been dropped
        self.stats.byte_path += 1
        for item in decoder.feed(raw):
            if not isinstance(item, V3Packet):
                self.stats.rejected += 1
                continue
            try:
                frame = decode_frame(item.data)
            except FrameDecodeError:
                self.stats.undecodable += 1
                continue
            self._deliver(frame, item.seq, now)


__all__ = ["ByteLink", "Capture", "Deliver", "LinkStats", "corrupt"]
