"""construct field types shared by the frame and record codecs: BCD, plates, enums, records.

Everything here turns raw bytes into the typed values of `protocols.frames` / `protocols.records`;
problems raise `RecordError`, which the codecs translate at their boundary.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from enum import IntEnum, IntFlag
from typing import Any, TypeVar

from construct import Adapter, Array, Bytes, Construct, ConstructError

from protocols import bcd
from protocols.errors import RecordError
from protocols.records import PLATE_LENGTH, Plate

T = TypeVar("T")

#: What parsing or building with construct may raise besides our own errors (construct documents
#: that lookups can leak KeyError/IndexError); the codecs translate all of them at their boundary.
FOREIGN_ERRORS: tuple[type[Exception], ...] = (
    ConstructError, ValueError, KeyError, IndexError, TypeError, OverflowError, AttributeError,
)


class _Digits(Adapter):
    def __init__(self, size: int) -> None:
        super().__init__(Bytes(size))
        self.size = size

    def _decode(self, obj: bytes, context: Any, path: str) -> str:
        return bcd.decode_digits(obj)

    def _encode(self, obj: str, context: Any, path: str) -> bytes:
        return bcd.encode_digits(obj, self.size)


class _Date(Adapter):
    def _decode(self, obj: bytes, context: Any, path: str) -> dt.date | None:
        return bcd.decode_date(obj)

    def _encode(self, obj: dt.date | None, context: Any, path: str) -> bytes:
        return bcd.encode_date(obj)


class _DateTime(Adapter):
    def _decode(self, obj: bytes, context: Any, path: str) -> dt.datetime:
        value = bcd.decode_datetime(obj)
        if value is None:
            raise RecordError("BCD date-time is all zero")
        return value

    def _encode(self, obj: dt.datetime, context: Any, path: str) -> bytes:
        return bcd.encode_datetime(obj)


class _OptionalDateTime(Adapter):
    def _decode(self, obj: bytes, context: Any, path: str) -> dt.datetime | None:
        return bcd.decode_datetime(obj)

    def _encode(self, obj: dt.datetime | None, context: Any, path: str) -> bytes:
        return b"\x00" * 7 if obj is None else bcd.encode_datetime(obj)


class _Plate(Adapter):
    def _decode(self, obj: bytes, context: Any, path: str) -> Plate:
        return Plate(obj)

    def _encode(self, obj: Plate, context: Any, path: str) -> bytes:
        if len(obj.raw) != PLATE_LENGTH:
            raise RecordError(f"plate holds {len(obj.raw)} bytes, wants {PLATE_LENGTH}")
        return obj.raw


class _Enum(Adapter):
    def __init__(
        self, subcon: Construct, enum: type[IntEnum] | type[IntFlag], strict: bool
    ) -> None:
        super().__init__(subcon)
        self.enum = enum
        self.strict = strict

    def _decode(self, obj: int, context: Any, path: str) -> int:
        try:
            return self.enum(obj)
        except ValueError:
            if self.strict:
                raise RecordError(f"{obj:#04x} is not a {self.enum.__name__}") from None
            return obj

    def _encode(self, obj: int, context: Any, path: str) -> int:
        return int(obj)


class _Record(Adapter):
    def __init__(
        self,
        size: int,
        decode: Callable[[bytes], Any],
        encode: Callable[[Any], bytes],
        zero_is_none: bool,
    ) -> None:
        super().__init__(Bytes(size))
        self.size = size
        self.decode = decode
        self.encode = encode
        self.zero_is_none = zero_is_none

    def _decode(self, obj: bytes, context: Any, path: str) -> Any:
        if self.zero_is_none and not any(obj):
            return None
        return self.decode(obj)

    def _encode(self, obj: Any, context: Any, path: str) -> bytes:
        if obj is None:
            if not self.zero_is_none:
                raise RecordError("a record is required here")
            return b"\x00" * self.size
        raw = self.encode(obj)
        # A short form (the 43-byte 0015) travels zero-padded in its wider slot.
        return raw.ljust(self.size, b"\x00")


def BcdDigits(size: int) -> Construct:
    """`size` bytes of BCD as a digit string."""
    return _Digits(size)


def BcdDate() -> Construct:
    """4-byte BCD ``yyyymmdd`` as `datetime.date`, all zero as None."""
    return _Date(Bytes(4))


def BcdDateTime() -> Construct:
    """7-byte BCD ``yyyyMMddHHmmss`` as a naive `datetime.datetime` (all zero is refused)."""
    return _DateTime(Bytes(7))


def OptionalBcdDateTime() -> Construct:
    """7-byte BCD date-time where all zero means "none" (a failed B5 may carry no time)."""
    return _OptionalDateTime(Bytes(7))


def PlateBytes() -> Construct:
    """12 bytes of zero-padded GBK as `records.Plate`."""
    return _Plate(Bytes(PLATE_LENGTH))


def EnumField(
    subcon: Construct, enum: type[IntEnum] | type[IntFlag], *, strict: bool = False
) -> Construct:
    """An integer as a member of `enum`; unknown values stay plain ints unless `strict`."""
    return _Enum(subcon, enum, strict)


def RecordField(
    size: int,
    decode: Callable[[bytes], T],
    encode: Callable[[T], bytes],
    *,
    zero_is_none: bool = False,
) -> Construct:
    """A nested card/OBU record of `size` bytes; with `zero_is_none`, all zero bytes are None."""
    return _Record(size, decode, encode, zero_is_none)


class TypedStruct:
    """One construct Struct bound to the frozen dataclass it produces, by field name.

    `parse(..., compiled=True)` uses construct's compiled parser (built on first use); callers
    check the length (and the envelope its checksum) before they call it.
    """

    def __init__(self, value_type: type[T], struct: Construct) -> None:
        self.value_type = value_type
        self.struct = struct
        self.names = tuple(f.name for f in dataclasses.fields(value_type))  # type: ignore[arg-type]
        self._compiled: Construct | None = None

    def parse(self, raw: bytes, *, compiled: bool = True, **context: Any) -> Any:
        """The dataclass value of `raw`; raises construct errors or RecordError."""
        parser = self._compiled_parser() if compiled else self.struct
        return self.value_of(parser.parse(raw, **context))

    def build(self, value: Any, **context: Any) -> bytes:
        """The bytes of `value`; raises construct errors or RecordError."""
        built: bytes = self.struct.build(self.fields_of(value), **context)
        return built

    def value_of(self, container: Any) -> Any:
        """The dataclass value of a parsed Container."""
        return self.value_type(**{name: container[name] for name in self.names})

    def fields_of(self, value: Any) -> dict[str, Any]:
        """The field mapping construct builds `value` from."""
        if not isinstance(value, self.value_type):
            raise RecordError(f"wants a {self.value_type.__name__}, got {type(value).__name__}")
        return {name: getattr(value, name) for name in self.names}

    def _compiled_parser(self) -> Construct:
        if self._compiled is None:
            self._compiled = self.struct.compile()
        return self._compiled


class _Values(Adapter):
    def __init__(self, codec: TypedStruct, count: Any) -> None:
        super().__init__(Array(count, codec.struct))
        self.codec = codec

    def _decode(self, obj: Any, context: Any, path: str) -> tuple[Any, ...]:
        return tuple(self.codec.value_of(item) for item in obj)

    def _encode(self, obj: Any, context: Any, path: str) -> list[dict[str, Any]]:
        return [self.codec.fields_of(item) for item in obj]


def ValueArray(codec: TypedStruct, count: Any) -> Construct:
    """`count` entries of `codec`'s Struct as a tuple of its dataclass values."""
    return _Values(codec, count)
