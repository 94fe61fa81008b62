"""Numbers on a command line, range-checked by the argument parser (`type=`), so a port or a
count out of range is a usage error in one line, not a traceback further on."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = [
    "PORT_MAX",
    "int_between",
    "non_negative_int",
    "port",
    "positive_float",
    "positive_int",
]

PORT_MAX = 0xFFFF


def int_between(low: int, high: int | None = None,
                what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type: a whole number in low..high (no upper bound for None)."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value < low or (high is not None and value > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"{value} is out of range: {what} wants {bounds}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


#: A TCP port, 0..65535 (0: any free port).
port = int_between(0, PORT_MAX, "a TCP port")
#: A count of at least one.
positive_int = int_between(1, None, "a whole number")
#: A count that may be zero.
non_negative_int = int_between(0, None, "a whole number")


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0 (a speed, a rate)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return value
