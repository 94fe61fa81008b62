"""A capture read back for replay: the frames of one lane connection, in order, each with its
direction (RSU→lane "TX", lane→RSU "RX"), its SEQ and, when the capture says, its time.

Two forms are read (our decision: told apart line by line): `rsu-sim serve`'s frame log (time,
lane, connection and direction before each frame) and a plain capture of one frame in hex per
line (an optional prefix before the first token starting with `ffff` is ignored there; the
direction is the frame type's: B* from the RSU, C* from the lane; no times, so the replay is
paced by the lane's answers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from protocols.cli_decode import split_capture_line
from protocols.envelope import EnvelopeKind
from protocols.errors import FrameError, ProtocolError
from protocols.frame_codec import decode_frame
from protocols.frames import Frame, UnknownFrame
from protocols.stream import decode_packet
from rsu_sim.errors import SimError
from rsu_sim.server.frame_log import NO_CONNECTION, parse_line

TX, RX = "TX", "RX"


class CaptureError(SimError):
    """A capture holds no frames to replay, or a line is not a frame."""


@dataclass(frozen=True, slots=True)
class Captured:
    """One frame of a capture."""

    at: float | None  # UNIX seconds, None for a capture without times
    direction: str  # TX: RSU → lane; RX: lane → RSU
    seq: int
    raw: bytes  # the whole V3 frame
    frame: Frame
    lane: str = "-"
    connection: str = NO_CONNECTION


def _frame_of(raw: bytes, where: str) -> tuple[int, Frame]:
    try:
        packet = decode_packet(raw, EnvelopeKind.V3)
        return getattr(packet, "seq", 0), decode_frame(packet.data)
    except (FrameError, ProtocolError) as exc:
        raise CaptureError(f"{where}: not a V3 frame ({exc})") from exc


def read_capture(lines: Iterable[str], source: str = "capture") -> list[Captured]:
    """Every frame of a frame log or a hex capture, in order (comments and blank lines are
    skipped; a log line torn by a crash is skipped too)."""
    frames = []
    for number, line in enumerate(lines, start=1):
        where = f"{source} line {number}"
        logged = parse_line(line)
        if logged is not None:
            if logged.direction is None:
                continue
            try:
                seq, frame = _frame_of(logged.raw, where)
            except CaptureError:
                continue  # a frame-log line torn by a crash: the frames before it stand
            frames.append(Captured(logged.at, logged.direction.value, seq, logged.raw, frame,
                                   logged.lane, logged.connection))
            continue
        split = split_capture_line(line)
        if split is None:
            continue
        try:
            raw = bytes.fromhex(split[1])
        except ValueError:
            continue  # a frame-log line torn by a crash, or text that is no frame
        seq, frame = _frame_of(raw, where)
        if isinstance(frame, UnknownFrame):
            raise CaptureError(f"{where}: frame type {frame.frame_type:02X} has no direction")
        direction = TX if raw[8] >> 4 == 0xB else RX
        frames.append(Captured(None, direction, seq, raw, frame))
    return frames


def one_connection(frames: list[Captured], lane: str | None = None,
                   connection: str | None = None) -> tuple[list[Captured], str]:
    """The frames of one lane connection: the one named, else the first of the capture (of
    `lane` when named); with its name. CaptureError when nothing is left."""
    chosen = [f for f in frames if lane is None or f.lane == lane]
    if connection is None and chosen:
        connection = chosen[0].connection
    chosen = [f for f in chosen if f.connection == connection]
    if not any(f.direction == TX for f in chosen):
        what = f"lane {lane}" if lane else "the capture"
        raise CaptureError(f"{what}: no RSU frames to replay"
                           + (f" on connection {connection}" if connection else ""))
    name = f"{chosen[0].lane} {connection}" if chosen[0].lane != "-" else "the capture"
    return chosen, name
