"""A served world for end-to-end tests: `rsu-sim serve --out DIR` as its own process (started,
killed, started again) and this project's lane plaza configured against it (fee table built
from the example network, the blacklist serve writes, the world's keys for the TAC audit)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lane_engine.config import AuditSettings, LaneSettings, PlazaConfig, Reconnect
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.table_file import write_fee_table
from lane_engine.files.network import load_network
from protocols.frames import LaneMode

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_NETWORK = ROOT / "examples" / "network.toml"
EXAMPLE_POLICY = ROOT / "examples" / "policy.toml"
TIMEOUT_S = 120.0


def scenario_toml(lanes: list[tuple[str, str, int, int]], *, station: int, vehicles: int,
                  faults: str = "mixed", seed: int = 11) -> str:
    """A scenario of lanes (id, mode, lane number, port) at 3701/`station`, its cars entered
    upstream at the example network's other Jinan stations; `faults` "mixed" or "none"."""
    lines = [f'name = "served-{station}"', f"seed = {seed}",
             f"duration_s = {max(60, vehicles * 3)}", ""]
    for lane_id, mode, number, port in lanes:
        lines += ["[[lanes]]", f'id = "{lane_id}"', f'mode = "{mode}"', 'network = "3701"',
                  f"station = {station}", f"lane = {number}", f"port = {port}", ""]
    upstream = [s for s in (101, 102, 120, 130) if s != station]
    lines += ["[arrivals]", 'kind = "poisson"', "rate_per_hour = 1200", "",
              "[population]", "upstream_share = 1.0", "upstream_stations = ["
              + ", ".join(f'{{network = "3701", station = {s}}}' for s in upstream) + "]", ""]
    if faults == "mixed":
        lines += ["[faults]", "no_card = 0.02", "tampered = 0.02", "expired_obu = 0.02",
                  "expired_card = 0.02", "blacklisted = 0.03", "plate_mismatch = 0.02",
                  "class_mismatch = 0.02", "insufficient_balance = 0.05", "stale_entry = 0.02",
                  "missing_entry = 0.02", "radio_fade = 0.03", "zone_exit_early = 0.03",
                  "duplicate_frames = 0.02", "corrupted_tcp = 0.002", ""]
    else:
        lines += ["[radio]", "frame_loss_probability = 0.0", ""]
    return "\n".join(lines)


def example_fee_table(directory: Path) -> Path:
    """The fee table of the example network, written under `directory`."""
    path = directory / "fees.etcfee"
    table = build_fee_table(load_network(EXAMPLE_NETWORK), "2026.11", "2026-11-01T00:00:00Z")
    write_fee_table(table, path)
    return path


def lane_config(world: Path, lanes: list[tuple[int, LaneMode, int]], *, station: int,
                fee_table: Path, journal: Path) -> PlazaConfig:
    """This project's plaza at 3701/`station` with lanes (number, mode, RSU port) on loopback,
    loading what the served world gave it."""
    return PlazaConfig(
        network="3701", station=station, name="served plaza",
        lanes=tuple(LaneSettings(number, mode, "127.0.0.1", port)
                    for number, mode, port in lanes),
        policy=EXAMPLE_POLICY, fee_table=fee_table, blacklist=world / "blacklist.bin",
        journal=journal, audit=AuditSettings(world / "keys.toml"),
        reconnect=Reconnect(initial_s=0.1, max_s=0.5),
    )


@dataclass
class ServeProcess:
    """`python -m rsu_sim serve ARGS`, its stderr appended to `log`."""

    args: list[str]
    log: Path
    lanes: int = 2
    process: subprocess.Popen[bytes] | None = None
    exits: list[int] = field(default_factory=list)

    async def start(self) -> None:
        """Start it and return once every lane listens."""
        self.log.touch()
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rsu_sim", "serve", *self.args], cwd=ROOT,
                stdout=subprocess.DEVNULL, stderr=err)
        listening = self.log.read_text().count("listening on") + self.lanes
        while self.log.read_text().count("listening on") < listening:
            if self.process.poll() is not None:
                raise AssertionError(f"serve ended early: {self.log.read_text()}")
            await asyncio.sleep(0.05)

    def ports(self) -> dict[str, int]:
        """{lane id: port} of the latest start, from its "listening on" lines."""
        found: dict[str, int] = {}
        for line in self.log.read_text().splitlines():
            if " listening on " in line:
                words = line.split()
                found[words[2]] = int(words[-1].rsplit(":", 1)[1])
        return found

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.exits.append(self.process.wait(TIMEOUT_S))

    async def wait(self, timeout_s: float = TIMEOUT_S) -> int:
        assert self.process is not None
        code = await asyncio.wait_for(asyncio.to_thread(self.process.wait), timeout_s)
        self.exits.append(code)
        return code

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT_S)


def world_purchases(world: Path) -> int:
    """Card purchases the world file holds so far, read only (0 while it is being made)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{world / 'world.sqlite3'}?mode=ro",
                                                uri=True)) as db:
            return int(db.execute("SELECT count(*) FROM card_log").fetchone()[0])
    except sqlite3.Error:
        return 0


def rsu_sim(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m rsu_sim ARGS`, its output captured."""
    return subprocess.run([sys.executable, "-m", "rsu_sim", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, check=False)
