"""The one error hierarchy of `protocols`: everything a parser or builder raises derives from it."""

from __future__ import annotations

__all__ = [
    "AirFrameError",
    "ApduError",
    "ChecksumError",
    "FrameDecodeError",
    "FrameEncodeError",
    "FrameError",
    "FramingError",
    "ProtocolError",
    "RecordError",
]


class ProtocolError(Exception):
    """Base of every error `protocols` raises: corrupt input or a value that cannot be encoded."""


class FrameError(ProtocolError):
    """A PC-RSU frame or envelope could not be decoded."""


class ChecksumError(FrameError):
    """CRC-16/X-25 (V3 envelope) or BCC (legacy envelope) does not match."""


class FramingError(FrameError):
    """Envelope structure is wrong: bad escape, oversized LEN, truncated frame, missing ETX."""


class FrameDecodeError(FrameError):
    """The envelope was sound but the DATA does not fit the layout of its frame type."""


class FrameEncodeError(ProtocolError):
    """A frame value cannot be encoded (a field out of range, a wrong length)."""


class RecordError(ProtocolError):
    """A card or OBU file record (0015, 0019, system information, vehicle file) is malformed."""


class ApduError(ProtocolError):
    """An APDU or its response does not fit the command's layout."""


class AirFrameError(ProtocolError):
    """An air-link (DSRC) frame is malformed or its FCS does not match."""
