"""`etc-centre report day`: one day of the outlets' work, money and lists."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from centre.cli.desk import add_json, add_store, day, dump, open_centre, open_store
from centre.service.day_report import day_report
from centre.values import CENTRE_ZONE, yuan

NAME = "report"
HELP = """\
`report day`: the requests done (by operation, outlet and operator), the time limits breached
(art. 22), the money moved by kind (and an outlet's takings, with --outlet), the top-ups whose
card must come back to settle them, the refunds due, the status-list versions published with
how long a change (a loss report) took to go out and to reach the first lane, and the ledger's
balance check. Midnight to midnight, UTC+8.

examples:
  etc-centre report day
  etc-centre report day --day 2026-11-02 --outlet 370101001 --json
"""


def add_parser(commands: Any) -> None:
    report = commands.add_parser(NAME, help="reports of the centre's work", description=HELP)
    kinds = report.add_subparsers(dest="kind", required=True, metavar="KIND")
    one = kinds.add_parser("day", help="one day (default today)", description=HELP)
    add_store(one)
    one.add_argument("--day", type=day, metavar="DATE", help="YYYY-MM-DD (default today)")
    one.add_argument("--outlet", metavar="ID", help="one outlet only")
    add_json(one)


def _text(r: dict[str, Any]) -> str:
    lines = [f"day {r['day']}{' outlet ' + r['outlet'] if r['outlet'] else ''}:"
             f" {r['requests']['total']} request(s)"]
    for operation, count in r["requests"]["by_operation"].items():
        lines.append(f"  {operation:<22} {count:>6}")
    for outlet, operators in r["requests"]["by_outlet"].items():
        lines.append(f"  outlet {outlet}: " + ", ".join(f"{o} {n}" for o, n in operators.items()))
    lines.append(f"time limits breached: {len(r['time_limits_breached'])}")
    lines += [f"  {b['operation']} {b['request_id']} at {b['outlet']}: due {b['deadline']},"
              f" done {b['done_at']}" for b in r["time_limits_breached"]]
    lines.append("money moved:")
    lines += [f"  {kind:<22} {row['entries']:>6} entries {yuan(row['fen']):>14} yuan"
              for kind, row in sorted(r["money"].items())]
    if "outlet_cash" in r:
        lines.append(f"  outlet cash balance {yuan(r['outlet_cash'])} yuan, arrears paid"
                     f" {yuan(r['outlet_arrears'])} yuan")
    lines.append(f"top-ups awaiting the card: {len(r['loads_awaiting_the_card'])}")
    lines += [f"  {x['card']} {yuan(x['amount'])} yuan (request {x['request_id']})"
              for x in r["loads_awaiting_the_card"]]
    lines.append(f"refunds due: {len(r['refunds_due_by_end_of_day'])}")
    lines += [f"  {x['card']} {yuan(x['payable'])} yuan from {x['due_at']}"
              for x in r["refunds_due_by_end_of_day"]]
    lines.append(f"list versions published: {len(r['lists'])}")
    for v in r["lists"]:
        lane = ("not seen at a lane" if v["change_to_first_lane_s"] is None
                else f"first lane {v['change_to_first_lane_s']} s after the change")
        out = ("no change" if v["change_to_publish_s_max"] is None
               else f"out {v['change_to_publish_s_max']} s after the change")
        lines.append(f"  {v['list']} v{v['version']}: +{v['additions']} -{v['removals']},"
                     f" {out}, {lane}")
    lines.append(f"ledger: {r['ledger_unbalanced_entries']} unbalanced entries")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        centre, _ = open_centre(args, store)
        which = args.day or dt.datetime.now(CENTRE_ZONE).date()
        result = day_report(centre, which, args.outlet)
    return dump(result, args, _text(result))
