"""`rsu-sim serve`: the simulator as real-time TCP RSUs speaking V3 PC-RSU, one port per lane.

The sans-IO `Rsu` of each lane does the work; `rsu_sim.server.lane` puts it on its TCP port,
this module feeds the scenario's vehicles at their times, stops the run and holds the CLI. The
site (key set, traffic, shared fleet, RSUs) is `rsu_sim.site.served`; the frame log and summary
are `rsu_sim.server.frame_log`.

Our decisions, one place each: `arrival_offset_s` (what `--speed` means), `StartTraffic`
(when vehicles start coming) and, in `rsu_sim.server.lane`, the RSU clock, what a second lane
connection does, what the RSU does without a lane, and the gap that keeps frames apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from protocols.stream import warm_up as load_stream_decoder
from rsu_sim.errors import ServeError
from rsu_sim.model.rsu_effects import PassEnded
from rsu_sim.model.scenario import Scenario
from rsu_sim.model.streams import VehicleArrival
from rsu_sim.server.frame_log import (
    LISTENING,
    STOPPED,
    FrameLog,
    ServeSummary,
    connection_name,
)
from rsu_sim.server.lane import FRAME_GAP_S, LaneServer, RealTimeClock
from rsu_sim.site.served import Site, build_site
from rsu_sim.world.durable import DurableWorld

logger = logging.getLogger(__name__)

#: First port when neither `--port` nor the scenario gives one (lanes take 9527, 9528, ...).
DEFAULT_PORT = 9527
#: Where the frame log goes unless told otherwise.
DEFAULT_FRAME_LOG = Path("var/rsu-sim/frames.log")


class StartTraffic(enum.Enum):
    """When the scenario's vehicles start arriving (our decision: by default once every lane has
    sent C0, so a run does not lose its first vehicles to a lane still connecting)."""

    #: once every lane has initialised its RSU (C0)
    ALL = "all"
    #: once any lane has initialised its RSU
    FIRST = "first"
    #: at once, connected or not
    NOW = "now"


def arrival_offset_s(arrival_time: float, speed: float) -> float:
    """Seconds after the traffic starts at which a vehicle arrives (our decision): `--speed X`
    divides the scenario's arrival times; dwell, air and link timing stay real time, so the
    lane software sees a vendor RSU's timing with X times denser traffic."""
    return arrival_time / speed


def lane_ports(scenario: Scenario, base_port: int | None = None,
               ports: Sequence[int] | None = None) -> list[int]:
    """The TCP port of each lane: `ports` as given; else `base_port` + lane index (0: every lane
    ephemeral); else the scenario's lane port, or `DEFAULT_PORT` + lane index."""
    count = len(scenario.lanes)
    if ports is not None:
        if len(ports) != count:
            raise ServeError(f"{len(ports)} ports for {count} lanes")
        return list(ports)
    if base_port is not None:
        chosen = [0 if base_port == 0 else base_port + i for i in range(count)]
    else:
        chosen = [lane.port if lane.port is not None else DEFAULT_PORT + i
                  for i, lane in enumerate(scenario.lanes)]
    for lane, port in zip(scenario.lanes, chosen, strict=True):
        if not 0 <= port <= 0xFFFF:
            first = f" (the first lane on {base_port}, each next one port up)" if base_port else ""
            raise ServeError(f"lane {lane.lane_id}: port {port} is not 0..65535{first}")
    return chosen


OnReady = Callable[[Mapping[str, int]], object]


