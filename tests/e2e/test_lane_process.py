"""End to end with the lane as its own process (`lane-engine run --config FILE`) against the
in-test `rsu_sim.server.server`: the process is killed with SIGKILL mid-run and started again. The
journal still reconciles with the cards (every committed debit journaled once, the intents the
kill left open resolved for clearing) and every record reaches the station once."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from lane_engine.config import MqttSettings, RuntimeTimeouts
from lane_engine.core.outcomes import Outcome
from rsu_sim.plaza.run import EdgeTally, arrivals_of, collect
from rsu_sim.plaza.setup import config_toml, exit_plaza_scenario, plaza_config, prepare_run
from rsu_sim.server.server import serve
from tests.e2e.station import Station, check_audit, check_delivered_once
from tests.support.broker import Broker

VEHICLES, LANES, SPEED = 700, 5, 24


class LaneProcess:
    """`python -m lane_engine run --config FILE`, its output appended to a log file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: asyncio.subprocess.Process | None = None
        self.exits: list[int] = []

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "lane_engine", "run", "--config", str(self.config),
                "--log-level", "warning", stdout=out, stderr=out)

    async def end(self, signum: int) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        code = await asyncio.wait_for(self.process.wait(), 60)
        self.exits.append(code)
        return code


def _journaled(path: Path) -> int:
    """Transactions in the lane process's journal so far, read only: opening it as a journal
    while the process creates it would race its schema creation."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return int(db.execute("SELECT count(*) FROM transactions").fetchone()[0])
    except sqlite3.Error:
        return 0


async def test_lane_process_killed_and_restarted(mqtt_broker: Broker, tmp_path: Path) -> None:
    run = prepare_run(exit_plaza_scenario(LANES, vehicles=VEHICLES, seed=31), tmp_path,
                      now=time.time())
    lane = LaneProcess(tmp_path / "lane.toml", tmp_path / "lane.log")
    mqtt = MqttSettings(mqtt_broker.host, mqtt_broker.port)
    stop = asyncio.Event()

    async def start_lane(ports: Mapping[str, int]) -> None:
        config = plaza_config(run, ports, mqtt=mqtt, timeouts=RuntimeTimeouts(drain_s=20.0))
        lane.config.write_text(config_toml(config), encoding="utf-8")
        await lane.start()

    async def kill_and_restart() -> None:
        while await asyncio.to_thread(_journaled, run.files.journal) < VEHICLES // 3:
            await asyncio.sleep(0.1)
        await lane.end(signal.SIGKILL)
        await asyncio.sleep(0.5)
        await lane.start()

    async with Station(mqtt_broker) as station:
        started = time.monotonic()
        fault = asyncio.create_task(kill_and_restart())
        watchdog = asyncio.get_running_loop().call_later(
            60 + arrivals_of(run, VEHICLES), stop.set)
        try:
            served = await serve(run.scenario, base_port=0, stop=stop, vehicles=VEHICLES,
                                 on_ready=start_lane, speed=SPEED, site=run.site)
        finally:
            watchdog.cancel()
            await fault
            assert await lane.end(signal.SIGTERM) == 0, lane.log.read_text()
        result = collect(run, served, EdgeTally(), time.monotonic() - started)
        delivered = await check_delivered_once(result, station)

    assert lane.exits[0] == -signal.SIGKILL
    assert served.passes == served.arrivals == VEHICLES
    assert served.connections >= 2 * LANES
    left_by_kill = [e.record for e in result.journal if e.record.outcome is Outcome.UNRESOLVED]
    check_audit(result)
    print(f"lane process: {VEHICLES} vehicles, {LANES} lanes, {delivered} records delivered, "
          f"{len(left_by_kill)} unresolved, {result.wall_s:.1f} s")
