"""Wire formats: PC-RSU envelopes and frames, air-link PDUs, APDUs, card and OBU file records."""

from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

from protocols.crc import crc16_x25
from protocols.envelope import (
    DEFAULT_MAX_LENGTH,
    BccPacket,
    EnvelopeKind,
    Packet,
    SeqCounter,
    Side,
    V3Packet,
    answer_rsctl,
    bcc_of,
    encode_bcc,
    encode_packet,
    encode_v3,
    guess_envelope,
    seq_side,
)
from protocols.errors import (
    ChecksumError,
    FrameDecodeError,
    FrameEncodeError,
    FrameError,
    FramingError,
    ProtocolError,
    RecordError,
)
from protocols.frame_codec import (
    HeartbeatLayout,
    build_heartbeat,
    decode_frame,
    encode_frame,
    heartbeat_layout,
)
from protocols.record_codec import (
    decode_entry_exit,
    decode_issuer_info,
    decode_system_info,
    decode_vehicle_info,
    encode_entry_exit,
    encode_issuer_info,
    encode_system_info,
    encode_vehicle_info,
)

if TYPE_CHECKING:
    from protocols.stream import (
        Rejected,
        RejectReason,
        StreamDecoder,
        StreamItem,
        decode_packet,
        with_frames,
    )

#: Names of `protocols.stream`, imported on first use: its scanners bring numpy, which a tool
#: that decodes no stream (`lane-engine --help`, the journal commands) should not pay for.
_STREAM_NAMES = frozenset({"Rejected", "RejectReason", "StreamDecoder", "StreamItem",
                           "decode_packet", "with_frames"})


def __getattr__(name: str) -> Any:
    if name in _STREAM_NAMES:
        from protocols import stream

        return getattr(stream, name)
    raise AttributeError(f"module 'protocols' has no attribute {name!r}")


try:
    #: The version of the etc-lane-engine distribution this package belongs to.
    __version__ = _metadata.version("etc-lane-engine")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "BccPacket",
    "ChecksumError",
    "EnvelopeKind",
    "FrameDecodeError",
    "FrameEncodeError",
    "FrameError",
    "FramingError",
    "HeartbeatLayout",
    "Packet",
    "ProtocolError",
    "RecordError",
    "RejectReason",
    "Rejected",
    "SeqCounter",
    "Side",
    "StreamDecoder",
    "StreamItem",
    "V3Packet",
    "__version__",
    "answer_rsctl",
    "bcc_of",
    "build_heartbeat",
    "crc16_x25",
    "decode_entry_exit",
    "decode_frame",
    "decode_issuer_info",
    "decode_packet",
    "decode_system_info",
    "decode_vehicle_info",
    "encode_bcc",
    "encode_entry_exit",
    "encode_frame",
    "encode_issuer_info",
    "encode_packet",
    "encode_system_info",
    "encode_v3",
    "encode_vehicle_info",
    "guess_envelope",
    "heartbeat_layout",
    "seq_side",
    "with_frames",
]
