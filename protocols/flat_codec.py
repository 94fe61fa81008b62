"""Fast codecs generated from construct Structs of fixed-size fields.

A frame or record layout is declared once, as a construct Struct (the reference definition and the
interpreted path). Where every field has a fixed size, `flat_codec` turns that Struct into one
`struct.Struct` plus the fields' own value conversions, and generates a decode and an encode
function for it (the way `dataclasses` and construct's own compiler generate code): a frame then
costs one `unpack`/`pack` call and the conversions, instead of a walk over construct's objects.

A Struct it cannot flatten (arrays, sizes taken from the context) gets no flat codec. A flat
decoder must only see bytes whose length the caller has checked.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from construct import (
    Adapter,
    Bytes,
    BytesInteger,
    Const,
    ConstError,
    Construct,
    FormatField,
    GreedyBytes,
    Renamed,
)

from protocols.errors import RecordError

__all__ = [
    "FlatCodec",
    "ValueAdapter",
    "flat_codec",
]

#: struct codes of the big-endian integers construct's FormatField may hold
_INTEGER_CODES = frozenset("BHILQbhilq")


class ValueAdapter(Adapter):
    """A construct Adapter over two context-free conversions, which flat codecs call directly.

    A one-byte field whose decoding never fails may also set `decode_table`, its decoded value
    for each byte: the flat decoder then indexes it instead of calling `decode_value`.
    """

    decode_table: tuple[Any, ...] | None = None

    def __init__(
        self,
        subcon: Construct,
        decode_value: Callable[[Any], Any],
        encode_value: Callable[[Any], Any],
    ) -> None:
        super().__init__(subcon)
        #: the value of what the subconstruct parsed
        self.decode_value = decode_value
        #: what the subconstruct builds for a value
        self.encode_value = encode_value

    def _decode(self, obj: Any, context: Any, path: str) -> Any:
        return self.decode_value(obj)

    def _encode(self, obj: Any, context: Any, path: str) -> Any:
        return self.encode_value(obj)


@dataclass(frozen=True, slots=True)
class FlatCodec:
    """A generated decoder and encoder for one layout, with the Python source they came from."""

    #: bytes of the fixed fields (a greedy tail adds any number after them)
    size: int
    greedy_tail: bool
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]
    source: str


@dataclass(slots=True)
class _Field:
    name: str | None  # None: a Const
    code: str  # struct format code, e.g. "I" or "8s"
    const: bytes | None = None
    size: int | None = None  # bytes: checked when encoding (struct would pad or truncate)
    integer_bytes: int | None = None  # a BytesInteger of this many bytes, carried as "Ns"
    adapter: ValueAdapter | None = None


def _plain_field(name: str | None, sub: Construct) -> _Field | None:
    if isinstance(sub, Const) and isinstance(sub.subcon, Bytes) and isinstance(sub.value, bytes):
        return _Field(None, f"{len(sub.value)}s", const=sub.value)
    if name is None:
        return None
    if isinstance(sub, FormatField) and sub.fmtstr[0] in ">!" and sub.fmtstr[1:] in _INTEGER_CODES:
        return _Field(name, sub.fmtstr[1:])
    if isinstance(sub, BytesInteger) and isinstance(sub.length, int) and not sub.swapped:
        if sub.signed:
            return None
        return _Field(name, f"{sub.length}s", integer_bytes=sub.length)
    if type(sub) is Bytes and isinstance(sub.length, int):
        return _Field(name, f"{sub.length}s", size=sub.length)
    return None


def _field(sub: Construct) -> _Field | None:
    name = None
    if isinstance(sub, Renamed):
        name, sub = sub.name, sub.subcon
    if isinstance(sub, ValueAdapter):
        field = _plain_field(name, sub.subcon)
        if field is None or field.const is not None:
            return None
        field.adapter = sub
        return field
    return _plain_field(name, sub)


def flat_codec(value_type: type, struct_: Construct, names: Sequence[str]) -> FlatCodec | None:
    """The flat codec of `struct_` producing `value_type(*names)`, or None where it cannot be."""
    subcons = list(getattr(struct_, "subcons", ()))
    greedy = bool(subcons) and isinstance(subcons[-1], Renamed) and (
        type(subcons[-1].subcon) is type(GreedyBytes)
    )
    greedy_name = subcons.pop().name if greedy else None
    fields = [_field(sub) for sub in subcons]
    if any(field is None for field in fields):
        return None
    flat = [field for field in fields if field is not None]
    struct_names = [field.name for field in flat if field.name is not None]
    if greedy_name is not None:
        struct_names.append(greedy_name)
    if sorted(struct_names) != sorted(names) or len(set(struct_names)) != len(struct_names):
        return None
    layout = struct.Struct(">" + "".join(field.code for field in flat))
    namespace: dict[str, Any] = {
        "T": value_type,
        "unpack": layout.unpack_from if greedy else layout.unpack,
        "pack": layout.pack,
        "from_bytes": int.from_bytes,
        "to_bytes": int.to_bytes,
        "ConstError": ConstError,
        "wrong_size": _wrong_size,
    }
    source = _source(flat, names, greedy_name, layout.size, namespace)
    exec(compile(source, f"<flat codec of {value_type.__name__}>", "exec"), namespace)
    return FlatCodec(layout.size, greedy, namespace["decode"], namespace["encode"], source)


def _wrong_size(name: str, value: Any, size: int) -> RecordError:
    return RecordError(f"{name} holds {len(value)} bytes, wants {size}")


def _source(
    flat: list[_Field],
    names: Sequence[str],
    greedy_name: str | None,
    size: int,
    namespace: dict[str, Any],
) -> str:
    """Python source of `decode(data)` and `encode(value)` for the fields `flat`."""
    decoded: dict[str, str] = {}
    decode_checks: list[str] = []
    encode_lines: list[str] = []
    packed: list[str] = []
    for i, field in enumerate(flat):
        local = f"f{i}"
        packed.append(local)
        if field.const is not None:
            namespace[f"c{i}"] = field.const
            decode_checks.append(
                f"    if {local} != c{i}:\n"
                f"        raise ConstError(f'expected {{c{i}!r}}, found {{{local}!r}}')"
            )
            encode_lines.append(f"    {local} = c{i}")
            continue
        assert field.name is not None
        value_in, value_out = local, f"value.{field.name}"
        if field.adapter is not None:
            namespace[f"d{i}"] = field.adapter.decode_value
            namespace[f"e{i}"] = field.adapter.encode_value
            value_out = f"e{i}({value_out})"
        if field.integer_bytes is not None:
            value_in = f"from_bytes({value_in}, 'big')"
            value_out = f"to_bytes({value_out}, {field.integer_bytes}, 'big')"
        if field.adapter is not None and field.adapter.decode_table is not None:
            namespace[f"t{i}"] = field.adapter.decode_table
            value_in = f"t{i}[{value_in}]"
        elif field.adapter is not None:
            value_in = f"d{i}({value_in})"
        decoded[field.name] = value_in
        encode_lines.append(f"    {local} = {value_out}")
        if field.size is not None:
            encode_lines.append(
                f"    if len({local}) != {field.size}:\n"
                f"        raise wrong_size({field.name!r}, {local}, {field.size})"
            )
    if greedy_name is not None:
        decoded[greedy_name] = f"data[{size}:]"
    unpacked = ", ".join(packed) + ("," if len(packed) == 1 else "")
    tail = f" + value.{greedy_name}" if greedy_name is not None else ""
    return "\n".join([
        "def decode(data):",
        f"    {unpacked} = unpack(data)",
        *decode_checks,
        f"    return T({', '.join(decoded[name] for name in names)})",
        "",
        "def encode(value):",
        *encode_lines,
        f"    return pack({', '.join(packed)}){tail}",
        "",
    ])
