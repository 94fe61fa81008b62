"""`etc-centre refund due|pay` and `etc-centre bills run|pay`: B-card refunds and A-card bills."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from centre.cli.desk import (
    add_json,
    add_keys,
    add_request,
    add_store,
    dump,
    moment,
    open_centre,
    open_store,
    report,
    request_of,
)
from centre.devices.plugins import open_reader
from centre.service import bills, refunds
from centre.values import CENTRE_ZONE, shown, yuan
from lane_engine.cli.args import UsageError

NAMES = ("refund", "bills")
HELP_REFUND = """\
B-card refunds (art. 21): payable 30 days after cancellation, by the outlet that issued the
card, the real balance recorded at cancellation less the lane debits that cleared in between;
to the original payment method, or (--to-card, at the reader) onto another B card of the same
customer. Never as cash withdrawn from a card, never with interest.

examples:
  etc-centre refund due --outlet 370101001
  etc-centre refund pay --outlet 370101001 --operator wang --card 37012616000000000001
  etc-centre refund pay --outlet 370101001 --operator wang --card 37012616000000000001 \\
      --to-card 37012616000000000007 --keys var/keys.toml --reader emulated:...
"""
HELP_BILLS = """\
A-card bills (art. 28): `run` bills every A card's cleared lane debits not yet billed (due
after the centre's payment term) and defaults every open bill past its due date (the issuing
outlet is charged the arrears, the card goes on the list as overdrawn); `pay` records a bill
paid from the bound account (a defaulted one pays the outlet back; the card leaves the list).

examples:
  etc-centre bills run
  etc-centre bills pay --outlet 370101001 --operator wang --bill 7
"""


def add_parser(commands: Any) -> None:
    refund = commands.add_parser("refund", help="B-card refunds", description=HELP_REFUND)
    actions = refund.add_subparsers(dest="action", required=True, metavar="ACTION")
    due = actions.add_parser("due", help="the refunds payable now (or at --at)")
    add_store(due)
    due.add_argument("--outlet", metavar="ID", help="only this outlet's")
    due.add_argument("--at", type=moment, metavar="TIME", help="as of this time (default now)")
    due.add_argument("--pending", action="store_true", help="every refund not yet paid")
    add_json(due)
    pay = actions.add_parser("pay", help="pay a due refund")
    add_store(pay)
    add_keys(pay, required=False)
    add_request(pay)
    pay.add_argument("--card", required=True, metavar="NUMBER", help="the cancelled card")
    pay.add_argument("--to-card", metavar="NUMBER", help="load it onto this B card instead")
    pay.add_argument("--reader", metavar="DEVICE", help="the --to-card's reader")
    add_json(pay)

    bill = commands.add_parser("bills", help="A-card bills and arrears", description=HELP_BILLS)
    bill_actions = bill.add_subparsers(dest="action", required=True, metavar="ACTION")
    run_bills = bill_actions.add_parser("run", help="bill cleared debits, default overdue bills")
    add_store(run_bills)
    run_bills.add_argument("--at", type=moment, metavar="TIME", help="default now")
    add_json(run_bills)
    pay_bill = bill_actions.add_parser("pay", help="a bill paid from the bound account")
    add_store(pay_bill)
    add_request(pay_bill)
    pay_bill.add_argument("--bill", type=int, required=True, metavar="ID")
    add_json(pay_bill)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        centre, _ = open_centre(args, store)
        if args.command == "refund" and args.action == "due":
            at = args.at or dt.datetime.now(CENTRE_ZONE)
            due = (refunds.refunds_pending(centre) if args.pending
                   else refunds.refunds_due(centre, at, args.outlet))
            if args.pending and args.outlet:
                due = [f for f in due if f.refund.outlet_id == args.outlet]
            rows = [f.as_dict() for f in due]
            lines = [f"{len(rows)} refund(s) {'pending' if args.pending else 'due'}"
                     f" as of {shown(at)}"]
            lines += [f"  {r['card']} outlet {r['outlet']}: {yuan(r['payable'])} yuan to"
                      f" {r['method']} (recorded {yuan(r['recorded_balance'])} from the"
                      f" {r['basis']}, less {yuan(r['deducted'])}), due {r['due_at']}"
                      for r in rows]
            return dump({"at": shown(at), "refunds": rows}, args, "\n".join(lines))
        if args.command == "refund":
            request = request_of(args)
            if args.to_card is None:
                return report(refunds.pay_refund(centre, request, args.card), args)
            if args.reader is None or getattr(args, "keys", None) is None:
                raise UsageError("refund pay --to-card: the card is loaded; give --reader and"
                                 " --keys")
            return report(refunds.pay_refund_to_card(centre, request, args.card, args.to_card,
                                                     open_reader(args.reader)), args)
        if args.action == "run":
            at = args.at or dt.datetime.now(CENTRE_ZONE)
            done = bills.run_bills(centre, at)
            document = {"issued": [b.bill_id for b in done.issued],
                        "defaulted": [b.bill_id for b in done.defaulted]}
            lines = [f"bills issued {len(done.issued)}, defaulted {len(done.defaulted)}"]
            lines += [f"  bill {b.bill_id} card {b.card_number}: {yuan(b.amount)} yuan due"
                      f" {shown(b.due_at)}" for b in done.issued]
            lines += [f"  bill {b.bill_id} card {b.card_number} defaulted: {yuan(b.amount)}"
                      f" yuan charged to outlet {b.charged_outlet}" for b in done.defaulted]
            return dump(document, args, "\n".join(lines))
        return report(bills.pay_bill(centre, request_of(args), args.bill), args)
