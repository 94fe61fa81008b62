"""`lane-engine fees`: build fee tables from network files or synthetic networks, show, check."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from lane_engine.cli.args import UsageError, positive_int, station_key, vehicle_class, yuan
from lane_engine.errors import FeeTableError
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.network import RoadNetwork, StationKey
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.fees.table import NO_ROUTE, FeeSlice, FeeTable
from lane_engine.fees.table_file import load_fee_slice, load_fee_table, write_fee_table
from lane_engine.files.network import load_network, write_network
from protocols.records import VehicleClass

DESCRIPTION = """\
commands:
  build      build a fee table from a road-network file (TOML, see examples/network.toml)
  synthetic  generate a synthetic provincial network and build its fee table
  show       a table's header, one fee, or the fees into one exit station
  check      verify every block's checksum (and the network it was built from)

examples:
  lane-engine fees build --network examples/network.toml --version 2026.11 -o var/fees.etcfee
  lane-engine fees show var/fees.etcfee --exit 3701/120 --entry 3701/102 --class PASSENGER_1
  lane-engine fees check var/fees.etcfee --network examples/network.toml
  lane-engine fees synthetic --stations 2000 --seed 7 --version load-1 -o var/big.etcfee"""

_SHOW_EXAMPLES = """\
examples:
  lane-engine fees show var/fees.etcfee                      header
  lane-engine fees show var/fees.etcfee --exit 3701/120      min/median/max fee per class
  lane-engine fees show var/fees.etcfee --exit 3701/120 --entry 3702/201 --class truck_6"""


def add_fees_parser(commands: Any) -> None:
    """Add `fees` and its subcommands to the `lane-engine` subparsers `commands`."""
    fees = commands.add_parser("fees", help="build, show and check fee tables",
                               description=DESCRIPTION)
    sub = fees.add_subparsers(dest="fees_command", metavar="COMMAND", required=True)

    build = sub.add_parser(
        "build", help="build a fee table from a network file",
        description="Build the fee table of a road-network file: the cheapest route between "
        "every two stations, per class (numba, in parallel over exits).",
        epilog="example:\n  lane-engine fees build --network examples/network.toml "
        "--version 2026.11 -o var/fees.etcfee",
    )
    build.add_argument("--network", type=Path, required=True, metavar="FILE",
                       help="road-network file (TOML, see examples/network.toml)")
    _add_output_arguments(build)

    synthetic = sub.add_parser(
        "synthetic", help="generate a synthetic network and build its table",
        description="Generate a connected synthetic provincial network (hubs, highways, "
        "stations, toll-unit boundaries) and build its fee table; for tests and load trials.",
        epilog="example:\n  lane-engine fees synthetic --stations 2000 --seed 7 "
        "--networks 3701,3702 --network-out var/big.toml --version load-1 -o var/big.etcfee",
    )
    synthetic.add_argument("--stations", type=positive_int, required=True, metavar="N",
                           help="number of stations")
    synthetic.add_argument("--seed", type=int, default=0, metavar="S",
                           help="seed of the generator; the same seed, the same network "
                                "(default 0)")
    synthetic.add_argument("--networks", type=_network_list, default=("3701", "3702", "3703"),
                           metavar="NET,NET", help="road network numbers the stations belong "
                           "to (default 3701,3702,3703)")
    synthetic.add_argument("--network-out", type=Path, metavar="FILE",
                           help="also write the network as a network file (TOML)")
    _add_output_arguments(synthetic)

    show = sub.add_parser(
        "show", help="show a table's header, a fee or an exit's fees",
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

    check = sub.add_parser(
        "check", help="verify a table's checksums and network",
        description="Verify the header and every exit block's checksum; with --network, that "
        "the table was built from that network file. Exit status 1 on any fault.",
        epilog="example:\n  lane-engine fees check var/fees.etcfee --network "
        "examples/network.toml",
    )
    check.add_argument("table", type=Path, metavar="TABLE", help="fee-table file")
    check.add_argument("--network", type=Path, metavar="FILE",
                       help="network file the table must have been built from")


def run_fees(args: argparse.Namespace) -> int:
    """Run a parsed `fees` subcommand; LaneError subclasses on bad data, UsageError on misuse."""
    if args.fees_command == "build":
        return _build(load_network(args.network), args)
    if args.fees_command == "synthetic":
        network = synthetic_network(args.stations, args.seed, networks=args.networks)
        if args.network_out is not None:
            write_network(network, args.network_out,
                          name=f"synthetic: {args.stations} stations, seed {args.seed}")
            print(f"wrote network {args.network_out}")
        return _build(network, args)
    if args.fees_command == "show":
        return _show(args)
    return _check(args)


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", required=True, metavar="V",
                        help="version the table is known by (records name it), e.g. 2026.11")
    parser.add_argument("--built-at", metavar="ISO",
                        help="build time to record (default: now, UTC); fixed for a "
                             "reproducible file")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="TABLE",
                        help="fee-table file to write (replaced atomically)")


def _network_list(text: str) -> tuple[str, ...]:
    networks = tuple(part.strip() for part in text.split(","))
    for network in networks:
        if len(network) != 4 or not (network.isascii() and network.isdigit()):
            raise argparse.ArgumentTypeError(f"{network!r} is not a 4-digit network number")
    if len(set(networks)) != len(networks):
        raise argparse.ArgumentTypeError(f"{text!r} names a network twice")
    return networks


def _build(network: RoadNetwork, args: argparse.Namespace) -> int:
    if not args.version.strip():
        raise UsageError("--version must not be empty")
    built_at = args.built_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = time.perf_counter()
    table = build_fee_table(network, args.version, built_at)
    elapsed = time.perf_counter() - started
    try:
        write_fee_table(table, args.output)
        size = args.output.stat().st_size
    except OSError as exc:
        raise FeeTableError(f"{args.output}: cannot write fee table: {exc.strerror}") from exc
    print(f"fee table {table.version}: {len(table.stations)} stations, "
          f"{len(table.classes)} classes, {len(network.sections)} sections; "
          f"built in {elapsed:.3f} s")
    print(f"network hash {table.network_hash}")
    print(f"wrote {args.output} ({size} bytes)")
    return 0


def _show(args: argparse.Namespace) -> int:
    if args.entry is not None and args.exit is None:
        raise UsageError("--entry needs --exit (fees are looked up by exit station)")
    if args.exit is None:
        table = load_fee_table(args.table)
        _print_header(table, args.table)
        return 0
    fee_slice = load_fee_slice(args.table, *args.exit)
    _print_header(fee_slice, args.table)
    classes = fee_slice.classes if args.vehicle_class is None else (args.vehicle_class,)
    if args.vehicle_class is not None and args.vehicle_class not in fee_slice.classes:
        raise FeeTableError(f"{args.table}: the table does not price class "
                            f"{args.vehicle_class.name}")
    if args.entry is None:
        _print_exit_summary(fee_slice, classes)
    else:
        _print_trip(fee_slice, args.entry, classes, args.table)
    return 0


def _print_header(table: FeeTable | FeeSlice, path: Path) -> None:
    per_network = Counter(network for network, _ in table.stations)
    networks = ", ".join(f"{net}: {count}" for net, count in sorted(per_network.items()))
    print(f"fee table   {table.version}")
    print(f"network     {table.network_hash}")
    print(f"built at    {table.built_at or '-'}")
    print(f"stations    {len(table.stations)} ({networks})")
    print(f"classes     {len(table.classes)}")
    print(f"file        {path} ({path.stat().st_size} bytes)")


def _print_exit_summary(fee_slice: FeeSlice, classes: tuple[VehicleClass, ...]) -> None:
    """Min, (lower) median and max fee into the exit over every other entry, per class."""
    exit_network, exit_station = fee_slice.exit_station
    others = np.array([key != fee_slice.exit_station for key in fee_slice.stations])
    print(f"\nfees into exit {exit_network}/{exit_station} from {int(others.sum())} entries, "
          f"fen (yuan):")
    print(f"{'class':<12} {'min':>16} {'median':>16} {'max':>16} {'no route':>9}")
    for klass in classes:
        column = fee_slice.fees[others, fee_slice.classes.index(klass)].astype(np.int64)
        priced = np.sort(column[column != NO_ROUTE])
        unpriced = len(column) - len(priced)
        if len(priced) == 0:
            print(f"{klass.name:<12} {'-':>16} {'-':>16} {'-':>16} {unpriced:>9}")
            continue
        low, median, high = (int(priced[i]) for i in (0, (len(priced) - 1) // 2, -1))
        cells = " ".join(f"{f'{fee} ({yuan(fee)})':>16}" for fee in (low, median, high))
        print(f"{klass.name:<12} {cells} {unpriced:>9}")


def _print_trip(fee_slice: FeeSlice, entry: StationKey, classes: tuple[VehicleClass, ...],
                path: Path) -> None:
    if entry not in fee_slice.stations:
        raise FeeTableError(f"{path}: entry station {entry[0]}/{entry[1]} is not in the table")
    exit_network, exit_station = fee_slice.exit_station
    print(f"\nentry {entry[0]}/{entry[1]} -> exit {exit_network}/{exit_station}:")
    for klass in classes:
        fee = fee_slice.fee(entry[0], entry[1], klass)
        text = "no route" if fee is None else f"{fee} fen ({yuan(fee)} yuan)"
        print(f"{klass.name:<12} {text}")


def _check(args: argparse.Namespace) -> int:
    expected = None if args.network is None else load_network(args.network).network_hash()
    table = load_fee_table(args.table, expected_network_hash=expected)
    print(f"{args.table}: ok: fee table {table.version}, {len(table.stations)} exit blocks "
          f"verified")
    if args.network is not None:
        print(f"network hash {table.network_hash} matches {args.network}")
    return 0
