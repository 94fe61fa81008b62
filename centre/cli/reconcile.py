"""`etc-centre reconcile --day D`: the day's 账账, 账表 and 账实, written as JSON, Markdown and a
PNG; exit status 0 when the day is clean, 1 with every difference listed."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from centre.cli.clear import DEFAULT_STORE
from centre.reconcile.day import reconcile_day
from centre.reconcile.report import to_dict, write_report
from centre.store.store import Store
from lane_engine.cli.args import add_json_flag, print_json

NAME = "reconcile"
DEFAULT_OUT = Path("var/reconcile")
HELP = """\
Reconcile one day (midnight to midnight, UTC+8): every B card's ledger balance against its last
known card balance and every A card's account against its booked lane debits (账账); the day's
report totals by outlet, plaza and lane against the ledger (账表); every ledger entry against
the verified record or outlet operation that backs it, and every record that moved money
against its one posting (账实); clearing's findings of the day are differences too.

Writes DIR/reconcile-DAY.json, .md and .png. Exit status 0: clean; 1: differences (each listed
with the card, the amounts and the records that disagree).

examples:
  etc-centre reconcile --day 2026-11-27
  etc-centre reconcile --day 2026-11-27 --store postgresql://centre@db/centre --json
"""
_STATUS = ("exit status: 0 the day is clean, 1 differences found or a failure (one line on "
           "stderr), 2 bad usage")


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def add_parser(commands: Any) -> None:
    reconcile = commands.add_parser(NAME, help="reconcile one day (账账, 账表, 账实)",
                                    description=HELP, epilog=_STATUS)
    reconcile.add_argument("--day", type=_day, required=True, metavar="YYYY-MM-DD")
    reconcile.add_argument("--store", default=DEFAULT_STORE, metavar="URL",
                           help=f"the centre's database (default {DEFAULT_STORE})")
    reconcile.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                           help=f"where the report goes (default {DEFAULT_OUT})")
    reconcile.add_argument("--no-chart", action="store_true", help="no PNG")
    add_json_flag(reconcile)


def run(args: argparse.Namespace) -> int:
    store = Store.open(args.store, migrate_schema=False)
    try:
        result = reconcile_day(store, args.day)
    finally:
        store.close()
    paths = write_report(result, args.out, chart=not args.no_chart)
    if args.json:
        print_json({**to_dict(result), "files": [str(p) for p in paths]})
    else:
        for difference in result.differences:
            print(f"DIFFERENCE {difference.check} {difference.subject}: {difference.detail}")
        verdict = "clean" if result.clean else f"{len(result.differences)} difference(s)"
        print(f"reconcile {args.day.isoformat()}: {verdict}; report in "
              f"{', '.join(str(p) for p in paths)}")
    return 0 if result.clean else 1
