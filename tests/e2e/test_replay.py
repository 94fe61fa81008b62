"""`rsu-sim replay`: a frame log captured while this project's lane was served, fed back to a
fresh lane of the same kind, gets the same answers (with the original timing sped up, and as a
plain hex capture paced by the answers); fed to the faulty scripted lane, the differences are
listed and the exit status says so."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from lane_engine.aio.plaza import run_plaza
from lane_engine.config import PlazaConfig
from lane_engine.fees.table_file import load_fee_table
from protocols.frames import LaneMode
from tests.e2e.served import ROOT, ServeProcess, example_fee_table, lane_config, scenario_toml
from tests.rsu_sim.conformance.faulty_lane import FaultyLane
from tests.support.broker import free_port

VEHICLES = 10


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(frame log, fee table, world) of a served run of this project's exit lane."""
    tmp = tmp_path_factory.mktemp("capture")
    port = free_port()
    scenario = tmp / "scenario.toml"
    scenario.write_text(scenario_toml([("exit-1", "exit", 2, port)], station=102,
                                      vehicles=VEHICLES, faults="none"), encoding="utf-8")
    fees = example_fee_table(tmp)
    world = tmp / "world"

    async def main() -> None:
        serve = ServeProcess(["--scenario", str(scenario), "--out", str(world), "--speed", "10",
                              "--vehicles", str(VEHICLES)], tmp / "serve.log", lanes=1)
        await serve.start()
        stop = asyncio.Event()
        config = lane_config(world, [(2, LaneMode.EXIT, port)], station=102, fee_table=fees,
                             journal=tmp / "journal.sqlite3")
        plaza = asyncio.create_task(run_plaza(config, stop=stop))
        try:
            assert await serve.wait() == 0
        finally:
            serve.stop()
            stop.set()
            await plaza

    asyncio.run(main())
    return world / "frames.log", fees, world


async def _replay(args: list[str], lane: Callable[[int], Awaitable[None]]
                  ) -> subprocess.CompletedProcess[str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rsu_sim", "replay", *args, "--lane", f"127.0.0.1:{port}",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    line = await asyncio.wait_for(process.stderr.readline(), 60)
    assert b"listening on" in line, line
    task = asyncio.create_task(lane(port))
    out, err = await asyncio.wait_for(process.communicate(), 120)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())


def _our_lane(world: Path, fees: Path, journal: Path) -> Callable[[int], Awaitable[None]]:
    async def lane(port: int) -> None:
        config: PlazaConfig = lane_config(world, [(2, LaneMode.EXIT, port)], station=102,
                                          fee_table=fees, journal=journal)
        await run_plaza(config, stop=asyncio.Event())
    return lane


async def test_the_same_lane_answers_as_in_the_capture(captured: tuple[Path, Path, Path],
                                                       tmp_path: Path) -> None:
    log, fees, world = captured
    done = await _replay([str(log), "--lane-id", "exit-1", "--speed", "4"],
                         _our_lane(world, fees, tmp_path / "a.sqlite3"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 exchanges differ" in done.stdout
    sent = int(done.stdout.split("replayed ")[1].split()[0])
    assert sent >= 3 * VEHICLES  # B2, B4 and B5 of every vehicle, B0 and the B1s


async def test_a_plain_hex_capture_is_paced_by_the_answers(captured: tuple[Path, Path, Path],
                                                           tmp_path: Path) -> None:
    log, fees, world = captured
    hex_capture = tmp_path / "capture.hex"
    hex_capture.write_text("".join(line.split()[-1] + "\n"
                                   for line in log.read_text().splitlines()
                                   if not line.startswith("#")), encoding="utf-8")
    done = await _replay([str(hex_capture)], _our_lane(world, fees, tmp_path / "b.sqlite3"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 exchanges differ" in done.stdout


async def test_the_faulty_lane_is_told_where_it_answers_otherwise(
        captured: tuple[Path, Path, Path], tmp_path: Path) -> None:
    log, fees, _ = captured
    table = load_fee_table(fees)

    async def lane(port: int) -> None:
        faulty = await FaultyLane.connect(
            port, lambda net, st, cls: table.fee(net, st, ("3701", 102), cls), "3701", 102, 2)
        await faulty.run()

    done = await _replay([str(log), "--speed", "4", "--report", str(tmp_path / "diff.json")],
                         lane)
    assert done.returncode == 1, done.stdout + done.stderr
    differing = [line for line in done.stdout.splitlines() if line.startswith("after B2")]
    assert differing and "replay C1(obu_id=" in differing[0]
    assert (tmp_path / "diff.json").read_text().count('"after"') >= len(differing)
