"""Road network values, their hash, section rounding and the synthetic generator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lane_engine.errors import NetworkError
from lane_engine.fees.network import Junction, RoadNetwork, Section, Station, section_fee
from lane_engine.fees.synthetic import SECTION_LENGTH_M, synthetic_network

RATES = tuple(range(40, 56))


def _line() -> RoadNetwork:
    return RoadNetwork(
        stations=(Station(0, "3701", 1, "A"), Station(2, "3701", 2, "B")),
        junctions=(Junction(1, "J"),),
        sections=(Section(0, 1, 10_000, RATES), Section(1, 2, 5_500, RATES)),
    )


@pytest.mark.parametrize(
    ("length_m", "rate", "expected"),
    [(1_000, 45, 45), (500, 45, 23), (100, 45, 5), (300, 45, 14), (10, 45, 0), (1, 500, 1)],
)
def test_section_fee_rounds_half_up_to_the_fen(length_m: int, rate: int, expected: int) -> None:
    assert section_fee(length_m, rate) == expected


def test_hash_ignores_order_and_follows_content() -> None:
    network = _line()
    shuffled = RoadNetwork(
        stations=network.stations[::-1],
        junctions=network.junctions,
        sections=(Section(2, 1, 5_500, RATES), Section(0, 1, 10_000, RATES)),
    )
    longer = RoadNetwork(
        network.stations, network.junctions, (*network.sections[:1], Section(1, 2, 5_501, RATES))
    )
    assert shuffled.network_hash() == network.network_hash()
    assert longer.network_hash() != network.network_hash()


@pytest.mark.parametrize(
    ("stations", "junctions", "sections", "message"),
    [
        ((Station(0, "3701", 1, "A"),), (Junction(0, "J"),), (), "unique"),
        ((Station(0, "3701", 1, "A"), Station(1, "3701", 1, "B")), (), (), "keys"),
        ((Station(0, "3701", 1, "A"),), (), (Section(0, 9, 1000, RATES),), "unknown node"),
        ((Station(0, "3701", 1, "A"),), (), (Section(0, 0, 1000, RATES),), "loop"),
        (
            (Station(0, "3701", 1, "A"), Station(1, "3701", 2, "B")),
            (),
            (Section(0, 1, 0, RATES),),
            "length",
        ),
        (
            (Station(0, "3701", 1, "A"), Station(1, "3701", 2, "B")),
            (),
            (Section(0, 1, 10, RATES[:3]),),
            "rates",
        ),
    ],
)
def test_inconsistent_networks_are_refused(
    stations: tuple[Station, ...],
    junctions: tuple[Junction, ...],
    sections: tuple[Section, ...],
    message: str,
) -> None:
    with pytest.raises(NetworkError, match=message):
        RoadNetwork(stations, junctions, sections)


@pytest.mark.parametrize(("n_stations", "seed"), [(1, 0), (7, 1), (60, 2), (300, 3)])
def test_synthetic_network_is_connected_with_the_asked_stations(n_stations: int, seed: int) -> None:
    network = synthetic_network(n_stations, seed)
    assert len(network.stations) == n_stations
    ends = np.array([(s.from_node, s.to_node) for s in network.sections])
    graph = coo_matrix(
        (np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(network.node_count,) * 2
    )
    components, _ = connected_components(graph, directed=False)
    assert components == 1
    lengths = [s.length_m for s in network.sections]
    assert SECTION_LENGTH_M[0] <= min(lengths) and max(lengths) <= SECTION_LENGTH_M[1]
    assert all(s.rates[0] < s.rates[-1] for s in network.sections)  # trucks pay more


def test_synthetic_network_is_reproducible_from_its_seed() -> None:
    first = synthetic_network(40, np.random.default_rng(11))
    assert first.network_hash() == synthetic_network(40, 11).network_hash()
    assert first.network_hash() != synthetic_network(40, 12).network_hash()
