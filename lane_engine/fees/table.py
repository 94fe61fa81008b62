"""Fee tables in memory: the whole table (station and tools) and one exit's slice (the lane path).

Fees are laid out [exit][entry][class] in fen so that an exit lane needs only its own block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lane_engine.errors import FeeTableError
from lane_engine.fees.network import StationKey
from protocols.records import ALL_CLASSES, VehicleClass

__all__ = [
    "FEE_DTYPE",
    "NO_ROUTE",
    "FeeSlice",
    "FeeTable",
]

#: Storage type of a fee: unsigned 32-bit fen (up to 42.9 million yuan), little-endian on file.
FEE_DTYPE = np.dtype("<u4")
#: A fee cell holding this value has no route; lookups answer None for it.
NO_ROUTE = int(np.iinfo(FEE_DTYPE).max)


def _positions(items: tuple[object, ...], what: str) -> dict[object, int]:
    positions = {item: index for index, item in enumerate(items)}
    if len(positions) != len(items):
        raise FeeTableError(f"duplicate {what} in fee table")
    return positions


def _frozen(fees: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if fees.shape != shape:
        raise FeeTableError(f"fee array has shape {fees.shape}, expected {shape}")
    view = fees.astype(FEE_DTYPE, copy=False).view()
    view.setflags(write=False)
    return view


@dataclass(frozen=True, slots=True, eq=False)
class FeeTable:
    """A versioned fee table for every (exit, entry, class); replaced as a whole, never edited."""

    version: str
    network_hash: str
    built_at: str  # ISO-8601 UTC time the table was built
    stations: tuple[StationKey, ...]  # index i of the entry and exit axes is stations[i]
    fees: np.ndarray  # shape (exits, entries, classes), fen
    classes: tuple[VehicleClass, ...] = ALL_CLASSES
    _station_index: dict[object, int] = field(init=False, repr=False)
    _class_index: dict[object, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.stations)
        object.__setattr__(self, "fees", _frozen(self.fees, (n, n, len(self.classes))))
        object.__setattr__(self, "_station_index", _positions(self.stations, "station"))
        object.__setattr__(self, "_class_index", _positions(self.classes, "class"))

    def station_index(self, network: str, station: int) -> int | None:
        """Index of a station on both axes, None when the table does not know it."""
        return self._station_index.get((network, station))

    def class_index(self, vehicle_class: int) -> int | None:
        """Index of a class on the class axis, None for a class the table does not price."""
        return self._class_index.get(vehicle_class)

    def fee(
        self,
        entry_network: str,
        entry_station: int,
        exit_station: int | StationKey,
        vehicle_class: int,
    ) -> int | None:
        """Undiscounted fee in fen; `exit_station` is an index or a key. None: cannot be priced."""
        if isinstance(exit_station, tuple):
            exit_index = self._station_index.get(exit_station)
        elif 0 <= exit_station < len(self.stations):
            exit_index = exit_station
        else:
            exit_index = None
        entry_index = self._station_index.get((entry_network, entry_station))
        class_index = self._class_index.get(vehicle_class)
        if exit_index is None or entry_index is None or class_index is None:
            return None
        fee = int(self.fees[exit_index, entry_index, class_index])
        return None if fee == NO_ROUTE else fee

    def slice_for(self, exit_network: str, exit_station: int) -> FeeSlice:
        """The block one exit lane needs (FeeTableError for an exit the table does not know)."""
        exit_index = self.station_index(exit_network, exit_station)
        if exit_index is None:
            raise FeeTableError(f"exit station {exit_network}/{exit_station} not in fee table")
        return FeeSlice(
            version=self.version,
            network_hash=self.network_hash,
            built_at=self.built_at,
            exit_station=(exit_network, exit_station),
            stations=self.stations,
            fees=self.fees[exit_index],
            classes=self.classes,
        )


@dataclass(frozen=True, slots=True, eq=False)
class FeeSlice:
    """The fees into one exit station from every entry, per class: what an exit lane loads."""

    version: str
    network_hash: str
    built_at: str
    exit_station: StationKey
    stations: tuple[StationKey, ...]  # entry axis
    fees: np.ndarray  # shape (entries, classes), fen
    classes: tuple[VehicleClass, ...] = ALL_CLASSES
    _station_index: dict[object, int] = field(init=False, repr=False)
    _class_index: dict[object, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        shape = (len(self.stations), len(self.classes))
        object.__setattr__(self, "fees", _frozen(self.fees, shape))
        object.__setattr__(self, "_station_index", _positions(self.stations, "station"))
        object.__setattr__(self, "_class_index", _positions(self.classes, "class"))

    def fee(self, entry_network: str, entry_station: int, vehicle_class: int) -> int | None:
        """Undiscounted fee in fen from the entry station; None: unknown station or class."""
        entry_index = self._station_index.get((entry_network, entry_station))
        class_index = self._class_index.get(vehicle_class)
        if entry_index is None or class_index is None:
            return None
        fee = int(self.fees[entry_index, class_index])
        return None if fee == NO_ROUTE else fee
