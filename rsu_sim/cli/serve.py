"""`rsu-sim serve`: the command line of the TCP server, around a durable world under `--out`.

`DIR` (default `var/serve`) holds the world (`world.sqlite3`, `keys.toml`), the lane's blacklist
(`blacklist.bin`: the population's blacklisted cards, for the lane to load), the frame log
(`frames.log`) and, at the end, `summary.json`. Started again on the same `DIR` the command
continues that world; `--new` replaces it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from cli_conventions import UsageError, add_json_flag, numbers, print_json
from cli_conventions.files import write_file
from lane_engine.errors import LaneError
from lane_engine.files.blacklist import save_binary
from rsu_sim.cli.conformance import (
    Terms,
    add_judging_arguments,
    conformance_report,
    gate,
    gate_json,
    lane_records,
    read_terms,
    report_files,
    summary_line,
    write_report,
)
from rsu_sim.conformance.report import Report
from rsu_sim.errors import OutputError, WorldError
from rsu_sim.harness.setup import build_blacklist
from rsu_sim.results.lane_records import load_journal, load_records
from rsu_sim.scenario_file import fault_argument, fault_overrides, scenario_source
from rsu_sim.server.frame_log import ServeSummary
from rsu_sim.server.server import DEFAULT_PORT, StartTraffic, lane_ports, serve
from rsu_sim.world.durable import DurableWorld
from rsu_sim.world.opening import WorldRecipe, open_world, remove_world, world_exists

#: Where a served world lives unless `--out` says otherwise.
DEFAULT_OUT = Path("var/serve")
FRAME_LOG_FILE = "frames.log"
BLACKLIST_FILE = "blacklist.bin"
SUMMARY_FILE = "summary.json"
#: Why nothing is judged without a frame-log file.
NOT_JUDGED = "the frame log is not a file"
#: The scenario of a new world when none is named.
DEFAULT_SCENARIO = "mixed"

EXAMPLES = """\
examples:
  rsu-sim serve                                   mixed scenario: entry-1 on 9527, exit-1 on 9528
  rsu-sim serve --scenario clean --port 7000      lanes on 7000, 7001, ...
  rsu-sim serve --out var/vendor --speed 10 --vehicles 200
  rsu-sim serve --out var/vendor                  started again: the same world goes on
  rsu-sim audit --dir var/vendor --journal var/journal.sqlite3
"""


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `rsu-sim serve`."""
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="the world's directory: made on first use, continued after "
                             f"(default: {DEFAULT_OUT})")
    parser.add_argument("--new", action="store_true",
                        help="replace the world in DIR (and its frame log) by a new one; refused "
                             "while --journal or --records names a file holding records")
    parser.add_argument("--scenario", default=None, metavar="NAME|FILE",
                        help="a packaged scenario (mixed, clean) or a scenario TOML file "
                             f"(default: the world's own, {DEFAULT_SCENARIO} for a new world)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default: 127.0.0.1)")
    parser.add_argument("--port", type=numbers.port, default=None, metavar="P",
                        help="port of the first lane; the others take P+1, P+2, ... "
                             f"(default: the scenario's lane ports, else {DEFAULT_PORT}+i; "
                             "0: ephemeral)")
    parser.add_argument("--speed", type=numbers.positive_float, default=1.0, metavar="X",
                        help="make vehicles arrive X times as often; link and air timing stay "
                             "real time (default: 1)")
    parser.add_argument("--vehicles", type=numbers.positive_int, default=None, metavar="N",
                        help="stop once the first N arrivals of the world have passed "
                             "(default: the whole scenario)")
    parser.add_argument("--seed", type=numbers.non_negative_int, default=None,
                        help="seed of every draw of a new world (default: the scenario's)")
    parser.add_argument("--start-traffic", choices=[s.value for s in StartTraffic],
                        default=StartTraffic.ALL.value,
                        help="start the vehicles once all lanes / the first lane sent C0, or "
                             "now (default: all)")
    parser.add_argument("--fault", action="append", metavar="NAME=RATE", type=fault_argument,
                        help="a new world's rate of one fault, e.g. radio_fade=0.05 (repeatable; "
                             "the names are the scenario's [faults] keys)")
    parser.add_argument("--no-faults", action="store_true",
                        help="a new world with every fault rate 0 (then --fault sets some)")
    parser.add_argument("--scenario-clock", action="store_true",
                        help="keep the scenario's own start time; by default a new world's "
                             "scenario is moved to end now, so a lane whose clock is the wall "
                             "clock sees fresh entries as fresh")
    log = parser.add_mutually_exclusive_group()
    log.add_argument("--frame-log", default=None, metavar="PATH",
                     help="append every frame in and out to PATH, '-' for stdout (not with "
                          f"--json; default: DIR/{FRAME_LOG_FILE})")
    log.add_argument("--no-frame-log", action="store_true",
                     help="log no frames (and so judge nothing)")
    add_json_flag(parser, "the end-of-run summary with the conformance verdict counts")
    add_judging_arguments(parser)


