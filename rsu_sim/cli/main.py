"""`rsu-sim`: run a scenario in virtual time, audit a run, or serve RSUs over TCP.

Exit status (`cli_conventions`): 0 ok, 1 an audit that is not clean or a failure (bad scenario,
unreadable run: one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from cli_conventions import (
    EXIT_STATUS,
    HelpFormatter,
    Parser,
    add_commands,
    add_json_flag,
    add_version_flag,
    numbers,
    print_json,
)
from keys.errors import KeysError
from lane_engine.aio.data import load_blacklist
from lane_engine.cli.args import UsageError, run_command
from lane_engine.errors import LaneError
from lane_engine.journal import JournalEntry
from lane_engine.times import LANE_TIME_ZONE
from rsu_sim.cli.conformance import (
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
from rsu_sim.cli.one_pass import add_pass_arguments, run_pass
from rsu_sim.cli.province import add_province_arguments, run_province_command
from rsu_sim.cli.replay import add_replay_arguments, run_replay
from rsu_sim.cli.serve import BLACKLIST_FILE, DEFAULT_OUT, FRAME_LOG_FILE
from rsu_sim.cli.sharded import add_scale_arguments, audit_sharded, is_sharded, run_sharded_command
from rsu_sim.conformance.rules import RULES
from rsu_sim.errors import SimError
from rsu_sim.harness import (
    FrameCapture,
    JournalMode,
    ProgressBar,
    SimulationOptions,
    format_table,
    run_to_directory,
)
from rsu_sim.model.scenario import Scenario, mixed_scenario
from rsu_sim.results.audit import audit
from rsu_sim.results.files import DEFAULT_DIR, load_run
from rsu_sim.results.lane_records import load_journal, load_records
from rsu_sim.results.served import is_served, load_served
from rsu_sim.scenario_file import (
    fault_argument,
    fault_overrides,
    load_packaged_scenario,
    load_scenario,
)
from rsu_sim.server.frame_log import NO_CONNECTION, Direction, frame_line, note_line
from rsu_sim.world.opening import world_scenario

EXAMPLES = """\
examples:
  rsu-sim run --vehicles 10000                  built-in mixed scenario, every fault enabled
  rsu-sim run --scenario clean --vehicles 500   a packaged scenario, by name
  rsu-sim run --scenario my.toml --vehicles 2000 --seed 7 --out var/sim7 --journal memory
  rsu-sim run --vehicles 100000 --workers 2 --journal memory   shards on 2 processes
  rsu-sim run --vehicles 100000 --dask tcp://scheduler:8786 --journal memory
  rsu-sim run --days 30 --vehicles 20000 --plazas 10 --out var/province   a province, cleared
  rsu-sim audit                                 reconcile the last run in ./var/sim
  rsu-sim audit --dir var/sim7
  rsu-sim serve --help                          RSUs on TCP for a real lane engine
  rsu-sim audit --dir var/serve --journal var/journal.sqlite3   a served world and its lane
"""


def with_fault_rates(scenario: Scenario, rates: dict[str, float]) -> Scenario:
    """`scenario` with the fault rates a command line set."""
    return replace(scenario, faults=replace(scenario.faults, **rates)) if rates else scenario


def choose_scenario(name: str | None, seed: int | None) -> Scenario:
    """The scenario to run: a TOML file, else a packaged one by name, else the built-in mixed
    scenario; `seed` replaces the scenario's seed when given."""
    if name is None:
        scenario = mixed_scenario()
    elif name.endswith(".toml") or Path(name).is_file():
        scenario = load_scenario(name)
    else:
        scenario = load_packaged_scenario(name)
    if seed is not None:
        scenario = replace(scenario, seed=seed)
    return scenario


#: What a simulator command reports as one line on stderr, with exit status 1 (a run too big
#: for the memory says how much it wanted).
FAILURES = (SimError, LaneError, KeysError, MemoryError)
#: Vehicle passes one run may ask for (a national day of traffic is some 10^7; shards beyond).
VEHICLE_COUNT = numbers.int_between(1, 1_000_000_000, "a vehicle count")


