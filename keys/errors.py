"""The one error hierarchy of `keys`. No message ever carries key material."""

from __future__ import annotations

__all__ = [
    "CryptoInputError",
    "KeyNotFoundError",
    "KeySetError",
    "KeysError",
    "PsamError",
    "PsamSequenceError",
    "SerialStoreError",
    "VehicleFileError",
]


class KeysError(Exception):
    """Base of every error raised by `keys`."""


class CryptoInputError(KeysError, ValueError):
    """A key, factor or MAC input has the wrong length or form for the algorithm."""


class KeySetError(KeysError):
    """A key-set file cannot be used: permissions, TOML, a missing or malformed field."""


class KeyNotFoundError(KeysError):
    """The key set holds no keys for that network, key version and algorithm."""


class PsamError(KeysError):
    """The PSAM refused a command (out of sequence, serial store failure)."""


class PsamSequenceError(PsamError):
    """CREDIT SAM FOR PURCHASE without a pending INIT SAM FOR PURCHASE."""


class SerialStoreError(PsamError):
    """The terminal trans serial store cannot hand out a serial it is sure was never used."""


class VehicleFileError(KeysError):
    """A GetSecure vehicle file failed its authenticator or its padding."""
