"""Sharded runs: the merged summary and audit are the same in this process, on two local
processes and on a Dask LocalCluster of two workers; no card is in two shards; `rsu-sim audit`
reads a sharded run's folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rsu_sim.cli.main import main
from rsu_sim.model.scenario import mixed_scenario
from rsu_sim.results.files import load_run, shard_directories
from rsu_sim.scale.run import ShardedRun, run_sharded

VEHICLES, SHARD_VEHICLES = 2_400, 800


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> tuple[ShardedRun, Path]:
    out = tmp_path_factory.mktemp("here")
    return run_sharded(mixed_scenario(), VEHICLES, out, shard_vehicles=SHARD_VEHICLES), out


def _same(a: ShardedRun, b: ShardedRun) -> None:
    assert a.summary.deterministic() == b.summary.deterministic()
    assert a.audit.render() == b.audit.render()


def test_shards_are_audited_clean_and_no_card_is_in_two(in_process: tuple[ShardedRun, Path]
                                                         ) -> None:
    run, out = in_process
    assert run.audit.clean, run.audit.render()
    assert run.summary.passes == VEHICLES and len(run.shards) == 3
    shards = shard_directories(out)
    assert [s.name for s in shards] == [r.name for r in run.shards]
    cards = [card for shard in shards for card in load_run(shard).cards]
    assert len({c.card_number for c in cards}) == len(cards) > VEHICLES // 2
    assert len({c.vehicle_id for c in cards}) == len(cards)
    written = json.loads((out / "summary.json").read_text())
    assert written["passes"] == VEHICLES and written == run.summary.to_dict()


def test_two_local_processes_give_the_same_run(tmp_path: Path,
                                               in_process: tuple[ShardedRun, Path]) -> None:
    run = run_sharded(mixed_scenario(), VEHICLES, tmp_path, workers=2,
                      shard_vehicles=SHARD_VEHICLES)
    _same(run, in_process[0])
    assert len({r.pid for r in run.shards}) == 2


def test_a_dask_local_cluster_of_two_workers_gives_the_same_run(
        tmp_path: Path, in_process: tuple[ShardedRun, Path]) -> None:
    pytest.importorskip("distributed")
    run = run_sharded(mixed_scenario(), VEHICLES, tmp_path, workers=2, dask="local",
                      shard_vehicles=SHARD_VEHICLES)
    _same(run, in_process[0])
    assert run.where.startswith("Dask LocalCluster")


def test_rsu_sim_audit_reads_a_sharded_run(in_process: tuple[ShardedRun, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run, out = in_process
    assert main(["audit", "--dir", str(out)]) == 0
    assert capsys.readouterr().out.strip() == run.audit.render()
