"""The simulator's in-process harness: RSU emulators and lane-engine cores in virtual time."""

from rsu_sim.harness.journal_sink import GroupCommitJournal
from rsu_sim.harness.progress import ProgressBar
from rsu_sim.harness.run import (
    FrameCapture,
    Simulation,
    SimulationOptions,
    SimulationResult,
    scaled_scenario,
)
from rsu_sim.harness.session import JournalMode, run_to_directory
from rsu_sim.harness.summary import Summary, format_table, transaction_time_definition
from rsu_sim.site.devices import pass_faults

__all__ = [
    "FrameCapture",
    "GroupCommitJournal",
    "JournalMode",
    "ProgressBar",
    "Simulation",
    "SimulationOptions",
    "SimulationResult",
    "Summary",
    "format_table",
    "pass_faults",
    "run_to_directory",
    "scaled_scenario",
    "transaction_time_definition",
]
