"""Load a `Policy` from a TOML file (see examples/policy.toml); the core itself reads no files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lane_engine.core.policy import NoEntryHandling, Policy, Rounding
from lane_engine.errors import PolicyError
from lane_engine.files.toml_reader import dotted, field_error, load_toml

__all__ = [
    "load_policy",
    "policy_from_mapping",
]


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer, got {value!r}")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {value!r}")
    return value


def _enum_reader(kind: type[Rounding] | type[NoEntryHandling]) -> Callable[[object], object]:
    names = {member.name.lower(): member for member in kind}

    def read(value: object) -> object:
        if not isinstance(value, str) or value.lower() not in names:
            raise ValueError(f"must be one of {sorted(names)}, got {value!r}")
        return names[value.lower()]

    return read


#: TOML (table, key) -> (Policy field, reader). Keys not listed here are refused (typos).
_FIELDS: dict[tuple[str, str], tuple[str, Callable[[object], object]]] = {
    ("", "version"): ("version", _text),
    ("etc", "rate_bp"): ("etc_rate_bp", _integer),
    ("etc", "rounding"): ("etc_rounding", _enum_reader(Rounding)),
    ("cash", "rounding"): ("cash_rounding", _enum_reader(Rounding)),
    ("entry", "stale_limit_s"): ("stale_entry_limit_s", _integer),
    ("entry", "b_card_min_balance_fen"): ("entry_min_balance", _integer),
    ("exit", "reread_window_s"): ("reread_window_s", _integer),
    ("exit", "uturn_grace_s"): ("uturn_grace_s", _integer),
    ("exit", "no_entry"): ("no_entry_handling", _enum_reader(NoEntryHandling)),
    ("exit", "no_entry_fee_fen"): ("no_entry_fee", _integer),
}
_TABLES = {table for table, _ in _FIELDS if table}


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file; every fault is a PolicyError naming the file and field."""
    return load_toml(path, policy_from_mapping, what="policy file", error=PolicyError)


def policy_from_mapping(document: dict[str, Any], source: str = "<policy>") -> Policy:
    """Build a Policy from an already parsed TOML document (`source` names it in errors)."""
    values: dict[str, object] = {}
    for key, value in document.items():
        if key in _TABLES:
            if not isinstance(value, dict):
                raise PolicyError(f"{source}: [{key}] must be a table")
            for inner, inner_value in value.items():
                _read(source, key, inner, inner_value, values)
        else:
            _read(source, "", key, value, values)
    if "version" not in values:
        raise field_error(PolicyError, source, "version",
                          "missing (every policy names its version)")
    try:
        return Policy(**values)  # type: ignore[arg-type]
    except PolicyError as exc:
        field, _, reason = str(exc).partition(": ")
        raise field_error(PolicyError, source, _toml_name(field), reason) from exc


def _read(source: str, table: str, key: str, value: object, values: dict[str, object]) -> None:
    name = dotted(table, key)
    if (table, key) not in _FIELDS:
        raise field_error(PolicyError, source, name, "unknown field")
    field, reader = _FIELDS[(table, key)]
    try:
        values[field] = reader(value)
    except ValueError as exc:
        raise field_error(PolicyError, source, name, str(exc)) from exc


def _toml_name(field: str) -> str:
    for (table, key), (name, _) in _FIELDS.items():
        if name == field:
            return dotted(table, key)
    return field
