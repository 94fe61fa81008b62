"""A province of a day whose plazas publish to a real mosquitto, cleared by two `etc-centre
clear` processes sharing the subscription; one is stopped holding messages it has not
acknowledged, killed (SIGKILL) and started again under its client id. Nothing is lost (every
key the plazas sent is kept), nothing is booked twice (one ledger entry per booked record,
every day reconciles clean), and the restarted process took back what the dead one held."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from rsu_sim.province.config import ProvinceConfig
from tests.e2e.clearing_processes import (
    Clearing,
    assert_everything_booked_once,
    kept_count,
    province,
    register_sessions,
    wait_for,
    yesterday,
)
from tests.support.broker import Broker

pytestmark = [pytest.mark.broker, pytest.mark.slow]
SEED, VEHICLES, PLAZAS = 8, 300, 3
#: How long c2 stays stopped before it is killed.
STOPPED_S = 1.5


def test_two_clearing_processes_one_killed_book_everything_once(
        tmp_path: Path, mqtt_broker: Broker) -> None:
    config = ProvinceConfig(days=1, vehicles=VEHICLES, plazas=PLAZAS, seed=SEED,
                            start=yesterday())
    register_sessions(config, mqtt_broker, ("c1", "c2"), tmp_path / "first")

    out = tmp_path / "province"
    world = province(config, mqtt_broker, out)
    store = out / "centre.sqlite3"
    wait_for(lambda: (out / "policy.toml").is_file(), "the province's centre files")
    one = Clearing("c1", out, store, mqtt_broker, tmp_path / "c1.log")
    two = Clearing("c2", out, store, mqtt_broker, tmp_path / "c2.log")
    processes = [world, one.process, two.process]
    try:
        wait_for(lambda: kept_count(store) >= 10, "the first records cleared")
        # Stopped, c2 goes on being sent its share and acknowledges none of it (it may even
        # hang holding SQLite's write lock, mid-transaction); then it is killed.
        os.kill(two.process.pid, signal.SIGSTOP)
        time.sleep(STOPPED_S)
        two.process.kill()
        assert two.process.wait(10) == -signal.SIGKILL
        time.sleep(STOPPED_S)  # c1 clears on alone; c2's share waits in its session
        again = Clearing("c2", out, store, mqtt_broker, tmp_path / "c2-again.log")
        processes.append(again.process)
        stdout, stderr = world.communicate(timeout=400)
        assert world.returncode == 0, stdout + stderr
        taken_again = again.stop()
        one.stop()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    broker_again = taken_again["broker"]
    assert isinstance(broker_again, dict) and int(broker_again["messages"]) > 0
    assert_everything_booked_once(out)
