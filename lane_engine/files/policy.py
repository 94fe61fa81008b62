"""Load a `Policy` from a TOML file (see examples/policy.toml); the core itself reads no files.

A policy file names every field (our decision): each one changes what a trip costs or whether
it is charged at all, so none may come from a default the operator did not see; a file cut in
half, still valid TOML, is refused for what it lost. `policy_toml` writes a whole one."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from lane_engine.core.policy import NoEntryHandling, Policy, Rounding
from lane_engine.errors import PolicyError
from lane_engine.files.toml_reader import dotted, field_error, load_toml

__all__ = [
    "effective_fields",
    "load_policy",
    "policy_from_mapping",
    "policy_toml",
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
        policy = Policy(**values)  # type: ignore[arg-type]  # a bad value is named first
    except PolicyError as exc:
        field, _, reason = str(exc).partition(": ")
        raise field_error(PolicyError, source, _toml_name(field), reason) from exc
    missing = [dotted(table, key) for (table, key), (field, _) in _FIELDS.items()
               if field not in values]
    if missing:
        raise PolicyError(f"{source}: missing {', '.join(missing)} (a policy names every field: "
                          "none of them may come from a default)")
    return policy


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


def effective_fields(policy: Policy) -> list[tuple[str, object]]:
    """(TOML name, value as the file writes it) of every field, in the file's order."""
    found = []
    for (table, key), (field, _) in _FIELDS.items():
        value = getattr(policy, field)
        found.append((dotted(table, key), value.name.lower() if isinstance(value, Enum) else value))
    return found


def policy_toml(policy: Policy) -> str:
    """A whole policy file for `policy` (`load_policy` reads back the same policy)."""
    lines: list[str] = []
    table = None
    for name, value in effective_fields(policy):
        where, _, key = name.rpartition(".")
        if where != (table or ""):
            lines.append(f"\n[{where}]")
            table = where
        lines.append(f"{key} = {json.dumps(value) if isinstance(value, str) else value}")
    return "\n".join(lines) + "\n"
