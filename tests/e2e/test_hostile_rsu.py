"""A hostile RSU slows only its own lane: a plaza of four exit lanes, three against scripted
RSUs at a steady rate, the fourth against an RSU that floods it with fake V3 headers (the
decoder's slowest bytes). The three keep their round trips (B4 written → C6 read, measured by
their RSUs) during the flood, judged against their own round trips just before it in the same
run (and just after it), not against wall-clock constants."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.tcp_plaza import percentile, priced_entries
from lane_engine.aio.bus import EventBus, FrameRejected, LaneEvent
from lane_engine.aio.connection import REJECTIONS_EVERY_S
from lane_engine.aio.plaza import run_plaza
from lane_engine.config import LaneSettings, PlazaConfig
from protocols.frames import LaneMode
from rsu_sim.plaza.setup import PLAZA_NETWORK, PLAZA_STATION, exit_plaza_scenario, prepare_run

ROOT = Path(__file__).resolve().parent.parent.parent
LANES = 4
WARM_UP_S = 3.0
WINDOW_S = 4.0


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, dict[str, int]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.e2e.hostile_rsu", *args, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    return process, json.loads(await asyncio.wait_for(process.stdout.readline(), 60))


async def _command(rsu: asyncio.subprocess.Process, text: str) -> None:
    assert rsu.stdin is not None and rsu.stdout is not None
    rsu.stdin.write(text.encode() + b"\n")
    await rsu.stdin.drain()
    assert (await asyncio.wait_for(rsu.stdout.readline(), 30)).strip() == b"ok"


async def _end(rsu: asyncio.subprocess.Process) -> dict[str, Any]:
    assert rsu.stdin is not None and rsu.stdout is not None
    rsu.stdin.write(b"end\n")
    await rsu.stdin.drain()
    report: dict[str, Any] = json.loads(await asyncio.wait_for(rsu.stdout.readline(), 60))
    await rsu.wait()
    return report


def _window(report: dict[str, Any], start: float, end: float) -> list[float]:
    return sorted(rtt for at, rtt in report["rtt"] if start <= at < end)


async def test_a_flooded_lane_leaves_the_other_lanes_their_decision_latency(
        tmp_path: Path) -> None:
    prepared = prepare_run(exit_plaza_scenario(1, vehicles=10), tmp_path, now=time.time())
    entries = ",".join(map(str, priced_entries(prepared, 8)))
    scripted, scripted_ports = await _start("--scripted", str(LANES - 1), "--entries", entries,
                                            "--per-lane-rate", "20")
    flooder, flooder_ports = await _start("--flooders", "1")
    ports = {**{int(n): p for n, p in scripted_ports.items()}, LANES: flooder_ports["1"]}
    rejected: dict[int | None, FrameRejected] = {}
    reports: list[int] = []

    def count_rejections(event: LaneEvent) -> None:
        if isinstance(event.event, FrameRejected):
            reports.append(event.lane)
            seen = rejected.get(event.lane)
            rejected[event.lane] = event.event if seen is None else FrameRejected(
                seen.detail, seen.count + event.event.count, seen.bytes + event.event.bytes)

    try:
        files = prepared.files
        config = PlazaConfig(
            network=PLAZA_NETWORK, station=PLAZA_STATION, name="hostile plaza",
            lanes=tuple(LaneSettings(n, LaneMode.EXIT, "127.0.0.1", ports[n])
                        for n in range(1, LANES + 1)),
            policy=files.policy, fee_table=files.fee_table, blacklist=files.blacklist,
            journal=files.journal)
        bus, stop = EventBus(), asyncio.Event()
        bus.subscribe(count_rejections)
        plaza = asyncio.create_task(run_plaza(config, stop=stop, bus=bus))
        try:
            await asyncio.sleep(WARM_UP_S + WINDOW_S)  # the last WINDOW_S of it: the baseline
            await _command(flooder, "flood")
            await asyncio.sleep(WINDOW_S)
            await _command(flooder, "calm")
            await asyncio.sleep(WINDOW_S)  # the second baseline
            assert not plaza.done(), plaza
        finally:
            stop.set()
            await asyncio.wait_for(plaza, 60)
        report, flood = await _end(scripted), await _end(flooder)
    finally:
        for process in (scripted, flooder):
            if process.returncode is None:
                process.kill()
                await process.wait()

    [(flood_start, flood_end)] = flood["flood_periods"]
    before = _window(report, flood_start - WINDOW_S, flood_start)
    during = _window(report, flood_start, flood_end)
    after = _window(report, flood_end, flood_end + WINDOW_S)
    assert not report["errors"], report["errors"]
    # the flood happened, the flooded lane read it and refused it, in a few reports a second
    assert flood["flood_bytes"] >= 16 * 2**20, flood["flood_bytes"]
    refused = rejected[LANES]
    assert refused.bytes >= flood["flood_bytes"] // 2 and refused.count > 1000, refused
    assert set(rejected) == {LANES}
    assert reports.count(LANES) <= WINDOW_S / REJECTIONS_EVERY_S + 3, len(reports)
    # the other lanes kept serving their vehicles and their round trips, judged against the
    # calm windows before and after it (the worse of the two: other jobs share the machine)
    assert min(len(before), len(after)) >= 100, (len(before), len(after))
    assert len(during) >= 0.8 * min(len(before), len(after)), (len(before), len(during))
    for fraction, slack in ((0.5, 2.0), (0.9, 3.0)):
        calm = max(percentile(before, fraction), percentile(after, fraction))
        assert percentile(during, fraction) <= slack * calm, (
            fraction, [round(percentile(x, fraction) * 1e3, 2) for x in (before, during, after)])
