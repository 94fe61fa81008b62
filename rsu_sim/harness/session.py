"""A whole run to disk: journal (file with group commit, or memory copied out at the end), the
simulation, then the key set, cards, summary and scenario under the output directory."""

from __future__ import annotations

import enum
from pathlib import Path

from lane_engine.journal import Journal, MemoryJournal, SqliteJournal
from rsu_sim.harness.journal_sink import GroupCommitJournal
from rsu_sim.harness.run import Progress, Simulation, SimulationOptions, SimulationResult
from rsu_sim.model.scenario import Scenario
from rsu_sim.results.files import copy_journal, final_cards, journal_path, prepare, write_outputs


class JournalMode(enum.Enum):
    """Where the lanes journal during a run."""

    #: a durable SQLite file under the output directory, group commit
    FILE = "file"
    #: a `MemoryJournal` (faster: nothing serialised), copied to the file when the run ends
    MEMORY = "memory"


def run_to_directory(scenario: Scenario, directory: Path, options: SimulationOptions,
                     journal_mode: JournalMode = JournalMode.FILE,
                     progress: Progress | None = None) -> SimulationResult:
    """Run `scenario` and write every output file under `directory`."""
    return simulate_to_directory(scenario, directory, options, journal_mode, progress)[1]


def simulate_to_directory(scenario: Scenario, directory: Path, options: SimulationOptions,
                          journal_mode: JournalMode = JournalMode.FILE,
                          progress: Progress | None = None
                          ) -> tuple[Simulation, SimulationResult]:
    """`run_to_directory`, also returning the finished simulation (its tally, its lanes)."""
    prepare(directory)
    path = journal_path(directory)
    clock = _VirtualClock()
    journal: Journal = (SqliteJournal(path, clock=clock.time) if journal_mode is JournalMode.FILE
                        else MemoryJournal(clock=clock.time))
    sink = GroupCommitJournal(journal)
    try:
        simulation = Simulation(scenario, sink, options)
        clock.queue = simulation.queue
        result = simulation.run(progress)
        sink.commit()
        if journal_mode is JournalMode.MEMORY:
            copy_journal(journal, path)
    finally:
        sink.finish()
    write_outputs(directory, key_set=result.key_set, cards=final_cards(result.fleet,
                  result.population), summary=result.summary.to_dict(),
                  scenario=result.scenario)
    return simulation, result


class _VirtualClock:
    """The journal's clock: the simulation's virtual time, so a journal is reproducible."""

    queue: object = None

    def time(self) -> float:
        return float(getattr(self.queue, "now", 0.0))
