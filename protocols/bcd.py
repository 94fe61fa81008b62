"""Packed BCD as the cards and frames use it: digit strings, dates `yyyymmdd`, date-times
`yyyyMMddHHmmss`. Pure functions; the construct adapters built on them live in `protocols.fields`.

Dates and times go through two lookup tables (byte → 0..99, 0..99 → byte) instead of hex text:
they sit in every B2, B4, B5 and C6 frame.
"""

from __future__ import annotations

import datetime as dt

from protocols.errors import RecordError

__all__ = [
    "decode_date",
    "decode_datetime",
    "decode_digits",
    "encode_date",
    "encode_datetime",
    "encode_digits",
]

#: value 0..99 of each BCD byte, -1 where a nibble is above 9 (OR-ing values keeps the -1)
_VALUE_OF_BYTE = tuple(
    (byte >> 4) * 10 + (byte & 0x0F) if byte >> 4 <= 9 and byte & 0x0F <= 9 else -1
    for byte in range(256)
)
#: the BCD byte of each value 0..99
_BYTE_OF_VALUE = tuple((value // 10) << 4 | value % 10 for value in range(100))


def decode_digits(raw: bytes) -> str:
    """BCD digit string, two digits a byte (``37 01`` → ``"3701"``).

    Our decision: a nibble above 9 is rendered as ``A``-``F`` instead of being refused, so that a
    field record with odd padding still decodes and re-encodes byte for byte.
    """
    return raw.hex().upper()


def encode_digits(digits: str, size: int) -> bytes:
    """The `size`-byte BCD form of a string of exactly 2*size digits (``A``-``F`` tolerated)."""
    if len(digits) == 2 * size:
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            raw = b""
        # fromhex skips whitespace between pairs: a string with any comes out short of `size`
        if len(raw) == size:
            return raw
    raise RecordError(f"BCD field wants {2 * size} digits, got {digits!r}")


def decode_date(raw: bytes) -> dt.date | None:
    """BCD ``yyyymmdd`` (4 bytes); all zero means "no date" and gives None."""
    if len(raw) != 4:
        raise RecordError(f"BCD date wants 4 bytes, got {len(raw)}")
    c, y, m, d = raw
    if not c | y | m | d:
        return None
    value = _VALUE_OF_BYTE
    century, year, month, day = value[c], value[y], value[m], value[d]
    if century | year | month | day < 0:
        raise RecordError(f"BCD date {bytes(raw).hex()} is not BCD")
    try:
        return dt.date(century * 100 + year, month, day)
    except ValueError as exc:
        raise RecordError(f"BCD date {bytes(raw).hex()} is not a calendar date") from exc


def encode_date(value: dt.date | None) -> bytes:
    """The 4-byte BCD form of `value`; None gives four zero bytes."""
    if value is None:
        return b"\x00" * 4
    byte, year = _BYTE_OF_VALUE, value.year
    return bytes((byte[year // 100], byte[year % 100], byte[value.month], byte[value.day]))


def decode_datetime(raw: bytes) -> dt.datetime | None:
    """BCD ``yyyyMMddHHmmss`` (7 bytes) as a naive datetime; all zero gives None."""
    if len(raw) != 7:
        raise RecordError(f"BCD date-time wants 7 bytes, got {len(raw)}")
    c, y, mo, d, h, mi, s = raw
    if not c | y | mo | d | h | mi | s:
        return None
    value = _VALUE_OF_BYTE
    century, year, month, day = value[c], value[y], value[mo], value[d]
    hour, minute, second = value[h], value[mi], value[s]
    if century | year | month | day | hour | minute | second < 0:
        raise RecordError(f"BCD date-time {bytes(raw).hex()} is not BCD")
    try:
        return dt.datetime(century * 100 + year, month, day, hour, minute, second)
    except ValueError as exc:
        raise RecordError(f"BCD date-time {bytes(raw).hex()} is not a valid time") from exc


def encode_datetime(value: dt.datetime) -> bytes:
    """The 7-byte BCD form of `value` (wall-clock fields; microseconds are dropped)."""
    byte, year = _BYTE_OF_VALUE, value.year
    return bytes((
        byte[year // 100], byte[year % 100], byte[value.month], byte[value.day],
        byte[value.hour], byte[value.minute], byte[value.second],
    ))
