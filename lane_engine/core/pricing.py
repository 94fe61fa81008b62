"""What the card is charged: the exit's trip price and the entry's admission (`rules.md` §1, §3)."""

from __future__ import annotations

from dataclasses import dataclass

from lane_engine.core.decisions import Refusal, charged_class
from lane_engine.core.outcomes import ReasonCode
from lane_engine.core.policy import (
    NoEntryHandling,
    Policy,
    cash_fee,
    discounted_fee,
    is_entry_stale,
    is_uturn,
    refuses_entry,
)
from lane_engine.core.ports import FeeSchedule
from protocols.frozen import fast_init
from protocols.records import CardType, EntryExitRecord, EntryExitStatus, IssuerInfo, VehicleInfo

__all__ = [
    "Price",
    "admit_entry",
    "price_exit",
]


@fast_init
@dataclass(frozen=True, slots=True)
class Price:
    """The decision for one vehicle that will be sent a C6."""

    reason: ReasonCode  # OK, or the policy case that shaped the price
    flags: tuple[ReasonCode, ...]
    vehicle_class: int
    fee: int  # undiscounted, fen
    discounted_fee: int
    amount: int  # ConsumeMoney of the C6
    cash_fee: int  # 0 unless a B card is short


def price_exit(
    card: IssuerInfo,
    vehicle: VehicleInfo,
    balance: int,
    entry: EntryExitRecord | None,
    now: int,
    network: str,
    station: int,
    policy: Policy,
    fees: FeeSchedule,
) -> Price | Refusal:
    """Price the trip of this card at this exit station, or say why it cannot be charged."""
    reasons: list[ReasonCode] = []
    if entry is None or entry.status != EntryExitStatus.ENTERED:
        if policy.no_entry_handling != NoEntryHandling.CHARGE_DEFAULT_FEE:
            return ReasonCode.NO_ENTRY, "no open entry on the card"
        reasons.append(ReasonCode.NO_ENTRY)
        vehicle_class, mismatch = charged_class(vehicle.vehicle_class, vehicle.vehicle_class,
                                                card.vehicle_class)
        fee = policy.no_entry_fee
    else:
        if is_entry_stale(entry.time, now, policy):
            return ReasonCode.STALE_ENTRY, f"entry at {entry.time}"
        vehicle_class, mismatch = charged_class(entry.vehicle_class, vehicle.vehicle_class,
                                                card.vehicle_class)
        same_station = entry.station == station and entry.network == network
        if is_uturn(same_station, entry.time, now, policy):
            reasons.append(ReasonCode.UTURN)
            fee = 0
        else:
            found = fees.fee(entry.network, entry.station, vehicle_class)
            if found is None:
                return ReasonCode.UNKNOWN_ENTRY_STATION, f"{entry.network}/{entry.station}"
            fee = found
    if mismatch:
        reasons.append(ReasonCode.CLASS_MISMATCH)
    discounted = discounted_fee(fee, policy)
    amount, cash = discounted, 0
    if card.card_type == CardType.STORED_VALUE and balance < discounted:
        # Art. 21: the whole toll in cash, undiscounted; the trip is still closed on the card.
        reasons.insert(0, ReasonCode.INSUFFICIENT_BALANCE)
        amount, cash = 0, cash_fee(fee, policy)
    return Price(reasons[0] if reasons else ReasonCode.OK, tuple(reasons), vehicle_class, fee,
                 discounted, amount, cash)


def admit_entry(
    card: IssuerInfo, vehicle: VehicleInfo, balance: int, policy: Policy
) -> Price | Refusal:
    """The entry write (0 fen) for this card, or why it is refused (B card below the minimum)."""
    if card.card_type == CardType.STORED_VALUE and refuses_entry(balance, policy):
        return ReasonCode.INSUFFICIENT_BALANCE, f"balance {balance} below the entry minimum"
    vehicle_class, mismatch = charged_class(vehicle.vehicle_class, vehicle.vehicle_class,
                                            card.vehicle_class)
    flags = (ReasonCode.CLASS_MISMATCH,) if mismatch else ()
    return Price(flags[0] if flags else ReasonCode.OK, flags, vehicle_class, 0, 0, 0, 0)
