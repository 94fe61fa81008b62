"""The one error hierarchy of `lane_engine`: everything the lane raises derives from `LaneError`.

A vehicle that cannot be charged is an outcome with a reason code, never one of these; these are
for configuration, data files, storage and protocol faults.
"""

from __future__ import annotations

__all__ = [
    "BlacklistError",
    "ConfigError",
    "FeeTableError",
    "JournalError",
    "LaneError",
    "LocalProtocolError",
    "NetworkError",
    "PolicyError",
    "RemoteProtocolError",
]


class LaneError(Exception):
    """Base of every error raised by `lane_engine`."""


class ConfigError(LaneError):
    """The lane's configuration is missing, unreadable or inconsistent."""


class PolicyError(ConfigError):
    """A policy parameter set is malformed or holds a value out of range (names file and field)."""


class FeeTableError(LaneError):
    """A fee table or fee-table file is corrupt, truncated, of the wrong kind or does not match."""


class NetworkError(FeeTableError):
    """A road network is inconsistent (unknown node, bad length or rate, unreachable station)."""


class JournalError(LaneError):
    """The transaction journal cannot be opened, written or recovered."""


class BlacklistError(LaneError):
    """A blacklist file or update is malformed or cannot be applied."""


class LocalProtocolError(LaneError):
    """The lane tried to do something the PC-RSU protocol does not allow (our bug)."""


class RemoteProtocolError(LaneError):
    """The RSU did something the PC-RSU protocol does not allow."""
