"""Whole system: the virtual-time simulation (RSU, OBU and card emulators with full crypto on both
sides, lane cores, in-memory journal) in vehicles per CPU second; and a real lane-engine plaza
(32 lanes, durable journal) over loopback TCP, against scripted RSUs (the lane's capacity, and
the latency at the target's load) and against the simulator's RSUs in real time (realistic).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from benchmarks.tcp_plaza import scripted_run, simulated_run
from lane_engine.journal import MEMORY, MemoryJournal, SqliteJournal

SIM_VEHICLES = 3_000
SIM_ROUNDS = 3  # the median round's rate is the figure


#: (scenario, journal) of the simulation runs: the target's is the mixed scenario with the
#: simulator's in-memory journal (what `rsu-sim run --journal memory` runs); SQLite in memory is
#: shown beside it for reference.
SIMULATIONS = [("mixed", "memory"), ("mixed", "sqlite-memory"), ("clean", "memory")]


@pytest.mark.parametrize(("scenario_name", "journal_kind"), SIMULATIONS,
                         ids=[f"{s}-{j}" for s, j in SIMULATIONS])
def test_virtual_time_simulation(benchmark, scenario_name: str, journal_kind: str) -> None:  # type: ignore[no-untyped-def]
    """Vehicles per CPU second of the run phase (setup and output files left out)."""
    from rsu_sim import harness
    from rsu_sim.scenario_file import load_packaged_scenario

    benchmark.group = "system virtual-time simulation"
    scenario = load_packaged_scenario(scenario_name)
    results = []

    def setup():  # type: ignore[no-untyped-def]
        journal = MemoryJournal() if journal_kind == "memory" else SqliteJournal(MEMORY)
        options = harness.SimulationOptions(vehicles=SIM_VEHICLES)
        return (harness.Simulation(scenario, harness.GroupCommitJournal(journal), options),), {}

    def run(simulation):  # type: ignore[no-untyped-def]
        results.append(simulation.run())

    benchmark.pedantic(run, setup=setup, rounds=SIM_ROUNDS, iterations=1)
    summary = results[-1].summary
    assert summary.passes == SIM_VEHICLES
    assert scenario_name != "clean" or summary.unresolved == 0
    cpu_rates = sorted(r.summary.speed["vehicles_per_cpu_s"] for r in results)
    benchmark.extra_info.update(kind="simulation", impl=f"{scenario_name} scenario, full crypto, "
                                f"journal {journal_kind}", vehicles=SIM_VEHICLES,
                                vehicles_per_cpu_s=cpu_rates[len(cpu_rates) // 2],
                                vehicles_per_wall_s=SIM_VEHICLES / benchmark.stats.stats.median)


#: The lane-capacity run: warm-up, then the sustained window (seconds).
TCP_WARMUP_S, TCP_WINDOW_S = 3.0, 20.0
#: The load the latency target is judged at, and that run's window.
TARGET_TPS, TARGET_WINDOW_S = 1_000.0, 15.0
#: The realistic run (simulated RSUs in real time).
SIM_TCP_WINDOW_S = 15.0
TCP_LANES = 32
#: Busy processes of the "loaded" run (half the cores of the 2-core reference machine).
LOAD_CPU = 1


def _tcp(benchmark, run, **info: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    figures: dict[str, object] = {}
    benchmark.group = "system real TCP, 32 lanes"

    def once() -> None:
        figures.update(asyncio.run(run()))

    benchmark.pedantic(once, rounds=1, iterations=1)
    benchmark.extra_info.update(kind="tcp", **info, **figures)
    return figures


def test_tcp_32_lanes_throughput_and_decision_latency(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The lane process's capacity: scripted RSUs (another process) answer at once."""
    figures = _tcp(benchmark, lambda: scripted_run(
        tmp_path, lanes=TCP_LANES, warmup_s=TCP_WARMUP_S, window_s=TCP_WINDOW_S),
        impl="scripted RSUs, as fast as the lane answers")
    assert figures["rsu_errors"] == [] and figures["decisions"] == figures["completed"] > 0


