"""Blacklist at full scale: loading 10M cards from the binary file, the memory they hold, and a
single lookup, each next to a plain-Python baseline.

Run: .venv/bin/python -m pytest benchmarks/test_blacklist_bench.py --benchmark-only -s
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lane_engine.core.blacklist import (
    Blacklist,
    Reason,
    format_card_number,
    synthetic_columns,
)
from lane_engine.files.blacklist import load_binary, save_binary

FULL_SCALE = 10_000_000
MEMORY_BUDGET = 400 * 2**20
PROBES = 10_000
MIB = 2**20


def _rss() -> int:
    """Resident set size of this process, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _cards(columns: tuple[np.ndarray, np.ndarray, np.ndarray], count: int) -> list[str]:
    nets, sers = columns[0][:count].tolist(), columns[1][:count].tolist()
    return [format_card_number(n, s) for n, s in zip(nets, sers, strict=True)]


@pytest.fixture(scope="module")
def full_list_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("blacklist") / "full.bin"
    save_binary(
        path, Blacklist.from_columns(1, *synthetic_columns(np.random.default_rng(1), FULL_SCALE))
    )
    gc.collect()
    yield path
    path.unlink()


def test_load_10m_from_binary(benchmark, full_list_file: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = benchmark.pedantic(load_binary, args=(full_list_file,), rounds=3, iterations=1)
    assert len(loaded) == FULL_SCALE
    benchmark.extra_info["entries"] = len(loaded)
    benchmark.extra_info["file_mib"] = round(full_list_file.stat().st_size / MIB, 1)


def test_memory_held_by_10m_vs_python_set(benchmark, full_list_file: Path) -> None:  # type: ignore[no-untyped-def]
    gc.collect()
    rss_before = _rss()
    tracemalloc.start()
    loaded = load_binary(full_list_file)
    traced_held, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    rss_held = _rss() - rss_before
    table = loaded._table
    table_bytes = table.nets.nbytes + table.sers.nbytes + table.codes.nbytes
    assert table_bytes <= MEMORY_BUDGET

    # Baseline: the same 10M card numbers as str in a plain set (fits in this machine's memory).
    cards = _cards(loaded.columns(), FULL_SCALE)
    del loaded
    gc.collect()
    rss_before_set = _rss()
    tracemalloc.start()
    as_set = set(cards)
    del cards
    gc.collect()
    set_traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # The strs were made before tracing started: count them by size, the set by the tracer.
    set_bytes = set_traced + sum(card.__sizeof__() for card in as_set)
    set_rss = _rss() - rss_before_set
    del as_set
    figures = {
        "table_mib": table_bytes / MIB,
        "load_traced_held_mib": traced_held / MIB,
        "load_traced_peak_mib": traced_peak / MIB,
        "load_rss_delta_mib": rss_held / MIB,
        "python_set_mib": set_bytes / MIB,
        "python_set_rss_delta_without_strs_mib": set_rss / MIB,
    }
    benchmark.extra_info.update({k: round(v, 1) for k, v in figures.items()})
    print("\n" + "\n".join(f"{k}: {v:.1f}" for k, v in figures.items()))
    benchmark.pedantic(lambda: None, rounds=1)


@pytest.fixture(scope="module")
def loaded_list(full_list_file: Path) -> Blacklist:
    return load_binary(full_list_file)


@pytest.fixture(scope="module")
def probes(loaded_list: Blacklist) -> tuple[list[str], list[str]]:
    """PROBES listed cards picked at random, and random card numbers not on the list."""
    columns = loaded_list.columns()
    rng = np.random.default_rng(2)
    picks = rng.choice(len(columns[0]), size=PROBES, replace=False)
    members = _cards(tuple(column[picks] for column in columns), PROBES)  # type: ignore[arg-type]
    absent = [
        card
        for card in (f"{n:020d}" for n in rng.integers(0, 10**18, PROBES))
        if loaded_list.reason_for(card) is None
    ]
    return members, absent


def _per_lookup(benchmark, lookups: int) -> None:  # type: ignore[no-untyped-def]
    median_ns = benchmark.stats.stats.median / lookups * 1e9
    benchmark.extra_info["median_ns_per_lookup"] = round(median_ns)
    print(f"\n{benchmark.name}: {median_ns:.0f} ns a lookup (median over {lookups} probes)")


def test_lookup_listed(benchmark, loaded_list: Blacklist, probes) -> None:  # type: ignore[no-untyped-def]
    reason_for = loaded_list.reason_for
    found = benchmark(lambda: [reason_for(card) for card in probes[0]])
    assert all(isinstance(reason, Reason) for reason in found)
    _per_lookup(benchmark, PROBES)


def test_lookup_unlisted(benchmark, loaded_list: Blacklist, probes) -> None:  # type: ignore[no-untyped-def]
    reason_for = loaded_list.reason_for
    found = benchmark(lambda: [reason_for(card) for card in probes[1]])
    assert not any(found)
    _per_lookup(benchmark, len(probes[1]))


def test_lookup_baseline_python_dict(benchmark, loaded_list: Blacklist, probes) -> None:  # type: ignore[no-untyped-def]
    # The same 10M cards as str keys of a plain dict.
    as_dict = dict(loaded_list.entries())
    get = as_dict.get
    found = benchmark(lambda: [get(card) for card in probes[0]])
    assert all(reason is not None for reason in found)
    _per_lookup(benchmark, PROBES)
