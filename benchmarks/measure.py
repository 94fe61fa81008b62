"""Measuring helpers of the suites: CPU time per item, peak memory, figures into extra_info."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
MIB = 2**20


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_memory(run: Callable[[], T]) -> tuple[T, dict[str, float]]:
    """`run()` and its peak memory in MiB: Python/numpy allocations traced by tracemalloc, and
    the process's resident peak above its resident size before (catches numba's allocations)."""
    try:  # "5" resets the peak resident size (Linux >= 4.0)
        Path("/proc/self/clear_refs").write_text("5")
        rss_known = True
    except OSError:
        rss_known = False
    rss_before = _status_kib("VmRSS")
    tracemalloc.start()
    try:
        result = run()
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    figures = {"traced_peak_mib": round(traced_peak / MIB, 1)}
    if rss_known:
        figures["rss_peak_over_start_mib"] = round((_status_kib("VmHWM") - rss_before) / 1024, 1)
    return result, figures


class CpuClock:
    """Adds up the process CPU time of the calls it wraps, to report CPU beside wall time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, run: Callable[..., T]) -> Callable[..., T]:
        """`run`, timed on the process CPU clock on every call."""

        def timed(*args: Any, **kwargs: Any) -> T:
            start = time.process_time()
            try:
                return run(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - start
                self.calls += 1

        return timed


def per_item(benchmark: Any, items: int, cpu: CpuClock | None = None, unit: str = "us") -> None:
    """Store wall (median round) and CPU (mean round) time per item in extra_info."""
    scale = {"us": 1e6, "ms": 1e3, "s": 1.0}[unit]
    benchmark.extra_info["items_per_round"] = items
    benchmark.extra_info[f"wall_{unit}_per_item"] = benchmark.stats.stats.median / items * scale
    if cpu is not None and cpu.calls:
        benchmark.extra_info[f"cpu_{unit}_per_item"] = cpu.seconds / cpu.calls / items * scale
