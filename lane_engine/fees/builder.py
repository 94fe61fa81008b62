"""Build a fee table: the minimum-fee path between every two stations, for every class.

The network is compressed first (chains of junctions of degree 2 become one edge carrying the sum
of their sections' fees), then a numba Dijkstra with a binary heap runs from every exit station,
in parallel over exits. Fees are exact integers of fen throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from lane_engine.errors import NetworkError
from lane_engine.fees.network import RoadNetwork
from lane_engine.fees.parallel import PARALLEL_KERNEL_LOCK
from lane_engine.fees.table import FEE_DTYPE, NO_ROUTE, FeeTable
from protocols.records import ALL_CLASSES


@dataclass(frozen=True, slots=True, eq=False)
class CompressedGraph:
    """CSR adjacency of stations (indices 0..n_stations-1, in key order) and branching junctions."""

    indptr: np.ndarray  # int64, (nodes + 1,)
    indices: np.ndarray  # int64, (edges,)
    fees: np.ndarray  # int64, (edges, classes): fen per class along the edge
    n_stations: int


def section_fee_matrix(network: RoadNetwork) -> np.ndarray:
    """Fee of every section per class (int64, sections x classes), as `section_fee` rounds it."""
    if not network.sections:
        return np.zeros((0, len(ALL_CLASSES)), dtype=np.int64)
    lengths = np.array([s.length_m for s in network.sections], dtype=np.int64)
    rates = np.array([s.rates for s in network.sections], dtype=np.int64)
    return (lengths[:, None] * rates + 500) // 1000


def compress(network: RoadNetwork) -> CompressedGraph:
    """Merge chains of degree-2 junctions into single edges; stations and branch points stay."""
    section_fees = section_fee_matrix(network)
    incident: dict[int, list[tuple[int, int]]] = {}  # node -> [(section number, other end)]
    for number, section in enumerate(network.sections):
        incident.setdefault(section.from_node, []).append((number, section.to_node))
        incident.setdefault(section.to_node, []).append((number, section.from_node))

    stations = sorted(network.stations, key=lambda s: s.key)
    kept = [s.node for s in stations]
    kept += sorted(j.node for j in network.junctions if len(incident.get(j.node, ())) not in (0, 2))
    position = {node: index for index, node in enumerate(kept)}

    edges: list[list[tuple[int, np.ndarray]]] = [[] for _ in kept]
    for node in kept:
        for number, other in incident.get(node, ()):
            total = section_fees[number].copy()
            came_by, here = number, other
            while here not in position:  # a junction with exactly two sections
                came_by, here = next((n, o) for n, o in incident[here] if n != came_by)
                total += section_fees[came_by]
            if here != node:
                edges[position[node]].append((position[here], total))

    counts = np.array([len(adjacent) for adjacent in edges], dtype=np.int64)
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    flat = [edge for adjacent in edges for edge in adjacent]
    indices = np.array([target for target, _ in flat], dtype=np.int64)
    fees = (
        np.array([fee for _, fee in flat], dtype=np.int64)
        if flat
        else np.zeros((0, len(ALL_CLASSES)), dtype=np.int64)
    )
    return CompressedGraph(indptr, indices, fees, len(stations))


@njit(cache=True)
def _heap_push(keys, values, size, key, value):  # type: ignore[no-untyped-def]
    position = size
    keys[position] = key
    values[position] = value
    while position > 0:
        parent = (position - 1) >> 1
        if keys[parent] <= keys[position]:
            break
        keys[parent], keys[position] = keys[position], keys[parent]
        values[parent], values[position] = values[position], values[parent]
        position = parent
    return size + 1


@njit(cache=True)
def _heap_pop(keys, values, size):  # type: ignore[no-untyped-def]
    top_key, top_value = keys[0], values[0]
    size -= 1
    keys[0], values[0] = keys[size], values[size]
    position = 0
    while True:
        smallest = position
        left, right = 2 * position + 1, 2 * position + 2
        if left < size and keys[left] < keys[smallest]:
            smallest = left
        if right < size and keys[right] < keys[smallest]:
            smallest = right
        if smallest == position:
            break
        keys[smallest], keys[position] = keys[position], keys[smallest]
        values[smallest], values[position] = values[position], values[smallest]
        position = smallest
    return top_key, top_value, size


@njit(cache=True)
def _dijkstra(indptr, indices, fees, klass, source, dist, heap_keys, heap_values):  # type: ignore[no-untyped-def]
    """Minimum fee from `source` to every node for one class, into `dist` (lazy-deletion heap)."""
    dist[:] = np.iinfo(np.int64).max
    dist[source] = 0
    size = _heap_push(heap_keys, heap_values, 0, 0, source)
    while size > 0:
        d, node, size = _heap_pop(heap_keys, heap_values, size)
        if d > dist[node]:
            continue
        for edge in range(indptr[node], indptr[node + 1]):
            target = indices[edge]
            candidate = d + fees[edge, klass]
            if candidate < dist[target]:
                dist[target] = candidate
                size = _heap_push(heap_keys, heap_values, size, candidate, target)


@njit(cache=True, parallel=True)
def _all_station_fees(indptr, indices, fees, n_stations, no_route, out):  # type: ignore[no-untyped-def]
    """out[exit, entry, class] = minimum fee; `no_route` where unreachable or too large."""
    n_nodes = indptr.shape[0] - 1
    n_classes = fees.shape[1]
    for exit_index in prange(n_stations):
        dist = np.empty(n_nodes, dtype=np.int64)
        heap_keys = np.empty(indices.shape[0] + 1, dtype=np.int64)
        heap_values = np.empty(indices.shape[0] + 1, dtype=np.int64)
        for klass in range(n_classes):
            _dijkstra(indptr, indices, fees, klass, exit_index, dist, heap_keys, heap_values)
            for entry_index in range(n_stations):
                d = dist[entry_index]
                out[exit_index, entry_index, klass] = d if d < no_route else no_route


def station_fee_array(graph: CompressedGraph) -> np.ndarray:
    """The raw [exit][entry][class] array of minimum fees (NO_ROUTE where unreachable)."""
    n = graph.n_stations
    out = np.empty((n, n, graph.fees.shape[1]), dtype=FEE_DTYPE)
    if n:
        with PARALLEL_KERNEL_LOCK:
            _all_station_fees(graph.indptr, graph.indices, graph.fees, n, NO_ROUTE, out)
    return out


def build_fee_table(network: RoadNetwork, version: str, built_at: str) -> FeeTable:
    """The fee table of `network`; NetworkError when two stations are not joined by any road.

    Sections are two-way, so a trip costs the same both ways; the [exit][entry] layout keeps
    room for one-way sections later.
    """
    graph = compress(network)
    fees = station_fee_array(graph)
    stations = tuple(sorted(s.key for s in network.stations))
    if fees.max(initial=0) == NO_ROUTE:
        exit_index, entry_index, _ = np.argwhere(fees == NO_ROUTE)[0]
        raise NetworkError(
            f"no route (or fee overflow) from {stations[entry_index]} to {stations[exit_index]}"
        )
    return FeeTable(version, network.network_hash(), built_at, stations, fees, ALL_CLASSES)
