"""The fee-table builder against scipy's shortest paths on the raw, uncompressed networks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from lane_engine.errors import NetworkError
from lane_engine.fees.builder import build_fee_table, compress
from lane_engine.fees.network import Junction, RoadNetwork, Section, Station
from lane_engine.fees.synthetic import synthetic_network
from protocols.records import ALL_CLASSES


def _random_network(rng: np.random.Generator) -> RoadNetwork:
    """A connected graph with independent per-class rates, parallel sections and junction chains."""
    n_nodes = int(rng.integers(3, 40))
    n_stations = int(rng.integers(2, n_nodes + 1))
    nodes = rng.permutation(n_nodes)
    stations = tuple(
        Station(int(node), f"370{int(node) % 3 + 1}", int(node), f"S{node}")
        for node in nodes[:n_stations]
    )
    junctions = tuple(Junction(int(node), f"J{node}") for node in nodes[n_stations:])
    pairs = [(int(nodes[i]), int(nodes[rng.integers(i)])) for i in range(1, n_nodes)]
    extra = int(rng.integers(0, n_nodes))
    for _ in range(extra):
        a, b = (int(x) for x in rng.choice(n_nodes, size=2, replace=False))
        pairs.append((a, b))
    sections = tuple(
        Section(
            a, b, int(rng.integers(2_000, 30_001)), tuple(int(r) for r in rng.integers(1, 200, 16))
        )
        for a, b in pairs
    )
    return RoadNetwork(stations, junctions, sections)


def _scipy_fees(network: RoadNetwork) -> np.ndarray:
    """[exit][entry][class] minimum fees from scipy on the raw section graph."""
    n = network.node_count
    order = [s.node for s in sorted(network.stations, key=lambda s: s.key)]
    out = np.empty((len(order), len(order), len(ALL_CLASSES)), dtype=np.int64)
    for klass in range(len(ALL_CLASSES)):
        best: dict[tuple[int, int], int] = {}
        for section in network.sections:
            key = (min(section.from_node, section.to_node), max(section.from_node, section.to_node))
            fee = section.fees()[klass]
            best[key] = min(fee, best.get(key, fee))
        rows, cols = zip(*best, strict=True)
        graph = csr_matrix((list(best.values()), (rows, cols)), shape=(n, n))
        distances = dijkstra(graph, directed=False, indices=order)
        out[:, :, klass] = distances[:, order].astype(np.int64)
    return out


@pytest.mark.parametrize("seed", range(12))
def test_builder_matches_scipy_on_random_networks(seed: int) -> None:
    network = _random_network(np.random.default_rng(seed))
    table = build_fee_table(network, "t", "")
    np.testing.assert_array_equal(table.fees.astype(np.int64), _scipy_fees(network))


@pytest.mark.parametrize("seed", range(3))
def test_builder_matches_scipy_on_synthetic_networks(seed: int) -> None:
    network = synthetic_network(30, seed)
    table = build_fee_table(network, "t", "")
    np.testing.assert_array_equal(table.fees.astype(np.int64), _scipy_fees(network))
    assert table.network_hash == network.network_hash()


def test_compression_removes_only_plain_chain_junctions() -> None:
    network = synthetic_network(50, 4)
    graph = compress(network)
    degree: dict[int, int] = {}
    for section in network.sections:
        degree[section.from_node] = degree.get(section.from_node, 0) + 1
        degree[section.to_node] = degree.get(section.to_node, 0) + 1
    branching = sum(1 for j in network.junctions if degree.get(j.node, 0) not in (0, 2))
    assert graph.n_stations == 50
    assert len(graph.indptr) - 1 == 50 + branching
    assert len(graph.indices) < 2 * len(network.sections)


def test_cheaper_parallel_section_wins_and_zero_fees_are_allowed() -> None:
    zero = (0,) * 16
    network = RoadNetwork(
        stations=(Station(0, "3701", 1, "A"), Station(1, "3701", 2, "B")),
        junctions=(),
        sections=(Section(0, 1, 10_000, tuple(range(100, 116))), Section(0, 1, 10_000, zero)),
    )
    table = build_fee_table(network, "t", "")
    assert table.fee("3701", 1, ("3701", 2), ALL_CLASSES[5]) == 0


def test_same_station_costs_nothing() -> None:
    table = build_fee_table(synthetic_network(10, 5), "t", "")
    assert not np.diagonal(table.fees, axis1=0, axis2=1).any()


def test_disconnected_network_is_refused() -> None:
    rates = (45,) * 16
    network = RoadNetwork(
        stations=tuple(Station(n, "3701", n + 1, f"S{n}") for n in range(4)),
        junctions=(),
        sections=(Section(0, 1, 5_000, rates), Section(2, 3, 5_000, rates)),
    )
    with pytest.raises(NetworkError, match="no route"):
        build_fee_table(network, "t", "")
