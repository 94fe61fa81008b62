"""What the core needs from its collaborators, as protocols: it never imports their internals."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Protocol

from lane_engine.core.outcomes import TransactionRecord

__all__ = [
    "CardBlacklist",
    "FeeSchedule",
    "TacVerifier",
]


class FeeSchedule(Protocol):
    """The fee table of THIS lane's exit station, one version replaced as a whole."""

    @property
    def version(self) -> str | int: ...

    def fee(self, entry_network: str, entry_station: int, vehicle_class: int) -> int | None:
        """The undiscounted fee in fen from that entry station, or None where it is unknown."""
        ...


class CardBlacklist(Protocol):
    """One version of the blacklist (`lane_engine.core.blacklist.Blacklist` fits)."""

    @property
    def version(self) -> int: ...

    def reason_for(self, card: str) -> IntEnum | None:
        """Why the card is listed, or None; may raise a LaneError for a malformed card number."""
        ...


#: Checks a completed record's TAC against the audit keys (injected; True when it verifies).
TacVerifier = Callable[[TransactionRecord], bool]
