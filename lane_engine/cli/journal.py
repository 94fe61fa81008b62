"""`python -m lane_engine.journal` (and `lane-engine journal`): read the transaction journal."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

from cli_conventions.files import DurableFile
from lane_engine import times
from lane_engine.cli.args import (
    Parser,
    add_commands,
    add_json_flag,
    add_version_flag,
    print_json,
    run_command,
)
from lane_engine.cli.args import UsageError as UsageError  # still importable from here
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.errors import JournalError
from lane_engine.journal.api import EntryState, JournalEntry, JournalFilter
from lane_engine.journal.codec import record_to_dict
from lane_engine.journal.export import entry_to_dict, write_csv, write_jsonl
from lane_engine.journal.store import SqliteJournal

__all__ = [
    "DEFAULT_JOURNAL",
    "EPILOG",
    "build_parser",
    "main",
    "parse_limit",
    "parse_reason",
    "parse_time",
]

#: Where the lane keeps its journal unless told otherwise.
DEFAULT_JOURNAL = Path("var/journal.sqlite3")

EPILOG = """\
times: ISO 8601 (2024-05-01, 2024-05-01T08:00, 2024-05-01T08:00:00+08:00; the lane's time
zone, UTC+8, when no offset is given) or UNIX seconds: any time the lane printed (a record's
transaction_time, a listed or exported time) can be pasted. The journal selects by when it
recorded the transaction.
exit status: 0 ok, 1 journal error (missing, empty, damaged, unreadable, not found),
2 bad usage."""


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
    add_version_flag(parser, prog)
    commands = add_commands(parser)
    listing = commands.add_parser(
        "list",
        parents=[journal_option, selection],
        help="list transactions, oldest first",
        description="List journaled transactions, oldest first.",
        epilog=EPILOG,
    )
    add_json_flag(listing, "the entries (a JSON array, as `show` prints each)")
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
    intents = commands.add_parser(
        "open-intents",
        parents=[journal_option],
        help="intents never closed (what start-up recovery must settle)",
        epilog=EPILOG,
    )
    add_json_flag(intents, "the open intents' records")
    stats = commands.add_parser(
        "stats", parents=[journal_option], help="counts by outcome and reason, outbox backlog",
        epilog=EPILOG,
    )
    add_json_flag(stats)
    check = commands.add_parser(
        "check", parents=[journal_option],
        help="SQLite's full integrity check of the journal (every command checks it briefly)",
        description="Run SQLite's integrity_check over the whole journal and list what is "
                    "wrong; every other command and the lane refuse a journal that fails the "
                    "quicker quick_check.",
        epilog="exit status: 0 the journal is sound, 1 it is damaged (each problem on stdout) "
               "or cannot be opened, 2 bad usage.")
    add_json_flag(check, "the verdict and the problems")
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


def _table(rows: Sequence[Sequence[str]], right: frozenset[int], out: TextIO) -> None:
    """Rows (the first is the heading) in columns as wide as their widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        out.write(" ".join(cells).rstrip() + "\n")


def _print_entries(entries: Iterable[JournalEntry], out: TextIO) -> None:
    rows = [("recorded", "transaction", "state", "outcome", "reason", "card", "fen")]
    rows += [(_when(e.recorded_at), e.record.transaction_id, e.state.value,
              e.record.outcome.value, e.record.reason.name, e.record.card_number,
              str(e.record.amount_debited)) for e in entries]
    _table(rows, frozenset({6}), out)


def _print_intents(records: Sequence[TransactionRecord], out: TextIO) -> None:
    rows = [("transaction", "card", "ctc", "psam", "serial", "fen", "obu", "time")]
    rows += [(r.transaction_id, r.card_number, str(r.ctc), r.psam_terminal_number,
              str(r.terminal_trans_serial), str(r.discounted_fee), f"{r.obu_id:X}",
              r.transaction_time) for r in records]
    _table(rows, frozenset({2, 4, 5, 6}), out)
    out.write(f"{len(records)} open intent(s)\n")


def _stats(journal: SqliteJournal) -> dict[str, Any]:
    counts = journal.counts()
    by_outcome: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for (outcome, reason), n in counts.items():
        by_outcome[outcome.value] += n
        by_reason[reason.name] += n
    return {
        "transactions": sum(counts.values()),
        "by_outcome": dict(sorted(by_outcome.items())),
        "by_reason": dict(sorted(by_reason.items())),
        "by_outcome_and_reason": [
            {"outcome": o.value, "reason": r.name, "count": n}
            for (o, r), n in sorted(counts.items(), key=str)],
        "open_intents": len(journal.open_intents()),
        "outbox_unpublished": journal.pending_count(),
    }


def _print_stats(stats: dict[str, Any], out: TextIO) -> None:
    out.write(f"transactions: {stats['transactions']}\n")
    out.write("by outcome:\n")
    out.writelines(f"  {name:22} {n:>8}\n" for name, n in stats["by_outcome"].items())
    out.write("by reason:\n")
    out.writelines(f"  {name:22} {n:>8}\n" for name, n in stats["by_reason"].items())
    out.write("by outcome and reason:\n")
    out.writelines(f"  {row['outcome']:13} {row['reason']:22} {row['count']:>8}\n"
                   for row in stats["by_outcome_and_reason"])
    out.write(f"open intents: {stats['open_intents']}\n")
    out.write(f"outbox unpublished: {stats['outbox_unpublished']}\n")


def _check(args: argparse.Namespace, out: TextIO) -> int:
    """The full integrity check: 0 when sound; else each problem SQLite lists, and 1."""
    with SqliteJournal(args.journal, create=False, check=False) as journal:
        problems = [line for line in journal.integrity_check() if line != "ok"]
    if args.json:
        print_json({"journal": str(args.journal), "sound": not problems, "problems": problems},
                   out)
    elif problems:
        out.writelines(f"{line}\n" for line in problems)
        print(f"lane-engine journal: journal {args.journal} is damaged: {len(problems)} "
              "problem(s) found by SQLite's integrity check", file=sys.stderr)
    else:
        out.write(f"{args.journal}: ok (SQLite integrity check)\n")
    return 1 if problems else 0


def _run(args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "check":
        return _check(args, out)
    with SqliteJournal(args.journal, create=False) as journal:
        if args.command == "list":
            if args.json:
                print_json([entry_to_dict(e) for e in journal.entries(_selection(args))], out)
            else:
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
                    with DurableFile(args.output, text=True) as stream:
                        write(entries, cast(TextIO, stream))
                except OSError as exc:
                    raise JournalError(f"cannot write {args.output}: {exc}") from exc
        elif args.command == "open-intents":
            if args.json:
                print_json([record_to_dict(r) for r in journal.open_intents()], out)
            else:
                _print_intents(journal.open_intents(), out)
        elif args.json:
            print_json(_stats(journal), out)
        else:
            _print_stats(_stats(journal), out)
    return 0


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the journal command; return the exit status (errors are one line on stderr)."""
    name = prog or "lane-engine journal"
    # A reader that goes away (`| head`) ends it quietly (cli_conventions.run_command).
    return run_command(name, lambda: _run(build_parser(name).parse_args(argv), sys.stdout),
                       failures=(JournalError,))
