"""`lane-engine blacklist`: convert, show, generate and update blacklist files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from lane_engine.aio.data import TEXT_BLACKLIST_SUFFIXES, load_blacklist
from lane_engine.cli.args import non_negative_int
from lane_engine.core.blacklist import (
    Blacklist,
    Reason,
    format_card_number,
    split_card_number,
    synthetic_columns,
)
from lane_engine.errors import BlacklistError
from lane_engine.files.blacklist import load_delta_text, save_binary, save_text

DESCRIPTION = f"""\
commands:
  convert    text <-> binary, by the files' suffixes
  show       version, count and reasons of a list; look one card up
  synthetic  a list of random distinct cards, for tests and load trials
  apply      apply a delta (text) to a full list

A file ending in {' or '.join(TEXT_BLACKLIST_SUFFIXES)} is the text format, any other the binary
format (as the lane reads `paths.blacklist`).

examples:
  lane-engine blacklist synthetic --count 100000 --seed 1 --version 1 -o var/blacklist.bin
  lane-engine blacklist convert var/blacklist.bin var/blacklist.txt
  lane-engine blacklist show var/blacklist.bin --card 37010000000000000001
  lane-engine blacklist apply var/blacklist.bin delta-2.txt -o var/blacklist-2.bin"""


def add_blacklist_parser(commands: Any) -> None:
    """Add `blacklist` and its subcommands to the `lane-engine` subparsers `commands`."""
    blacklist = commands.add_parser("blacklist", help="convert, show, generate, apply deltas",
                                    description=DESCRIPTION)
    sub = blacklist.add_subparsers(dest="blacklist_command", metavar="COMMAND", required=True)

    convert = sub.add_parser(
        "convert", help="text <-> binary",
        description="Read a full list and write it in the format OUT's suffix names.",
        epilog="example:\n  lane-engine blacklist convert lost-cards.txt var/blacklist.bin",
    )
    convert.add_argument("input", type=Path, metavar="IN", help="full list to read")
    convert.add_argument("output", type=Path, metavar="OUT", help="file to write")

    show = sub.add_parser(
        "show", help="version, count, reasons; look a card up",
        description="Print a full list's version, card count and cards per reason; with "
        "--card, whether that card is listed and why.",
        epilog="example:\n  lane-engine blacklist show var/blacklist.bin "
        "--card 37010000000000000001",
    )
    show.add_argument("file", type=Path, metavar="FILE", help="full list")
    show.add_argument("--card", type=_card_number, metavar="CARD",
                      help="20-digit card number to look up")

    synthetic = sub.add_parser(
        "synthetic", help="random list for tests and load trials",
        description="Write a list of N distinct random cards with random reasons.",
        epilog="example:\n  lane-engine blacklist synthetic --count 10000000 --seed 1 "
        "--version 1 -o var/blacklist.bin",
    )
    synthetic.add_argument("--count", type=non_negative_int, required=True, metavar="N",
                           help="number of cards")
    synthetic.add_argument("--seed", type=int, default=0, metavar="S",
                           help="seed; the same seed, the same list (default 0)")
    synthetic.add_argument("--version", type=non_negative_int, required=True, metavar="V",
                           help="list version")
    synthetic.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                           help="file to write (replaced atomically)")

    apply = sub.add_parser(
        "apply", help="apply a delta to a full list",
        description="Apply a delta (text format, from version V to V+1) to a full list of "
        "version V and write the result.",
        epilog="example:\n  lane-engine blacklist apply var/blacklist.bin delta-2.txt "
        "-o var/blacklist-2.bin",
    )
    apply.add_argument("file", type=Path, metavar="FILE", help="full list of the delta's base")
    apply.add_argument("delta", type=Path, metavar="DELTA", help="delta (text format)")
    apply.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                       help="file to write (may be FILE itself)")


def run_blacklist(args: argparse.Namespace) -> int:
    """Run a parsed `blacklist` subcommand; BlacklistError on bad data."""
    command = args.blacklist_command
    if command == "convert":
        blacklist = load_blacklist(args.input)
        _save(args.output, blacklist)
        print(f"wrote {args.output}: version {blacklist.version}, {len(blacklist)} cards")
    elif command == "show":
        _show(load_blacklist(args.file), args.card)
    elif command == "synthetic":
        columns = synthetic_columns(np.random.default_rng(args.seed), args.count)
        blacklist = Blacklist.from_columns(args.version, *columns)
        _save(args.output, blacklist)
        print(f"wrote {args.output}: version {blacklist.version}, {len(blacklist)} cards")
        if len(blacklist):  # one card to try `show --card` and the lanes with
            networks, serials, _ = columns
            print(f"a listed card: {format_card_number(int(networks[0]), int(serials[0]))}")
    else:
        blacklist = load_blacklist(args.file)
        delta = load_delta_text(args.delta)
        try:
            updated = blacklist.applied(delta)
        except BlacklistError as exc:
            raise BlacklistError(f"{args.delta}: {exc} ({args.file})") from exc
        _save(args.output, updated)
        print(f"wrote {args.output}: version {blacklist.version} -> {updated.version}, "
              f"{len(delta.additions)} added, {len(delta.removals)} removed, "
              f"{len(updated)} cards")
    return 0


def _save(path: Path, blacklist: Blacklist) -> None:
    if path.suffix.lower() in TEXT_BLACKLIST_SUFFIXES:
        save_text(path, blacklist)
    else:
        save_binary(path, blacklist)


def _card_number(text: str) -> str:
    try:
        split_card_number(text)
    except BlacklistError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _show(blacklist: Blacklist, card: str | None) -> None:
    _, _, codes = blacklist.columns()
    counts = np.bincount(codes, minlength=256)
    print(f"version  {blacklist.version}")
    print(f"cards    {len(blacklist)}")
    for reason in Reason:
        print(f"  {reason.name:<10} {int(counts[reason]):>10}")
    if card is not None:
        found = blacklist.reason_for(card)
        print(f"card {card}: " + ("not listed" if found is None else f"listed, {found.name}"))
