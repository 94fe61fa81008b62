"""The faults a province run injects between its plazas and the centre, and the findings each
must produce (`expected`): a lane that uploads every record twice (`duplicate_upload` for each
key), forged records (a real debit of a plaza other than the first sent again with 300 fen
more and a serial of its own, the TAC kept: `tac_invalid`), one debit lost on the way and
delivered days later (`late_upload`). The lane with a wrong fee table is a lane of its own
(`PlazaRun`); its findings are worked out from its journal after the run
(`wrong_fee_findings`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from centre.clearing.values import FindingKind
from lane_engine.core.outcomes import Outcome, TransactionRecord
from lane_engine.core.policy import Policy, cash_fee, discounted_fee
from lane_engine.fees.table import FeeTable
from lane_engine.journal import JournalEntry, OutboxEntry
from lane_engine.station.topics import transaction_payload
from rsu_sim.province.config import ProvinceConfig
from rsu_sim.province.plazas import PlazaRun

if TYPE_CHECKING:
    from rsu_sim.province.world import Province

DAY_S = 86_400.0
#: Outbox numbers of the second copies a double-uploading lane sends (above any real one).
SECOND_COPY_SEQ = 1_000_000_000
FORGED_SEQ = 2_000_000_000
FORGED_EXTRA_FEN = 300
FORGED_SERIAL_OFFSET = 500_000

Message = tuple[str, bytes]


class FaultPlan:
    """Where the run's upload faults strike, and what clearing must find."""

    def __init__(self, config: ProvinceConfig, province: Province) -> None:
        self.config = config
        self.province = province
        self.faults = config.faults
        self.double = config.lane_of(self.faults.double_upload_lane)
        self.forged_left = self.faults.forged_tacs
        self.late_pending = self.faults.late_upload_days > 0
        self.withheld: list[tuple[float, Message]] = []
        self.expected: dict[str, FindingKind] = {}
        self.doubtful_cards: set[str] = set()

    def plan_day(self, day: int, day_start: float) -> None:
        pass

    def _day(self, now: float) -> int:
        return int((now - self.province.start) // DAY_S)

    def messages(self, plaza: PlazaRun, entry: OutboxEntry, now: float) -> list[Message]:
        """What the plaza sends for one outbox entry (the entry's own message, unless a fault
        says otherwise)."""
        record = entry.record
        if record.outcome is Outcome.UNRESOLVED:
            self.doubtful_cards.add(record.card_number)
        message = plaza.message(entry)
        if self._day(now) != self.faults.fault_day:
            return [message]
        out = [message]
        index = plaza.plaza.index
        if self.double == (index, record.lane_number):
            out.append((message[0], transaction_payload(
                OutboxEntry(SECOND_COPY_SEQ + entry.seq, record))))
            self.expected[record.idempotency_key] = FindingKind.DUPLICATE_UPLOAD
        if self._debit(record) and self.forged_left and index != 0 \
                and self.double != (index, record.lane_number):
            self.forged_left -= 1
            forged = dataclasses.replace(
                record, transaction_id=record.transaction_id + "F",
                amount_debited=record.amount_debited + FORGED_EXTRA_FEN,
                balance_after=record.balance_after - FORGED_EXTRA_FEN,
                terminal_trans_serial=record.terminal_trans_serial + FORGED_SERIAL_OFFSET)
            out.append((message[0], transaction_payload(
                OutboxEntry(FORGED_SEQ + entry.seq, forged))))
            self.expected[forged.idempotency_key] = FindingKind.TAC_INVALID
        if self.late_pending and index == 0 and self._debit(record) \
                and record.card_number not in self.doubtful_cards \
                and self.double != (index, record.lane_number):
            self.late_pending = False
            deliver = now + self.faults.late_upload_days * DAY_S
            self.withheld.append((deliver, message))
            self.expected[record.idempotency_key] = FindingKind.LATE_UPLOAD
            out.remove(message)
        return out

    @staticmethod
    def _debit(record: TransactionRecord) -> bool:
        return record.outcome is Outcome.DEBITED and record.amount_debited > 0 \
            and record.ctc >= 0 and not record.recovered

    def due(self, now: float) -> list[Message]:
        """Withheld messages whose time has come."""
        ready = [m for at, m in self.withheld if at <= now]
        self.withheld = [(at, m) for at, m in self.withheld if at > now]
        return ready

    def last_delivery(self) -> float | None:
        return max((at for at, _ in self.withheld), default=None)


def wrong_fee_findings(entries: list[JournalEntry], lane: int, fees: FeeTable,
                       policy: Policy) -> dict[str, FindingKind]:
    """The `amount_mismatch` each priced record of a lane with a wrong table must bring: its
    amount against the centre's table × policy, worked out here from the journal."""
    expected: dict[str, FindingKind] = {}
    for entry in entries:
        record = entry.record
        if record.lane_number != lane or record.outcome not in (Outcome.DEBITED,
                                                                Outcome.CASH_REQUIRED):
            continue
        fee = fees.fee(record.entry_network, record.entry_station,
                       (record.lane_network, record.lane_station), record.vehicle_class)
        if fee is None:
            expected[record.idempotency_key] = FindingKind.AMOUNT_MISMATCH
            continue
        if record.outcome is Outcome.CASH_REQUIRED:
            wrong = record.cash_fee != cash_fee(fee, policy)
        else:
            wrong = record.amount_debited != discounted_fee(fee, policy)
        if wrong:
            expected[record.idempotency_key] = FindingKind.AMOUNT_MISMATCH
    return expected
