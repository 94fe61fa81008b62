"""The one error hierarchy of `rsu_sim`: everything the simulator raises derives from `SimError`.

A simulated vehicle that fails its transaction is a result, never one of these; these are for
scenario files, misuse of the simulated devices and the simulator's own links.
"""

from __future__ import annotations


class SimError(Exception):
    """Base of every error raised by `rsu_sim`."""


class ScenarioError(SimError):
    """A scenario is malformed or holds a value out of range; names the file, table and field."""

    def __init__(self, message: str, *, file: str = "<built-in>", table: str = "", field: str = ""):
        self.detail = message
        self.file = file
        self.table = table
        self.field = field
        where = ".".join(part for part in (table, field) if part)
        super().__init__(f"{file}: [{where}] {message}" if where else f"{file}: {message}")


class PopulationError(SimError):
    """A card population cannot be built or does not know the vehicle asked for."""


class DeviceError(SimError):
    """A simulated device (card, OBU, RSU) was driven in a way its model forbids (our bug)."""


class SimProtocolError(SimError):
    """The lane sent the simulated RSU something the PC-RSU protocol does not allow."""


class OutputError(SimError):
    """A run's output directory cannot be written or read."""


class ServeError(SimError):
    """The TCP server cannot run: a port cannot be bound, or the arguments do not fit."""


class WorldError(SimError):
    """A served world's directory cannot be created, read or continued as asked."""
