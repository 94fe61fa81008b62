"""`python -m lane_engine.journal` (and `lane-engine journal`): read the transaction journal."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from lane_engine import times
from lane_engine.cli.args import Parser, run_command
from lane_engine.cli.args import UsageError as UsageError  # still importable from here
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.errors import JournalError
from lane_engine.journal.api import EntryState, JournalEntry, JournalFilter
from lane_engine.journal.export import entry_to_dict, write_csv, write_jsonl
from lane_engine.journal.store import SqliteJournal

#: Where the lane keeps its journal unless told otherwise.
DEFAULT_JOURNAL = Path("var/journal.sqlite3")

EPILOG = """\
times: ISO 8601 (2024-05-01, 2024-05-01T08:00, 2024-05-01T08:00:00+08:00; the lane's time
zone, UTC+8, when no offset is given) or UNIX seconds: any time the lane printed (a record's
transaction_time, a listed or exported time) can be pasted. The journal selects by when it
recorded the transaction.
exit status: 0 ok, 1 journal error (missing, unreadable, not found), 2 bad arguments."""


def parse_time(text: str) -> float:
    """A `--since`/`--until` time (`lane_engine.times.parse_time`), as UNIX seconds."""
    try:
        return times.parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_reason(text: str) -> ReasonCode:
    """A reason code by name (case-insensitive) or number."""
    try:
        return ReasonCode(int(text)) if text.isdigit() else ReasonCode[text.upper()]
    except (KeyError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"unknown reason: {text!r}") from exc


def parse_limit(text: str) -> int:
    """A positive count."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive count: {text!r}")
    return int(text)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of the journal command."""
    journal_option = Parser(add_help=False)
    journal_option.add_argument(
        "--journal",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="PATH",
        help=f"journal database (default {DEFAULT_JOURNAL})",
    )
    selection = Parser(add_help=False)
    selection.add_argument("--since", type=parse_time, metavar="TIME", help="recorded at or after")
    selection.add_argument("--until", type=parse_time, metavar="TIME", help="recorded before")
    selection.add_argument("--card", metavar="NUMBER", help="card number")
    selection.add_argument("--outcome", choices=[o.value for o in Outcome], help="final outcome")
    selection.add_argument("--reason", type=parse_reason, metavar="REASON", help="name or code")
    selection.add_argument("--state", choices=[s.value for s in EntryState], help="journal state")
    selection.add_argument("--limit", type=parse_limit, metavar="N", help="at most N entries")

    parser = Parser(
        prog=prog,
        description="Read the lane's transaction journal.",
        epilog=EPILOG,
    )
    parser.add_argument(
        "--journal",
        type=Path,
        default=DEFAULT_JOURNAL,
        metavar="PATH",
        help=f"journal database (default {DEFAULT_JOURNAL})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "list",
        parents=[journal_option, selection],
        help="list transactions, oldest first",
        description="List journaled transactions, oldest first.",
        epilog=EPILOG,
    )
    show = commands.add_parser(
        "show", parents=[journal_option], help="one transaction as JSON", epilog=EPILOG
    )
    show.add_argument("transaction_id", metavar="ID", help="transaction id")
    export = commands.add_parser(
        "export",
        parents=[journal_option, selection],
        help="export transactions as JSON Lines or CSV",
        description="Export journaled transactions (all record fields and journal bookkeeping).",
        epilog=EPILOG,
    )
    export.add_argument("--format", required=True, choices=["jsonl", "csv"], help="output format")
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="file (default stdout)")
    commands.add_parser(
        "open-intents",
        parents=[journal_option],
        help="intents never closed (what start-up recovery must settle)",
    )
    commands.add_parser(
        "stats", parents=[journal_option], help="counts by outcome and reason, outbox backlog"
    )
    return parser


def _selection(args: argparse.Namespace) -> JournalFilter:
    return JournalFilter(
        since=args.since,
        until=args.until,
        card_number=args.card,
        outcome=Outcome(args.outcome) if args.outcome else None,
        reason=args.reason,
        state=EntryState(args.state) if args.state else None,
        limit=args.limit,
    )


def _when(seconds: float) -> str:
    return times.iso_time(seconds, "seconds")


def _print_entries(entries: Iterable[JournalEntry], out: TextIO) -> None:
    out.write(
        f"{'recorded':25} {'transaction':18} {'state':9} {'outcome':13} {'reason':22} "
        f"{'card':20} {'fen':>7}\n"
    )
    for entry in entries:
        r = entry.record
        out.write(
            f"{_when(entry.recorded_at):25} {r.transaction_id:18} {entry.state.value:9} "
            f"{r.outcome.value:13} {r.reason.name:22} {r.card_number:20} {r.amount_debited:>7}\n"
        )


def _print_intents(records: Sequence[TransactionRecord], out: TextIO) -> None:
    out.write(
        f"{'transaction':18} {'card':20} {'ctc':>6} {'psam':12} {'serial':>10} {'fen':>7} "
        f"{'obu':>10} time\n"
    )
    for r in records:
        out.write(
            f"{r.transaction_id:18} {r.card_number:20} {r.ctc:>6} {r.psam_terminal_number:12} "
            f"{r.terminal_trans_serial:>10} {r.discounted_fee:>7} {r.obu_id:>10X} "
            f"{r.transaction_time}\n"
        )
    out.write(f"{len(records)} open intent(s)\n")


def _print_stats(journal: SqliteJournal, out: TextIO) -> None:
    counts = journal.counts()
    by_outcome: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for (outcome, reason), n in counts.items():
        by_outcome[outcome.value] += n
        by_reason[reason.name] += n
    out.write(f"transactions: {sum(counts.values())}\n")
    out.write("by outcome:\n")
    out.writelines(f"  {name:22} {n:>8}\n" for name, n in sorted(by_outcome.items()))
    out.write("by reason:\n")
    out.writelines(f"  {name:22} {n:>8}\n" for name, n in sorted(by_reason.items()))
    out.write("by outcome and reason:\n")
    out.writelines(
        f"  {o.value:13} {r.name:22} {n:>8}\n" for (o, r), n in sorted(counts.items(), key=str)
    )
    out.write(f"open intents: {len(journal.open_intents())}\n")
    out.write(f"outbox unpublished: {journal.pending_count()}\n")


def _run(args: argparse.Namespace, out: TextIO) -> int:
    with SqliteJournal(args.journal, create=False) as journal:
        if args.command == "list":
            _print_entries(journal.entries(_selection(args)), out)
        elif args.command == "show":
            entry = journal.get(args.transaction_id)
            if entry is None:
                raise JournalError(f"no transaction {args.transaction_id} in {args.journal}")
            out.write(json.dumps(entry_to_dict(entry), ensure_ascii=False, indent=2) + "\n")
        elif args.command == "export":
            write = write_jsonl if args.format == "jsonl" else write_csv
            entries = journal.entries(_selection(args))
            if args.output is None:
                write(entries, out)
            else:
                try:
                    with args.output.open("w", encoding="utf-8", newline="") as stream:
                        write(entries, stream)
                except OSError as exc:
                    raise JournalError(f"cannot write {args.output}: {exc}") from exc
        elif args.command == "open-intents":
            _print_intents(journal.open_intents(), out)
        else:
            _print_stats(journal, out)
    return 0


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the journal command; return the exit status (errors are one line on stderr)."""
    name = prog or "lane-engine journal"
    try:
        return run_command(name, lambda: _run(build_parser(name).parse_args(argv), sys.stdout),
                           failures=(JournalError,))
    except BrokenPipeError:
        # The reader (e.g. `head`) went away: stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
