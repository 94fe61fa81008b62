"""Where the shards run: one after the other in this process, in local worker processes, or as
tasks on a Dask cluster (`distributed`), each result handed to `on_done` as it comes in."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from rsu_sim.errors import SimError
from rsu_sim.scale.merge import ShardResult
from rsu_sim.scale.plan import ShardSpec
from rsu_sim.scale.shard import run_shard

Done = Callable[[ShardResult], None]
#: `--dask local`: a LocalCluster on this machine.
LOCAL = "local"


def run_here(specs: Sequence[ShardSpec], out: str, journal_mode: str,
             on_done: Done) -> list[ShardResult]:
    """Every shard in this process, in order."""
    results = []
    for spec in specs:
        results.append(run_shard(spec, out, journal_mode))
        on_done(results[-1])
    return results


def run_in_processes(specs: Sequence[ShardSpec], out: str, journal_mode: str, workers: int,
                     on_done: Done) -> list[ShardResult]:
    """The shards on `workers` local processes (started fresh: "spawn"), each taking the next
    shard when it is done with one."""
    context = multiprocessing.get_context("spawn")
    results = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(run_shard, spec, out, journal_mode) for spec in specs]
        try:
            for future in as_completed(futures):
                results.append(future.result())
                on_done(results[-1])
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


def run_on_dask(specs: Sequence[ShardSpec], out: str, journal_mode: str, address: str,
                workers: int, on_done: Done) -> tuple[list[ShardResult], str]:
    """The shards as tasks on the Dask cluster at `address` (`tcp://host:8786`), or on a
    LocalCluster of `workers` single-threaded processes for `local`; returns the results and
    the cluster's description. Every worker needs this package installed, and writes its
    shards' files under `out` on its own file system."""
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise SimError(f"--dask needs dask[distributed]: {exc}") from exc
    cluster = None
    try:
        if address == LOCAL:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.WARNING)
            client = Client(cluster)
        else:
            client = Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise SimError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        where = (f"Dask LocalCluster, {workers} worker processes" if cluster is not None
                 else f"Dask cluster {address}, {len(client.scheduler_info()['workers'])} "
                      f"workers")
        futures = client.map(run_shard, specs, out=out, journal_mode=journal_mode, pure=False)
        results = []
        for future in dask_completed(futures):
            results.append(future.result())
            on_done(results[-1])
        return results, where
    finally:
        client.close()
        if cluster is not None:
            # A worker that takes its time to stop is killed by its nanny, with a warning
            # that says nothing to the user of a finished run.
            quiet = logging.getLogger("distributed")
            level = quiet.level
            quiet.setLevel(logging.ERROR)
            try:
                cluster.close()
            finally:
                quiet.setLevel(level)
