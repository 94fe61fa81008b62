"""`rsu-sim serve --out DIR` killed with SIGKILL mid-run and started again on the same DIR,
with this project's lane plaza connected throughout: the same world goes on (cards keep every
committed purchase, no PSAM terminal serial is used twice, the traffic resumes after the
arrivals already fed) and the audit of the world against the lane's journal is clean."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

from lane_engine.aio.plaza import run_plaza
from protocols.frames import LaneMode
from tests.e2e.served import (
    ServeProcess,
    example_fee_table,
    lane_config,
    rsu_sim,
    scenario_toml,
    world_purchases,
)
from tests.support.broker import free_port

VEHICLES, KILL_AFTER_PURCHASES = 90, 12


async def test_serve_killed_and_restarted_keeps_its_world(tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(scenario_toml([("exit-1", "exit", 1, ports[0]),
                                       ("exit-2", "exit", 2, ports[1])],
                                      station=102, vehicles=VEHICLES), encoding="utf-8")
    world = tmp_path / "world"
    serve = ServeProcess(["--scenario", str(scenario), "--out", str(world), "--speed", "15",
                          "--vehicles", str(VEHICLES)], tmp_path / "serve.log")
    journal = tmp_path / "journal.sqlite3"
    fees = example_fee_table(tmp_path)
    stop = asyncio.Event()
    await serve.start()
    config = lane_config(world, [(1, LaneMode.EXIT, ports[0]), (2, LaneMode.EXIT, ports[1])],
                         station=102, fee_table=fees, journal=journal)
    plaza = asyncio.create_task(run_plaza(config, stop=stop))
    try:
        while world_purchases(world) < KILL_AFTER_PURCHASES:
            assert not plaza.done(), plaza
            await asyncio.sleep(0.05)
        serve.kill()
        kept = world_purchases(world)
        serve.args.remove("--scenario")  # started again on DIR alone: its own world goes on
        serve.args.remove(str(scenario))
        await serve.start()
        assert await serve.wait() == 0, serve.log.read_text()
    finally:
        serve.stop()
        stop.set()
        await asyncio.wait_for(plaza, 60)

    assert serve.exits == [-signal.SIGKILL, 0]
    log = serve.log.read_text()
    fed_before = int(re.findall(r"session 2, (\d+) arrivals fed before", log)[0])
    assert 0 < fed_before < VEHICLES
    assert world_purchases(world) > kept >= KILL_AFTER_PURCHASES
    done = rsu_sim("audit", "--dir", str(world), "--journal", str(journal))
    assert done.returncode == 0, done.stdout + done.stderr
    counts = dict(re.findall(r"^  (.+?)\s{2,}([\d,]+)$", done.stdout, re.M))
    assert counts["serve sessions"] == "2"
    assert counts["serve sessions that did not stop cleanly"] == "1"
    assert int(counts["terminal serials, each used once"].replace(",", "")) == \
        world_purchases(world)
    print(f"serve kill -9: {kept} purchases when killed, {fed_before} arrivals fed before the "
          f"restart, audit:\n{done.stdout}")
