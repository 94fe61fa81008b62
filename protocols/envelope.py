"""PC-RSU envelopes (`pc-rsu.md` §1): the V3 envelope with CRC-16/X-25 and the legacy BCC envelope
with byte escaping, as typed packets; plus the sequence numbers of both.

Encoding lives here; decoding a byte stream lives in `protocols.stream`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from protocols.crc import crc16_x25
from protocols.errors import FrameEncodeError, FramingError
from protocols.frozen import fast_init

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "ETX",
    "STX",
    "V3_HEADER_LENGTH",
    "V3_OVERHEAD",
    "V3_VERSION",
    "BccPacket",
    "EnvelopeKind",
    "Packet",
    "SeqCounter",
    "Side",
    "V3Packet",
    "answer_rsctl",
    "bcc_of",
    "encode_bcc",
    "encode_packet",
    "encode_v3",
    "escape",
    "guess_envelope",
    "seq_side",
    "unescape",
]

STX = b"\xff\xff"
ETX = 0xFF
V3_VERSION = 0x00
#: STX 2 + VER 1 + SEQ 1 + LEN 4
V3_HEADER_LENGTH = 8
#: header + CRC 2
V3_OVERHEAD = V3_HEADER_LENGTH + 2
#: LEN above this is refused by default (`pc-rsu.md` §1.3)
DEFAULT_MAX_LENGTH = 4096
_ESCAPE = 0xFE
#: what ``FE 00`` and ``FE 01`` stand for
_UNESCAPED = (b"\xfe", b"\xff")
#: VER, SEQ and the 4-byte LEN: the part of the V3 header the CRC covers
_V3_BODY_HEADER = struct.Struct(">BBI")


class EnvelopeKind(Enum):
    """Which envelope a connection speaks (chosen by configuration, `pc-rsu.md` §1)."""

    #: current national envelope: VER, SEQ, LEN, CRC-16/X-25
    V3 = "v3"
    #: legacy envelope: RSCTL, BCC, ETX, FE/FF escaping
    BCC = "bcc"


@fast_init
@dataclass(frozen=True, slots=True)
class V3Packet:
    """One V3 envelope: its SEQ byte and its DATA (a frame, type byte first)."""

    seq: int
    data: bytes


@fast_init
@dataclass(frozen=True, slots=True)
class BccPacket:
    """One legacy envelope: its RSCTL byte and its unescaped DATA."""

    rsctl: int
    data: bytes


Packet = V3Packet | BccPacket


def _byte(value: int, what: str) -> int:
    if not 0 <= value <= 0xFF:
        raise FrameEncodeError(f"{what} {value} does not fit in a byte")
    return value


def encode_v3(seq: int, data: bytes) -> bytes:
    """`FF FF | 00 | SEQ | LEN 4 | DATA | CRC 2`; V3 has no byte escaping (our decision, §1.1)."""
    if len(data) > 0xFFFF:
        raise FrameEncodeError(f"V3 DATA of {len(data)} bytes does not fit the 2 low LEN bytes")
    body = _V3_BODY_HEADER.pack(V3_VERSION, _byte(seq, "SEQ"), len(data)) + bytes(data)
    return STX + body + crc16_x25(body).to_bytes(2, "big")


def bcc_of(data: bytes) -> int:
    """XOR of `data`: the legacy checksum, taken over the unescaped RSCTL..DATA (our decision)."""
    # XOR-fold the bytes as one integer, halving its width each round, instead of a byte loop.
    width = len(data)
    folded = int.from_bytes(data, "little")
    while width > 1:
        half = (width + 1) // 2
        folded = (folded ^ (folded >> (8 * half))) & ((1 << (8 * half)) - 1)
        width = half
    return folded


def escape(body: bytes) -> bytes:
    """Legacy escaping of RSCTL..BCC: ``FF`` → ``FE 01``, ``FE`` → ``FE 00``."""
    return bytes(body).replace(b"\xfe", b"\xfe\x00").replace(b"\xff", b"\xfe\x01")


def unescape(body: bytes) -> bytes:
    """Reverses `escape`; a ``FE`` not followed by ``00``/``01`` raises `FramingError`."""
    body = bytes(body)
    if _ESCAPE not in body:
        return body
    head, *escaped = body.split(b"\xfe")
    parts = [head]
    for index, part in enumerate(escaped):
        # each part follows an FE: its first byte says which byte the pair stands for
        if not part or part[0] > 0x01:
            if part:
                follower = f"{part[0]:02x}"
            elif index < len(escaped) - 1:
                follower = "fe"  # an empty part lies between two FE
            else:
                follower = "end of frame"
            raise FramingError(f"bad escape: FE followed by {follower}")
        parts.append(_UNESCAPED[part[0]])
        parts.append(part[1:])
    return b"".join(parts)


def encode_bcc(rsctl: int, data: bytes) -> bytes:
    """`FF FF | RSCTL | DATA | BCC | FF` with RSCTL..BCC escaped; empty DATA is the empty answer."""
    body = bytes([_byte(rsctl, "RSCTL")]) + bytes(data)
    return STX + escape(body + bytes([bcc_of(body)])) + bytes([ETX])


def encode_packet(packet: Packet) -> bytes:
    """The envelope bytes of `packet`, whichever kind it is."""
    if isinstance(packet, V3Packet):
        return encode_v3(packet.seq, packet.data)
    return encode_bcc(packet.rsctl, packet.data)


def guess_envelope(raw: bytes) -> EnvelopeKind:
    """V3 when `raw` has a V3 header whose LEN matches its size exactly, else BCC.

    Our decision for one captured frame whose envelope nobody said (the CLI's auto-detection).
    """
    if (
        len(raw) >= V3_OVERHEAD
        and raw[:2] == STX
        and raw[2] == V3_VERSION
        and raw[4:6] == b"\x00\x00"
        and int.from_bytes(raw[6:8], "big") + V3_OVERHEAD == len(raw)
    ):
        return EnvelopeKind.V3
    return EnvelopeKind.BCC


# ---------------------------------------------------------------- sequence numbers


class Side(Enum):
    """Who sends a V3 frame; it decides which nibble of SEQ carries the counter."""

    #: the roadside unit numbers its frames 0X
    RSU = "rsu"
    #: the lane controller numbers its frames X0
    LANE = "lane"


@fast_init
@dataclass(frozen=True, slots=True)
class SeqCounter:
    """A side's V3 SEQ counter: X cycles 1..9; RSU frames carry ``0X``, lane frames ``X0``."""

    side: Side
    x: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.x <= 9:
            raise ValueError(f"SEQ counter runs 1..9, got {self.x}")

    @property
    def value(self) -> int:
        """The SEQ byte to send now."""
        return self.x if self.side is Side.RSU else self.x << 4

    def next(self) -> SeqCounter:
        """The counter for the following frame."""
        return _FOLLOWING[self.side][self.x]


#: Each counter's successor, made once (a counter moves on with every frame sent).
_FOLLOWING = {side: {x: SeqCounter(side, x % 9 + 1) for x in range(1, 10)} for side in Side}


def seq_side(seq: int) -> Side | None:
    """Which side numbered a SEQ byte, or None when it fits neither pattern."""
    if 1 <= seq <= 9:
        return Side.RSU
    if seq & 0x0F == 0 and 1 <= seq >> 4 <= 9:
        return Side.LANE
    return None


def answer_rsctl(rsctl: int) -> int:
    """Legacy envelope: the lane answers an RSU frame's RSCTL ``X8`` with the nibbles swapped."""
    return ((rsctl & 0x0F) << 4) | (rsctl >> 4)
