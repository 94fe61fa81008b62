"""`rsu-sim pass`: one vehicle, its OBU and card from their images, through one lane-engine lane
in virtual time; the card's image is saved as the pass left it (entry written, debited)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from cli_conventions.numbers import int_between
from keys.keyset_file import load_key_set
from lane_engine.aio.data import load_blacklist
from lane_engine.cli.args import UsageError, station_key
from lane_engine.core import effects as fx
from lane_engine.core.blacklist import Blacklist
from lane_engine.core.policy import Policy
from lane_engine.fees.table_file import load_fee_slice
from lane_engine.files.blacklist import load_delta_text
from lane_engine.files.policy import load_policy
from lane_engine.times import LANE_TIME_ZONE
from protocols.frames import LaneMode
from rsu_sim.harness.one_pass import LaneSite, drive_one_pass
from rsu_sim.site.card_image import load_card, load_obu, save_card

EXAMPLES = """\
examples:
  rsu-sim pass --obu var/centre/tray/obu-3701202600000001.json \\
      --card var/centre/tray/card-37012616000000000001.json --keys var/keys.toml \\
      --mode entry --station 3701/101 --blacklist var/centre/lists/card-full-1.bin \\
      --delta var/centre/lists/card-delta-2.txt
  rsu-sim pass ... --mode exit --station 3701/120 --fees var/fees.etcfee
"""


class _NoFees:
    """An entry lane prices nothing."""

    version = "none"

    def fee(self, entry_network: str, entry_station: int, vehicle_class: int) -> int | None:
        return None


def add_pass_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--obu", type=Path, required=True, metavar="IMAGE",
                        help="the OBU's image (as the centre's personaliser wrote it)")
    parser.add_argument("--card", type=Path, required=True, metavar="IMAGE",
                        help="the card's image, saved back after the pass")
    parser.add_argument("--keys", type=Path, required=True, metavar="FILE",
                        help="the key set of the lane's PSAM")
    parser.add_argument("--mode", choices=("entry", "exit"), required=True)
    parser.add_argument("--station", type=station_key, required=True, metavar="NET/STATION")
    parser.add_argument("--lane", type=int_between(0, 255, "a lane number"), default=1,
                        metavar="N", help="lane number, 0..255 (1)")
    parser.add_argument("--blacklist", type=Path, metavar="FILE",
                        help="the lane's full list (text or binary, as the lane loads it)")
    parser.add_argument("--delta", type=Path, action="append", default=[], metavar="FILE",
                        help="a list delta the lane applies after it, in order; repeatable")
    parser.add_argument("--fees", type=Path, metavar="TABLE", help="exit lanes: the fee table")
    parser.add_argument("--policy", type=Path, metavar="FILE", help="default: the defaults")
    parser.add_argument("--at", type=dt.datetime.fromisoformat, metavar="TIME",
                        help="when the vehicle passes (default now)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run_pass(args: argparse.Namespace) -> int:
    """Drive the pass; 0 when the lane completed a transaction, 1 when it did not."""
    network, station = args.station
    mode = LaneMode.ENTRY if args.mode == "entry" else LaneMode.EXIT
    blacklist = Blacklist.empty() if args.blacklist is None else load_blacklist(args.blacklist)
    for path in args.delta:
        blacklist = blacklist.applied(load_delta_text(path))
    if mode is LaneMode.EXIT and args.fees is None:
        raise UsageError("pass: an exit lane needs --fees")
    fees = _NoFees() if args.fees is None else load_fee_slice(args.fees, network, station)
    policy = Policy("default") if args.policy is None else load_policy(args.policy)
    at = args.at or dt.datetime.now(LANE_TIME_ZONE)
    if at.tzinfo is None:
        at = at.replace(tzinfo=LANE_TIME_ZONE)
    terminal = bytes.fromhex(f"{network}00{station % 10_000:04d}{args.lane % 100:02d}")
    obu = load_obu(args.obu, args.card)
    result = drive_one_pass(obu, LaneSite(network, station, args.lane, mode, terminal),
                            load_key_set(args.keys), blacklist, fees, policy,
                            start=at.timestamp())
    _, secrets = load_card(args.card)
    assert obu.card is not None
    save_card(args.card, obu.card, secrets)
    record = result.records[-1] if result.records else None
    document: dict[str, Any] = {
        "lane": f"{network}/{station}/{args.lane}", "mode": args.mode,
        "blacklist_version": blacklist.version,
        "outcome": None if record is None else record.outcome.value,
        "reason": None if record is None else record.reason.name,
        "card": obu.card.issuer_info.card_number, "detail": None if record is None else
        record.detail, "amount_debited": None if record is None else record.amount_debited,
        "balance_after": obu.card.balance, "tac": None if record is None else record.tac}
    if args.json:
        print(json.dumps(document, ensure_ascii=False, sort_keys=True))
    else:
        what = "no transaction" if record is None else (
            f"{record.outcome.value} ({record.reason.name})")
        print(f"{args.mode} lane {document['lane']}, list version {blacklist.version}: card"
              f" {document['card']} {what}; balance {obu.card.balance} fen"
              + (f"; {record.detail}" if record is not None and record.detail else ""))
    completed = any(isinstance(e, fx.TransactionCompleted) for e in result.events)
    return 0 if completed else 1
