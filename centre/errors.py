"""The centre's exceptions: one hierarchy, each naming what went wrong in one line.

A refused service request is not an exception at the service's edge (it is a `Refused` value,
`centre.service`), but a store or a device that fails is.
"""

from __future__ import annotations


class CentreError(Exception):
    """Base of every centre error."""


class LedgerError(CentreError):
    """An entry that breaks the ledger's rules (unbalanced, zero, unknown account): our bug."""


class StoreError(CentreError):
    """The store cannot be opened, migrated, read or written."""


class ConflictError(StoreError):
    """A write broke a uniqueness rule (e.g. a second active card for one vehicle)."""


class CentreConfigError(CentreError):
    """A centre configuration file or value is wrong; the message names the file and field."""


class DeviceError(CentreError):
    """A card reader or personaliser failed (no card, I/O error, unknown device)."""


class CardProtocolError(DeviceError):
    """The card answered something the load exchange cannot accept (bad length, bad MAC)."""


class ClearingInputError(CentreError):
    """A message or journal line given to clearing is not a lane transaction record."""


class ClearingError(CentreError):
    """Clearing cannot go on (broker refused us, no keys for the centre, a file unreadable)."""


class BrokerError(CentreError):
    """The MQTT broker cannot be reached, refused us, or the session ended."""


class CardRefusedError(DeviceError):
    """The card answered a command with a status word other than 9000: it did not do it."""

    def __init__(self, message: str, status_word: int) -> None:
        super().__init__(message)
        self.status_word = status_word
