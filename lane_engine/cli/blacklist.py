"""`lane-engine blacklist`: its arguments here, its work in `lane_engine.cli.blacklist_work`,
imported only when a blacklist command runs (numba and numpy stay out of every other command's
start-up)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli_conventions import numbers
from lane_engine.cli.args import (
    EXIT_STATUS,
    add_commands,
    add_json_flag,
    non_negative_int,
)
from lane_engine.files.formats import TEXT_BLACKLIST_SUFFIXES

__all__ = [
    "DESCRIPTION",
    "add_blacklist_parser",
    "run_blacklist",
]

DESCRIPTION = f"""\
Make, show and update the blacklists a lane checks cards against (`paths.blacklist`). A file
ending in {' or '.join(TEXT_BLACKLIST_SUFFIXES)} is the text format, any other the binary format.

examples:
  lane-engine blacklist synthetic --count 100000 --seed 1 --list-version 1 -o var/blacklist.bin
  lane-engine blacklist convert var/blacklist.bin var/blacklist.txt
  lane-engine blacklist show var/blacklist.bin --card 37010000000000000001
  lane-engine blacklist apply var/blacklist.bin delta-2.txt -o var/blacklist-2.bin
"""
_SHOW_STATUS = ("exit status: 0 ok (with --card: the card is listed), 1 the card is not listed "
                "or a failure (one line on stderr), 2 bad usage")


def add_blacklist_parser(commands: Any) -> None:
    """Add `blacklist` and its subcommands to the `lane-engine` subparsers `commands`."""
    blacklist = commands.add_parser(
        "blacklist", help="convert, show, generate and update blacklists (paths.blacklist)",
        description=DESCRIPTION, epilog=EXIT_STATUS)
    sub = add_commands(blacklist, dest="blacklist_command")

    convert = sub.add_parser(
        "convert", help="text <-> binary, by the files' suffixes",
        description="Read a full list and write it in the format OUT's suffix names.",
        epilog="example:\n  lane-engine blacklist convert lost-cards.txt var/blacklist.bin"
               f"\n\n{EXIT_STATUS}",
    )
    convert.add_argument("input", type=Path, metavar="IN", help="full list to read")
    convert.add_argument("output", type=Path, metavar="OUT", help="file to write")
    add_json_flag(convert)

    show = sub.add_parser(
        "show", help="version, count and reasons of a list; look one card up",
        description="Print a full list's version, card count and cards per reason; with "
        "--card, whether that card is listed and why (exit status 1 when it is not).",
        epilog="example:\n  lane-engine blacklist show var/blacklist.bin "
        f"--card 37010000000000000001\n\n{_SHOW_STATUS}",
    )
    show.add_argument("file", type=Path, metavar="FILE", help="full list")
    show.add_argument("--card", type=_card_number, metavar="CARD",
                      help="20-digit card number to look up")
    add_json_flag(show)

    synthetic = sub.add_parser(
        "synthetic", help="a list of random distinct cards, for tests and load trials",
        description="Write a list of N distinct random cards with random reasons.",
        epilog="example:\n  lane-engine blacklist synthetic --count 10000000 --seed 1 "
        f"--list-version 1 -o var/blacklist.bin\n\n{EXIT_STATUS}",
    )
    synthetic.add_argument("--count", type=non_negative_int, required=True, metavar="N",
                           help="number of cards")
    synthetic.add_argument("--seed", type=numbers.non_negative_int, default=0, metavar="S",
                           help="seed; the same seed, the same list (default 0)")
    synthetic.add_argument("--list-version", type=non_negative_int, required=True, metavar="V",
                           help="the list's version")
    synthetic.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                           help="file to write (replaced atomically)")
    add_json_flag(synthetic)

    apply = sub.add_parser(
        "apply", help="apply a delta (text) to a full list",
        description="Apply a delta (text format, from version V to V+1) to a full list of "
        "version V and write the result.",
        epilog="example:\n  lane-engine blacklist apply var/blacklist.bin delta-2.txt "
        f"-o var/blacklist-2.bin\n\n{EXIT_STATUS}",
    )
    apply.add_argument("file", type=Path, metavar="FILE", help="full list of the delta's base")
    apply.add_argument("delta", type=Path, metavar="DELTA", help="delta (text format)")
    apply.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                       help="file to write (may be FILE itself)")
    add_json_flag(apply)


def run_blacklist(args: argparse.Namespace) -> int:
    """Run a parsed `blacklist` subcommand; BlacklistError on bad data."""
    from lane_engine.cli.blacklist_work import run

    return run(args)


def _card_number(text: str) -> str:
    # Checked as the blacklist reads card numbers (only a blacklist command gets here).
    from lane_engine.core.blacklist import split_card_number
    from lane_engine.errors import BlacklistError

    try:
        split_card_number(text)
    except BlacklistError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
