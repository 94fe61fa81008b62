"""The work of `lane-engine fees` (build, synthetic, show, check): numba and numpy."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from pathlib import Path

import numpy as np

from lane_engine.cli.args import UsageError, yuan
from lane_engine.errors import FeeTableError
from lane_engine.fees.builder import write_fee_table_of
from lane_engine.fees.network import RoadNetwork, StationKey
from lane_engine.fees.synthetic import synthetic_network
from lane_engine.fees.table import NO_ROUTE, FeeSlice
from lane_engine.fees.table_file import (
    FeeTableInfo,
    check_fee_table,
    load_fee_slice,
    read_fee_table_info,
)
from lane_engine.files.network import load_network, write_network
from protocols.records import VehicleClass


def run(args: argparse.Namespace) -> int:
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


def _build(network: RoadNetwork, args: argparse.Namespace) -> int:
    if not args.version.strip():
        raise UsageError("--version must not be empty")
    built_at = args.built_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    started = time.perf_counter()
    try:
        built = write_fee_table_of(network, args.version, built_at, args.output)
        size = args.output.stat().st_size
    except OSError as exc:
        raise FeeTableError(f"{args.output}: cannot write fee table: {exc.strerror}") from exc
    elapsed = time.perf_counter() - started
    print(f"fee table {built.version}: {built.stations} stations, {built.classes} classes, "
          f"{len(network.sections)} sections; built and written in {elapsed:.3f} s "
          f"({built.batches} batch(es) of {built.exits_per_batch} exits, "
          f"{built.peak_batch_bytes / 2**20:.1f} MiB each)")
    print(f"network hash {built.network_hash}")
    print(f"wrote {args.output} ({size} bytes)")
    return 0


def _show(args: argparse.Namespace) -> int:
    if args.entry is not None and args.exit is None:
        raise UsageError("--entry needs --exit (fees are looked up by exit station)")
    if args.exit is None:
        _print_header(read_fee_table_info(args.table), args.table)
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


def _print_header(table: FeeTableInfo | FeeSlice, path: Path) -> None:
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
    table = check_fee_table(args.table, expected_network_hash=expected)
    print(f"{args.table}: ok: fee table {table.version}, {len(table.stations)} exit blocks "
          f"verified")
    if args.network is not None:
        print(f"network hash {table.network_hash} matches {args.network}")
    return 0
