"""What the judge expects of a vehicle: why it must be refused, or what it must be charged.

`Tariff` is the business side the engineer hands the judge (fee table and policy, as plain
functions: this room reads no files and knows no lane); `refusals` reads the RSU's B2 and B4
for what `rules.md` refuses; `exit_price` prices an exit as `rules.md` §1 and §3 say. Dates are
the lane's local dates (China time, our decision as everywhere in the project).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from protocols.frames import B4Error, ObuFound, VehicleAndCard
from protocols.records import CardType, EntryExitStatus, ObuStatus, TamperStatus

#: The lane's time zone: China time, UTC+8 (the cards' and lanes' wall clock).
LANE_ZONE = dt.timezone(dt.timedelta(hours=8), "CST")
_KNOWN_CARDS = frozenset({CardType.CREDIT, CardType.STORED_VALUE})

Fees = Callable[[str, int, str, int, int], "int | None"]


@dataclass(frozen=True, slots=True)
class Tariff:
    """The fee table and policy the lane is judged against.

    `fee(entry_network, entry_station, exit_network, exit_station, vehicle_class)` is the
    undiscounted fee in fen (None: the table cannot price it); `discounted(fee)` what an ETC
    card pays; `cash(fee)` the cash fee; `no_entry_fee` None when the policy refuses a card
    without an entry, else the fee it charges."""

    fee: Fees
    discounted: Callable[[int], int]
    cash: Callable[[int], int]
    stale_limit_s: int
    uturn_grace_s: int
    no_entry_fee: int | None
    entry_min_balance: int
    describe: str  # e.g. "fees.etcfee 2026.11, policy 2024.1 (95 %, down; cash half_up)"


@dataclass(frozen=True, slots=True)
class Charge:
    """What an exit must debit: `amount` (0 for a short B card, whose `cash` is due)."""

    fee: int
    discounted: int
    amount: int
    cash: int
    vehicle_class: int
    short: bool
    how: str  # how the fee was found, for the evidence


@dataclass(frozen=True, slots=True)
class Refuse:
    """An exit that must not debit, and why."""

    why: str


def lane_date(at: float) -> dt.date:
    """The lane's local date at UNIX time `at`."""
    return dt.datetime.fromtimestamp(at, LANE_ZONE).date()


def refusals(b2: ObuFound, b4: VehicleAndCard | None, at: float,
             blacklisted: Callable[[str], bool] | None) -> dict[str, str]:
    """The refusal rules this vehicle falls under ({rule id: why}), from its B2 and B4."""
    found: dict[str, str] = {}
    today = lane_date(at)
    if b2.date_of_expire is not None and b2.date_of_expire < today:
        found["refuse_expired"] = f"OBU expired {b2.date_of_expire.isoformat()}"
    status = int(b2.obu_status)
    if b2.tamper_status == TamperStatus.REMOVED or status & ObuStatus.OBU_TAMPERED:
        found["refuse_tampered"] = "OBU removed from the windscreen"
    if status & ObuStatus.ICC_ABSENT:
        found["refuse_no_card"] = "the OBU reports no card"
    if b4 is None or b4.error_code != B4Error.OK:
        return found
    card, vehicle = b4.issuer_info, b4.vehicle_info
    if card is None:
        if "refuse_no_card" not in found and vehicle is not None:
            found["refuse_no_card"] = "B4 carries no 0015"
        return found
    if card.expiry_date is not None and card.expiry_date < today:
        found["refuse_expired"] = f"card expired {card.expiry_date.isoformat()}"
    if card.start_date is not None and card.start_date > today:
        found["refuse_not_yet_valid"] = f"card valid from {card.start_date.isoformat()}"
    if blacklisted is not None and blacklisted(card.card_number):
        found["refuse_blacklisted"] = f"card {card.card_number} is on the blacklist"
    if vehicle is not None and (card.plate.raw != vehicle.plate.raw
                                or card.plate_colour != vehicle.plate_colour):
        found["refuse_plate_mismatch"] = (f"card plate {card.plate.text}/{card.plate_colour}, "
                                          f"OBU {vehicle.plate.text}/{vehicle.plate_colour}")
    return found


def chargeable(b4: VehicleAndCard) -> bool:
    """A B4 the lane can price: read whole, a card of a known type and a vehicle file."""
    return (b4.error_code == B4Error.OK and b4.issuer_info is not None
            and b4.vehicle_info is not None and b4.issuer_info.card_type in _KNOWN_CARDS)


def exit_price(b4: VehicleAndCard, at: float, network: str, station: int,
               tariff: Tariff) -> Charge | Refuse:
    """What the exit `network`/`station` must do with the (chargeable) vehicle of `b4` at
    UNIX time `at`: the charge, or why it is refused."""
    card, vehicle, entry = b4.issuer_info, b4.vehicle_info, b4.last_station
    assert card is not None and vehicle is not None
    if entry is None or entry.status != EntryExitStatus.ENTERED:
        if tariff.no_entry_fee is None:
            return Refuse("no open entry on the card")
        vehicle_class = max(vehicle.vehicle_class, card.vehicle_class)
        fee, how = tariff.no_entry_fee, "the policy's no-entry fee"
    else:
        if at - entry.time > tariff.stale_limit_s:
            return Refuse(f"entry {entry.network}/{entry.station} is "
                          f"{(at - entry.time) / 3600:.0f} h old")
        vehicle_class = max(entry.vehicle_class, vehicle.vehicle_class, card.vehicle_class)
        same = (entry.network, entry.station) == (network, station)
        if same and 0 <= at - entry.time <= tariff.uturn_grace_s:
            fee, how = 0, "a U-turn within the grace time"
        else:
            found = tariff.fee(entry.network, entry.station, network, station, vehicle_class)
            if found is None:
                return Refuse(f"entry station {entry.network}/{entry.station} is not in the "
                              "fee table")
            fee, how = found, f"{entry.network}/{entry.station} → {network}/{station}"
    discounted = tariff.discounted(fee)
    short = card.card_type == CardType.STORED_VALUE and b4.card_rest_money < discounted
    return Charge(fee, discounted, 0 if short else discounted, tariff.cash(fee), vehicle_class,
                  short, f"{how}, class {vehicle_class}")
