"""The work of `lane-engine blacklist` (convert, show, synthetic, apply): numba and numpy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from cli_conventions import print_json
from lane_engine.aio.data import TEXT_BLACKLIST_SUFFIXES, load_blacklist
from lane_engine.core.blacklist import (
    Blacklist,
    Reason,
    format_card_number,
    synthetic_columns,
)
from lane_engine.errors import BlacklistError
from lane_engine.files.blacklist import load_delta_text, save_binary, save_text

__all__ = [
    "Report",
    "run",
]

Report = dict[str, Any]


def run(args: argparse.Namespace) -> int:
    """Run a parsed `blacklist` subcommand; BlacklistError on bad data. `show --card` of a card
    that is not listed is status 1."""
    command = args.blacklist_command
    report: Report
    if command == "convert":
        blacklist = load_blacklist(args.input)
        _save(args.output, blacklist)
        report = {"wrote": str(args.output), "version": blacklist.version,
                  "cards": len(blacklist)}
    elif command == "show":
        report = _show(load_blacklist(args.file), args.file, args.card)
    elif command == "synthetic":
        columns = synthetic_columns(np.random.default_rng(args.seed), args.count)
        blacklist = Blacklist.from_columns(args.list_version, *columns)
        _save(args.output, blacklist)
        networks, serials, _ = columns
        report = {"wrote": str(args.output), "version": blacklist.version,
                  "cards": len(blacklist),
                  # one card to try `show --card` and the lanes with
                  "a_listed_card": format_card_number(int(networks[0]), int(serials[0]))
                  if len(blacklist) else None}
    else:
        blacklist = load_blacklist(args.file)
        delta = load_delta_text(args.delta)
        try:
            updated = blacklist.applied(delta)
        except BlacklistError as exc:
            raise BlacklistError(f"{args.delta}: {exc} ({args.file})") from exc
        _save(args.output, updated)
        report = {"wrote": str(args.output), "base_version": blacklist.version,
                  "version": updated.version, "added": len(delta.additions),
                  "removed": len(delta.removals), "cards": len(updated)}
    if args.json:
        print_json(report)
    else:
        print(_text(command, report), end="")
    looked_up = report.get("card")
    return 1 if looked_up is not None and not looked_up["listed"] else 0


def _save(path: Path, blacklist: Blacklist) -> None:
    if path.suffix.lower() in TEXT_BLACKLIST_SUFFIXES:
        save_text(path, blacklist)
    else:
        save_binary(path, blacklist)


def _show(blacklist: Blacklist, path: Path, card: str | None) -> Report:
    _, _, codes = blacklist.columns()
    counts = np.bincount(codes, minlength=256)
    report: Report = {"file": str(path), "version": blacklist.version, "cards": len(blacklist),
                      "by_reason": {reason.name: int(counts[reason]) for reason in Reason}}
    if card is not None:
        found = blacklist.reason_for(card)
        report["card"] = {"number": card, "listed": found is not None,
                          "reason": None if found is None else found.name}
    return report


def _text(command: str, r: Report) -> str:
    if command == "show":
        lines = [f"version  {r['version']}", f"cards    {r['cards']}"]
        lines += [f"  {name:<14} {n:>10}" for name, n in r["by_reason"].items()]
        if "card" in r:
            card = r["card"]
            lines.append(f"card {card['number']}: " + (
                f"listed, {card['reason']}" if card["listed"] else "not listed"))
        return "\n".join(lines) + "\n"
    if command == "apply":
        return (f"wrote {r['wrote']}: version {r['base_version']} -> {r['version']}, "
                f"{r['added']} added, {r['removed']} removed, {r['cards']} cards\n")
    text = f"wrote {r['wrote']}: version {r['version']}, {r['cards']} cards\n"
    if r.get("a_listed_card"):
        text += f"a listed card: {r['a_listed_card']}\n"
    return text
