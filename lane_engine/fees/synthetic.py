"""A synthetic provincial road network for tests, benchmarks and the simulator's demo.

Hubs (interchanges) are scattered over a 400 km square and joined by a minimum spanning tree of
highways plus a few cross links; stations and toll-unit boundaries sit along each highway.
"""

from __future__ import annotations

import itertools

import numpy as np

from lane_engine.fees.network import Junction, RoadNetwork, Section, Station

__all__ = [
    "BASE_RATES",
    "PROVINCE_SIDE_KM",
    "ROAD_SURCHARGES",
    "SECTION_LENGTH_M",
    "synthetic_network",
]

#: Base rates in fen per km, in `ALL_CLASSES` order (passenger 1-4, truck 1-6, special 1-6).
#: Passenger class 1 at 0.45 yuan/km, as in Shandong; the others in the usual proportions.
BASE_RATES = (45, 68, 90, 113, 45, 90, 135, 142, 150, 162, 45, 90, 135, 142, 150, 162)
#: Per-highway surcharge in percent (bridges and mountain roads cost more).
ROAD_SURCHARGES = (100, 100, 110, 120)
SECTION_LENGTH_M = (2_000, 30_000)
PROVINCE_SIDE_KM = 400.0


def synthetic_network(
    n_stations: int,
    rng: np.random.Generator | int,
    networks: tuple[str, ...] = ("3701", "3702", "3703"),
) -> RoadNetwork:
    """A connected network of `n_stations` stations drawn from `rng` (a Generator or a seed)."""
    if n_stations < 1:
        raise ValueError("a network needs at least one station")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n_hubs = max(2, n_stations // 8)
    positions = rng.uniform(0.0, PROVINCE_SIDE_KM, size=(n_hubs, 2))
    links = _highway_links(positions, rng)
    lengths = np.array([np.linalg.norm(positions[a] - positions[b]) for a, b in links])
    per_link = rng.multinomial(n_stations, lengths / lengths.sum())

    stations: list[Station] = []
    junctions = [Junction(node=hub, name=f"hub-{hub}") for hub in range(n_hubs)]
    sections: list[Section] = []
    next_id = dict.fromkeys(networks, 1)
    next_node = n_hubs
    for (hub_a, hub_b), k in zip(links, per_link, strict=True):
        network = networks[int(rng.integers(len(networks)))]
        surcharge = ROAD_SURCHARGES[int(rng.integers(len(ROAD_SURCHARGES)))]
        rates = tuple((rate * surcharge + 50) // 100 for rate in BASE_RATES)
        boundaries = int(rng.integers(0, 3))
        is_station = rng.permutation([True] * int(k) + [False] * boundaries)
        chain = [hub_a]
        for station_here in is_station:
            if station_here:
                stations.append(
                    Station(next_node, network, next_id[network], f"{network}-{next_id[network]}")
                )
                next_id[network] += 1
            else:
                junctions.append(Junction(node=next_node, name=f"boundary-{next_node}"))
            chain.append(next_node)
            next_node += 1
        chain.append(hub_b)
        low, high = SECTION_LENGTH_M
        for start, end in itertools.pairwise(chain):
            length = int(rng.integers(low, high + 1))
            sections.append(Section(start, end, length, rates))
    return RoadNetwork(tuple(stations), tuple(junctions), tuple(sections))


def _highway_links(positions: np.ndarray, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Minimum spanning tree over the hubs (Prim) plus cross links to near hubs for ~1/4 of them."""
    n = len(positions)
    distance = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=2)
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    best = distance[0].copy()
    parent = np.zeros(n, dtype=np.int64)
    links: list[tuple[int, int]] = []
    for _ in range(n - 1):
        candidate = np.where(in_tree, np.inf, best)
        hub = int(np.argmin(candidate))
        links.append((int(parent[hub]), hub))
        in_tree[hub] = True
        closer = distance[hub] < best
        best = np.where(closer, distance[hub], best)
        parent = np.where(closer, hub, parent)
    linked = {frozenset(link) for link in links}
    for hub in rng.choice(n, size=n // 4, replace=False):
        for other in np.argsort(distance[hub])[1:4]:
            pair = frozenset((int(hub), int(other)))
            if pair not in linked:
                linked.add(pair)
                links.append((int(hub), int(other)))
                break
    return links
