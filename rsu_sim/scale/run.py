"""A sharded run: plan the shards, run them where asked, merge their summaries and audits, and
write the run's summary beside the shards' own folders."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rsu_sim.harness.session import JournalMode
from rsu_sim.harness.summary import Summary
from rsu_sim.model.scenario import Scenario
from rsu_sim.results.audit import AuditReport
from rsu_sim.results.files import prepare_sharded, write_sharded_outputs
from rsu_sim.scale.merge import ShardResult, merge_audit, merge_summary
from rsu_sim.scale.plan import DEFAULT_SHARD_VEHICLES, plan_shards
from rsu_sim.scale.workers import run_here, run_in_processes, run_on_dask

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ShardedRun:
    """A finished sharded run: the merged summary and audit, each shard's result, where it ran."""

    summary: Summary
    audit: AuditReport
    shards: tuple[ShardResult, ...]
    where: str


def run_sharded(scenario: Scenario, vehicles: int, out: Path, *, workers: int = 1,
                dask: str | None = None, shard_vehicles: int = DEFAULT_SHARD_VEHICLES,
                journal_mode: JournalMode = JournalMode.MEMORY,
                progress: Progress | None = None) -> ShardedRun:
    """Run `vehicles` passes of `scenario` in shards of `shard_vehicles` on `workers` local
    processes (1: in this process), or on the Dask cluster `dask` ("local": a LocalCluster of
    `workers` processes); write under `out` and return the merged figures."""
    specs = plan_shards(scenario, vehicles, shard_vehicles)
    prepare_sharded(out)
    done = [0]

    def on_done(result: ShardResult) -> None:
        done[0] += int(result.summary["passes"])
        if progress is not None:
            progress(done[0], vehicles)

    started = time.perf_counter()
    mode, target = journal_mode.value, str(out)
    if dask is not None:
        results, where = run_on_dask(specs, target, mode, dask, workers, on_done)
    elif workers == 1:
        results, where = run_here(specs, target, mode, on_done), "this process"
    else:
        results = run_in_processes(specs, target, mode, workers, on_done)
        where = f"{workers} local worker processes"
    wall = time.perf_counter() - started
    results.sort(key=lambda r: r.index)
    passes = sum(int(r.summary["passes"]) for r in results)
    cpu = sum(r.extra["run_cpu_s"] for r in results)
    speed = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
             "vehicles_per_cpu_s": round(passes / cpu, 1) if cpu > 0 else 0.0,
             "vehicles_per_wall_s": round(passes / wall, 1) if wall > 0 else 0.0,
             "shards": float(len(specs)), "workers": float(workers)}
    summary = merge_summary(results, scenario=scenario.name, seed=scenario.seed, speed=speed)
    report = merge_audit(results)
    write_sharded_outputs(out, summary=summary.to_dict(), scenario=scenario, shards=[
        {"shard": r.name, "seed": spec.scenario.seed, "vehicles": spec.vehicles,
         "stations": sorted({lane.station for lane in spec.scenario.lanes}),
         "first_vehicle_id": spec.ids.first_vehicle_id, "obu_ids": list(spec.ids.obu_ids),
         "audit_clean": not r.audit_problems, "host": r.host, "pid": r.pid,
         "cpu_s": round(r.cpu_s, 3), "wall_s": round(r.wall_s, 3)}
        for spec, r in zip(specs, results, strict=True)])
    return ShardedRun(summary, report, tuple(results), where)
