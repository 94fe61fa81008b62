"""The named rules a lane is judged against, each with what it needs to be judged.

Rule ids are stable names a vendor's CI can gate on (`--fail-on`); the README lists them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Family(enum.Enum):
    """What a rule is about."""

    #: the PC-RSU exchange itself (`pc-rsu.md`)
    PROTOCOL = "protocol"
    #: what the lane charges and writes (`rules.md`)
    BUSINESS = "business"


class Needs(enum.Enum):
    """What a rule needs beyond the frames to be judged."""

    #: the frames alone
    FRAMES = "frames"
    #: the fee table and the policy (`--network`/`--fees`, `--policy`)
    TARIFF = "tariff"
    #: the blacklist
    BLACKLIST = "blacklist"
    #: the tariff and the lane's own records (`--journal`/`--records`)
    RECORDS = "records"


@dataclass(frozen=True, slots=True)
class Rule:
    """One named rule."""

    id: str
    family: Family
    needs: Needs
    title: str


P, B = Family.PROTOCOL, Family.BUSINESS
F, T, L, R = Needs.FRAMES, Needs.TARIFF, Needs.BLACKLIST, Needs.RECORDS

#: Every rule, in report order.
RULES: tuple[Rule, ...] = (
    Rule("answered_in_time", P, F, "every RSU frame that needs an answer gets one before the RSU "
          "gives up on it (3 retransmissions at 120 ms)"),
    Rule("retransmission_not_acted_on", P, F, "a retransmitted frame (same SEQ) is answered but "
          "not acted on again: one C6 for one B4"),
    Rule("b5_error_closed", P, F, "after a B5 or B8 with an error the lane closes the pass with "
          "C1 or C2 (C8 first when the result is in doubt)"),
    Rule("no_c6_outside_purchase", P, F, "a C6 answers a B4 of the same OBU (or, at an exit, "
          "closes the trip with 0 fen after the card's insufficient balance)"),
    Rule("answers_in_place", P, F, "C1 and C8 answer an RSU frame of the same OBU waiting for "
          "them; no old or stray C1"),
    Rule("lane_seq", P, F, "lane frames carry SEQ X0, X counting 1..9 and round again"),
    Rule("heartbeat_answered", P, F, "every B1 is answered with CF; no CF without a B1"),
    Rule("initialise_first", P, F, "a connection starts with C0"),
    Rule("standard_values", P, F, "coded values are standard ones (LaneMode 03/04, ...)"),
    Rule("debit_amount", B, T, "the amount debited is the discounted fee to the fen"),
    Rule("b_card_short_not_debited", B, T, "a B card short of the discounted fee is not "
          "debited (its trip is closed with 0 fen)"),
    Rule("cash_due", B, R, "a short B card's cash due is the undiscounted fee as the policy "
          "rounds it"),
    Rule("vehicle_charged", B, T, "a vehicle the tariff can charge gets its C6"),
    Rule("refuse_no_valid_entry", B, T, "no entry, a stale entry or an entry station the fee "
          "table does not know: not debited (unless the policy charges a no-entry fee)"),
    Rule("refuse_blacklisted", B, L, "a blacklisted card is not debited"),
    Rule("refuse_expired", B, F, "an expired card or OBU is not debited"),
    Rule("refuse_not_yet_valid", B, F, "a card not yet valid is not debited"),
    Rule("refuse_tampered", B, F, "a tampered OBU is not debited"),
    Rule("refuse_no_card", B, F, "an OBU without a card is not debited"),
    Rule("refuse_plate_mismatch", B, F, "a card whose plate differs from the OBU's is not "
          "debited"),
    Rule("record_written", B, F, "entry lanes write 0019 status 03, exit lanes status 04, with "
          "the lane's network, station, lane and time"),
    Rule("one_debit_per_pass", B, F, "no card is debited twice for one pass"),
)
RULE_IDS = frozenset(rule.id for rule in RULES)
BY_ID = {rule.id: rule for rule in RULES}
