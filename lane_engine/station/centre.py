"""What the centre sends a plaza over MQTT, decoded into the lane's values (our decisions).

* `blacklist/delta`: JSON ``{"base_version": 7, "additions": [["<card>", "LOST"], ...],
  "removals": ["<card>", ...]}``; reasons by name or code. Applies only to its base version.
* `blacklist/full` and `fee-table`: JSON announcements ``{"version": ..., "path": "..."}`` of a
  file the station has put where the lane can read it (lists and tables are too big for a
  message); the lane loads it and checks that the version is the one announced.
* `policy`: the policy file itself (TOML text), as `examples/policy.toml`.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lane_engine.core.blacklist import Blacklist, BlacklistDelta, Reason
from lane_engine.core.policy import Policy
from lane_engine.errors import BlacklistError, ConfigError, PolicyError
from lane_engine.files.policy import policy_from_mapping

__all__ = [
    "Announcement",
    "applied_delta",
    "decode_announcement",
    "decode_blacklist_delta",
    "decode_policy",
    "encode_blacklist_delta",
]


@dataclass(frozen=True, slots=True)
class Announcement:
    """A new version of a file the lane loads itself."""

    version: str
    path: Path


def _json_object(payload: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{what}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigError(f"{what}: not a JSON object")
    return document


def decode_announcement(payload: bytes, what: str) -> Announcement:
    """A `blacklist/full` or `fee-table` announcement."""
    document = _json_object(payload, what)
    version, path = document.get("version"), document.get("path")
    if isinstance(version, bool) or not isinstance(version, str | int) or not version:
        raise ConfigError(f"{what}: version: missing or not a string or integer")
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{what}: path: missing or not a string")
    return Announcement(str(version), Path(path))


def _reason(value: object) -> Reason:
    if isinstance(value, str) and value.upper() in Reason.__members__:
        return Reason[value.upper()]
    if isinstance(value, int) and not isinstance(value, bool) and value in set(Reason):
        return Reason(value)
    raise BlacklistError(f"blacklist/delta: unknown reason {value!r}")


def decode_blacklist_delta(payload: bytes) -> BlacklistDelta:
    """A `blacklist/delta` message (BlacklistError when malformed)."""
    try:
        document = _json_object(payload, "blacklist/delta")
    except ConfigError as exc:
        raise BlacklistError(str(exc)) from exc
    base = document.get("base_version")
    additions = document.get("additions", [])
    removals = document.get("removals", [])
    if isinstance(base, bool) or not isinstance(base, int):
        raise BlacklistError("blacklist/delta: base_version: missing or not an integer")
    if not isinstance(additions, list) or not all(
        isinstance(a, list) and len(a) == 2 and isinstance(a[0], str) for a in additions
    ):
        raise BlacklistError("blacklist/delta: additions: must be [[card, reason], ...]")
    if not isinstance(removals, list) or not all(isinstance(r, str) for r in removals):
        raise BlacklistError("blacklist/delta: removals: must be [card, ...]")
    return BlacklistDelta(
        base, tuple((card, _reason(reason)) for card, reason in additions), tuple(removals)
    )


def encode_blacklist_delta(delta: BlacklistDelta) -> bytes:
    """The message of `delta` (for the centre side and tests)."""
    return json.dumps({
        "base_version": delta.base_version,
        "additions": [[card, reason.name] for card, reason in delta.additions],
        "removals": list(delta.removals),
    }).encode()


def decode_policy(payload: bytes) -> Policy:
    """A `policy` message: the policy TOML (PolicyError names the field)."""
    try:
        document = tomllib.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"policy message: not valid TOML: {exc}") from exc
    return policy_from_mapping(document, source="policy message")


def applied_delta(current: Blacklist, delta: BlacklistDelta) -> Blacklist | None:
    """The list after `delta`, or None when the delta is old news (already applied)."""
    if delta.target_version <= current.version:
        return None
    return current.applied(delta)
