"""The work of `lane-engine blacklist` (convert, show, synthetic, apply): numba and numpy."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lane_engine.aio.data import TEXT_BLACKLIST_SUFFIXES, load_blacklist
from lane_engine.core.blacklist import (
    Blacklist,
    Reason,
    format_card_number,
    synthetic_columns,
)
from lane_engine.errors import BlacklistError
from lane_engine.files.blacklist import load_delta_text, save_binary, save_text


def run(args: argparse.Namespace) -> int:
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


def _show(blacklist: Blacklist, card: str | None) -> None:
    _, _, codes = blacklist.columns()
    counts = np.bincount(codes, minlength=256)
    print(f"version  {blacklist.version}")
    print(f"cards    {len(blacklist)}")
    for reason in Reason:
        print(f"  {reason.name:<14} {int(counts[reason]):>10}")
    if card is not None:
        found = blacklist.reason_for(card)
        print(f"card {card}: " + ("not listed" if found is None else f"listed, {found.name}"))
