"""Start-up of the commands that price no trip (`lane-engine --help`, `journal list`, `status`)
beside `python -c pass`, each the median wall time of fresh processes, with bytecode caching as
an installed package has it (a cache folder of the run's own, warmed by a first call)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lane_engine.journal import SqliteJournal

RUNS = 9
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "lane-engine --help": ["-m", "lane_engine", "--help"],
    "lane-engine journal list": ["-m", "lane_engine", "journal", "list", "--journal", "{journal}"],
    "lane-engine status": ["-m", "lane_engine", "status", "--journal", "{journal}"],
}


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    directory = tmp_path_factory.mktemp("startup")
    journal = directory / "journal.sqlite3"
    SqliteJournal(journal).close_journal()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(directory / "pycache")
    return env, journal


@pytest.mark.parametrize("name", list(COMMANDS))
def test_start_up(benchmark, setting, name: str) -> None:  # type: ignore[no-untyped-def]
    benchmark.group = "CLI start-up"
    env, journal = setting
    command = [sys.executable, *(a.format(journal=journal) for a in COMMANDS[name])]
    subprocess.run(command, env=env, capture_output=True, check=True)  # writes the bytecode
    times: list[float] = []

    def once() -> None:
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)

    benchmark.pedantic(once, rounds=RUNS, iterations=1)
    benchmark.extra_info.update(kind="start-up", impl=name,
                                wall_s=statistics.median(times), runs=RUNS)
