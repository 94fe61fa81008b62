"""Transaction ids and the construction of the lane's records."""

from __future__ import annotations

from lane_engine.core.config import LaneConfig
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from protocols.frames import LaneMode


class TransactionIds:
    """Deterministic, unique ids: lane identity, per-lane counter, UNIX seconds (no randomness).

    `first` lets the edge resume the counter from its journal after a restart.
    """

    __slots__ = ("_counter", "_prefix")

    def __init__(self, config: LaneConfig, first: int = 0) -> None:
        self._prefix = f"{config.network}-{config.station:05d}-{config.lane:03d}-"
        self._counter = first

    @property
    def last(self) -> int:
        """The counter of the last id given out."""
        return self._counter

    def next(self, now: float) -> str:
        """A new id, e.g. ``3701-00123-002-00000042-1700000000``."""
        self._counter += 1
        return f"{self._prefix}{self._counter:08d}-{int(now)}"


class RecordStamp:
    """The fields every record of one lane shares, and the versions currently in force."""

    __slots__ = ("blacklist_version", "config", "fee_table_version", "mode_name",
                 "policy_version", "terminal_number")

    def __init__(self, config: LaneConfig) -> None:
        self.config = config
        self.mode_name = "entry" if config.mode == LaneMode.ENTRY else "exit"
        self.policy_version = ""
        self.fee_table_version = ""
        self.blacklist_version = -1
        self.terminal_number = ""

    def record(
        self,
        transaction_id: str,
        outcome: Outcome,
        reason: ReasonCode,
        obu_id: int,
        obu_serial: str,
        transaction_time: str,
        *,
        card_number: str = "",
        card_type: int = 0,
        plate: str = "",
        vehicle_class: int = 0,
        entry_network: str = "",
        entry_station: int = 0,
        entry_time: int = 0,
        fee: int = 0,
        discounted_fee: int = 0,
        amount_debited: int = 0,
        cash_fee: int = 0,
        balance_before: int = 0,
        flags: tuple[ReasonCode, ...] = (),
        detail: str = "",
    ) -> TransactionRecord:
        """A record stamped with this lane's identity and versions; no purchase data yet."""
        config = self.config
        return TransactionRecord(
            transaction_id=transaction_id,
            lane_network=config.network,
            lane_station=config.station,
            lane_number=config.lane,
            mode=self.mode_name,
            outcome=outcome,
            reason=reason,
            obu_id=obu_id,
            obu_serial=obu_serial,
            card_number=card_number,
            card_type=card_type,
            plate=plate,
            vehicle_class=vehicle_class,
            entry_network=entry_network,
            entry_station=entry_station,
            entry_time=entry_time,
            fee=fee,
            discounted_fee=discounted_fee,
            amount_debited=amount_debited,
            cash_fee=cash_fee,
            balance_before=balance_before,
            balance_after=balance_before,
            ctc=-1,
            psam_terminal_number=self.terminal_number,
            terminal_trans_serial=-1,
            tac="",
            alg_flag=0,
            key_version=0,
            transaction_time=transaction_time,
            policy_version=self.policy_version,
            fee_table_version=self.fee_table_version,
            flags=flags,
            blacklist_version=self.blacklist_version,
            detail=detail,
        )