class _Run:
    """One `serve` run: the lanes, the traffic feeder and when to stop."""

    def __init__(self, site: Site, log: FrameLog, stop: asyncio.Event,
                 vehicles: int | None, world: DurableWorld | None = None) -> None:
        self.site = site
        self.log = log
        self.stop = stop
        self.world = world
        self.failure: BaseException | None = None
        self.summary = ServeSummary()
        arrivals = site.traffic.arrivals
        self.arrivals: Sequence[VehicleArrival] = (
            arrivals if vehicles is None else arrivals[:vehicles])
        #: arrivals an earlier run on the same world fed already: this run goes on after them
        self.first = 0 if world is None else min(world.arrivals_fed, len(self.arrivals))
        self.all_fed = False
        clock = RealTimeClock(asyncio.get_running_loop())
        numbers = itertools.count(1)
        session = None if world is None else world.session

        def connection_names() -> str:
            return connection_name(next(numbers), session)

        self.lanes = {
            lane.spec.lane_id: LaneServer(lane, site, clock, log, self.summary, self._pass_ended,
                                          world, self._failed, connection_names)
            for lane in site.lanes
        }

    def _failed(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        self.stop.set()

    def _pass_ended(self, _: PassEnded) -> None:
        self._maybe_done()

    def _maybe_done(self) -> None:
        if self.all_fed and self.summary.passes >= self.summary.arrivals:
            self.stop.set()

    async def _traffic_may_start(self, start: StartTraffic) -> None:
        waits = [lane.initialised.wait() for lane in self.lanes.values()]
        if start is StartTraffic.ALL:
            await asyncio.gather(*waits)
        elif start is StartTraffic.FIRST:
            tasks = [asyncio.ensure_future(w) for w in waits]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
        else:
            for w in waits:
                w.close()  # never awaited: no warning

    async def feed_traffic(self, start: StartTraffic, speed: float) -> None:
        """Feed the arrivals to their lanes at their (sped-up) times, then wait for the end."""
        await self._traffic_may_start(start)
        left = self.arrivals[self.first:]
        resumed = f", going on after the {self.first} fed before" if self.first else ""
        self.log.note("-", f"traffic starts: {len(left)} arrivals, speed {speed:g}{resumed}")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        base = left[0].time if self.first and left else 0.0
        seen: set[int] = set()
        for index, arrival in enumerate(left, start=self.first + 1):
            delay = t0 + arrival_offset_s(arrival.time - base, speed) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.summary.arrivals += 1
            seen.add(arrival.vehicle.vehicle_id)
            self.summary.vehicles = len(seen)
            if self.world is not None:
                self.world.fed(index)
            self.lanes[arrival.lane_id].vehicle_arrived(arrival)
        self.all_fed = True
        self._maybe_done()


@contextlib.contextmanager
def _frame_log_stream(target: str | Path | TextIO | None) -> Iterator[TextIO | None]:
    """The stream of a frame-log target: None (off), an open text stream, or a file path
    (appended to, its folder made)."""
    if target is None or not isinstance(target, str | Path):
        yield target
        return
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = path.open("a", encoding="utf-8")
    except OSError as exc:
        raise ServeError(f"cannot open the frame log {path}: {exc.strerror or exc}") from exc
    with stream:
        yield stream


async def serve(
    scenario: Scenario,
    *,
    host: str = "127.0.0.1",
    base_port: int | None = None,
    ports: Sequence[int] | None = None,
    frame_log: str | Path | TextIO | None = None,
    stop: asyncio.Event | None = None,
    vehicles: int | None = None,
    seed: int | None = None,
    on_ready: OnReady | None = None,
    speed: float = 1.0,
    start_traffic: StartTraffic = StartTraffic.ALL,
    site: Site | None = None,
    world: DurableWorld | None = None,
) -> ServeSummary:
    """Serve the scenario's lanes over TCP until `stop` is set or the traffic (or its first
    `vehicles` arrivals) has passed; returns the summary.

    Ports: see `lane_ports`. `on_ready` gets {lane id: bound port} once every lane listens
    (it may be a coroutine function). `frame_log` is a path, a text stream or None (off).
    `site` lets a caller build the site first (e.g. to give the lane its blacklist); `world`
    serves a durable world's site instead (`rsu_sim.world`): every card change is written
    before the frame that reports it, and the traffic goes on after the arrivals an earlier run
    on the world fed.
    """
    if speed <= 0:
        raise ServeError(f"speed {speed!r} must be > 0")
    if vehicles is not None and vehicles < 1:
        raise ServeError(f"vehicles {vehicles!r} must be >= 1 (None: the whole scenario)")
    if world is not None:
        site = world.site
    site = build_site(scenario, seed) if site is None else site
    stop = asyncio.Event() if stop is None else stop
    load_stream_decoder()  # numba's cache loaded before the first lane, not in its first read
    with _frame_log_stream(frame_log) as stream:
        run = _Run(site, FrameLog(stream), stop, vehicles, world)
        feeder: asyncio.Task[None] | None = None
        try:
            bound: dict[str, int] = {}
            for (lane_id, lane), port in zip(run.lanes.items(),
                                             lane_ports(scenario, base_port, ports), strict=True):
                bound[lane_id] = await lane.start(host, port)
            run.log.note("-", f"{LISTENING} " + ", ".join(f"{k} on {host}:{v}"
                                                        for k, v in bound.items()))
            if on_ready is not None:
                ready = on_ready(bound)
                if inspect.isawaitable(ready):
                    await ready
            feeder = asyncio.create_task(run.feed_traffic(start_traffic, speed))
            stopped = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({feeder, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if feeder in done:
                feeder.result()  # a crash of the feeder is a bug: let it show
                await stopped
            stopped.cancel()
        finally:
            if feeder is not None:
                feeder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feeder
            for lane in run.lanes.values():
                await lane.close()
            run.log.note("-", f"{STOPPED} " + "; ".join(run.summary.lines()))
    if run.failure is not None:
        raise run.failure
    return run.summary


__all__ = ["DEFAULT_PORT", "FRAME_GAP_S", "ServeError", "StartTraffic", "arrival_offset_s",
           "lane_ports", "serve"]
