"""`lane-engine`: run a plaza of lanes, read its journal, show its status.

Errors are one line on stderr; exit status 0 ok, 1 runtime or data error, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from lane_engine.aio.bus import EventBus, LaneEvent
from lane_engine.aio.plaza import run_plaza
from lane_engine.config import DEFAULT_JOURNAL, PlazaConfig
from lane_engine.config_file import load_config
from lane_engine.errors import LaneError
from lane_engine.journal.cli import main as journal_main
from lane_engine.status import status_report

log = logging.getLogger("lane_engine")

DESCRIPTION = """\
commands:
  run       run the lanes of a plaza (one process, one journal) until SIGINT/SIGTERM
  journal   read the transaction journal (list, show, export, open-intents, stats);
            see `lane-engine journal --help`
  status    journal counts, open intents, outbox backlog and the last records"""


class UsageError(Exception):
    """Bad command-line arguments (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser(prog: str) -> argparse.ArgumentParser:
    """The parser of every command but `journal` (which has its own)."""
    parser = _Parser(prog=prog, description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run = commands.add_parser(
        "run", help="run the plaza", description="Run every lane of the configured plaza: "
        "connect to the RSUs, journal, publish to the station; stop cleanly on SIGINT/SIGTERM.",
    )
    run.add_argument("--config", type=Path, required=True, metavar="FILE",
                     help="plaza configuration (TOML, see examples/lane.toml)")
    run.add_argument("--log-level", default="info",
                     choices=["debug", "info", "warning", "error"],
                     help="what is logged on stderr (default info: every lane event)")
    commands.add_parser("journal", help="read the journal (see `journal --help`)",
                        add_help=False)
    status = commands.add_parser(
        "status", help="show the journal's status",
        description="Journal counts by outcome, open intents, outbox backlog, last records.",
    )
    status.add_argument("--config", type=Path, metavar="FILE",
                        help="take the journal path from this configuration")
    status.add_argument("--journal", type=Path, metavar="PATH",
                        help=f"journal database (default {DEFAULT_JOURNAL}, or the config's)")
    status.add_argument("--last", type=int, default=5, metavar="N",
                        help="how many of the newest records to show (default 5)")
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "lane-engine") -> int:
    """Run the command; return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["journal"]:
        return journal_main(args_list[1:], prog=f"{prog} journal")
    try:
        args = build_parser(prog).parse_args(args_list)
        if args.command == "status":
            return _status(args)
        return _run(load_config(args.config), args.log_level)
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except LaneError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _status(args: argparse.Namespace) -> int:
    if args.last < 0:
        raise UsageError("--last must be 0 or more")
    path = args.journal
    if path is None:
        path = load_config(args.config).journal if args.config else DEFAULT_JOURNAL
    report = status_report(path, args.last)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(report.to_text())
    return 0


def _run(config: PlazaConfig, level: str) -> int:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(_serve(config))
    return 0


async def _serve(config: PlazaConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bus = EventBus()
    bus.subscribe(_log_event)
    log.info("plaza %s/%s (%s): %d lane(s), journal %s", config.network, config.station,
             config.name, len(config.lanes), config.journal)
    await run_plaza(config, stop=stop, bus=bus)
    log.info("stopped")


def _log_event(event: LaneEvent) -> None:
    where = "plaza" if event.lane is None else f"lane {event.lane}"
    log.info("%s: %r", where, event.event)