def recipe_of(args: argparse.Namespace, terms: Terms | None = None) -> WorldRecipe | None:
    """The recipe the options ask for; None when they name nothing and DIR holds a world (it
    goes on as it is)."""
    faults = fault_overrides(args.fault, args.no_faults)
    named = args.scenario is not None or args.seed is not None or args.scenario_clock \
        or bool(faults)
    if not named and world_exists(args.out) and not args.new:
        return None
    label, text = scenario_source(args.scenario or DEFAULT_SCENARIO)
    fee_network = () if terms is None else terms.fee_network()
    return WorldRecipe(label, text, args.seed, faults, args.scenario_clock, fee_network)


def prepare_world(args: argparse.Namespace, now: float, terms: Terms | None = None
                  ) -> DurableWorld:
    """The world `args` serve: DIR's (continued), or a new one (with `--new`, in its place;
    its upstream entries from the stations of the fee table `terms` judge with), with the
    lane's blacklist written beside it."""
    out: Path = args.out
    recipe = recipe_of(args, terms)
    if recipe is not None:
        lane_ports(recipe.scenario(), args.port)  # a port past 65535 is refused before anything
    if args.new or (recipe is not None and not world_exists(out)):
        refuse_records_of_an_earlier_world(args)
    if args.new:
        remove_world(out)
        with contextlib.suppress(FileNotFoundError):
            (out / FRAME_LOG_FILE).unlink()
    elif recipe is not None and not world_exists(out):
        with contextlib.suppress(FileNotFoundError):
            (out / FRAME_LOG_FILE).unlink()  # a new world starts its own log
    world = open_world(out, recipe, now=now)
    try:
        blacklisted = world.site.traffic.population.blacklisted_card_numbers()
        save_binary(out / BLACKLIST_FILE, build_blacklist(blacklisted))
    except (LaneError, OSError) as exc:
        world.abandon()
        raise OutputError(f"{out}: cannot write the lane's blacklist: {exc}") from exc
    return world


def refuse_records_of_an_earlier_world(args: argparse.Namespace) -> None:
    """A new world has new cards and keys: lane records already in the `--journal` or
    `--records` it is to be judged and audited with belong to another world, and every one of
    them would be reported as the lane's fault (a purchase no card made). Refuse, before
    anything is replaced."""
    path: Path | None = args.journal or args.records
    if path is None or not path.exists():
        return
    held = len(load_journal(path) if args.journal is not None else load_records(path))
    if held:
        raise OutputError(f"{path}: already holds {held} lane record(s) of an earlier world; a "
                          "new world must be judged from a fresh one (remove it or name another)")


def _frame_log(args: argparse.Namespace) -> Path | TextIO | None:
    if args.no_frame_log:
        return None
    if args.frame_log == "-":
        return sys.stdout
    return Path(args.frame_log) if args.frame_log is not None else args.out / FRAME_LOG_FILE


