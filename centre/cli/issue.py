"""`etc-centre issue a-card|b-card|obu|replacement`: issue to a registered vehicle and
personalise the card or OBU; replace a bad card."""

from __future__ import annotations

import argparse
from typing import Any

from centre.cli.customer import plate_colour
from centre.cli.desk import (
    add_json,
    add_keys,
    add_request,
    add_store,
    open_centre,
    open_store,
    payment,
    report,
    request_of,
)
from centre.devices.plugins import open_personaliser, open_reader
from centre.service.issuance import (
    CardApplication,
    OldCardReading,
    issue_card,
    issue_obu,
    replace_card,
)
from centre.service.loading import read_card
from centre.service.outcomes import RefusalReason, Refused
from centre.values import CardKind
from protocols.records import PlateColour

NAME = "issue"
HELP = """\
Issue an A card (credit: the bound bank account and credit guarantee recorded, art. 20), a B
card (stored value: the payment method its refund goes back by, art. 21) or an OBU to a
registered vehicle; one active card and one active OBU per vehicle. The personaliser writes
0015 (or the OBU's system information and vehicle file) with the card's keys diversified from
the issuer's key set; `--personaliser emulated:DIR` writes the simulator's card images.
`replacement` replaces a bad card: with `--reader` its real balance is read and moves to the
new card at once, without it the ledger's balance moves 30 days later (`refund pay --to-card`).

examples:
  etc-centre issue b-card --outlet 370101001 --operator wang --keys var/keys.toml \\
      --plate 鲁A12345 --payment wechat --personaliser emulated:var/centre/tray
  etc-centre issue a-card --outlet 370101001 --operator wang --keys var/keys.toml \\
      --plate 鲁B67890 --plate-colour yellow --bank-account 6222020200001234567 \\
      --guarantee "agreement 2026-118" --personaliser emulated:var/centre/tray
  etc-centre issue obu --outlet 370101001 --operator wang --keys var/keys.toml \\
      --plate 鲁A12345 --personaliser emulated:var/centre/tray
"""


def add_parser(commands: Any) -> None:
    issue = commands.add_parser(NAME, help="issue cards and OBUs", description=HELP)
    kinds = issue.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, text in (("a-card", "an A card (credit)"), ("b-card", "a B card (stored value)"),
                       ("obu", "an OBU"), ("replacement", "a card replacing a bad one")):
        parser = kinds.add_parser(kind, help=f"issue {text}", description=HELP)
        add_store(parser)
        add_keys(parser)
        add_request(parser)
        if kind == "replacement":
            parser.add_argument("--card", required=True, metavar="NUMBER",
                                help="the card being replaced")
            parser.add_argument("--reader", metavar="DEVICE",
                                help="the old card's reader, when it can still be read")
        else:
            parser.add_argument("--plate", required=True)
            parser.add_argument("--plate-colour", type=plate_colour, default=PlateColour.BLUE,
                                metavar="COLOUR")
        if kind == "b-card":
            parser.add_argument("--payment", type=payment, required=True, metavar="METHOD",
                                help="cash, bank_card, transfer, wechat or alipay")
        if kind == "a-card":
            parser.add_argument("--bank-account", required=True, metavar="NUMBER")
            parser.add_argument("--guarantee", required=True, metavar="TEXT",
                                help="the credit guarantee recorded")
        parser.add_argument("--personaliser", required=True, metavar="DEVICE",
                            help="NAME:ARGUMENT, e.g. emulated:var/centre/tray")
        add_json(parser)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        centre, _ = open_centre(args, store)
        request = request_of(args)
        personaliser = open_personaliser(args.personaliser)
        if args.kind == "obu":
            outcome = issue_obu(centre, request, args.plate, int(args.plate_colour),
                                personaliser)
        elif args.kind == "replacement":
            reading = None
            if args.reader is not None:
                with store.transaction() as tx:
                    outlet = tx.registry.outlet(request.outlet)
                if outlet is None:
                    return report(Refused(RefusalReason.UNKNOWN_OUTLET,
                                          f"unknown outlet {request.outlet}"), args)
                read = read_card(centre, open_reader(args.reader), args.card,
                                 outlet.terminal_number, request.at)
                reading = OldCardReading(read.balance, read.ctc)
            outcome = replace_card(centre, request, args.card, personaliser, reading)
        else:
            kind = CardKind.A if args.kind == "a-card" else CardKind.B
            application = CardApplication(
                kind, args.plate, int(args.plate_colour), getattr(args, "payment", None),
                getattr(args, "bank_account", None), getattr(args, "guarantee", None))
            outcome = issue_card(centre, request, application, personaliser)
        return report(outcome, args)
