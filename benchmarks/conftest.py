"""Benchmark suites: run with `make bench` (or pytest benchmarks/ --benchmark-only); never part of
`make test`. Adds the machine's CPU model, cores, RAM and library versions to the JSON."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return 0.0


_LOAD_AT_START: list[float] = []


def pytest_sessionstart(session: Any) -> None:
    _LOAD_AT_START[:] = [round(x, 2) for x in os.getloadavg()]


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    import numba
    import numpy

    machine_info["etc"] = {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        # 1, 5 and 15 minute load averages: other jobs on the machine skew absolute figures
        "load_average_start": _LOAD_AT_START,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
