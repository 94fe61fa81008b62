"""`lane-engine`: run a plaza of lanes, read its journal, show its status; make and check the
data files a lane needs (fee tables, blacklists, policies).

Errors are one line on stderr; exit status 0 ok, 1 a negative answer or a failure, 2 bad usage
(`cli_conventions`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cli_conventions.numbers import non_negative_int
from lane_engine.cli.args import (
    EXIT_STATUS,
    Parser,
    UsageError,
    add_commands,
    add_json_flag,
    add_version_flag,
    print_json,
    run_command,
)
from lane_engine.cli.blacklist import add_blacklist_parser, run_blacklist
from lane_engine.cli.fees import add_fees_parser, run_fees
from lane_engine.cli.top import add_top_parser, run_top
from lane_engine.logfmt import LOG_FORMATS

if TYPE_CHECKING:
    from lane_engine.config import PlazaConfig

log = logging.getLogger("lane_engine")

DESCRIPTION = "The lane process of an ETC toll plaza, and the tools for its data files."
EPILOG = f"""\
examples:
  lane-engine fees build --network examples/network.toml --table-version 2026.11 \\
      -o var/fees.etcfee
  lane-engine blacklist synthetic --count 1000 --seed 1 --list-version 1 -o var/blacklist.bin
  lane-engine policy check examples/policy.toml
  lane-engine run --config examples/lane.toml
  lane-engine top --config examples/lane.toml

`lane-engine COMMAND --help` tells more of each.
{EXIT_STATUS}"""

__all__ = ["UsageError", "build_parser", "main"]


def build_parser(prog: str) -> argparse.ArgumentParser:
    """The parser of every command but `journal` (which has its own)."""
    parser = Parser(prog=prog, description=DESCRIPTION, epilog=EPILOG)
    add_version_flag(parser, prog)
    commands = add_commands(parser)
    run = commands.add_parser(
        "run", help="run the lanes of a plaza until SIGINT/SIGTERM",
        description="Run every lane of the configured plaza: connect to the RSUs, journal, "
        "publish to the station; stop cleanly on SIGINT/SIGTERM.",
        epilog="exit status: 0 stopped cleanly, 1 a failure (configuration, data, the journal; "
               "logged), 2 bad usage",
    )
    run.add_argument("--config", type=Path, required=True, metavar="FILE",
                     help="plaza configuration (TOML, see examples/lane.toml)")
    run.add_argument("--log-level", default="info",
                     choices=["debug", "info", "warning", "error"],
                     help="what is logged on stderr: debug every step and frame, info (default) "
                          "what the lanes did, warning faults, error money or data at risk")
    run.add_argument("--log-format", default="text", choices=LOG_FORMATS,
                     help="text (default): key=value lines; json: one JSON object per line")
    commands.add_parser("journal", add_help=False,
                        help="read the journal: list, show, export, open-intents, stats, check")
    status = commands.add_parser(
        "status", help="journal counts, open intents, outbox backlog, last records",
        description="Journal counts by outcome, open intents, outbox backlog, last records.",
        epilog=EXIT_STATUS,
    )
    status.add_argument("--config", type=Path, metavar="FILE",
                        help="take the journal path from this configuration")
    status.add_argument("--journal", type=Path, metavar="PATH",
                        help="journal database (default var/journal.sqlite3, or the config's)")
    status.add_argument("--last", type=non_negative_int, default=5, metavar="N",
                        help="how many of the newest records to show (default 5)")
    add_json_flag(status)
    add_top_parser(commands)
    add_fees_parser(commands)
    add_blacklist_parser(commands)
    policy = commands.add_parser("policy", help="check a policy file (paths.policy)",
                                 description="Check the pricing policy a lane loads.",
                                 epilog=EXIT_STATUS)
    policy_commands = add_commands(policy, dest="policy_command")
    check = policy_commands.add_parser(
        "check", help="load a policy file and print every field, defaults included",
        description="Load and validate a policy file (as the lane does at start-up) and print "
        "every field, defaults included; a fault is one line naming the file and the field.",
        epilog=f"example:\n  lane-engine policy check examples/policy.toml\n\n{EXIT_STATUS}",
    )
    check.add_argument("file", type=Path, metavar="FILE", help="policy file (TOML)")
    add_json_flag(check, "the fields")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "lane-engine") -> int:
    """Run the command; return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["journal"]:
        from lane_engine.cli.journal import main as journal_main

        return journal_main(args_list[1:], prog=f"{prog} journal")
    try:
        return run_command(prog, lambda: _dispatch(build_parser(prog).parse_args(args_list)))
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "status":
        return _status(args)
    if args.command == "top":
        return run_top(args)
    if args.command == "fees":
        return run_fees(args)
    if args.command == "blacklist":
        return run_blacklist(args)
    if args.command == "policy":
        return _policy_check(args.file, args.json)
    from lane_engine.files.config import load_config

    return _run(load_config(args.config), args.log_level, args.log_format)


def _status(args: argparse.Namespace) -> int:
    from lane_engine.cli.status import status_report
    from lane_engine.config import DEFAULT_JOURNAL
    from lane_engine.files.config import load_config

    if args.last < 0:
        raise UsageError("--last must be 0 or more")
    path = args.journal
    if path is None:
        path = load_config(args.config).journal if args.config else DEFAULT_JOURNAL
    report = status_report(path, args.last)
    if args.json:
        print_json(report.to_dict())
    else:
        sys.stdout.write(report.to_text())
    return 0


def _policy_check(path: Path, as_json: bool) -> int:
    """The policy the lanes would apply, every field as the file names it."""
    from lane_engine.files.policy import effective_fields, load_policy

    policy = load_policy(path)
    fields = effective_fields(policy)
    if as_json:
        print_json({"file": str(path), "ok": True, "policy": dict(fields)})
        return 0
    print(f"{path}: ok; the lanes apply:")
    for name, value in fields:
        print(f"  {name:<28} {value}")
    return 0


def _run(config: PlazaConfig, level: str, log_format: str) -> int:
    import asyncio

    from lane_engine.errors import LaneError
    from lane_engine.logfmt import configure_logging, log_event

    configure_logging(level, log_format)
    try:
        asyncio.run(_serve(config))
    except LaneError as exc:
        log_event(log, logging.ERROR, "plaza_failed", error=str(exc))
        return 1
    return 0


async def _serve(config: PlazaConfig) -> None:
    """The plaza until SIGINT/SIGTERM (its modules are imported only for `run`)."""
    import asyncio
    import signal

    from lane_engine.aio.bus import EventBus
    from lane_engine.aio.event_log import EventLog
    from lane_engine.aio.plaza import run_plaza
    from lane_engine.logfmt import log_event

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bus = EventBus()
    bus.subscribe(EventLog(log))
    log_event(log, logging.INFO, "plaza_started", plaza=f"{config.network}/{config.station}",
              name=config.name or None, lanes=len(config.lanes), journal=str(config.journal))
    await run_plaza(config, stop=stop, bus=bus)
    log_event(log, logging.INFO, "plaza_stopped")
