"""construct field types shared by the frame and record codecs: BCD, plates, enums, records.

Everything here turns raw bytes into the typed values of `protocols.frames` / `protocols.records`;
problems raise `RecordError`, which the codecs translate at their boundary. Each field's
conversion needs no context, so the flat codecs of `protocols.flat_codec` call it directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import struct
from enum import IntEnum, IntFlag
from functools import partial
from typing import Any, Protocol, TypeVar

from construct import Adapter, Array, Bytes, Construct, ConstructError

from protocols import bcd
from protocols.errors import RecordError
from protocols.flat_codec import FlatCodec, ValueAdapter, flat_codec
from protocols.records import PLATE_LENGTH, Plate

__all__ = [
    "FOREIGN_ERRORS",
    "BcdDate",
    "BcdDateTime",
    "BcdDigits",
    "EnumField",
    "OptionalBcdDateTime",
    "PlateBytes",
    "RecordDecoder",
    "RecordEncoder",
    "RecordField",
    "TypedStruct",
    "ValueArray",
    "coded_fields",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
T_contra = TypeVar("T_contra", contravariant=True)

#: What parsing or building with construct or struct may raise besides our own errors (construct
#: documents that lookups can leak KeyError/IndexError); the codecs translate all of them at their
#: boundary.
FOREIGN_ERRORS: tuple[type[Exception], ...] = (
    ConstructError, struct.error, ValueError, KeyError, IndexError, TypeError, OverflowError,
    AttributeError,
)


class RecordDecoder(Protocol[T_co]):
    """A record codec's decode function (`compiled=False`: construct's interpreted parser)."""

    def __call__(self, raw: bytes, *, compiled: bool = True) -> T_co: ...


class RecordEncoder(Protocol[T_contra]):
    """A record codec's encode function (`compiled=False`: construct's builder)."""

    def __call__(self, record: T_contra, *, compiled: bool = True) -> bytes: ...


def _required_datetime(raw: bytes) -> dt.datetime:
    value = bcd.decode_datetime(raw)
    if value is None:
        raise RecordError("BCD date-time is all zero")
    return value


def _optional_datetime_bytes(value: dt.datetime | None) -> bytes:
    return b"\x00" * 7 if value is None else bcd.encode_datetime(value)


def _plate_bytes(plate: Plate) -> bytes:
    if len(plate.raw) != PLATE_LENGTH:
        raise RecordError(f"plate holds {len(plate.raw)} bytes, wants {PLATE_LENGTH}")
    return plate.raw


class _Enum(ValueAdapter):
    def __init__(
        self, subcon: Construct, enum: type[IntEnum] | type[IntFlag], strict: bool
    ) -> None:
        super().__init__(subcon, self._convert, int)
        self.enum = enum
        self.strict = strict
        self._members: dict[int, int] = {int(member): member for member in enum}
        if subcon.sizeof() == 1 and not strict:
            # every byte has a value: flat codecs index this table instead of calling
            self.decode_table = tuple(self._convert(value) for value in range(256))

    def _convert(self, obj: int) -> int:
        member = self._members.get(obj)
        if member is not None:
            return member
        try:
            return self.enum(obj)  # e.g. a combination of IntFlag members
        except ValueError:
            if self.strict:
                raise RecordError(f"{obj:#04x} is not a {self.enum.__name__}") from None
            return obj


class _Record(ValueAdapter):
    def __init__(
        self,
        size: int,
        decode: RecordDecoder[Any],
        encode: RecordEncoder[Any],
        zero_is_none: bool,
    ) -> None:
        super().__init__(Bytes(size), self._decode_record, self._encode_record)
        self.size = size
        self.decode = decode
        self.encode = encode
        self.zero_is_none = zero_is_none
        self._zero = bytes(size)

    def _decode_record(self, obj: bytes, compiled: bool = True) -> Any:
        if self.zero_is_none and obj == self._zero:
            return None
        return self.decode(obj, compiled=compiled)

    def _encode_record(self, obj: Any, compiled: bool = True) -> bytes:
        if obj is None:
            if not self.zero_is_none:
                raise RecordError("a record is required here")
            return self._zero
        raw = self.encode(obj, compiled=compiled)
        # A short form (the 43-byte 0015) travels zero-padded in its wider slot.
        return raw.ljust(self.size, b"\x00")

    # construct's own paths use construct all the way down (the reference for the flat codecs)
    def _decode(self, obj: bytes, context: Any, path: str) -> Any:
        return self._decode_record(bytes(obj), compiled=False)

    def _encode(self, obj: Any, context: Any, path: str) -> bytes:
        return self._encode_record(obj, compiled=False)


def BcdDigits(size: int) -> Construct:
    """`size` bytes of BCD as a digit string."""
    return ValueAdapter(Bytes(size), bcd.decode_digits, partial(bcd.encode_digits, size=size))


def BcdDate() -> Construct:
    """4-byte BCD ``yyyymmdd`` as `datetime.date`, all zero as None."""
    return ValueAdapter(Bytes(4), bcd.decode_date, bcd.encode_date)


def BcdDateTime() -> Construct:
    """7-byte BCD ``yyyyMMddHHmmss`` as a naive `datetime.datetime` (all zero is refused)."""
    return ValueAdapter(Bytes(7), _required_datetime, bcd.encode_datetime)


def OptionalBcdDateTime() -> Construct:
    """7-byte BCD date-time where all zero means "none" (a failed B5 may carry no time)."""
    return ValueAdapter(Bytes(7), bcd.decode_datetime, _optional_datetime_bytes)


def PlateBytes() -> Construct:
    """12 bytes of zero-padded GBK as `records.Plate`."""
    return ValueAdapter(Bytes(PLATE_LENGTH), Plate, _plate_bytes)


def EnumField(
    subcon: Construct, enum: type[IntEnum] | type[IntFlag], *, strict: bool = False
) -> Construct:
    """An integer as a member of `enum`; unknown values stay plain ints unless `strict`."""
    return _Enum(subcon, enum, strict)


def coded_fields(struct_: Construct) -> tuple[tuple[str, type[IntEnum]], ...]:
    """(name, enum) of every top-level field of `struct_` decoded by `EnumField` with an
    `IntEnum` (flag fields take any combination of bits and are left out)."""
    found = []
    for subcon in getattr(struct_, "subcons", ()):
        inner = getattr(subcon, "subcon", None)
        if isinstance(inner, _Enum) and subcon.name and not issubclass(inner.enum, IntFlag):
            found.append((subcon.name, inner.enum))
    return tuple(found)


def RecordField(
    size: int,
    decode: RecordDecoder[T],
    encode: RecordEncoder[T],
    *,
    zero_is_none: bool = False,
) -> Construct:
    """A nested card/OBU record of `size` bytes; with `zero_is_none`, all zero bytes are None."""
    return _Record(size, decode, encode, zero_is_none)


class TypedStruct:
    """One construct Struct bound to the frozen dataclass it produces, by field name.

    `compiled=True` uses the flat codec generated from the Struct where it has fixed-size fields,
    else construct's compiled parser (built on first use); `compiled=False` uses construct's
    interpreted parser and builder. Callers check the length (and the envelope its checksum)
    before they parse.
    """

    def __init__(self, value_type: type[T], struct_: Construct) -> None:
        self.value_type = value_type
        self.struct = struct_
        self.names = tuple(f.name for f in dataclasses.fields(value_type))  # type: ignore[arg-type]
        self.flat: FlatCodec | None = flat_codec(value_type, struct_, self.names)
        self._compiled: Construct | None = None

    def parse(self, raw: bytes, *, compiled: bool = True, **context: Any) -> Any:
        """The dataclass value of `raw`; raises construct or struct errors or RecordError."""
        if compiled and self.flat is not None:
            return self.flat.decode(raw)
        parser = self._compiled_parser() if compiled else self.struct
        return self.value_of(parser.parse(raw, **context))

    def build(self, value: Any, *, compiled: bool = True, **context: Any) -> bytes:
        """The bytes of `value`; raises construct or struct errors or RecordError."""
        if compiled and self.flat is not None:
            if not isinstance(value, self.value_type):
                raise RecordError(self._wrong_type(value))
            return self.flat.encode(value)
        built: bytes = self.struct.build(self.fields_of(value), **context)
        return built

    def value_of(self, container: Any) -> Any:
        """The dataclass value of a parsed Container."""
        return self.value_type(**{name: container[name] for name in self.names})

    def fields_of(self, value: Any) -> dict[str, Any]:
        """The field mapping construct builds `value` from."""
        if not isinstance(value, self.value_type):
            raise RecordError(self._wrong_type(value))
        return {name: getattr(value, name) for name in self.names}

    def _wrong_type(self, value: Any) -> str:
        return f"wants a {self.value_type.__name__}, got {type(value).__name__}"

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
