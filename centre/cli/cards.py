"""`etc-centre top-up`, `report-loss`, `unlock`, `cancel` and `card read`: the operations on a
card (or OBU) at the desk."""

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
    open_centre,
    open_store,
    payment,
    report,
    request_of,
    yuan_amount,
)
from centre.devices.plugins import open_reader
from centre.ledger import accounts
from centre.service import loading, status
from centre.values import CENTRE_ZONE, yuan
from lane_engine.cli.args import UsageError

NAMES = ("top-up", "report-loss", "unlock", "cancel", "card")
HELP_TOP_UP = """\
Top up (圈存) a B card at the reader with the PBOC load: INITIALIZE FOR LOAD (the card's MAC1
checked), CREDIT FOR LOAD with the host's MAC2, the card's TAC checked; at any outlet (art. 26),
at once. An A card is never topped up; the purse limit counts the card's own balance. A load
whose answer was lost is settled from the card's log the next time the card is at a reader.

examples:
  etc-centre top-up --outlet 370101001 --operator wang --keys var/keys.toml \\
      --card 37012616000000000001 --amount 100.00 --payment cash \\
      --reader emulated:var/centre/tray/card-37012616000000000001.json
"""
HELP_STATUS = """\
Report a card (or OBU) lost, or unlock it when found: at any outlet of the issuing service
centre; the card goes on the status list as lost, and off it when unlocked.

examples:
  etc-centre report-loss --outlet 370101002 --operator li --card 37012616000000000001
  etc-centre unlock --outlet 370101002 --operator li --card 37012616000000000001
"""
HELP_CANCEL = """\
Cancel a card: a B card at the outlet that issued it, its real balance read from the card at
--reader (or, --without-card, the ledger's balance, and the card listed as cancelled without
card); the refund is payable 30 days later (`refund due`, `refund pay`). An OBU: --obu.

examples:
  etc-centre cancel --outlet 370101001 --operator wang --keys var/keys.toml \\
      --card 37012616000000000001 --reader emulated:var/centre/tray/card-...json
  etc-centre cancel --outlet 370101001 --operator wang --card 37012616000000000001 \\
      --without-card
"""


def _device(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--card", metavar="NUMBER")
    which.add_argument("--obu", metavar="NUMBER")


def add_parser(commands: Any) -> None:
    top_up = commands.add_parser("top-up", help="top up a B card (load)",
                                 description=HELP_TOP_UP)
    add_store(top_up)
    add_keys(top_up)
    add_request(top_up)
    top_up.add_argument("--card", required=True, metavar="NUMBER")
    amount = top_up.add_mutually_exclusive_group(required=True)
    amount.add_argument("--amount", type=yuan_amount, metavar="YUAN", help="e.g. 100.00")
    amount.add_argument("--fen", type=int, metavar="FEN", help="the amount in fen")
    top_up.add_argument("--payment", type=payment, default="cash", metavar="METHOD",
                        help="how the customer pays (default cash)")
    top_up.add_argument("--reader", required=True, metavar="DEVICE",
                        help="the card reader, NAME:ARGUMENT (emulated:CARD_IMAGE)")
    add_json(top_up)
    for name, text in (("report-loss", "report a card or OBU lost"),
                       ("unlock", "unlock a lost card or OBU")):
        parser = commands.add_parser(name, help=text, description=HELP_STATUS)
        add_store(parser)
        add_request(parser)
        _device(parser)
        add_json(parser)
    cancel = commands.add_parser("cancel", help="cancel a card or OBU", description=HELP_CANCEL)
    add_store(cancel)
    add_keys(cancel, required=False)
    add_request(cancel)
    _device(cancel)
    how = cancel.add_mutually_exclusive_group(required=True)
    how.add_argument("--reader", metavar="DEVICE", help="the card (its balance is read)")
    how.add_argument("--without-card", "--without-obu", dest="without", action="store_true",
                     help="the card (or OBU) is not handed in")
    add_json(cancel)
    card = commands.add_parser("card", help="read a card at the reader",
                               description="Read the card at the reader: its number, balance "
                               "and CTC against the centre's records; a torn load is settled "
                               "from its log.")
    actions = card.add_subparsers(dest="action", required=True, metavar="ACTION")
    read = actions.add_parser("read", help="read the card at the reader")
    add_store(read)
    add_keys(read)
    read.add_argument("--outlet", required=True, metavar="ID")
    read.add_argument("--reader", required=True, metavar="DEVICE")
    add_json(read)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        centre, _ = open_centre(args, store)
        if args.command == "card":
            return _read(centre, args)
        request = request_of(args)
        if args.command == "top-up":
            amount = args.amount if args.amount is not None else args.fen
            outcome = loading.top_up(centre, request, args.card, amount, args.payment,
                                     open_reader(args.reader))
        elif args.command == "cancel":
            if args.card is not None:
                if args.reader is not None and getattr(args, "keys", None) is None:
                    raise UsageError("cancel --reader: give --keys (the card is read)")
                reader = None if args.without else open_reader(args.reader)
                outcome = status.cancel_card(centre, request, args.card, reader)
            else:
                outcome = status.cancel_obu(centre, request, args.obu, with_obu=not args.without)
        elif args.command == "report-loss":
            outcome = (status.report_loss(centre, request, args.card) if args.card
                       else status.report_obu_loss(centre, request, args.obu))
        else:
            outcome = (status.unlock(centre, request, args.card) if args.card
                       else status.unlock_obu(centre, request, args.obu))
        return report(outcome, args)


def _read(centre: Any, args: argparse.Namespace) -> int:
    with centre.store.transaction() as tx:
        outlet = tx.registry.outlet(args.outlet)
    if outlet is None:
        raise UsageError(f"unknown outlet {args.outlet}")
    read = loading.read_card(centre, open_reader(args.reader), None, outlet.terminal_number,
                             dt.datetime.now(CENTRE_ZONE))
    number = read.info.card_number
    with centre.store.transaction() as tx:
        record = tx.devices.card(number)
        ledger = tx.book.balance(accounts.purse(number))
    document = {"card": number, "card_type": read.info.card_type, "balance": read.balance,
                "ctc": read.ctc, "plate": read.info.plate.text,
                "status": None if record is None else record.status.value,
                "ledger_balance": ledger, "settled": [s.as_dict() for s in read.settled]}
    text = (f"card {number} ({read.info.plate.text}): balance {yuan(read.balance)} yuan, CTC "
            f"{read.ctc}; centre: {document['status'] or 'unknown card'}, ledger "
            f"{yuan(ledger)} yuan")
    for settled in read.settled:
        text += (f"\n  settled load of request {settled.request_id}: "
                 f"{'credited' if settled.credited else 'not credited'} {settled.amount} fen")
    return dump(document, args, text)
