"""TransactionRecord <-> JSON, field by field, so that a field added to the record later needs no
change here: the record is stored whole as JSON and read back by the dataclass's own fields.

The plans (which field is text, which a number, which needs converting) are worked out once from
the dataclass's type hints; a write then costs one attribute fetch per field and one `%`
formatting, and a value of an unexpected type falls back to the general `json` encoder.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from enum import Enum
from json.encoder import encode_basestring
from operator import attrgetter, call, itemgetter
from typing import Any

from lane_engine.core.outcomes import TransactionRecord
from lane_engine.errors import JournalError

__all__ = [
    "Convert",
    "record_from_dict",
    "record_from_json",
    "record_to_dict",
    "record_to_json",
]

Convert = Callable[[Any], Any]

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
_loads = json.JSONDecoder().decode
_int_text: Callable[[int], str] = int.__repr__  # TypeError for anything but an int (or IntEnum)
_JSON_LITERALS = {True: "true", False: "false", None: "null"}


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    return value


def _value_text(value: Any) -> str:
    """Any field value as JSON text (the general, slower path)."""
    if value == ():
        return "[]"
    return _dumps(_encode(value))


def _decoder(kind: Any) -> Convert | None:
    """How to turn a JSON value back into the declared type; None where it is already right."""
    origin = typing.get_origin(kind)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            if item is None:
                return tuple
            return lambda value: tuple(map(item, value))
        items = [_decoder(arg) or (lambda v: v) for arg in args]
        return lambda value: tuple(d(v) for d, v in zip(items, value, strict=True))
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        inner = _decoder(options[0]) if len(options) == 1 else None
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    return None


def _encoder(kind: Any) -> Convert:
    """How to write a value of a field that is neither `str` nor `int` as JSON text."""
    if isinstance(kind, type) and issubclass(kind, Enum):
        texts = {member: _dumps(member.value) for member in kind}
        return lambda value: texts[value] if type(value) is kind else _value_text(value)
    if kind is bool or kind == bool | None:
        return lambda value: (
            _JSON_LITERALS[value] if type(value) is bool or value is None else (_value_text(value))
        )
    return _value_text


def _tuple_getter(make: Callable[..., Convert], names: tuple[str, ...]) -> Convert:
    """`attrgetter`/`itemgetter` of `names` that returns a tuple for any number of names."""
    if len(names) == 1:
        one = make(names[0])
        return lambda source: (one(source),)
    if not names:
        return lambda source: ()
    return make(*names)


class _Plan:
    """Field order, getters and converters of `TransactionRecord`, worked out once."""

    def __init__(self) -> None:
        hints = typing.get_type_hints(TransactionRecord)
        self.names = tuple(field.name for field in dataclasses.fields(TransactionRecord))
        # Writing: text fields, then whole numbers, then the rest, each sorted by name.
        self.text_names = tuple(sorted(n for n in self.names if hints[n] is str))
        self.int_names = tuple(sorted(n for n in self.names if hints[n] is int))
        grouped = {*self.text_names, *self.int_names}
        self.other_names = tuple(sorted(n for n in self.names if n not in grouped))
        self.get_texts = _tuple_getter(attrgetter, self.text_names)
        self.get_ints = _tuple_getter(attrgetter, self.int_names)
        self.get_others = _tuple_getter(attrgetter, self.other_names)
        self.encoders = tuple(_encoder(hints[n]) for n in self.other_names)
        order = (*self.text_names, *self.int_names, *self.other_names)
        self.template = "{" + ",".join(f"{_dumps(n)}:%s" for n in order) + "}"
        # Reading: every field in declaration order, converted where its type needs it.
        self.get_all = _tuple_getter(itemgetter, self.names)
        self.decoders = tuple(
            (index, decode)
            for index, name in enumerate(self.names)
            if (decode := _decoder(hints[name])) is not None
        )
        self.declared = hints


_PLAN = _Plan()


def record_to_dict(record: TransactionRecord) -> dict[str, Any]:
    """Every field of the record; enums by their value (the code stored and published), tuples
    as lists."""
    return {name: _encode(getattr(record, name)) for name in _PLAN.names}


def record_from_dict(data: dict[str, Any]) -> TransactionRecord:
    """Rebuild a record; fields unknown to this version are ignored, missing ones take their
    default (a row written before the field was added); a missing field without one is an
    error."""
    plan = _PLAN
    try:
        try:
            values = list(plan.get_all(data))
        except KeyError:
            return _record_from_partial(data)
        for index, decode in plan.decoders:
            values[index] = decode(values[index])
        return TransactionRecord(*values)
    except (TypeError, ValueError) as exc:
        raise JournalError(f"journaled record cannot be read back: {exc}") from exc


def _record_from_partial(data: dict[str, Any]) -> TransactionRecord:
    """A record from a row that lacks some fields: those take their defaults."""
    kwargs: dict[str, Any] = {}
    for name in _PLAN.names:
        if name in data:
            decode = _decoder(_PLAN.declared[name])
            kwargs[name] = data[name] if decode is None else decode(data[name])
    return TransactionRecord(**kwargs)


def record_to_json(record: TransactionRecord) -> str:
    """Compact JSON of the record, fields in a fixed order (stable text for the same record)."""
    plan = _PLAN
    try:
        return plan.template % (
            *map(encode_basestring, plan.get_texts(record)),
            *map(_int_text, plan.get_ints(record)),
            *map(call, plan.encoders, plan.get_others(record)),
        )
    except TypeError:
        # A value not of its declared type (e.g. a float in an int field): the general path.
        return plan.template % tuple(
            _value_text(getattr(record, name))
            for name in (*plan.text_names, *plan.int_names, *plan.other_names)
        )


def record_from_json(text: str) -> TransactionRecord:
    """Inverse of `record_to_json` (reads any JSON object of the record's fields)."""
    try:
        data = _loads(text)
    except ValueError as exc:
        raise JournalError(f"journaled record is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise JournalError("journaled record is not a JSON object")
    return record_from_dict(data)
