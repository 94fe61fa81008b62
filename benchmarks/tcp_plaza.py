"""The real-TCP benchmark runs: a lane-engine plaza (`run_plaza`, durable SQLite journal) over
loopback against a fast scripted RSU process (the lane's capacity) or against the simulator's
RSUs in real time (the realistic figure), measured at the lane edge.

The decision latency is B4 read → its C6 written, from the plaza's own frame events
(`EventBus(frames=True)`: `FrameReceived` stamped when its bytes were read, `FrameSent` just
after the write).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lane_engine.aio.bus import EventBus, FrameReceived, FrameSent, LaneEvent, RsuDisconnected
from lane_engine.aio.plaza import run_plaza
from lane_engine.config import LaneSettings, PlazaConfig
from lane_engine.core.effects import (
    CashRequired,
    TransactionCompleted,
    TransactionFailed,
    TransactionUnresolved,
    VehicleRefused,
)
from lane_engine.fees.table_file import load_fee_slice
from protocols.frames import LaneMode, Purchase, VehicleAndCard
from rsu_sim.harness.setup import build_fees
from rsu_sim.plaza.run import arrivals_of, run_plaza_against_sim
from rsu_sim.plaza.setup import (
    PLAZA_NETWORK,
    PLAZA_STATION,
    PreparedRun,
    exit_plaza_scenario,
    prepare_run,
)

ROOT = Path(__file__).resolve().parent.parent
DECISIONS = (TransactionCompleted, CashRequired, VehicleRefused, TransactionFailed,
             TransactionUnresolved)
#: Entry stations the scripted vehicles come from (the first ones the fee table prices).
SCRIPTED_ENTRIES = 8


@dataclass(slots=True)
class EdgeWindow:
    """Decisions and B4 read → C6 written latencies (frame events) inside a measuring window;
    subscribe it to a bus made with `frames=True`."""

    open: bool = False
    completed: int = 0
    decided: int = 0
    latencies_s: list[float] = field(default_factory=list)
    opened_at: float = 0.0
    cpu_at_open: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    b4_read_at: dict[int | None, float] = field(default_factory=dict)  # by lane
    threads_at_open: dict[str, float] = field(default_factory=dict)
    threads_s: dict[str, float] = field(default_factory=dict)

    def __call__(self, event: LaneEvent) -> None:
        kind = type(event.event)
        if kind is FrameReceived:
            if type(event.event.frame) is VehicleAndCard:  # type: ignore[attr-defined]
                self.b4_read_at[event.lane] = event.at
        elif kind is FrameSent:
            if type(event.event.frame) is Purchase:  # type: ignore[attr-defined]
                read_at = self.b4_read_at.pop(event.lane, None)
                if read_at is not None and self.open:
                    self.latencies_s.append(event.at - read_at)
        elif kind is RsuDisconnected:
            self.b4_read_at.pop(event.lane, None)
        elif self.open and isinstance(event.event, DECISIONS):
            self.decided += 1
            self.completed += kind is TransactionCompleted

    def start(self) -> None:
        self.open, self.opened_at, self.cpu_at_open = True, time.perf_counter(), time.process_time()
        self.threads_at_open = thread_cpu_s()

    def stop(self) -> None:
        self.open = False
        self.wall_s = time.perf_counter() - self.opened_at
        self.cpu_s = time.process_time() - self.cpu_at_open
        now = thread_cpu_s()
        self.threads_s = {name: now[name] - self.threads_at_open.get(name, 0.0) for name in now}

    def figures(self) -> dict[str, Any]:
        """Transactions per second, lane-process CPU per transaction and latency percentiles."""
        ordered = sorted(self.latencies_s)
        return {
            "window_s": round(self.wall_s, 2), "decisions": self.decided,
            "completed": self.completed,
            "transactions_per_s": self.decided / self.wall_s if self.wall_s else None,
            "lane_cpu_us_per_transaction": self.cpu_s / self.decided * 1e6
            if self.decided else None,
            "decision_ms_p50": percentile(ordered, 0.50) * 1e3 if ordered else None,
            "decision_ms_p99": percentile(ordered, 0.99) * 1e3 if ordered else None,
            "decision_ms_max": ordered[-1] * 1e3 if ordered else None,
            "decision_samples": len(ordered),
            **{f"lane_cpu_us_per_transaction_{name}": seconds / self.decided * 1e6
               for name, seconds in self.threads_s.items() if self.decided},
            "decision_ms_samples": [round(x * 1e3, 3) for x in self.latencies_s],
        }


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds of this process's event-loop thread and of the journal's writer thread
    (Linux: /proc/self/task/<id>/stat), by thread name."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for thread in threading.enumerate():
        name = {"MainThread": "loop_thread", "journal-writer": "writer_thread"}.get(thread.name)
        if name is None or thread.native_id is None:
            continue
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        values = fields[1].split()
        found[name] = (int(values[11]) + int(values[12])) / ticks  # utime + stime
    return found


def percentile(ordered: list[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted samples lie (nearest rank)."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def priced_entries(prepared: PreparedRun, count: int) -> list[int]:
    """The first `count` stations of the plaza's network the exit prices for class 1."""
    _, stations = build_fees(prepared.scenario)
    fees = load_fee_slice(prepared.files.fee_table, PLAZA_NETWORK, PLAZA_STATION)
    priced = [s.station for s in stations if s.network == PLAZA_NETWORK
              and s.station != PLAZA_STATION and fees.fee(PLAZA_NETWORK, s.station, 1)]
    return priced[:count]


