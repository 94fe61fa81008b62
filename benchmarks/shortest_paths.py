"""An independent fee-table baseline: scipy's Dijkstra over the uncompressed road network."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lane_engine.fees.network import RoadNetwork


def scipy_fee_array(network: RoadNetwork) -> np.ndarray:
    """[exit][entry][class] minimum fees (int64) by scipy, stations in key order.

    Section fees are rounded per section, half up, as `lane_engine.fees.network.section_fee`
    documents; parallel sections keep the cheaper one (a sparse matrix would add them up).
    """
    nodes = network.node_count
    ends = np.array([(s.from_node, s.to_node) for s in network.sections], dtype=np.int64)
    lengths = np.array([s.length_m for s in network.sections], dtype=np.int64)
    rates = np.array([s.rates for s in network.sections], dtype=np.int64)
    fees = (lengths[:, None] * rates + 500) // 1000
    low, high = ends.min(axis=1), ends.max(axis=1)
    stations = [s.node for s in sorted(network.stations, key=lambda s: s.key)]
    out = np.empty((len(stations), len(stations), rates.shape[1]), dtype=np.int64)
    for klass in range(rates.shape[1]):
        order = np.lexsort((fees[:, klass], high, low))  # per (low, high) pair, cheapest first
        pairs = low[order] * nodes + high[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = pairs[1:] != pairs[:-1]
        keep = order[first]
        graph = csr_matrix(
            (fees[keep, klass].astype(np.float64), (low[keep], high[keep])), shape=(nodes, nodes)
        )
        distances = dijkstra(graph, directed=False, indices=stations)
        out[:, :, klass] = distances[:, stations].astype(np.int64)
    return out
