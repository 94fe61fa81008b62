"""One shard run to its own folder, its audit taken there: what a worker process or a Dask task
runs (`run_shard` is a plain function of picklable values)."""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from pathlib import Path

from rsu_sim.harness.run import SimulationOptions
from rsu_sim.harness.session import JournalMode, simulate_to_directory
from rsu_sim.results.audit import audit
from rsu_sim.results.files import load_run
from rsu_sim.scale.merge import ShardResult
from rsu_sim.scale.plan import ShardSpec


def run_shard(spec: ShardSpec, out: str, journal_mode: str = JournalMode.MEMORY.value
              ) -> ShardResult:
    """Run shard `spec` into `out/shards/<shard name>` and audit what it wrote there."""
    started, cpu_started = time.perf_counter(), time.process_time()
    directory = Path(out) / "shards" / spec.name
    options = SimulationOptions(vehicles=spec.vehicles, ids=spec.ids)
    simulation, result = simulate_to_directory(spec.scenario, directory, options,
                                               JournalMode(journal_mode))
    files = load_run(directory)
    report = audit(files.journal, files.cards, files.key_set)
    return ShardResult(
        index=spec.index, name=spec.name, summary=result.summary.to_dict(),
        durations_s=Counter(simulation.tally.durations_s),
        audit_problems=tuple(report.problems), audit_counts=dict(report.counts),
        cpu_s=time.process_time() - cpu_started, wall_s=time.perf_counter() - started,
        host=socket.gethostname(), pid=os.getpid(),
        extra={"run_cpu_s": float(result.summary.speed["cpu_s"])},
    )
