"""Packed BCD as the cards and frames use it: digit strings, dates `yyyymmdd`, date-times
`yyyyMMddHHmmss`. Pure functions; the construct adapters built on them live in `protocols.fields`.
"""

from __future__ import annotations

import datetime as dt
import re

from protocols.errors import RecordError

_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]*")


def decode_digits(raw: bytes) -> str:
    """BCD digit string, two digits a byte (``37 01`` → ``"3701"``).

    Our decision: a nibble above 9 is rendered as ``A``-``F`` instead of being refused, so that a
    field record with odd padding still decodes and re-encodes byte for byte.
    """
    return raw.hex().upper()


def encode_digits(digits: str, size: int) -> bytes:
    """The `size`-byte BCD form of a string of exactly 2*size digits (``A``-``F`` tolerated)."""
    if len(digits) != 2 * size or not _HEX_DIGITS.fullmatch(digits):
        raise RecordError(f"BCD field wants {2 * size} digits, got {digits!r}")
    return bytes.fromhex(digits)


def _strict_digits(raw: bytes, what: str) -> str:
    text = raw.hex()
    if not text.isdigit():
        raise RecordError(f"{what} {text} is not BCD")
    return text


def decode_date(raw: bytes) -> dt.date | None:
    """BCD ``yyyymmdd`` (4 bytes); all zero means "no date" and gives None."""
    if len(raw) != 4:
        raise RecordError(f"BCD date wants 4 bytes, got {len(raw)}")
    if not any(raw):
        return None
    text = _strict_digits(raw, "BCD date")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise RecordError(f"BCD date {text} is not a calendar date") from exc


def encode_date(value: dt.date | None) -> bytes:
    """The 4-byte BCD form of `value`; None gives four zero bytes."""
    if value is None:
        return b"\x00" * 4
    return bytes.fromhex(f"{value.year:04d}{value.month:02d}{value.day:02d}")


def decode_datetime(raw: bytes) -> dt.datetime | None:
    """BCD ``yyyyMMddHHmmss`` (7 bytes) as a naive datetime; all zero gives None."""
    if len(raw) != 7:
        raise RecordError(f"BCD date-time wants 7 bytes, got {len(raw)}")
    if not any(raw):
        return None
    text = _strict_digits(raw, "BCD date-time")
    try:
        return dt.datetime(
            int(text[:4]), int(text[4:6]), int(text[6:8]),
            int(text[8:10]), int(text[10:12]), int(text[12:14]),
        )
    except ValueError as exc:
        raise RecordError(f"BCD date-time {text} is not a valid time") from exc


def encode_datetime(value: dt.datetime) -> bytes:
    """The 7-byte BCD form of `value` (wall-clock fields; microseconds are dropped)."""
    v = value
    return bytes.fromhex(
        f"{v.year:04d}{v.month:02d}{v.day:02d}{v.hour:02d}{v.minute:02d}{v.second:02d}"
    )
