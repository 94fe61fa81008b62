"""`make demo` (`python -m rsu_sim.plaza.demo`): an exit plaza of real lane-engine lanes against the
simulator's RSUs over real TCP on loopback, mixed traffic with faults; a progress line, then the
summary table and the audit of the journal against the simulated cards.

Everything it needs it makes under --out (default var/demo): the journal, the key set (0600),
the fee table, the blacklist, the policy, the frame log, the final cards and summary.json, so
`rsu-sim audit --dir var/demo` can check the run again. Exit 1 when the audit is not clean.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from lane_engine.cli.args import run_command
from lane_engine.config import MqttSettings
from lane_engine.logfmt import configure_logging
from rsu_sim.cli.main import FAILURES, positive_int
from rsu_sim.plaza.run import EdgeTally, arrivals_of, run_plaza_against_sim
from rsu_sim.plaza.setup import exit_plaza_scenario, prepare_run
from rsu_sim.plaza.summary import format_summary, summarise_run
from rsu_sim.results.files import write_outputs

DEFAULT_OUT = Path("var/demo")
DEFAULT_VEHICLES = 600
DEFAULT_LANES = 4
#: Our decision: 24 times the scenario's 600 vehicles/hour per lane, 4 vehicles/s per lane, about
#: 80 % of what one simulated RSU serves in real time (a pass takes ~0.2 s): 600 vehicles on 4
#: lanes in well under a minute with short queues. Far above it the queues grow without bound.
DEFAULT_SPEED = 24.0
DEFAULT_SEED = 20240601
FRAME_LOG_FILE = "frames.log"
#: The progress line is redrawn this often on a terminal; elsewhere a plain line is printed
#: every `PLAIN_INTERVAL_S`.
REDRAW_INTERVAL_S = 0.2
PLAIN_INTERVAL_S = 5.0

EXAMPLES = """\
examples:
  python -m rsu_sim.plaza.demo                              600 vehicles, 4 exit lanes, ./var/demo
  python -m rsu_sim.plaza.demo --vehicles 2000 --lanes 6 --speed 80 --seed 7
  python -m rsu_sim.plaza.demo --mqtt 127.0.0.1:1883        also publish every record to a broker
"""


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value} must be > 0")
    return value


def _broker(text: str) -> MqttSettings:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return MqttSettings(host, int(port))


def build_parser() -> argparse.ArgumentParser:
    """The demo's options."""
    parser = argparse.ArgumentParser(
        prog="python -m rsu_sim.plaza.demo",
        description="Run an exit plaza of lane-engine lanes against simulated RSUs over real "
                    "TCP on loopback (mixed traffic, every fault enabled), then print the "
                    "summary and audit the journal against the simulated cards.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vehicles", type=positive_int, default=DEFAULT_VEHICLES, metavar="N",
                        help=f"vehicle passes (default {DEFAULT_VEHICLES})")
    parser.add_argument("--lanes", type=positive_int, default=DEFAULT_LANES, metavar="N",
                        help=f"exit lanes of the plaza (default {DEFAULT_LANES})")
    parser.add_argument("--speed", type=_speed, default=DEFAULT_SPEED, metavar="X",
                        help="vehicles arrive X times as often as the scenario's 600/hour per "
                             f"lane; radio and link timing stay real (default {DEFAULT_SPEED:g})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"seed of every draw (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"where the run's files go; its journal is replaced "
                             f"(default {DEFAULT_OUT})")
    parser.add_argument("--mqtt", type=_broker, default=None, metavar="HOST:PORT",
                        help="publish the records to this MQTT broker (default: no broker)")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    return parser


class ProgressLine:
    """Vehicles decided of the total and counts by outcome: one line redrawn on a terminal,
    a plain line every few seconds elsewhere."""

    def __init__(self, stream: TextIO, total: int, *, tty: bool | None = None) -> None:
        self._stream = stream
        self._total = total
        self.tty = stream.isatty() if tty is None else tty
        self._drawn = False

    def text(self, edge: EdgeTally) -> str:
        """The progress as one line."""
        counts = edge.by_outcome()
        detail = "  ".join(f"{name} {n:,}" for name, n in sorted(counts.items()))
        return f"vehicles {edge.decided:,}/{self._total:,} decided  {detail}".rstrip()

    def show(self, edge: EdgeTally) -> None:
        """Draw (terminal) or print (otherwise) the progress now."""
        if self.tty:
            self._stream.write(f"\r\x1b[K{self.text(edge)}")
            self._drawn = True
        else:
            self._stream.write(self.text(edge) + "\n")
        self._stream.flush()

    def finish(self) -> None:
        """End the terminal line."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False

    async def follow(self, edge: EdgeTally) -> None:
        """Show the progress until cancelled."""
        interval = REDRAW_INTERVAL_S if self.tty else PLAIN_INTERVAL_S
        while True:
            await asyncio.sleep(interval)
            self.show(edge)


async def _demo(args: argparse.Namespace, out: TextIO) -> int:
    scenario = exit_plaza_scenario(args.lanes, vehicles=args.vehicles, seed=args.seed)
    run = prepare_run(scenario, args.out, now=time.time())
    total = arrivals_of(run, args.vehicles)
    print(f"demo: {args.lanes} exit lanes, {total:,} vehicles at speed x{args.speed:g}, "
          f"files in {args.out}" + (f", MQTT {args.mqtt.host}:{args.mqtt.port}"
                                    if args.mqtt else ""), file=out, flush=True)
    edge = EdgeTally()
    progress = ProgressLine(sys.stderr, total)
    follower = None if args.quiet else asyncio.create_task(progress.follow(edge))
    try:
        result = await run_plaza_against_sim(
            run, speed=args.speed, vehicles=args.vehicles, mqtt=args.mqtt, edge=edge,
            frame_log=args.out / FRAME_LOG_FILE)
    finally:
        if follower is not None:
            follower.cancel()
            progress.show(edge)
            progress.finish()
    summary = summarise_run(result, scenario=run.scenario.name, seed=args.seed,
                            lanes=args.lanes, speed=args.speed)
    write_outputs(args.out, key_set=run.site.key_set, cards=result.cards,
                  summary=summary.to_dict(), scenario=run.scenario)
    print(format_summary(summary, published=args.mqtt is not None), file=out)
    print(result.audit.render(), file=out)
    print(f"outputs in {args.out} (check again with `rsu-sim audit --dir {args.out}`)", file=out)
    return 0 if result.audit.clean else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; exit status 0 (audit clean), 1 (audit found problems), 2 (could not run)."""
    args = build_parser().parse_args(argv)
    configure_logging("error")
    try:
        return run_command("demo", lambda: asyncio.run(_demo(args, sys.stdout)),
                           failures=FAILURES, failure_status=2)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