async def _measure(plaza: asyncio.Task[None], window: EdgeWindow, warmup_s: float,
                   window_s: float) -> None:
    await asyncio.wait({plaza}, timeout=warmup_s)
    if plaza.done():
        plaza.result()
        raise RuntimeError("the plaza stopped during the warm-up")
    window.start()
    await asyncio.wait({plaza}, timeout=window_s)
    window.stop()
    if plaza.done():
        plaza.result()
        raise RuntimeError("the plaza stopped inside the measuring window")


class Helper:
    """A `benchmarks.disk_probe` process beside the run: started, ready, stopped on stdin close."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Helper:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.disk_probe", *self.args, cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert self.process.stdout is not None
        ready = await asyncio.wait_for(self.process.stdout.readline(), 60)
        if ready.strip() != b"ready":
            raise RuntimeError(f"disk_probe {self.args[0]} did not start")
        return self

    async def stop(self) -> bytes:
        """Close its stdin and return what it printed after `ready`."""
        process = self.process
        assert process is not None and process.stdin is not None and process.stdout is not None
        process.stdin.close()
        out = await asyncio.wait_for(process.stdout.read(), 60)
        await process.wait()
        return out

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.returncode is None:
            await self.stop()


def fsync_figures(out: bytes) -> dict[str, Any]:
    """p50 / p99 of the probe's fsync latencies."""
    latencies = sorted(json.loads(out.decode().strip().splitlines()[-1])["fsync_ms"])
    if not latencies:
        return {}
    return {"fsync_ms_p50": percentile(latencies, 0.50),
            "fsync_ms_p99": percentile(latencies, 0.99), "fsync_samples": len(latencies)}


async def scripted_run(directory: Path, *, lanes: int, warmup_s: float, window_s: float,
                       offered_tps: float = 0.0, load_cpu: int | None = None,
                       writer_thread: bool = True) -> dict[str, Any]:
    """`lanes` exit lanes against the scripted RSU process, as fast as they answer or at
    `offered_tps` vehicles per second over all lanes; figures of the window, with the disk's
    fsync latency measured beside it (same directory) and, with `load_cpu`, the machine loaded
    by that many busy processes and a writer that fsyncs."""
    if load_cpu is None:
        return await _scripted_run(directory, lanes=lanes, warmup_s=warmup_s,
                                   window_s=window_s, offered_tps=offered_tps,
                                   writer_thread=writer_thread)
    async with Helper("load", str(directory), "--cpu", str(load_cpu)):
        figures = await _scripted_run(directory, lanes=lanes, warmup_s=warmup_s,
                                      window_s=window_s, offered_tps=offered_tps,
                                      writer_thread=writer_thread)
    figures["load_cpu_processes"] = load_cpu
    return figures


