"""Runs shared by the harness tests: the mixed scenario (every fault) to a temporary directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from rsu_sim.harness import JournalMode, SimulationOptions, SimulationResult, run_to_directory
from rsu_sim.model.scenario import mixed_scenario
from rsu_sim.results.files import RunFiles, load_run

#: Enough passes for every fault of the mixed scenario to show up, few enough for a quick test.
MIXED_VEHICLES = 2000


@dataclass(frozen=True)
class FinishedRun:
    result: SimulationResult
    files: RunFiles
    directory: Path


@pytest.fixture(scope="session")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    directory = tmp_path_factory.mktemp("mixed")
    result = run_to_directory(mixed_scenario(), directory,
                              SimulationOptions(vehicles=MIXED_VEHICLES), JournalMode.FILE)
    return FinishedRun(result, load_run(directory), directory)
