"""`rsu-sim run --workers N` and `--dask ADDRESS`: the run split into shards, run in parallel,
merged; and `rsu-sim audit` of a sharded run's folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli_conventions import print_json
from rsu_sim.harness import JournalMode, ProgressBar, format_table
from rsu_sim.model.scenario import Scenario
from rsu_sim.results.audit import AuditReport, audit
from rsu_sim.results.files import load_run, shard_directories
from rsu_sim.scale.merge import merge_reports
from rsu_sim.scale.plan import DEFAULT_SHARD_VEHICLES
from rsu_sim.scale.run import run_sharded

#: `--dask local` without `--workers`: a LocalCluster of this many worker processes.
DEFAULT_LOCAL_DASK_WORKERS = 2


def add_scale_arguments(run: argparse.ArgumentParser, positive_int: object) -> None:
    """The sharding options of `rsu-sim run`."""
    group = run.add_argument_group(
        "scale-out", "Split the run into shards of --shard-vehicles passes, each the scenario's "
        "plaza at stations of its own with cards of its own (no card is in two shards); the "
        "shards run in parallel and their summaries and audits are merged, the same whatever "
        "runs them. Each shard's files go to DIR/shards/shard-NNNNN/, the merged summary to "
        "DIR/summary.json; exit status 1 when the merged audit is not clean.")
    group.add_argument("--workers", type=positive_int, metavar="N",  # type: ignore[arg-type]
                       help="run the shards on N local processes (1: in this process)")
    group.add_argument("--dask", metavar="ADDRESS",
                       help="run the shards as tasks on the Dask scheduler at ADDRESS "
                            "(tcp://host:8786; every worker needs this package), or `local` "
                            f"for a LocalCluster of --workers processes (default "
                            f"{DEFAULT_LOCAL_DASK_WORKERS})")
    group.add_argument("--shard-vehicles", type=positive_int,  # type: ignore[arg-type]
                       default=DEFAULT_SHARD_VEHICLES, metavar="M",
                       help=f"passes per shard (default {DEFAULT_SHARD_VEHICLES:,})")


def is_sharded(args: argparse.Namespace) -> bool:
    """Whether `rsu-sim run` was asked to shard."""
    return args.workers is not None or args.dask is not None


def run_sharded_command(args: argparse.Namespace, scenario: Scenario) -> int:
    """Run, print the merged summary and audit; 0 when the audit is clean."""
    workers = args.workers or (DEFAULT_LOCAL_DASK_WORKERS if args.dask == "local" else 1)
    progress = ProgressBar(enabled=False if args.quiet else None)
    try:
        run = run_sharded(scenario, args.vehicles, args.out, workers=workers, dask=args.dask,
                          shard_vehicles=args.shard_vehicles,
                          journal_mode=JournalMode(args.journal), progress=progress)
    finally:
        progress.finish()
    if args.json:
        print_json({"summary": run.summary.to_dict(), "shards": len(run.shards),
                    "where": run.where, "clean": run.audit.clean,
                    "problems": run.audit.problems, "counts": run.audit.counts,
                    "outputs": str(args.out)})
        return 0 if run.audit.clean else 1
    speed = run.summary.speed
    print(format_table(run.summary))
    print(f"shards: {len(run.shards)} of up to {args.shard_vehicles:,} passes on {run.where}; "
          f"wall {speed['wall_s']:.1f} s, {speed['vehicles_per_wall_s']:,.0f} vehicles per "
          f"wall second")
    print(run.audit.render())
    print(f"outputs in {args.out} (each shard in {args.out / 'shards'})")
    return 0 if run.audit.clean else 1


def audit_sharded(directory: Path) -> AuditReport | None:
    """The merged audit of a sharded run in `directory`, None when it is not one."""
    shards = shard_directories(directory)
    if not shards:
        return None
    named = []
    for shard in shards:
        files = load_run(shard)
        named.append((shard.name, audit(files.journal, files.cards, files.key_set)))
    return merge_reports(named)