def _judge(args: argparse.Namespace, world: DurableWorld, terms: Terms,
           frame_log: Path | TextIO | None) -> Report | None:
    """Judge the lanes from the frame log (every session of the world) and write the report;
    None when there is no frame-log file to judge from."""
    if not isinstance(frame_log, Path):
        print(f"rsu-sim: conformance not judged: {NOT_JUDGED}", file=sys.stderr)
        return None
    records = None
    if (args.journal or args.records) is not None and (args.journal or args.records).exists():
        records = lane_records(args)
    report = conformance_report(world.site.scenario, frame_log, terms, records)
    write_report(args.out, report)
    print(summary_line(report, args.out), file=sys.stderr)
    return report


def _summary_document(world: DurableWorld, summary: ServeSummary) -> dict[str, Any]:
    """The end-of-run summary, as `summary.json` and `--json` give it."""
    return {
        "session": world.session, "arrivals_fed": world.arrivals_fed,
        "vehicles": summary.vehicles, "arrivals": summary.arrivals, "passes": summary.passes,
        "ended": {end.value: count for end, count in summary.ended.items()},
        "connections": summary.connections, "frames_sent": summary.frames_sent,
        "frames_received": summary.frames_received, "rejected_inputs": summary.rejected_inputs,
        "faults": {"corrupted_frames": summary.corrupted_frames,
                   "duplicated_frames": summary.duplicated_frames,
                   "restarts": summary.restarts},
        "stopped_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _write_summary(out: Path, document: dict[str, Any]) -> None:
    try:
        write_file(out / SUMMARY_FILE, json.dumps(document, indent=2) + "\n")
    except OSError as exc:
        raise OutputError(f"{out / SUMMARY_FILE}: cannot write ({exc.strerror})") from exc


def _verdict_counts(report: Report | None, terms: Terms, out: Path) -> dict[str, Any]:
    """What `--json` says of the conformance: the verdict counts, the gate and the files."""
    if report is None:
        return {"judged": False, "why": NOT_JUDGED}
    return {"judged": True, "summary": report.to_json()["summary"],
            "gate": gate_json(report, terms), "report": report_files(out)}


def run_serve(args: argparse.Namespace) -> int:
    """Run `rsu-sim serve` with parsed arguments until Ctrl-C, SIGTERM or the traffic's end;
    prints the summary (`--json`: with the verdict counts, as JSON), judges the lanes and writes
    the conformance report. Exit status 0, or 1
    when a rule `--fail-on` names failed; errors (scenario, world, keys, ports) raise."""
    frame_log = _frame_log(args)
    if args.json and frame_log is sys.stdout:
        raise UsageError("--json and --frame-log -: both print on stdout")
    out = sys.stderr if frame_log is sys.stdout else sys.stdout

    def ready(ports: Mapping[str, int]) -> None:
        for lane_id, port in ports.items():
            print(f"rsu-sim: lane {lane_id} listening on {args.host}:{port}", file=sys.stderr)

    terms = read_terms(args)
    world = prepare_world(args, time.time(), terms)
    terms = terms.with_population(world.site.traffic.population.blacklisted_card_numbers())
    print(f"rsu-sim: world {args.out} (session {world.session}, "
          f"{world.arrivals_fed} arrivals fed before)", file=sys.stderr)

    async def main() -> ServeSummary:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        return await serve(
            world.site.scenario, host=args.host, base_port=args.port, frame_log=frame_log,
            stop=stop, vehicles=args.vehicles, on_ready=ready, speed=args.speed,
            start_traffic=StartTraffic(args.start_traffic), world=world)

    try:
        summary = asyncio.run(main())
    except BaseException:
        with contextlib.suppress(WorldError):
            world.abandon()
        raise
    world.close("; ".join(summary.lines()))
    document = _summary_document(world, summary)
    _write_summary(args.out, document)
    if not args.json:
        for line in summary.lines():
            print(line, file=out)
    report = _judge(args, world, terms, frame_log)
    if args.json:
        print_json({"summary": document, "conformance": _verdict_counts(report, terms, args.out)})
    return 0 if report is None else gate(report, terms)


__all__ = ["DEFAULT_OUT", "add_serve_arguments", "prepare_world", "recipe_of", "run_serve"]
