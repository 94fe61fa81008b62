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

import argparse
import asyncio
import contextlib
import enum
import inspect
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from keys.errors import KeysError
from rsu_sim.errors import ServeError, SimError
from rsu_sim.model.rsu_effects import PassEnded
from rsu_sim.model.scenario import Scenario, rebase_start
from rsu_sim.model.streams import VehicleArrival
from rsu_sim.scenario_file import load_packaged_scenario, load_scenario
from rsu_sim.server.frame_log import FrameLog, ServeSummary
from rsu_sim.server.lane import FRAME_GAP_S, LaneServer, RealTimeClock
from rsu_sim.site.served import Site, build_site

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
        return [0 if base_port == 0 else base_port + i for i in range(count)]
    return [lane.port if lane.port is not None else DEFAULT_PORT + i
            for i, lane in enumerate(scenario.lanes)]


OnReady = Callable[[Mapping[str, int]], object]


class _Run:
    """One `serve` run: the lanes, the traffic feeder and when to stop."""

    def __init__(self, site: Site, log: FrameLog, stop: asyncio.Event,
                 vehicles: int | None) -> None:
        self.site = site
        self.log = log
        self.stop = stop
        self.summary = ServeSummary()
        arrivals = site.traffic.arrivals
        self.arrivals: Sequence[VehicleArrival] = (
            arrivals if vehicles is None else arrivals[:vehicles])
        self.all_fed = False
        clock = RealTimeClock(asyncio.get_running_loop())
        self.lanes = {
            lane.spec.lane_id: LaneServer(lane, site, clock, log, self.summary, self._pass_ended)
            for lane in site.lanes
        }

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
        self.log.note("-", f"traffic starts: {len(self.arrivals)} arrivals, speed {speed:g}")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        seen: set[int] = set()
        for arrival in self.arrivals:
            delay = t0 + arrival_offset_s(arrival.time, speed) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.summary.arrivals += 1
            seen.add(arrival.vehicle.vehicle_id)
            self.summary.vehicles = len(seen)
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
) -> ServeSummary:
    """Serve the scenario's lanes over TCP until `stop` is set or the traffic (or its first
    `vehicles` arrivals) has passed; returns the summary.

    Ports: see `lane_ports`. `on_ready` gets {lane id: bound port} once every lane listens
    (it may be a coroutine function). `frame_log` is a path, a text stream or None (off).
    `site` lets a caller build the site first (e.g. to give the lane its blacklist).
    """
    if speed <= 0:
        raise ServeError(f"speed {speed!r} must be > 0")
    if vehicles is not None and vehicles < 0:
        raise ServeError(f"vehicles {vehicles!r} must be >= 0")
    site = build_site(scenario, seed) if site is None else site
    stop = asyncio.Event() if stop is None else stop
    with _frame_log_stream(frame_log) as stream:
        run = _Run(site, FrameLog(stream), stop, vehicles)
        feeder: asyncio.Task[None] | None = None
        try:
            bound: dict[str, int] = {}
            for (lane_id, lane), port in zip(run.lanes.items(),
                                             lane_ports(scenario, base_port, ports), strict=True):
                bound[lane_id] = await lane.start(host, port)
            run.log.note("-", "listening: " + ", ".join(f"{k} on {host}:{v}"
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
            run.log.note("-", "stopped: " + "; ".join(run.summary.lines()))
    return run.summary


# ---------------------------------------------------------------- command line


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `rsu-sim serve`."""
    parser.add_argument("--scenario", default="mixed", metavar="NAME|FILE",
                        help="a packaged scenario (mixed, clean) or a scenario TOML file "
                             "(default: mixed)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, metavar="P",
                        help="port of the first lane; the others take P+1, P+2, ... "
                             f"(default: the scenario's lane ports, else {DEFAULT_PORT}+i; "
                             "0: ephemeral)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="make vehicles arrive X times as often; link and air timing stay "
                             "real time (default: 1)")
    parser.add_argument("--vehicles", type=int, default=None, metavar="N",
                        help="stop once the first N arrivals have passed (default: the whole "
                             "scenario)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of every draw (default: the scenario's)")
    parser.add_argument("--start-traffic", choices=[s.value for s in StartTraffic],
                        default=StartTraffic.ALL.value,
                        help="start the vehicles once all lanes / the first lane sent C0, or "
                             "now (default: all)")
    parser.add_argument("--scenario-clock", action="store_true",
                        help="keep the scenario's own start time; by default the scenario is "
                             "moved to end now, so a lane whose clock is the wall clock sees "
                             "fresh entries as fresh")
    log = parser.add_mutually_exclusive_group()
    log.add_argument("--frame-log", default=str(DEFAULT_FRAME_LOG), metavar="PATH",
                     help="append every frame in and out to PATH, '-' for stdout "
                          f"(default: {DEFAULT_FRAME_LOG})")
    log.add_argument("--no-frame-log", action="store_true", help="log no frames")


def _scenario_of(name: str) -> Scenario:
    if name.endswith(".toml") or "/" in name or Path(name).is_file():
        return load_scenario(name)
    return load_packaged_scenario(name)


def scenario_to_serve(args: argparse.Namespace, now: float) -> Scenario:
    """The scenario `rsu-sim serve` runs: as loaded, moved to end at `now` unless
    `--scenario-clock` keeps its own start."""
    scenario = _scenario_of(args.scenario)
    return scenario if args.scenario_clock else rebase_start(scenario, now)


def run_serve(args: argparse.Namespace) -> int:
    """Run `rsu-sim serve` with parsed arguments until Ctrl-C, SIGTERM or the traffic's end;
    prints the summary. Exit status 0, or 2 when the scenario, keys or ports do not allow it."""
    log_to_stdout = not args.no_frame_log and args.frame_log == "-"
    frame_log: str | TextIO | None = (
        None if args.no_frame_log else sys.stdout if log_to_stdout else args.frame_log)
    out = sys.stderr if log_to_stdout else sys.stdout

    def ready(ports: Mapping[str, int]) -> None:
        for lane_id, port in ports.items():
            print(f"rsu-sim: lane {lane_id} listening on {args.host}:{port}", file=sys.stderr)

    async def main() -> ServeSummary:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        scenario = scenario_to_serve(args, time.time())
        return await serve(
            scenario, host=args.host, base_port=args.port,
            frame_log=frame_log, stop=stop, vehicles=args.vehicles, seed=args.seed,
            on_ready=ready, speed=args.speed, start_traffic=StartTraffic(args.start_traffic))

    try:
        summary = asyncio.run(main())
    except (SimError, KeysError) as exc:
        print(f"rsu-sim: error: {exc}", file=sys.stderr)
        return 2
    for line in summary.lines():
        print(line, file=out)
    return 0


__all__ = ["DEFAULT_FRAME_LOG", "DEFAULT_PORT", "FRAME_GAP_S", "ServeError", "StartTraffic",
           "add_serve_arguments", "arrival_offset_s", "lane_ports", "run_serve", "serve"]
