"""The crash campaign (`make chaos`): `lane-engine run`, `rsu-sim serve --out` and mosquitto as
real processes, each SIGKILLed at random moments and started again, while a station subscriber
(persistent MQTT session) records every transaction record it is sent; then the audit of the
served world (every card's purchases) against the lane's journal, and of the journal against
the station's records.

`python -m tests.chaos.campaign --kills 1000 --seed 1 --seconds 3600 --out var/chaos` prints,
per kill, a progress line, and at the end: the kills (by process), the card debits, the debits
journaled once, lost (on a card, not in the journal) and doubled (one purchase, two records),
those left for clearing, and the records journaled and delivered. Exit status 1 when anything
is lost, doubled, undelivered or the audit finds another problem.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from lane_engine.journal import EntryState, SqliteJournal
from rsu_sim.results.audit import AuditReport, audit
from rsu_sim.results.lane_records import load_journal
from rsu_sim.results.served import load_served
from tests.e2e.served import EXAMPLE_POLICY, ROOT, example_fee_table, scenario_toml
from tests.support.broker import Broker, find_mosquitto, free_port

STATION = 102
KILLABLE = ("lane", "serve", "broker")
#: Arrivals come `speed` times as often as the scenario's 1,200 an hour on each of two lanes;
#: the world holds a card for each, so a long campaign keeps it slow enough to stay small (a
#: world of 10,000 reopens in about 3 s after a kill, one of 40,000 in 8 s).
SPEED = 3
LANE_ARRIVALS_PER_S = 1200 / 3600
TOPIC = f"etc/3701/{STATION}/+/transactions"


@dataclass
class ChaosResult:
    """What one campaign did and found."""

    seed: int
    kills: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    card_debits: int = 0
    lost: int = 0
    doubled: int = 0
    left_for_clearing: int = 0
    other_problems: list[str] = field(default_factory=list)
    records_journaled: int = 0
    records_delivered: int = 0
    deliveries: int = 0
    audit: AuditReport | None = None

    @property
    def journaled_once(self) -> int:
        return self.card_debits - self.lost - self.doubled

    @property
    def clean(self) -> bool:
        return (not self.lost and not self.doubled and not self.other_problems
                and self.records_delivered == self.records_journaled)

    def summary(self) -> str:
        kills = ", ".join(f"{name} {self.kills[name]}" for name in KILLABLE)
        rows = [
            ("card debits (purchases on the cards)", self.card_debits),
            ("debits journaled once", self.journaled_once),
            ("lost (on a card, not in the journal)", self.lost),
            ("doubled (one purchase, two records)", self.doubled),
            ("left for clearing (UNRESOLVED, the card debited)", self.left_for_clearing),
            ("records journaled", self.records_journaled),
            ("records delivered to the station (each once after de-duplication)",
             self.records_delivered),
            ("deliveries, repeats included", self.deliveries),
        ]
        width = max(len(name) for name, _ in rows)
        lines = [f"chaos: seed {self.seed}, {sum(self.kills.values())} kills in "
                 f"{self.seconds:.0f} s ({kills})"]
        lines += [f"  {name:<{width}}  {value:,}" for name, value in rows]
        lines += [f"  PROBLEM {problem}" for problem in self.other_problems[:20]]
        lines.append(f"chaos: {'clean' if self.clean else 'NOT CLEAN'}")
        return "\n".join(lines)


class Station:
    """The station's subscriber: one persistent MQTT session (queued messages survive a broker
    restart, as far as the broker saved them), every record kept in `records.jsonl`."""

    def __init__(self, broker: Broker, path: Path) -> None:
        self.broker, self.path = broker, path
        self.messages: list[dict[str, Any]] = []
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.subscribed.wait(), 30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        with self.path.open("a", encoding="utf-8") as kept:
            while True:
                try:
                    async with aiomqtt.Client(self.broker.host, self.broker.port,
                                              identifier="chaos-station",
                                              clean_session=False) as client:
                        await client.subscribe(TOPIC, qos=1)
                        self.subscribed.set()
                        async for message in client.messages:
                            payload = bytes(message.payload)  # type: ignore[arg-type]
                            self.messages.append(json.loads(payload))
                            kept.write(payload.decode() + "\n")
                            kept.flush()
                except aiomqtt.MqttError:
                    self.subscribed.clear()
                    await asyncio.sleep(0.1)

    def keys(self) -> set[str]:
        return {message["idempotency_key"] for message in self.messages}


class Process:
    """A command of the project as a process, its stderr appended to `log`."""

    def __init__(self, argv: list[str], log: Path, ready: str | None = None,
                 ready_count: int = 1) -> None:
        self.argv, self.log, self.ready, self.ready_count = argv, log, ready, ready_count
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        seen = self.log.read_text().count(self.ready) if self.ready and self.log.exists() else 0
        with self.log.open("ab") as err:
            self.process = subprocess.Popen([sys.executable, "-m", *self.argv], cwd=ROOT,
                                            stdout=subprocess.DEVNULL, stderr=err)
        while self.ready and self.log.read_text().count(self.ready) < seen + self.ready_count:
            if self.process.poll() is not None:
                raise RuntimeError(f"{' '.join(self.argv[:2])} ended at start-up: "
                                   f"{self.log.read_text()[-2000:]}")
            await asyncio.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait()

    async def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait for the process to settle and end."""
        assert self.process is not None
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(asyncio.to_thread(self.process.wait), timeout)