async def _scripted_run(directory: Path, *, lanes: int, warmup_s: float, window_s: float,
                        offered_tps: float, writer_thread: bool) -> dict[str, Any]:
    prepared = prepare_run(exit_plaza_scenario(1, vehicles=10), directory, now=time.time())
    entries = priced_entries(prepared, SCRIPTED_ENTRIES)
    rsu = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.scripted_rsu", "--lanes", str(lanes),
        "--entries", ",".join(map(str, entries)), "--per-lane-rate", str(offered_tps / lanes),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert rsu.stdin is not None and rsu.stdout is not None
    window = EdgeWindow()
    try:
        ports = json.loads(await asyncio.wait_for(rsu.stdout.readline(), 60))
        files = prepared.files
        config = PlazaConfig(
            network=PLAZA_NETWORK, station=PLAZA_STATION, name="bench plaza",
            lanes=tuple(LaneSettings(n, LaneMode.EXIT, "127.0.0.1", ports[str(n)])
                        for n in range(1, lanes + 1)),
            policy=files.policy, fee_table=files.fee_table, blacklist=files.blacklist,
            journal=files.journal, commit_on_writer_thread=writer_thread)
        bus, stop = EventBus(frames=True), asyncio.Event()
        bus.subscribe(window)
        plaza = asyncio.create_task(run_plaza(config, stop=stop, bus=bus))
        try:
            async with Helper("probe", str(directory)) as probe:
                await _measure(plaza, window, warmup_s, window_s)
                fsync = fsync_figures(await probe.stop())
        finally:
            stop.set()
            await plaza
    finally:
        rsu.stdin.close()
        seen = await asyncio.wait_for(rsu.stdout.read(), 60)
        await rsu.wait()
    figures = window.figures()
    rsu_side = json.loads(seen.decode().strip().splitlines()[-1])
    figures.update({f"rsu_{k}": v for k, v in rsu_side.items()}, lanes=lanes,
                   entries=len(entries), offered_tps=offered_tps or None, **fsync)
    return figures


async def simulated_run(directory: Path, *, lanes: int, warmup_s: float, window_s: float
                        ) -> dict[str, Any]:
    """`lanes` exit lanes against the simulator's RSUs in real time, arrivals queued ahead of
    them (every RSU busy); figures of the window."""
    rate = 8.0 * lanes  # arrivals per second: above what the RSUs serve
    vehicles = int(rate * (warmup_s + window_s + 5))
    prepared = prepare_run(exit_plaza_scenario(lanes, vehicles=vehicles), directory,
                           now=time.time())
    # At speed 1 the scenario's arrivals come at n / duration per second.
    speed = max(1.0, rate * prepared.scenario.duration_s / arrivals_of(prepared, vehicles))
    window = EdgeWindow()
    bus = EventBus(frames=True)
    bus.subscribe(window)
    loop = asyncio.get_running_loop()
    timer: list[asyncio.TimerHandle] = []

    def ready(_: object) -> None:
        timer.append(loop.call_later(warmup_s, window.start))
        timer.append(loop.call_later(warmup_s + window_s, window.stop))

    result = await run_plaza_against_sim(
        prepared, speed=speed, vehicles=vehicles, bus=bus, on_ready=ready,
        deadline_s=warmup_s + window_s + 1.0)
    for handle in timer:
        handle.cancel()
    figures = window.figures()
    figures.update(lanes=lanes, speed=speed, arrivals=vehicles,
                   journaled=len(result.journal), audit_clean=result.audit.clean)
    figures.pop("lane_cpu_us_per_transaction")  # the simulator shares the process
    return figures