def positive_int(text: str) -> int:
    """A whole number >= 1, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def build_parser(with_serve: bool = True) -> argparse.ArgumentParser:
    """The argument parser of `rsu-sim`; the server's options are added only `with_serve` (its
    module is imported then, and only then)."""
    parser = Parser(
        prog="rsu-sim", description="Smart-RSU simulator for the ETC lane engine.",
        epilog=f"{EXAMPLES}\n{EXIT_STATUS}", formatter_class=HelpFormatter)
    add_version_flag(parser)
    commands = add_commands(parser)

    run = commands.add_parser(
        "run", help="simulate lanes in virtual time and print the summary",
        description="Run RSU emulators against lane-engine cores in virtual time (no sockets), "
                    "as fast as the CPU allows; write the journal, key set, final cards, "
                    "summary and scenario under --out.",
        epilog=EXAMPLES, formatter_class=HelpFormatter)
    run.add_argument("--scenario", metavar="FILE|NAME",
                     help="a scenario TOML file or a packaged scenario name (mixed, clean); "
                          "default: the built-in mixed scenario with every fault")
    run.add_argument("--fault", action="append", metavar="NAME=RATE", type=fault_argument,
                     help="set the rate of one fault, e.g. radio_fade=0.05 (repeatable; the "
                          "names are the scenario's [faults] keys)")
    run.add_argument("--no-faults", action="store_true",
                     help="every fault rate 0 (then --fault sets some)")
    run.add_argument("--vehicles", type=VEHICLE_COUNT, metavar="N",
                     help="vehicle passes to simulate (with --days: the population)")
    run.add_argument("--out", type=Path, default=DEFAULT_DIR, metavar="DIR",
                     help=f"output directory (default {DEFAULT_DIR})")
    run.add_argument("--seed", type=numbers.non_negative_int,
                     help="replace the scenario's seed (a whole number >= 0)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--frame-log", type=Path, metavar="FILE",
                     help="write every PC-RSU frame as it went on the wire, one line each "
                          "(`<virtual time> <lane> <RX|TX> <hex>`, what `python -m protocols "
                          "decode --file` reads); every frame then takes the real byte path")
    run.add_argument("--journal", choices=[m.value for m in JournalMode],
                     default=JournalMode.FILE.value,
                     help="journal to a durable file with group commit (default) or in memory, "
                          "copied to the file at the end (faster)")
    add_json_flag(run, "the summary (and, sharded, the merged audit)")
    add_scale_arguments(run, positive_int)
    add_province_arguments(run, positive_int)

    check = commands.add_parser(
        "audit", help="reconcile a run's journal with its simulated cards",
        description="Check that every committed purchase on a card is journaled once, that the "
                    "journal names no purchase the card did not make, that every TAC verifies "
                    "under the issuer keys, that every balance adds up and that no PSAM "
                    "terminal serial was used twice. DIR is a `rsu-sim run` directory or a "
                    "served world (`rsu-sim serve --out DIR`); for a served world give the "
                    "lane's records (--journal or --records), else the cards are checked "
                    "alone. Exit 1 on any mismatch.")
    check.add_argument("--dir", type=Path, default=DEFAULT_DIR, metavar="DIR",
                       help=f"the run's output directory (default {DEFAULT_DIR})")
    records = check.add_mutually_exclusive_group()
    records.add_argument("--journal", type=Path, metavar="PATH",
                         help="this project's lane journal (default for a run: DIR's own)")
    records.add_argument("--records", type=Path, metavar="FILE",
                         help="any lane's records as JSON Lines (see the README)")
    add_json_flag(check, "the report: clean, problems, counts")

    replayed = commands.add_parser(
        "replay", help="feed a captured frame log to a lane, RSU side, and compare its answers",
        description="Send a capture's RSU frames (SEQ and DATA as captured, retransmissions "
                    "included) to a lane with the original timing or faster, and list every "
                    "answer of the lane that differs from the one in the capture (the lane's "
                    "clock fields aside).")
    add_replay_arguments(replayed)

    passing = commands.add_parser(
        "pass", help="one vehicle from its OBU and card images through one lane",
        description="Drive one vehicle (its OBU and card as the centre personalised them) "
                    "through one lane-engine lane in virtual time, with the lane's list and "
                    "deltas, and save the card as the pass left it. Exit status 0 when the "
                    "lane completed a transaction, 1 when it refused or failed the vehicle.")
    add_pass_arguments(passing)

    judged = commands.add_parser(
        "conformance", help="judge the lanes of a served world from its frame log again",
        description="Judge the lanes that were served in DIR (every session of its world) "
                    "from DIR/frames.log against the named rules, and write "
                    "DIR/conformance.json and DIR/conformance.md: e.g. once the lane's "
                    "records are complete, or against another fee table.",
        epilog="rules: " + ", ".join(rule.id for rule in RULES))
    judged.add_argument("--dir", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"the served world (default {DEFAULT_OUT})")
    judged.add_argument("--frame-log", type=Path, metavar="PATH",
                        help="the frame log (default DIR/frames.log)")
    add_json_flag(judged, "the verdicts with their evidence and the gate")
    add_judging_arguments(judged)

    serve = commands.add_parser(
        "serve", help="serve simulated RSUs over TCP, in a durable world",
        description="Serve each scenario lane's RSU on its TCP port. The world (keys, cards, "
                    "card logs, PSAM serials) lives under --out and is written before the "
                    "frame that reports it leaves; started again on the same --out, the same "
                    "world goes on.")
    if with_serve:
        _add_serve_arguments(serve)
    return parser


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    try:
        from rsu_sim.cli.serve import add_serve_arguments
    except ImportError:
        return  # the server module is not installed; `serve` says so when run
    add_serve_arguments(parser)


def _frame_capture(stream: TextIO) -> FrameCapture:
    """Frame-log lines as `rsu-sim serve` writes them, stamped with the virtual time: a frame
    corrupted on the wire is logged as written, with a note naming the byte flipped."""
    def capture(lane_id: str, direction: str, raw: bytes, wire: bytes, at: float) -> None:
        when = dt.datetime.fromtimestamp(at, LANE_TIME_ZONE)
        # Virtual time names no lane connection: "-" stands in its place.
        stream.write(frame_line(when, lane_id, NO_CONNECTION, Direction(direction), raw) + "\n")
        if wire != raw:
            i = next(i for i, (a, b) in enumerate(zip(raw, wire, strict=True)) if a != b)
            stream.write(note_line(when, lane_id, NO_CONNECTION,
                                   f"fault: {direction} corrupted on the wire, "
                                   f"byte {i} {raw[i]:02x}->{wire[i]:02x}") + "\n")
    return capture


def _run(args: argparse.Namespace) -> int:
    if args.days is not None:
        return run_province_command(args)
    if args.vehicles is None:
        raise UsageError("run: --vehicles N is required (passes to simulate)")
    scenario = with_fault_rates(choose_scenario(args.scenario, args.seed),
                                fault_overrides(args.fault, args.no_faults))
    if is_sharded(args):
        if args.frame_log is not None:
            raise SimError("--frame-log is for a run in one process (without --workers/--dask)")
        return run_sharded_command(args, scenario)
    progress = ProgressBar(enabled=False if args.quiet else None)
    with contextlib.ExitStack() as stack:
        capture = None
        if args.frame_log is not None:
            try:
                capture = _frame_capture(stack.enter_context(
                    args.frame_log.open("w", encoding="utf-8")))
            except OSError as exc:
                raise SimError(f"{args.frame_log}: cannot write the frame log "
                               f"({exc.strerror})") from exc
        options = SimulationOptions(vehicles=args.vehicles, capture=capture)
        try:
            result = run_to_directory(scenario, args.out, options, JournalMode(args.journal),
                                      progress)
        finally:
            progress.finish()
    if args.json:
        print_json({"summary": result.summary.to_dict(), "outputs": str(args.out)})
    else:
        print(format_table(result.summary))
        print(f"outputs in {args.out}")
    return 0


def _lane_records(args: argparse.Namespace) -> tuple[JournalEntry, ...] | None:
    if args.journal is not None:
        return load_journal(args.journal)
    if args.records is not None:
        return load_records(args.records)
    return None


def _audit(args: argparse.Namespace) -> int:
    if is_served(args.dir):
        world = load_served(args.dir)
        report = audit(_lane_records(args), world.cards, world.key_set, world.reserved_serials)
        killed = sum(1 for session in world.sessions if session.ended_at is None)
        report.counts["serve sessions"] = len(world.sessions)
        report.counts["serve sessions that did not stop cleanly"] = killed
    elif (sharded := audit_sharded(args.dir)) is not None:
        report = sharded
    else:
        run = load_run(args.dir)
        journal = _lane_records(args)
        report = audit(run.journal if journal is None else journal, run.cards, run.key_set)
    if args.json:
        print_json({"clean": report.clean, "problems": report.problems,
                    "counts": report.counts})
    else:
        print(report.render())
    return 0 if report.clean else 1


def _conformance(args: argparse.Namespace) -> int:
    if not is_served(args.dir):
        raise SimError(f"{args.dir}: no served world here (rsu-sim serve --out DIR)")
    terms = read_terms(args)
    listed = args.dir / BLACKLIST_FILE
    if args.blacklist is None and listed.is_file():
        population = load_blacklist(listed)
        terms = replace(terms, blacklisted=population.__contains__, inputs={
            **terms.inputs, "blacklist": f"the simulated population's ({listed})"})
    frame_log = args.frame_log or args.dir / FRAME_LOG_FILE
    report = conformance_report(world_scenario(args.dir), frame_log, terms, lane_records(args))
    write_report(args.dir, report)
    if args.json:
        print_json({**report.to_json(), "gate": gate_json(report, terms),
                    "report": report_files(args.dir)})
    else:
        print(summary_line(report, args.dir))
    return gate(report, terms)


def _serve(args: argparse.Namespace) -> int:
    try:
        from rsu_sim.cli.serve import run_serve
    except ImportError as exc:
        raise SimError(f"serve is not available: {exc}") from exc
    return int(run_serve(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `rsu-sim`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    handlers = {"run": _run, "audit": _audit, "serve": _serve, "conformance": _conformance,
                "replay": run_replay, "pass": run_pass}

    def command() -> int:
        args = build_parser(with_serve="serve" in argv).parse_args(argv)
        return handlers[args.command](args)

    try:
        # Bad usage is one line and status 2, as every failure is one line (status 1).
        return run_command("rsu-sim", command, failures=FAILURES)
    except KeyboardInterrupt:
        print("rsu-sim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
