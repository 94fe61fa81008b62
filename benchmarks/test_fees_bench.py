"""Fees: scalar lookup, batch pricing of 10M trips (numba vs numpy vs pure Python), and building
the fee table for 200 and 2,000 stations (16 classes) vs scipy's Dijkstra, with peak memory.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable

import numpy as np
import pytest

from benchmarks.measure import peak_memory
from benchmarks.shortest_paths import scipy_fee_array
from lane_engine.core.policy import Policy
from lane_engine.fees.batch import (
    PricedTrips,
    price_trips,
    price_trips_numpy,
    price_trips_python,
)
from lane_engine.fees.builder import build_fee_table, write_fee_table_of
from lane_engine.fees.network import RoadNetwork
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.fees.table import FeeTable

TRIPS = 10_000_000
#: Pure Python prices a 1 % sample; its time is scaled by 100 to the full 10M trips.
PYTHON_SAMPLE = TRIPS // 100
STATION_COUNTS = (200, 2_000)
LOOKUPS = 10_000
POLICY = Policy("bench")

PricingArgs = tuple[FeeTable, np.ndarray, np.ndarray, np.ndarray, Policy]
Pricer = Callable[[FeeTable, np.ndarray, np.ndarray, np.ndarray, Policy], PricedTrips]
PRICERS: dict[str, Pricer] = {
    "numba": price_trips, "numpy": price_trips_numpy, "python": price_trips_python,
}
#: Every pricer gets the same untimed calls, then the same timed rounds; its figure is the median.
#: Nine rounds as the machine is shared: a round that another job slows stays out of the median.
PRICING_WARMUP_CALLS = 2
PRICING_ROUNDS = 9
_cold_numba_s: list[float] = []


def _warm_up(pricer: Pricer, args: PricingArgs) -> tuple[float, Callable[[], None]]:
    """Call `pricer` as the timed rounds will; returns the first call's seconds and the setup for
    `benchmark.pedantic` that lets go of the last warm-up output once round 1 has returned.

    pytest-benchmark keeps a round's output until the next round returns, so each round allocates
    its outputs while one earlier output is alive; the warm-up calls do the same, and its last
    output lives through round 1. Every round then reuses memory freed a moment ago. Otherwise one
    round needs more than the calls before it and pays for pages the VM has given back to its host
    (~0.3 s per 240 MB here, 5 times numba's whole kernel at 200 stations).
    """
    start = time.perf_counter()
    held = [pricer(*args)]
    first_s = time.perf_counter() - start
    for _ in range(PRICING_WARMUP_CALLS - 1):
        held[0] = pricer(*args)
    rounds_set_up = itertools.count()

    def release_after_round_1() -> None:
        if next(rounds_set_up) == 1:
            held.clear()

    return first_s, release_after_round_1


@pytest.fixture(scope="module")
def networks() -> dict[int, RoadNetwork]:
    return {n: synthetic_network(n, 1) for n in STATION_COUNTS}


@pytest.fixture(scope="module")
def tables(networks: dict[int, RoadNetwork]) -> dict[int, FeeTable]:
    return {n: build_fee_table(net, "bench", "") for n, net in networks.items()}


@pytest.fixture(scope="module")
def trips(tables: dict[int, FeeTable]) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """10M random trips (exit, entry, class indices, int64) per table."""
    rng = np.random.default_rng(7)
    return {
        n: (rng.integers(0, n, TRIPS), rng.integers(0, n, TRIPS), rng.integers(0, 16, TRIPS))
        for n in tables
    }


def test_fee_lookup_scalar(benchmark, tables: dict[int, FeeTable]) -> None:  # type: ignore[no-untyped-def]
    table = tables[2_000]
    exit_network, exit_station = table.stations[0]
    fee_slice = table.slice_for(exit_network, exit_station)
    rng = np.random.default_rng(3)
    probes = [(*table.stations[int(i)], int(c) + 1) for i, c in
              zip(rng.integers(0, len(table.stations), LOOKUPS), rng.integers(0, 4, LOOKUPS),
                  strict=True)]
    fee = fee_slice.fee
    found = benchmark(lambda: [fee(n, s, c) for n, s, c in probes])
    assert all(f is not None and f >= 0 for f in found)
    benchmark.group = "fees scalar lookup"
    benchmark.extra_info.update(kind="fee lookup", impl="FeeSlice.fee", items_per_round=LOOKUPS,
                                wall_us_per_item=benchmark.stats.stats.median / LOOKUPS * 1e6)


def test_fee_lookup_scalar_dict_baseline(benchmark, tables: dict[int, FeeTable]) -> None:  # type: ignore[no-untyped-def]
    table = tables[2_000]
    fees = table.fees[0]
    as_dict = {(*station, int(klass)): int(fees[i, k]) for i, station in enumerate(table.stations)
               for k, klass in enumerate(table.classes)}
    rng = np.random.default_rng(3)
    probes = [(*table.stations[int(i)], int(c) + 1) for i, c in
              zip(rng.integers(0, len(table.stations), LOOKUPS), rng.integers(0, 4, LOOKUPS),
                  strict=True)]
    get = as_dict.get
    found = benchmark(lambda: [get(p) for p in probes])
    assert all(f is not None for f in found)
    benchmark.group = "fees scalar lookup"
    benchmark.extra_info.update(kind="fee lookup", impl="dict (baseline)", items_per_round=LOOKUPS,
                                wall_us_per_item=benchmark.stats.stats.median / LOOKUPS * 1e6)


# One station count's pricers run one after another (ids stay impl-stations), so the ratios the
# report takes compare rounds timed seconds apart, not with the other table's tests between.
@pytest.mark.parametrize(("impl", "stations"), [
    pytest.param(impl, stations, id=f"{impl}-{stations}")
    for stations in STATION_COUNTS for impl in PRICERS
])
def test_batch_pricing(benchmark, tables, trips, impl: str, stations: int) -> None:  # type: ignore[no-untyped-def]
    table, (exits, entries, classes) = tables[stations], trips[stations]
    count = PYTHON_SAMPLE if impl == "python" else TRIPS
    exits, entries, classes = exits[:count], entries[:count], classes[:count]
    pricer, args = PRICERS[impl], (table, exits, entries, classes, POLICY)
    load_at_start = os.getloadavg()[0]
    first_call_s, setup = _warm_up(pricer, args)
    if impl == "numba" and not _cold_numba_s:
        # The first call in a process loads the compiled code from numba's cache.
        _cold_numba_s.append(first_call_s)
    priced = benchmark.pedantic(pricer, args=args, setup=setup, rounds=PRICING_ROUNDS,
                                warmup_rounds=0, iterations=1)
    sample = slice(0, 20_000)
    reference = price_trips_python(table, exits[sample], entries[sample], classes[sample], POLICY)
    for got, want in zip(priced, reference, strict=True):
        assert np.array_equal(got[sample], want)
    seconds = benchmark.stats.stats.median * TRIPS / count
    benchmark.group = f"fees batch pricing 10M trips, {stations} stations"
    benchmark.extra_info.update(
        kind="batch pricing", impl=impl, stations=stations, trips_timed=count,
        seconds_for_10m=seconds, ns_per_trip=seconds / TRIPS * 1e9,
        scaled_from_sample=impl == "python", warmup_calls=PRICING_WARMUP_CALLS,
        load_average_1min=[round(load_at_start, 2), round(os.getloadavg()[0], 2)],
    )
    if impl == "numba" and _cold_numba_s:
        benchmark.extra_info["first_call_in_process_s"] = _cold_numba_s[0]


BUILDERS: dict[str, Callable[[RoadNetwork], np.ndarray]] = {
    "numba builder": lambda net: build_fee_table(net, "bench", "").fees,
    "scipy dijkstra": scipy_fee_array,
}


@pytest.mark.parametrize("stations", STATION_COUNTS)
@pytest.mark.parametrize("impl", list(BUILDERS))
def test_fee_table_build(benchmark, networks, tables, impl: str, stations: int) -> None:  # type: ignore[no-untyped-def]
    network, build = networks[stations], BUILDERS[impl]
    fees, memory = peak_memory(lambda: build(network))
    assert np.array_equal(fees, tables[stations].fees)  # both agree to the fen
    del fees
    benchmark.pedantic(build, args=(network,), rounds=3 if stations < 1_000 else 1, iterations=1)
    benchmark.group = f"fees table build {stations} stations"
    benchmark.extra_info.update(kind="fee table build", impl=impl, stations=stations,
                                classes=16, **memory)


#: The big table: built and written in batches of exit blocks (`lane-engine fees build`).
BIG_STATIONS = 5_000
#: The parallel-build comparison: the same streamed build on every numba thread and on one.
PARALLEL_STATIONS = 2_000


def test_fee_table_written_in_blocks_5000_stations(benchmark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """5,000 stations written batch of exit blocks by batch: the process's resident peak above
    its start against the size of the whole [exit][entry][class] table it writes."""
    benchmark.group = "fees table in exit blocks"
    network = synthetic_network(BIG_STATIONS, 1)
    path = tmp_path / "big.etcfee"
    found = []

    def build() -> None:
        found.append(peak_memory(lambda: write_fee_table_of(network, "bench", "", path)))

    benchmark.pedantic(build, rounds=1, iterations=1)
    built, memory = found[0]
    full_mib = BIG_STATIONS * BIG_STATIONS * 16 * 4 / 2**20
    assert path.stat().st_size > full_mib * 2**20
    path.unlink()
    benchmark.extra_info.update(kind="fee table blocks", impl="write_fee_table_of",
                                stations=BIG_STATIONS, full_table_mib=round(full_mib, 1),
                                batch_mib=round(built.peak_batch_bytes / 2**20, 1),
                                batches=built.batches, build_s=benchmark.stats.stats.median,
                                **memory)


@pytest.mark.parametrize("threads", ["all", "one"])
def test_fee_table_blocks_parallel(benchmark, tmp_path, threads: str) -> None:  # type: ignore[no-untyped-def]
    """2,000 stations in exit blocks, in parallel over the blocks of a batch on every numba
    thread, and on one thread (the baseline of the parallel speed-up)."""
    import numba

    benchmark.group = "fees table in exit blocks"
    network = synthetic_network(PARALLEL_STATIONS, 1)
    path = tmp_path / "t.etcfee"
    write_fee_table_of(network, "warm", "", path)  # compiled, cached
    before = numba.get_num_threads()
    numba.set_num_threads(1 if threads == "one" else before)
    try:
        benchmark.pedantic(lambda: write_fee_table_of(network, "bench", "", path), rounds=1,
                           iterations=1)
    finally:
        numba.set_num_threads(before)
    benchmark.extra_info.update(kind="fee table blocks", impl=f"{threads} numba threads",
                                stations=PARALLEL_STATIONS,
                                threads=1 if threads == "one" else before,
                                build_s=benchmark.stats.stats.median)
