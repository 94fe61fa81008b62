"""TransactionRecord <-> JSON, field by field, so that a field added to the record later needs no
change here: the record is stored whole as JSON and read back by the dataclass's own fields."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import Enum
from functools import cache
from typing import Any

from lane_engine.core.outcomes import TransactionRecord
from lane_engine.errors import JournalError


@cache
def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(TransactionRecord)


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    return value


def _decode(kind: Any, value: Any) -> Any:
    """Turn a JSON value back into the declared type: enums, tuples, optionals of them."""
    origin = typing.get_origin(kind)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if origin is tuple and isinstance(value, list):
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in value)
        return tuple(_decode(arg, item) for arg, item in zip(args, value, strict=True))
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _decode(options[0], value) if len(options) == 1 else value
    return value


def record_to_dict(record: TransactionRecord) -> dict[str, Any]:
    """Every field of the record; enums by their value (the code stored and published), tuples
    as lists."""
    return {
        field.name: _encode(getattr(record, field.name)) for field in dataclasses.fields(record)
    }


def record_from_dict(data: dict[str, Any]) -> TransactionRecord:
    """Rebuild a record; fields unknown to this version are ignored, missing ones take their
    default (a row written before the field was added); a missing field without one is an
    error."""
    declared = _field_types()
    kwargs: dict[str, Any] = {}
    try:
        for field in dataclasses.fields(TransactionRecord):
            if field.name not in data:
                continue
            kwargs[field.name] = _decode(declared[field.name], data[field.name])
        return TransactionRecord(**kwargs)
    except (TypeError, ValueError) as exc:
        raise JournalError(f"journaled record cannot be read back: {exc}") from exc


def record_to_json(record: TransactionRecord) -> str:
    """Compact, key-sorted JSON of the record (stable text for the same record)."""
    return json.dumps(
        record_to_dict(record), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def record_from_json(text: str) -> TransactionRecord:
    """Inverse of `record_to_json`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise JournalError(f"journaled record is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise JournalError("journaled record is not a JSON object")
    return record_from_dict(data)
