"""What a trip should have cost: the centre's fee table times its policy, the same arithmetic the
lanes apply (`lane_engine.core.policy`), worked out again from the record's own facts (entry
station and time, exit station, charged class, card type, balance). Sans-IO.

Our decision: clearing prices with the one fee table and policy the centre publishes to the
lanes, whatever version a record names, so that a lane holding a wrong or stale table is found.
"""

from __future__ import annotations

from dataclasses import dataclass

from centre.clearing.evidence import record_time
from centre.clearing.values import Finding, FindingKind
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.core.policy import Policy, cash_fee, discounted_fee, is_uturn
from lane_engine.fees.table import FeeTable
from protocols.records import CardType

#: Exit outcomes whose amounts are checked.
PRICED = frozenset({Outcome.DEBITED, Outcome.CASH_REQUIRED})


@dataclass(frozen=True, slots=True)
class Charge:
    """What the trip costs: the fee, what an ETC card pays, and what this card was due to pay
    (`amount` from the card, `cash` at the lane)."""

    fee: int
    discounted: int
    amount: int
    cash: int


class Tariff:
    """The fee table and policy clearing checks amounts against."""

    def __init__(self, fees: FeeTable, policy: Policy) -> None:
        self.fees = fees
        self.policy = policy

    def fee(self, record: TransactionRecord) -> int | str:
        """The undiscounted fee of the record's trip, or why it cannot be priced."""
        policy = self.policy
        exit_key = (record.lane_network, record.lane_station)
        if ReasonCode.NO_ENTRY in record.flags and policy.no_entry_fee:
            return policy.no_entry_fee
        now = int(record_time(record).timestamp())
        same_station = (record.entry_network, record.entry_station) == exit_key
        if is_uturn(same_station, record.entry_time, now, policy):
            return 0
        found = self.fees.fee(record.entry_network, record.entry_station, exit_key,
                              record.vehicle_class)
        if found is None:
            return (f"fee table {self.fees.version} has no fee from {record.entry_network}/"
                    f"{record.entry_station} to {record.lane_network}/{record.lane_station} for"
                    f" class {record.vehicle_class}")
        return found

    def charge(self, record: TransactionRecord) -> Charge | str:
        """What the record's trip costs this card, or why it cannot be priced. A B card short of
        the discounted fee pays the whole fee in cash (art. 21); so does one whose card refused
        the debit, which is why a CASH_REQUIRED record is held to the cash figure whatever its
        balance said."""
        fee = self.fee(record)
        if isinstance(fee, str):
            return fee
        discounted = discounted_fee(fee, self.policy)
        short = record.card_type == CardType.STORED_VALUE and record.balance_before < discounted
        if short or record.outcome is Outcome.CASH_REQUIRED:
            return Charge(fee, discounted, 0, cash_fee(fee, self.policy))
        return Charge(fee, discounted, discounted, 0)

    def finding(self, record: TransactionRecord) -> Finding | None:
        """AMOUNT_MISMATCH when a priced exit record took (or asked in cash) another amount."""
        if record.mode != "exit" or record.outcome not in PRICED:
            return None
        charge = self.charge(record)
        if isinstance(charge, str):
            return Finding(FindingKind.AMOUNT_MISMATCH, charge)
        said = f"fee table {self.fees.version} × policy {self.policy.version} says"
        if record.outcome is Outcome.CASH_REQUIRED:
            if record.cash_fee == charge.cash and not record.amount_debited:
                return None
            return Finding(FindingKind.AMOUNT_MISMATCH,
                           f"cash {record.cash_fee} fen and {record.amount_debited} fen from the "
                           f"card; {said} {charge.cash} fen in cash (fee {charge.fee}, lane's "
                           f"table {record.fee_table_version or '?'})", expected=charge.cash)
        if record.amount_debited == charge.amount:
            return None
        return Finding(FindingKind.AMOUNT_MISMATCH,
                       f"debited {record.amount_debited} fen; {said} {charge.amount} fen (fee "
                       f"{charge.fee}, lane's table {record.fee_table_version or '?'})",
                       expected=charge.amount)
