"""Build a fee table: the minimum-fee path between every two stations, for every class.

The network is compressed first (chains of junctions of degree 2 become one edge carrying the sum
of their sections' fees), then a numba Dijkstra with a binary heap runs from every exit station,
in parallel over exits. Fees are exact integers of fen throughout. A big table is built and
written in batches of exit blocks (`write_fee_table_of`): memory stays at one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

from lane_engine.errors import NetworkError
from lane_engine.fees.network import RoadNetwork, StationKey
from lane_engine.fees.parallel import PARALLEL_KERNEL_LOCK
from lane_engine.fees.table import FEE_DTYPE, NO_ROUTE, FeeTable
from lane_engine.fees.table_file import FeeTableWriter
from protocols.records import ALL_CLASSES

__all__ = [
    "BATCH_BYTES",
    "BuiltTable",
    "CompressedGraph",
    "build_fee_table",
    "compress",
    "exit_blocks",
    "exits_per_batch",
    "section_fee_matrix",
    "station_fee_array",
    "write_fee_table_of",
]


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
def _exit_blocks(indptr, indices, fees, n_stations, first_exit, no_route, out):  # type: ignore[no-untyped-def]
    """out[k, entry, class] = minimum fee into exit `first_exit + k`, for each of the len(out)
    exits (in parallel); `no_route` where unreachable or too large."""
    n_nodes = indptr.shape[0] - 1
    n_classes = fees.shape[1]
    for k in prange(out.shape[0]):
        dist = np.empty(n_nodes, dtype=np.int64)
        heap_keys = np.empty(indices.shape[0] + 1, dtype=np.int64)
        heap_values = np.empty(indices.shape[0] + 1, dtype=np.int64)
        for klass in range(n_classes):
            _dijkstra(indptr, indices, fees, klass, first_exit + k, dist, heap_keys, heap_values)
            for entry_index in range(n_stations):
                d = dist[entry_index]
                out[k, entry_index, klass] = d if d < no_route else no_route


def exit_blocks(graph: CompressedGraph, first_exit: int, out: np.ndarray) -> np.ndarray:
    """Fill `out` (exits, entries, classes) with the blocks of exits `first_exit`, ... in
    parallel over those exits; returns `out`."""
    if len(out):
        with PARALLEL_KERNEL_LOCK:
            _exit_blocks(graph.indptr, graph.indices, graph.fees, graph.n_stations, first_exit,
                         NO_ROUTE, out)
    return out


def station_fee_array(graph: CompressedGraph) -> np.ndarray:
    """The raw [exit][entry][class] array of minimum fees (NO_ROUTE where unreachable)."""
    n = graph.n_stations
    return exit_blocks(graph, 0, np.empty((n, n, graph.fees.shape[1]), dtype=FEE_DTYPE))


def _no_route(blocks: np.ndarray, first_exit: int,
              stations: tuple[StationKey, ...]) -> NetworkError | None:
    if blocks.max(initial=0) != NO_ROUTE:
        return None
    exit_index, entry_index, _ = np.argwhere(blocks == NO_ROUTE)[0]
    return NetworkError(f"no route (or fee overflow) from {stations[entry_index]} to "
                        f"{stations[first_exit + exit_index]}")


def build_fee_table(network: RoadNetwork, version: str, built_at: str) -> FeeTable:
    """The fee table of `network` in memory; NetworkError when two stations are not joined by
    any road. (Past a few thousand stations, `write_fee_table_of` keeps memory to a batch.)

    Sections are two-way, so a trip costs the same both ways; the [exit][entry] layout keeps
    room for one-way sections later.
    """
    graph = compress(network)
    fees = station_fee_array(graph)
    stations = tuple(sorted(s.key for s in network.stations))
    error = _no_route(fees, 0, stations)
    if error is not None:
        raise error
    return FeeTable(version, network.network_hash(), built_at, stations, fees, ALL_CLASSES)


#: Our decision: a batch of exit blocks holds at most this many bytes (the build's memory,
#: beside the graph), and at least one exit per worker thread.
BATCH_BYTES = 32 * 2**20


def exits_per_batch(stations: int, classes: int = len(ALL_CLASSES),
                    batch_bytes: int = BATCH_BYTES) -> int:
    """How many exit blocks one batch computes at once (in parallel) before they are written."""
    block = max(1, stations * classes * FEE_DTYPE.itemsize)
    return max(numba.get_num_threads(), batch_bytes // block, 1)


@dataclass(frozen=True, slots=True)
class BuiltTable:
    """What `write_fee_table_of` wrote: the header's facts and how the build went."""

    version: str
    network_hash: str
    stations: int
    classes: int
    batches: int
    exits_per_batch: int
    peak_batch_bytes: int


def write_fee_table_of(network: RoadNetwork, version: str, built_at: str, path: str | Path,
                       batch_bytes: int = BATCH_BYTES) -> BuiltTable:
    """Build the fee table of `network` and write it to `path`, batch of exit blocks by batch
    as they are computed (each batch in parallel over its exits), so memory stays at one batch
    (`batch_bytes`) whatever the number of stations; the file appears at `path` only once it
    is whole. NetworkError (and no file) when two stations are not joined by any road."""
    graph = compress(network)
    stations = tuple(sorted(s.key for s in network.stations))
    n, classes = len(stations), graph.fees.shape[1]
    per_batch = min(max(n, 1), exits_per_batch(n, classes, batch_bytes))
    batch = np.empty((per_batch, n, classes), dtype=FEE_DTYPE)
    batches = 0
    with FeeTableWriter(path, version, network.network_hash(), built_at, stations,
                        ALL_CLASSES) as writer:
        for first in range(0, n, per_batch):
            blocks = exit_blocks(graph, first, batch[:min(per_batch, n - first)])
            error = _no_route(blocks, first, stations)
            if error is not None:
                raise error
            writer.write_blocks(blocks)
            batches += 1
    return BuiltTable(version, network.network_hash(), n, classes, batches, per_batch,
                      batch.nbytes)
