"""Driving a centre-issued OBU and card through a lane-engine lane (the simulator's RSU model and
the lane core, in virtual time), for tests that the card trades or is refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from keys import KeySet
from lane_engine.core.blacklist import Blacklist
from lane_engine.core.policy import Policy
from protocols.frames import LaneMode
from rsu_sim.harness.one_pass import LaneSite, PassResult, drive_one_pass
from rsu_sim.site.card_image import load_card, load_obu, save_card

ENTRY = LaneSite("3701", 101, 1, LaneMode.ENTRY, bytes.fromhex("370100010101"))
EXIT = LaneSite("3701", 120, 2, LaneMode.EXIT, bytes.fromhex("370100012002"))


class OneEntryStation:
    """The fee from 3701/101 to this exit: 12.52 yuan for every class."""

    version = "t-1"

    def fee(self, entry_network: str, entry_station: int, vehicle_class: int) -> int | None:
        return 1_252 if (entry_network, entry_station) == ("3701", 101) else None


def drive(folder: Path, card_number: str, obu_number: str, site: LaneSite, keys: KeySet,
          at: dt.datetime, blacklist: Blacklist | None = None) -> PassResult:
    """One pass of the vehicle; the card's image is saved back as the pass left the card."""
    card_path = folder / f"card-{card_number}.json"
    obu = load_obu(folder / f"obu-{obu_number}.json", card_path)
    result = drive_one_pass(obu, site, keys, blacklist or Blacklist.empty(), OneEntryStation(),
                            Policy("p-1"), start=at.timestamp())
    _, secrets = load_card(card_path)
    assert obu.card is not None
    save_card(card_path, obu.card, secrets)
    return result
