"""The work of `lane-engine fees` (build, synthetic, show, check): numba and numpy."""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from lane_engine.cli.args import UsageError, print_json, yuan
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
from lane_engine.times import iso_time
from protocols.records import VehicleClass

__all__ = [
    "Report",
    "run",
]

Report = dict[str, Any]


def run(args: argparse.Namespace) -> int:
    """Run a parsed `fees` subcommand; LaneError subclasses on bad data, UsageError on misuse.
    Each command makes a report, printed as text or (`--json`) as JSON."""
    if args.fees_command == "build":
        report = _build(load_network(args.network), args)
    elif args.fees_command == "synthetic":
        network = synthetic_network(args.stations, args.seed, networks=args.networks)
        if args.network_out is not None:
            write_network(network, args.network_out,
                          name=f"synthetic: {args.stations} stations, seed {args.seed}")
        report = _build(network, args)
    elif args.fees_command == "show":
        report = _show(args)
    else:
        report = _check(args)
    if args.json:
        print_json(report)
    else:
        print(_TEXT[args.fees_command](report), end="")
    return 0


def _build(network: RoadNetwork, args: argparse.Namespace) -> Report:
    if not args.table_version.strip():
        raise UsageError("--table-version must not be empty")
    built_at = args.built_at or iso_time(time.time(), "seconds")
    started = time.perf_counter()
    try:
        built = write_fee_table_of(network, args.table_version, built_at, args.output)
        size = args.output.stat().st_size
    except OSError as exc:
        raise FeeTableError(f"{args.output}: cannot write fee table: {exc.strerror}") from exc
    elapsed = time.perf_counter() - started
    return {
        "table": str(args.output), "version": built.version, "built_at": built_at,
        "stations": built.stations, "classes": built.classes,
        "sections": len(network.sections), "build_s": round(elapsed, 3),
        "batches": built.batches, "exits_per_batch": built.exits_per_batch,
        "peak_batch_bytes": built.peak_batch_bytes, "network_hash": built.network_hash,
        "bytes": size,
        "network_out": None if getattr(args, "network_out", None) is None
        else str(args.network_out),
    }


def _build_text(r: Report) -> str:
    lines = [] if r["network_out"] is None else [f"wrote network {r['network_out']}"]
    lines += [f"fee table {r['version']}: {r['stations']} stations, {r['classes']} classes, "
              f"{r['sections']} sections; built and written in {r['build_s']:.3f} s "
              f"({r['batches']} batch(es) of {r['exits_per_batch']} exits, "
              f"{r['peak_batch_bytes'] / 2**20:.1f} MiB each)",
              f"network hash {r['network_hash']}", f"wrote {r['table']} ({r['bytes']} bytes)"]
    return "\n".join(lines) + "\n"


def _show(args: argparse.Namespace) -> Report:
    if args.entry is not None and args.exit is None:
        raise UsageError("--entry needs --exit (fees are looked up by exit station)")
    if args.exit is None:
        return {"header": _header(read_fee_table_info(args.table), args.table)}
    fee_slice = load_fee_slice(args.table, *args.exit)
    report: Report = {"header": _header(fee_slice, args.table)}
    classes = fee_slice.classes if args.vehicle_class is None else (args.vehicle_class,)
    if args.vehicle_class is not None and args.vehicle_class not in fee_slice.classes:
        raise FeeTableError(f"{args.table}: the table does not price class "
                            f"{args.vehicle_class.name}")
    if args.entry is None:
        report["exit_fees"] = _exit_summary(fee_slice, classes)
    else:
        report["trip"] = _trip(fee_slice, args.entry, classes, args.table)
    return report


def _header(table: FeeTableInfo | FeeSlice, path: Path) -> Report:
    per_network = Counter(network for network, _ in table.stations)
    return {
        "table": str(path), "version": table.version, "network_hash": table.network_hash,
        "built_at": table.built_at or None, "stations": len(table.stations),
        "stations_by_network": dict(sorted(per_network.items())),
        "classes": len(table.classes), "bytes": path.stat().st_size,
    }


def _exit_summary(fee_slice: FeeSlice, classes: tuple[VehicleClass, ...]) -> Report:
    """Min, (lower) median and max fee into the exit over every other entry, per class."""
    exit_network, exit_station = fee_slice.exit_station
    others = np.array([key != fee_slice.exit_station for key in fee_slice.stations])
    rows = []
    for klass in classes:
        column = fee_slice.fees[others, fee_slice.classes.index(klass)].astype(np.int64)
        priced = np.sort(column[column != NO_ROUTE])
        low = median = high = None
        if len(priced):
            low, median, high = (int(priced[i]) for i in (0, (len(priced) - 1) // 2, -1))
        rows.append({"class": klass.name, "min": low, "median": median, "max": high,
                     "no_route": int(len(column) - len(priced))})
    return {"exit": f"{exit_network}/{exit_station}", "entries": int(others.sum()),
            "fen": rows}


def _trip(fee_slice: FeeSlice, entry: StationKey, classes: tuple[VehicleClass, ...],
          path: Path) -> Report:
    if entry not in fee_slice.stations:
        raise FeeTableError(f"{path}: entry station {entry[0]}/{entry[1]} is not in the table")
    exit_network, exit_station = fee_slice.exit_station
    return {"entry": f"{entry[0]}/{entry[1]}", "exit": f"{exit_network}/{exit_station}",
            "fen": {klass.name: fee_slice.fee(entry[0], entry[1], klass) for klass in classes}}


def _show_text(r: Report) -> str:
    h = r["header"]
    networks = ", ".join(f"{net}: {n}" for net, n in h["stations_by_network"].items())
    lines = [f"fee table   {h['version']}", f"network     {h['network_hash']}",
             f"built at    {h['built_at'] or '-'}", f"stations    {h['stations']} ({networks})",
             f"classes     {h['classes']}", f"file        {h['table']} ({h['bytes']} bytes)"]
    if "exit_fees" in r:
        summary = r["exit_fees"]
        lines += ["", f"fees into exit {summary['exit']} from {summary['entries']} entries, "
                      "fen (yuan):",
                  f"{'class':<12} {'min':>16} {'median':>16} {'max':>16} {'no route':>9}"]
        for row in summary["fen"]:
            cells = " ".join(f"{'-' if row[k] is None else f'{row[k]} ({yuan(row[k])})':>16}"
                             for k in ("min", "median", "max"))
            lines.append(f"{row['class']:<12} {cells} {row['no_route']:>9}")
    if "trip" in r:
        trip = r["trip"]
        lines += ["", f"entry {trip['entry']} -> exit {trip['exit']}:"]
        lines += [f"{name:<12} " + ("no route" if fee is None else f"{fee} fen ({yuan(fee)} yuan)")
                  for name, fee in trip["fen"].items()]
    return "\n".join(lines) + "\n"


def _check(args: argparse.Namespace) -> Report:
    expected = None if args.network is None else load_network(args.network).network_hash()
    table = check_fee_table(args.table, expected_network_hash=expected)
    return {"table": str(args.table), "ok": True, "version": table.version,
            "exit_blocks": len(table.stations), "network_hash": table.network_hash,
            "network": None if args.network is None else str(args.network)}


def _check_text(r: Report) -> str:
    text = (f"{r['table']}: ok: fee table {r['version']}, {r['exit_blocks']} exit blocks "
            "verified\n")
    if r["network"] is not None:
        text += f"network hash {r['network_hash']} matches {r['network']}\n"
    return text


_TEXT = {"build": _build_text, "synthetic": _build_text, "show": _show_text, "check": _check_text}
