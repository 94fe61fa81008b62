"""The road network a fee table is built from: stations, junctions and two-way toll sections."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from lane_engine.errors import NetworkError
from protocols.records import ALL_CLASSES

__all__ = [
    "Junction",
    "RoadNetwork",
    "Section",
    "Station",
    "StationKey",
    "section_fee",
]

#: A station as cards name it: (network number such as "3701", station id within that network).
StationKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Station:
    """A toll station (where vehicles enter and leave); `node` is its place in the graph."""

    node: int
    network: str
    station_id: int
    name: str

    @property
    def key(self) -> StationKey:
        """(network, station id): how entry records and fee tables name this station."""
        return (self.network, self.station_id)


@dataclass(frozen=True, slots=True)
class Junction:
    """A graph node that is not a station: an interchange or a toll-unit boundary."""

    node: int
    name: str


@dataclass(frozen=True, slots=True)
class Section:
    """A toll section between two nodes, driven both ways at the same fee.

    `rates` holds fen per km for each class of `protocols.records.ALL_CLASSES`, in that order.
    """

    from_node: int
    to_node: int
    length_m: int
    rates: tuple[int, ...]

    def fees(self) -> tuple[int, ...]:
        """Fee of this section per class, in fen."""
        return tuple(section_fee(self.length_m, rate) for rate in self.rates)


def section_fee(length_m: int, rate_fen_per_km: int) -> int:
    """Fen charged for one section: length x rate, rounded half up to the fen per section.

    Our decision (as the provinces do per toll unit): each section is rounded on its own and a
    trip's fee is the sum of its sections' rounded fees, so a fee never depends on the route's
    split into chains.
    """
    return (length_m * rate_fen_per_km + 500) // 1000


@dataclass(frozen=True, slots=True)
class RoadNetwork:
    """A whole network; construction checks that every section joins known nodes (NetworkError)."""

    stations: tuple[Station, ...]
    junctions: tuple[Junction, ...]
    sections: tuple[Section, ...]

    def __post_init__(self) -> None:
        nodes = [s.node for s in self.stations] + [j.node for j in self.junctions]
        if len(set(nodes)) != len(nodes):
            raise NetworkError("node ids must be unique across stations and junctions")
        if any(node < 0 for node in nodes):
            raise NetworkError("node ids must be >= 0")
        keys = [s.key for s in self.stations]
        if len(set(keys)) != len(keys):
            raise NetworkError("station (network, id) keys must be unique")
        known = set(nodes)
        for number, section in enumerate(self.sections):
            if section.from_node not in known or section.to_node not in known:
                raise NetworkError(f"section {number} joins an unknown node")
            if section.from_node == section.to_node:
                raise NetworkError(f"section {number} is a loop on node {section.from_node}")
            if section.length_m <= 0:
                raise NetworkError(f"section {number}: length must be > 0 m")
            if len(section.rates) != len(ALL_CLASSES) or any(r < 0 for r in section.rates):
                raise NetworkError(f"section {number}: needs {len(ALL_CLASSES)} rates >= 0")

    @property
    def node_count(self) -> int:
        """One more than the largest node id (node ids need not be dense)."""
        nodes = [s.node for s in self.stations] + [j.node for j in self.junctions]
        return max(nodes, default=-1) + 1

    def network_hash(self) -> str:
        """SHA-256 (hex) of the network's content, independent of the order of its parts."""
        content = {
            "classes": [int(c) for c in ALL_CLASSES],
            "stations": sorted([s.node, s.network, s.station_id, s.name] for s in self.stations),
            "junctions": sorted([j.node, j.name] for j in self.junctions),
            "sections": sorted(
                [*sorted((s.from_node, s.to_node)), s.length_m, list(s.rates)]
                for s in self.sections
            ),
        }
        canonical = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
