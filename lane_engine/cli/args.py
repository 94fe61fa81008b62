"""What every `lane-engine` subcommand shares: the conventions of every tool of the project
(`cli_conventions`: usage error, parser, `--version`, `--json`, exit status), how lane errors
are reported, argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import cli_conventions
from cli_conventions import (
    EXIT_STATUS,
    Parser,
    UsageError,
    add_commands,
    add_json_flag,
    add_version_flag,
    print_json,
)
from lane_engine.errors import LaneError
from lane_engine.fees.network import StationKey
from protocols.records import VehicleClass

__all__ = [
    "EXIT_STATUS",
    "Parser",
    "UsageError",
    "add_commands",
    "add_json_flag",
    "add_version_flag",
    "non_negative_int",
    "positive_int",
    "print_json",
    "run_command",
    "station_key",
    "vehicle_class",
    "yuan",
]


def run_command(prog: str, command: Callable[[], int], *,
                failures: tuple[type[Exception], ...] = (LaneError,),
                failure_status: int = 1) -> int:
    """Run `command` (parsing included) and return its exit status; a UsageError is one line on
    stderr and status 2, one of `failures` (a LaneError unless told) one line and
    `failure_status` (see `cli_conventions.run_command`)."""
    return cli_conventions.run_command(prog, command, failures=failures,
                                       failure_status=failure_status)


def station_key(text: str) -> StationKey:
    """`NET/STATION` (e.g. 3701/120) as a station key; argparse turns a fault into a usage error."""
    network, slash, station = text.partition("/")
    if not (slash and len(network) == 4 and network.isdigit() and station.isdigit()
            and network.isascii() and station.isascii() and int(station) <= 0xFFFF):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not NET/STATION (4-digit network, station 0..65535, e.g. 3701/120)")
    return network, int(station)


def vehicle_class(text: str) -> VehicleClass:
    """A vehicle class by name (PASSENGER_1, truck_6) or code (1, 16)."""
    try:
        return VehicleClass(int(text)) if text.isdigit() else VehicleClass[text.upper()]
    except (KeyError, ValueError):
        names = ", ".join(c.name for c in VehicleClass)
        raise argparse.ArgumentTypeError(f"{text!r} is not a vehicle class ({names})") from None


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 1")
    return value


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 0")
    return value


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, for people reading the output."""
    return f"{fen // 100}.{fen % 100:02d}"
