"""Clearing behind a bridged pair of brokers: the plazas publish to their own mosquitto, which
bridges their transactions (QoS 1, a persistent bridge session) to the centre's mosquitto,
where two `etc-centre clear` processes split them through the shared subscription. Both take a
share, every record the plazas journaled is kept, none is booked twice."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from centre.clearing.consumer import TRANSACTION_FILTER
from rsu_sim.province.config import ProvinceConfig
from tests.e2e.clearing_processes import (
    Clearing,
    assert_everything_booked_once,
    province,
    register_sessions,
    wait_for,
    yesterday,
)
from tests.support.broker import Broker, find_mosquitto, free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]
SEED, VEHICLES, PLAZAS = 3, 200, 3
BRIDGE = "plazas-to-centre"


@dataclasses.dataclass
class PlazaBroker(Broker):
    """The plazas' mosquitto, bridging every lane's transactions out to the centre's."""

    centre_port: int = 0

    def _settings(self) -> str:
        return super()._settings() + "\n".join([
            f"connection {BRIDGE}", f"remote_clientid {BRIDGE}",
            f"address 127.0.0.1:{self.centre_port}",
            f"topic {TRANSACTION_FILTER} out 1", "cleansession false",
            "bridge_protocol_version mqttv50", "restart_timeout 1", ""])


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[tuple[Broker, Broker]]:
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("Debian's mosquitto is not installed (apt-get install mosquitto)")
    (tmp_path / "centre-broker").mkdir()
    (tmp_path / "plaza-broker").mkdir()
    centre = Broker(binary=binary, workdir=tmp_path / "centre-broker", port=free_port())
    plazas = PlazaBroker(binary=binary, workdir=tmp_path / "plaza-broker", port=free_port(),
                         centre_port=centre.port)
    centre.start()
    try:
        plazas.start()
        try:
            yield plazas, centre
        finally:
            plazas.stop()
    finally:
        centre.stop()


def _bridged(centre: Broker) -> bool:
    log = centre.workdir / "mosquitto.log"
    return log.is_file() and f"as {BRIDGE} (" in log.read_text(errors="replace")


def test_two_clearing_processes_behind_a_bridge_split_and_book_everything_once(
        tmp_path: Path, brokers: tuple[Broker, Broker]) -> None:
    plazas, centre = brokers
    config = ProvinceConfig(days=1, vehicles=VEHICLES, plazas=PLAZAS, seed=SEED,
                            start=yesterday())
    register_sessions(config, centre, ("c1", "c2"), tmp_path / "first")
    wait_for(lambda: _bridged(centre), "the bridge's session at the centre's broker", 30)

    out = tmp_path / "province"
    world = province(config, plazas, out)
    store = out / "centre.sqlite3"
    wait_for(lambda: (out / "policy.toml").is_file(), "the province's centre files")
    one = Clearing("c1", out, store, centre, tmp_path / "c1.log")
    two = Clearing("c2", out, store, centre, tmp_path / "c2.log")
    processes = [world, one.process, two.process]
    try:
        stdout, stderr = world.communicate(timeout=400)
        assert world.returncode == 0, stdout + stderr
        taken = [one.stop()["broker"], two.stop()["broker"]]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    keys = assert_everything_booked_once(out)
    messages = [int(t["messages"]) for t in taken if isinstance(t, dict)]
    assert len(messages) == 2 and all(n > 0 for n in messages), messages
    assert sum(messages) >= keys