@pytest.mark.parametrize("machine", ["idle", "loaded"])
def test_tcp_32_lanes_at_target_load(benchmark, tmp_path: Path, machine: str) -> None:  # type: ignore[no-untyped-def]
    """Decision latency at the target's load: the scripted RSUs offer 1,000 vehicles/s; the
    disk's fsync latency is probed beside it. "idle": the machine as found; "loaded": with
    one busy process and a writer fsyncing 1 MiB at a time beside the run."""
    figures = _tcp(benchmark, lambda: scripted_run(
        tmp_path, lanes=TCP_LANES, warmup_s=TCP_WARMUP_S, window_s=TARGET_WINDOW_S,
        offered_tps=TARGET_TPS, load_cpu=LOAD_CPU if machine == "loaded" else None),
        impl=f"scripted RSUs, {TARGET_TPS:,.0f} vehicles/s offered, machine {machine}")
    assert figures["rsu_errors"] == [] and figures["decisions"] == figures["completed"] > 0


def test_tcp_32_lanes_at_target_load_commit_on_the_loop(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The target-load run with the group commit on the event loop (`journal.writer_thread =
    false`): the reference the writer thread is compared with, in the same run."""
    figures = _tcp(benchmark, lambda: scripted_run(
        tmp_path, lanes=TCP_LANES, warmup_s=TCP_WARMUP_S, window_s=TARGET_WINDOW_S,
        offered_tps=TARGET_TPS, writer_thread=False),
        impl=f"scripted RSUs, {TARGET_TPS:,.0f} vehicles/s offered, commit on the loop")
    assert figures["rsu_errors"] == [] and figures["decisions"] == figures["completed"] > 0


def test_tcp_32_lanes_simulated_rsus(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The realistic figure: the simulator's RSUs, radio timing in real time, queues ahead."""
    figures = _tcp(benchmark, lambda: simulated_run(
        tmp_path, lanes=TCP_LANES, warmup_s=TCP_WARMUP_S, window_s=SIM_TCP_WINDOW_S),
        impl="simulated RSUs, real time")
    assert figures["decisions"] > 0


#: The scale-out run: passes, and passes per shard (the plan is the same for any worker count).
SCALE_VEHICLES, SCALE_SHARD_VEHICLES = 100_000, 10_000


@pytest.mark.parametrize("workers", [1, 2])
def test_sharded_run_wall_clock(benchmark, tmp_path: Path, workers: int) -> None:  # type: ignore[no-untyped-def]
    """A 100,000-vehicle mixed run in shards on 1 and on 2 local processes (`rsu-sim run
    --workers N --journal memory`): wall clock from plan to merged audit; the same run either
    way (the test checks the merged summaries agree)."""
    from rsu_sim.harness.session import JournalMode
    from rsu_sim.model.scenario import mixed_scenario
    from rsu_sim.scale.run import run_sharded

    benchmark.group = "system sharded run, 100,000 vehicles"
    found = []

    def once() -> None:
        found.append(run_sharded(mixed_scenario(), SCALE_VEHICLES, tmp_path / "run",
                                 workers=workers, shard_vehicles=SCALE_SHARD_VEHICLES,
                                 journal_mode=JournalMode.MEMORY))

    benchmark.pedantic(once, rounds=1, iterations=1)
    run = found[0]
    assert run.audit.clean and run.summary.passes == SCALE_VEHICLES
    _SHARDED[workers] = run.summary.deterministic()
    if len(_SHARDED) == 2:
        assert _SHARDED[1] == _SHARDED[2]
    speed = run.summary.speed
    benchmark.extra_info.update(
        kind="sharded run", impl=f"{workers} worker process(es)", workers=workers,
        vehicles=SCALE_VEHICLES, shards=len(run.shards), wall_s=speed["wall_s"],
        cpu_s=speed["cpu_s"], vehicles_per_wall_s=speed["vehicles_per_wall_s"],
        shard_vehicles_per_cpu_s=speed["vehicles_per_cpu_s"])


_SHARDED: dict[int, object] = {}
