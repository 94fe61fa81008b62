"""`lane-engine fees`: its arguments here, its work in `lane_engine.cli.fee_work`, imported
only when a fees command runs (numba and numpy stay out of every other command's start-up)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli_conventions import numbers
from lane_engine.cli.args import (
    EXIT_STATUS,
    add_commands,
    add_json_flag,
    positive_int,
    station_key,
    vehicle_class,
)
from lane_engine.times import iso_time, parse_time

__all__ = [
    "DESCRIPTION",
    "add_fees_parser",
    "run_fees",
]

DESCRIPTION = """\
Make, show and check the fee tables a lane prices with (`paths.fee_table`).

examples:
  lane-engine fees build --network examples/network.toml --table-version 2026.11 \\
      -o var/fees.etcfee
  lane-engine fees show var/fees.etcfee --exit 3701/120 --entry 3701/102 --class PASSENGER_1
  lane-engine fees check var/fees.etcfee --network examples/network.toml
  lane-engine fees synthetic --stations 2000 --seed 7 --table-version load-1 -o var/big.etcfee
"""

_SHOW_EXAMPLES = f"""\
examples:
  lane-engine fees show var/fees.etcfee                      header
  lane-engine fees show var/fees.etcfee --exit 3701/120      min/median/max fee per class
  lane-engine fees show var/fees.etcfee --exit 3701/120 --entry 3702/201 --class truck_6

{EXIT_STATUS}"""


def add_fees_parser(commands: Any) -> None:
    """Add `fees` and its subcommands to the `lane-engine` subparsers `commands`."""
    fees = commands.add_parser("fees", help="build, show and check fee tables (paths.fee_table)",
                               description=DESCRIPTION, epilog=EXIT_STATUS)
    sub = add_commands(fees, dest="fees_command")

    build = sub.add_parser(
        "build", help="build a fee table from a road-network file (TOML)",
        description="Build the fee table of a road-network file: the cheapest route between "
        "every two stations, per class (numba, in parallel over exits).",
        epilog="example:\n  lane-engine fees build --network examples/network.toml "
        f"--table-version 2026.11 -o var/fees.etcfee\n\n{EXIT_STATUS}",
    )
    build.add_argument("--network", type=Path, required=True, metavar="FILE",
                       help="road-network file (TOML, see examples/network.toml)")
    _add_output_arguments(build)

    synthetic = sub.add_parser(
        "synthetic", help="generate a synthetic provincial network and build its table",
        description="Generate a connected synthetic provincial network (hubs, highways, "
        "stations, toll-unit boundaries) and build its fee table; for tests and load trials.",
        epilog="example:\n  lane-engine fees synthetic --stations 2000 --seed 7 "
        "--networks 3701,3702 --network-out var/big.toml --table-version load-1 "
        f"-o var/big.etcfee\n\n{EXIT_STATUS}",
    )
    synthetic.add_argument("--stations", type=positive_int, required=True, metavar="N",
                           help="number of stations")
    synthetic.add_argument("--seed", type=numbers.non_negative_int, default=0, metavar="S",
                           help="seed of the generator; the same seed, the same network "
                                "(default 0)")
    synthetic.add_argument("--networks", type=_network_list, default=("3701", "3702", "3703"),
                           metavar="NET,NET", help="road network numbers the stations belong "
                           "to (default 3701,3702,3703)")
    synthetic.add_argument("--network-out", type=Path, metavar="FILE",
                           help="also write the network as a network file (TOML)")
    _add_output_arguments(synthetic)

    show = sub.add_parser(
        "show", help="a table's header, one trip's fee, or the fees into one exit station",
        description="Show a fee table's header; with --exit the fees into that exit station "
        "(min, median, max over its entries, per class); with --exit and --entry one trip's "
        "fee.", epilog=_SHOW_EXAMPLES,
    )
    show.add_argument("table", type=Path, metavar="TABLE", help="fee-table file")
    show.add_argument("--exit", type=station_key, metavar="NET/STATION",
                      help="exit station, e.g. 3701/120")
    show.add_argument("--entry", type=station_key, metavar="NET/STATION",
                      help="entry station (needs --exit)")
    show.add_argument("--class", dest="vehicle_class", type=vehicle_class, metavar="CLASS",
                      help="one class by name or code (PASSENGER_1 or 1, TRUCK_6 or 16); "
                           "default every class")
    add_json_flag(show, "the header and the fees")

    check = sub.add_parser(
        "check", help="verify every block's checksum (and the network it was built from)",
        description="Verify the header and every exit block's checksum; with --network, that "
        "the table was built from that network file. Exit status 1 on any fault.",
        epilog="example:\n  lane-engine fees check var/fees.etcfee --network "
        f"examples/network.toml\n\n{EXIT_STATUS}",
    )
    check.add_argument("table", type=Path, metavar="TABLE", help="fee-table file")
    check.add_argument("--network", type=Path, metavar="FILE",
                       help="network file the table must have been built from")
    add_json_flag(check)


def run_fees(args: argparse.Namespace) -> int:
    """Run a parsed `fees` subcommand; LaneError subclasses on bad data, UsageError on misuse."""
    from lane_engine.cli.fee_work import run

    return run(args)


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table-version", required=True, metavar="V",
                        help="version the table is known by (records name it), e.g. 2026.11")
    parser.add_argument("--built-at", type=_iso_time, metavar="ISO",
                        help="build time to record (default: now); fixed for a reproducible "
                             "file")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="TABLE",
                        help="fee-table file to write (replaced atomically)")
    add_json_flag(parser)


def _iso_time(text: str) -> str:
    """An ISO 8601 time, written as the lane writes times (with its offset)."""
    try:
        return iso_time(parse_time(text), "seconds")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _network_list(text: str) -> tuple[str, ...]:
    networks = tuple(part.strip() for part in text.split(","))
    for network in networks:
        if len(network) != 4 or not (network.isascii() and network.isdigit()):
            raise argparse.ArgumentTypeError(f"{network!r} is not a 4-digit network number")
    if len(set(networks)) != len(networks):
        raise argparse.ArgumentTypeError(f"{text!r} names a network twice")
    return networks