def _lane_config(directory: Path, world: Path, fees: Path, ports: list[int],
                 broker: Broker) -> Path:
    lanes = "".join(f'\n[[lanes]]\nnumber = {n}\nmode = "exit"\nrsu = "127.0.0.1:{port}"\n'
                    for n, port in enumerate(ports, start=1))
    config = directory / "lane.toml"
    config.write_text(f"""[plaza]
network = "3701"
station = {STATION}
name = "chaos plaza"

[paths]
journal = "{directory / 'journal.sqlite3'}"
policy = "{EXAMPLE_POLICY}"
fee_table = "{fees}"
blacklist = "{world / 'blacklist.bin'}"

[audit]
key_set = "{world / 'keys.toml'}"

[mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "chaos-lane"
publish_timeout_s = 2.0

[reconnect]
initial_s = 0.1
max_s = 0.5
{lanes}""", encoding="utf-8")
    return config


def _pending(journal: Path) -> int:
    """Records the lane has journaled and not yet had acknowledged by the broker."""
    try:
        with SqliteJournal(journal, create=False) as opened:
            return opened.pending_count()
    except Exception:  # the lane is writing its first journal: not yet readable
        return -1


async def _settle(journal: Path, station: Station, timeout: float) -> None:
    """Until the lane's outbox is empty and the station has every journaled record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _pending(journal) == 0:
            with SqliteJournal(journal, create=False) as opened:
                keys = {entry.record.idempotency_key for entry in opened.entries()
                        if entry.state is EntryState.CLOSED}
            if keys <= station.keys():
                return
        await asyncio.sleep(0.2)


async def run_chaos(directory: Path, *, kills: int, seed: int, seconds: float,
                    speed: float = SPEED, quiet: bool = False) -> ChaosResult:
    """One campaign in `directory` (made; its contents replaced)."""
    binary = find_mosquitto()
    if binary is None:
        raise RuntimeError("Debian's mosquitto is not installed (apt-get install mosquitto)")
    directory.mkdir(parents=True, exist_ok=True)
    for old in ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm", "records.jsonl"):
        (directory / old).unlink(missing_ok=True)
    rng = random.Random(seed)
    first = rng.sample(KILLABLE, len(KILLABLE))
    ports = [free_port(), free_port()]
    vehicles = max(200, int(min(seconds, kills * 5) * 2 * LANE_ARRIVALS_PER_S * speed))
    scenario = directory / "scenario.toml"
    scenario.write_text(scenario_toml([(f"exit-{n}", "exit", n, port)
                                       for n, port in enumerate(ports, start=1)],
                                      station=STATION, vehicles=vehicles, seed=seed),
                        encoding="utf-8")
    world = directory / "world"
    fees = example_fee_table(directory)
    (directory / "broker").mkdir(exist_ok=True)
    broker = Broker(binary, directory / "broker", free_port(), persistent=True)
    broker.start()
    station = Station(broker, directory / "records.jsonl")
    await station.start()
    result = ChaosResult(seed)
    serve_options = ["--out", str(world), "--speed", str(speed), "--vehicles", str(vehicles),
                     "--no-frame-log"]
    serve = Process(["rsu_sim", "serve", "--scenario", str(scenario), "--new", *serve_options],
                    directory / "serve.log", "listening on", len(ports))
    lane = Process(["lane_engine", "run", "--config",
                    str(_lane_config(directory, world, fees, ports, broker))],
                   directory / "lane.log", "plaza_started")
    started = time.monotonic()
    try:
        await serve.start()
        serve.argv = ["rsu_sim", "serve", *serve_options]  # started again: its own world goes on
        await lane.start()
        deadline = started + seconds
        while sum(result.kills.values()) < kills and time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(0.3, 2.0))
            if not serve.running and serve.process is not None and serve.process.poll() == 0:
                break  # the world's traffic has passed
            done = sum(result.kills.values())
            # every process is killed once in the first three kills, then at random
            victim = first[done] if done < len(first) else rng.choice(KILLABLE)
            if victim == "lane":
                lane.kill()
                await lane.start()
            elif victim == "serve":
                serve.kill()
                await serve.start()
            else:
                broker.kill()
                await asyncio.to_thread(broker.start)
            result.kills[victim] += 1
            if not quiet:
                print(f"chaos: {sum(result.kills.values())} kills ({victim}), "
                      f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        if serve.running:
            await serve.stop()
        await _settle(directory / "journal.sqlite3", station, timeout=120)
        await lane.stop()
    finally:
        lane.kill()
        serve.kill()
        await station.stop()
        broker.stop()
    result.seconds = time.monotonic() - started
    _audit(result, world, directory / "journal.sqlite3", station)
    return result


def _audit(result: ChaosResult, world: Path, journal: Path, station: Station) -> None:
    served = load_served(world)
    entries = load_journal(journal)
    report = audit(entries, served.cards, served.key_set, served.reserved_serials)
    result.audit = report
    result.card_debits = report.counts["card purchases"]
    result.left_for_clearing = report.counts["unresolved, committed: left for clearing"]
    for problem in report.problems:
        if "missing from the journal" in problem:
            result.lost += 1
        elif "charged twice" in problem:
            result.doubled += 1
        else:
            result.other_problems.append(problem)
    closed = {e.record.idempotency_key for e in entries if e.state is EntryState.CLOSED}
    open_ = [e.record.transaction_id for e in entries if e.state is EntryState.OPEN]
    result.other_problems += [f"{tid}: still open in the journal" for tid in open_]
    result.records_journaled = len(closed)
    result.records_delivered = len(closed & station.keys())
    result.deliveries = len(station.messages)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.chaos.campaign",
        description="Kill the lane, the served world and the broker at random moments; audit.")
    parser.add_argument("--kills", type=int, default=10, help="kills in all (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--seconds", type=float, default=120.0,
                        help="the most the kills may take (default 120)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "chaos",
                        help="working directory (default var/chaos)")
    args = parser.parse_args(argv)
    if args.kills < 1 or args.seconds <= 0:
        parser.error("--kills must be >= 1 and --seconds > 0")
    result = asyncio.run(run_chaos(args.out, kills=args.kills, seed=args.seed,
                                   seconds=args.seconds))
    print(result.summary())
    return 0 if result.clean else 1


if __name__ == "__main__":
    sys.exit(main())
