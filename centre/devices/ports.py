"""The device ports: a card reader at the outlet's desk, and the personalisation machine that
writes a new card's and OBU's files and keys. A PC/SC reader, the simulator's emulated card or
a test double stand behind them; the centre sees only these calls.

Devices are opened by name (`centre.devices.plugins`): `--reader emulated:var/cards/X.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from keys.ciphers import Algorithm
from keys.secret import SecretKey
from protocols.records import IssuerInfo, ObuSystemInfo, VehicleInfo


class CardReader(Protocol):
    """A contact or contactless reader holding one card. Its faults are `OSError`s (or the
    centre's `DeviceError`): no card, a reader gone, a card that stopped answering."""

    def power_on(self) -> None:
        """Reset the card (ATR)."""

    def transmit(self, apdu: bytes) -> bytes:
        """Send a command APDU, return the response APDU (data ‖ SW1 SW2); on a fault the
        command may or may not have reached the card."""

    def close(self) -> None:
        """Release the reader."""


@dataclass(frozen=True, slots=True)
class CardImage:
    """What personalisation writes into a new card: file 0015, the purse's opening balance and
    the card's diversified keys (DPK, DTK; DLK for a B card)."""

    issuer_info: IssuerInfo
    balance: int  # fen; an A card carries the issuer's figure
    key_version: int
    algorithm: Algorithm
    dpk: SecretKey
    dtk: SecretKey
    dlk: SecretKey | None


@dataclass(frozen=True, slots=True)
class ObuImage:
    """What personalisation writes into a new OBU's ESAM: system information, vehicle file and
    the vehicle-file key."""

    system_info: ObuSystemInfo
    vehicle_info: VehicleInfo
    key_version: int
    algorithm: Algorithm
    vehicle_key: SecretKey


class Personaliser(Protocol):
    """The machine that writes new cards and OBUs."""

    def personalise_card(self, image: CardImage) -> str:
        """Write a card; returns where it went (a slot, a file) for the operator."""

    def personalise_obu(self, image: ObuImage) -> str:
        """Write an OBU; returns where it went."""
