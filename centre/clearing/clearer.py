"""`Clearer`: lane records into the centre's store, exactly once by idempotency key.

`clear(items, now)` takes a batch (arrivals, and messages that could not be read) and handles
it in one store transaction: every record is kept by its key (a key seen before is compared
with what is kept: a redelivery changes nothing, a settlement replaces an UNRESOLVED record,
a second upload or another record under the key is a finding), checked (TAC, CTC, status list,
amount, upload delay) and booked into the ledger, or held with its findings; the UNRESOLVED
records of the cards it touched are settled from their later transactions where they can be.
When the transaction commits, the whole batch is durable: only then may the caller acknowledge
it. Two clearing processes on one store race only on a key's first insert; the loser's batch
is run again and sees the winner's row, so nothing is booked twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from centre.clearing.arrivals import Arrival
from centre.clearing.evidence import TacCheck, intended_amount, record_time
from centre.clearing.rules import (
    UPLOAD_WINDOW,
    GapVerdict,
    Repeat,
    compare,
    ctc_findings,
    entry_for,
    gap_verdict,
    lane_outcome,
    late_finding,
    listed_finding,
    purse_after,
)
from centre.clearing.tariff import Tariff
from centre.clearing.values import (
    ClearedRecord,
    ClearingState,
    Finding,
    FindingKind,
    Settled,
    Source,
)
from centre.errors import ConflictError
from centre.store.loads import LoadStatus
from centre.store.money import ClearedDebit
from centre.store.store import Store, StoreTransaction, wall_clock
from centre.values import CardKind
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.journal.codec import record_from_json

#: How often a batch is run again when another process won a race on one of its keys.
RACE_ATTEMPTS = 5
_NO_MONEY = frozenset({Outcome.REFUSED, Outcome.NOT_DEBITED})


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A message or line that is not a record: kept as a reject, so acknowledging it loses
    nothing."""

    source: Source
    origin: str
    reason: str
    payload: str


Inbound = Arrival | Unreadable


@dataclass(slots=True)
class BatchReport:
    """What one batch did: how each item was taken, and the findings it made."""

    taken: Counter[str] = field(default_factory=Counter)
    findings: list[tuple[str, Finding]] = field(default_factory=list)

    def merge(self, other: BatchReport) -> None:
        self.taken.update(other.taken)
        self.findings.extend(other.findings)


def settled_outcome(record: TransactionRecord) -> Outcome:
    """The outcome of a purchase the card committed (as `lane_engine`'s recovery closes it)."""
    if record.mode == "entry":
        return Outcome.ENTRY_WRITTEN
    if record.reason == ReasonCode.INSUFFICIENT_BALANCE or record.cash_fee:
        return Outcome.CASH_REQUIRED
    return Outcome.DEBITED


class Clearer:
    """Clears batches of lane records into `store` (see the module docstring)."""

    def __init__(self, store: Store, tac: TacCheck, tariff: Tariff, *,
                 window: dt.timedelta = UPLOAD_WINDOW,
                 clock: Callable[[], dt.datetime] = wall_clock) -> None:
        self.store = store
        self.tac = tac
        self.tariff = tariff
        self.window = window
        self.clock = clock

    def clear(self, items: Sequence[Inbound], now: dt.datetime | None = None) -> BatchReport:
        """Clear `items` in one transaction (durable when this returns)."""
        at = now or self.clock()
        for attempt in range(1, RACE_ATTEMPTS + 1):
            try:
                with self.store.transaction() as tx:
                    return _Batch(self, tx, at).run(items)
            except ConflictError:
                if attempt == RACE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def settle_due(self, now: dt.datetime | None = None) -> BatchReport:
        """Settle every UNRESOLVED record whose card's later transactions now tell."""
        at = now or self.clock()
        with self.store.transaction() as tx:
            batch = _Batch(self, tx, at)
            cards = {row[0] for row in tx.sql.all(
                "SELECT DISTINCT card_number FROM clearing_records WHERE state = ?",
                (ClearingState.UNRESOLVED.value,))}
            batch.settle_cards(sorted(cards))
            return batch.report


class _Batch:
    """One batch inside one store transaction."""

    def __init__(self, clearer: Clearer, tx: StoreTransaction, now: dt.datetime) -> None:
        self.c = clearer
        self.tx = tx
        self.now = now
        self.report = BatchReport()
        self.cards: set[str] = set()

    def run(self, items: Sequence[Inbound]) -> BatchReport:
        for item in items:
            if isinstance(item, Unreadable):
                self.tx.clearing.reject(item.source, item.origin, self.now, item.reason,
                                        item.payload)
                self.report.taken["rejected"] += 1
            else:
                self.take(item)
        self.settle_cards(sorted(self.cards))
        return self.report

    # ------------------------------------------------------------ one record

    def take(self, arrival: Arrival) -> None:
        kept = self.tx.clearing.record(arrival.idempotency_key)
        if kept is None:
            self.judge_and_keep(arrival, None)
            return
        repeat = compare(kept, arrival.seq, arrival.text, arrival.record.outcome)
        self.report.taken[repeat.value] += 1
        if repeat is Repeat.SETTLEMENT:
            self.settlement(kept, arrival)
        elif repeat is Repeat.DUPLICATE_UPLOAD:
            self.find(kept, Finding(FindingKind.DUPLICATE_UPLOAD,
                                    f"outbox entries {kept.seq} and {arrival.seq} carry the same "
                                    "record; booked once"))
        elif repeat is Repeat.CONFLICT:
            self.find(kept, Finding(FindingKind.CONFLICTING_RECORD,
                                    f"{arrival.origin} says {arrival.record.outcome.value} "
                                    f"{arrival.record.amount_debited} fen where the record kept "
                                    f"says {lane_outcome(kept)} {kept.amount} fen"))

    def settlement(self, kept: ClearedRecord, arrival: Arrival) -> None:
        """The lane's definite record of a debit it had left UNRESOLVED."""
        if kept.state is ClearingState.UNRESOLVED:
            self.judge_and_keep(arrival, kept)
            return
        record = arrival.record
        committed = record.card_committed
        agrees = committed == (kept.state is ClearingState.BOOKED) \
            and (not committed or record.amount_debited == kept.amount)
        if kept.settled_how is not Settled.CTC_GAP or not agrees:
            self.find(kept, Finding(FindingKind.CONFLICTING_RECORD,
                                    f"the lane settles it {record.outcome.value} "
                                    f"{record.amount_debited} fen; the centre had it "
                                    f"{kept.outcome} {kept.amount} fen ({kept.state.value})",
                                    other_key=kept.evidence_key))
            return
        verified = bool(record.tac) and self.c.tac.check(record).genuine
        self.tx.clearing.replace(dataclasses.replace(
            kept, seq=arrival.seq, source=arrival.source, record=arrival.text,
            tac_verified=verified or kept.tac_verified))

    def judge_and_keep(self, arrival: Arrival, kept: ClearedRecord | None) -> None:
        """Check a record the key has no definite record for yet, and keep it."""
        record = arrival.record
        at = record_time(record)
        # The lane uploaded the transaction when its first record under the key arrived: the
        # definite record of an UNRESOLVED one comes when the card is back, often days later,
        # and is not a late upload for that.
        uploaded = self.now if kept is None else kept.received_at
        outcome = record.outcome
        findings: list[Finding] = []
        kind: CardKind | None = None
        tac_ok = False
        settled_how = None if kept is None else Settled.LANE
        if outcome in _NO_MONEY:
            state = ClearingState.NO_MONEY
        else:
            card = self.tx.devices.card(record.card_number)
            kind = None if card is None else card.kind
            if kind is None:
                findings.append(Finding(FindingKind.UNKNOWN_CARD,
                                        f"card {record.card_number} was not issued by this "
                                        "centre"))
                state = ClearingState.HELD
            elif outcome is Outcome.UNRESOLVED:
                state = ClearingState.UNRESOLVED
                settled_how = None
            elif not record.card_committed:
                # Cash due at the lane, the trip left open on the card: no TAC to verify, the
                # lane's record is the whole evidence of the cash it took.
                state, findings = self.judge_cash_only(record, at, uploaded)
                settled_how = Settled.LANE
            else:
                state, tac_ok, findings = self.judge_committed(arrival.idempotency_key, record,
                                                               at, uploaded)
        row = ClearedRecord(
            arrival.idempotency_key, record.transaction_id, arrival.seq, arrival.source,
            record.lane_network, record.lane_station, record.lane_number, record.card_number,
            None if kind is None else kind.value, outcome.value,
            record.ctc if record.ctc >= 0 else None, record.amount_debited, record.cash_fee,
            record.balance_before, record.balance_after, at, self.now, state,
            settled_how, tac_ok, None, None, arrival.text)
        row = self.keep(row, kept is None)
        for finding in findings:
            self.find(row, finding)
        self.report.taken[f"{'settled' if kept else 'new'} {state.value}"] += 1
        if kind is not None:
            self.cards.add(record.card_number)

    def judge_committed(self, key: str, record: TransactionRecord, at: dt.datetime,
                        uploaded: dt.datetime) -> tuple[ClearingState, bool, list[Finding]]:
        """A record saying the card committed a purchase, uploaded at `uploaded`: its TAC (a
        recovered record without one is the lane's own settlement, from the card's 0019), then
        the rules; (state, TAC verified, findings)."""
        tac_ok = False
        if record.tac or not record.recovered:
            result = self.c.tac.check(record)
            if not result.genuine:
                return ClearingState.HELD, False, [Finding(FindingKind.TAC_INVALID,
                                                           result.reason)]
            tac_ok = True
        findings: list[Finding] = []
        if record.ctc >= 0:
            findings += ctc_findings(key, record.ctc, record.amount_debited, at,
                                     self.tx.clearing.of_card(record.card_number))
        charge = self.c.tariff.finding(record)
        if charge is not None:
            findings.append(charge)
        if record.outcome is not Outcome.ENTRY_WRITTEN:
            if record.blacklist_version >= 0:
                listed = listed_finding(self.category_at(record.card_number,
                                                         record.blacklist_version),
                                        record.blacklist_version)
                if listed is not None:
                    findings.append(listed)
            late = late_finding(at, uploaded, self.c.window)
            if late is not None:
                findings.append(late)
        held = any(not f.kind.booked for f in findings)
        return (ClearingState.HELD if held else ClearingState.BOOKED), tac_ok, findings

    def judge_cash_only(self, record: TransactionRecord, at: dt.datetime,
                        uploaded: dt.datetime) -> tuple[ClearingState, list[Finding]]:
        """A cash trip whose 0-fen purchase failed (flagged TRIP_NOT_CLOSED), uploaded at
        `uploaded`: the cash against the fee table, and the upload's lateness."""
        findings: list[Finding] = []
        charge = self.c.tariff.finding(record)
        if charge is not None:
            findings.append(charge)
        late = late_finding(at, uploaded, self.c.window)
        if late is not None:
            findings.append(late)
        held = any(not f.kind.booked for f in findings)
        return (ClearingState.HELD if held else ClearingState.BOOKED), findings

    def category_at(self, card_number: str, version: int) -> int:
        """The card's status-list category as of list `version` (0: not listed)."""
        category = 0
        for change in self.tx.lists.history("card", card_number):
            if change.version is not None and change.version <= version:
                category = change.category
        return category

    def keep(self, row: ClearedRecord, new: bool) -> ClearedRecord:
        """Write the row; a booked one gets its ledger entry (and its cleared-debit line)."""
        if row.state is ClearingState.BOOKED:
            entry = entry_for(row, row.card_kind == CardKind.B.value)
            if entry is not None:
                entry_id = self.tx.book.post(entry, row.transaction_time)
                row = dataclasses.replace(row, entry_id=entry_id)
                if row.amount > 0:
                    self.tx.money.add_cleared_debit(ClearedDebit(
                        row.idempotency_key, row.card_number, row.ctc, row.amount, row.network,
                        row.station, row.lane, row.transaction_time, self.now, entry_id))
        if new:
            self.tx.clearing.add(row)
        else:
            self.tx.clearing.replace(row)
        return row

    def find(self, row: ClearedRecord, finding: Finding) -> None:
        if self.tx.clearing.add_finding(row, finding, self.now):
            self.report.findings.append((row.idempotency_key, finding))

    # ------------------------------------------------------------ UNRESOLVED, from the card

    def settle_cards(self, cards: Sequence[str]) -> None:
        for card in self.tx.clearing.with_unresolved(cards):
            pending = self.tx.clearing.unresolved_of(card)
            loads = [(load.new.transaction_time, load.new.amount)
                     for load in self.tx.loads.of_card(card)
                     if load.status is LoadStatus.CREDITED]
            for row in sorted(pending, key=lambda r: r.transaction_time):
                record = record_from_json(row.record)
                verdict = gap_verdict(row, intended_amount(record), row.card_kind != "A",
                                      self.tx.clearing.of_card(card), loads, self.now,
                                      self.c.window)
                if verdict is not None:
                    self.settle_by_gap(row, record, verdict)

    def settle_by_gap(self, row: ClearedRecord, record: TransactionRecord,
                      verdict: GapVerdict) -> None:
        if verdict.committed:
            outcome = settled_outcome(record)
            amount = intended_amount(record)
            cash = record.cash_fee if outcome is Outcome.CASH_REQUIRED else 0
            state = ClearingState.BOOKED
        elif record.cash_fee > 0:
            # The 0-fen purchase closing a short card's trip did not commit: the lane took the
            # cash all the same (TRIP_NOT_CLOSED).
            outcome, amount, cash, state = (Outcome.CASH_REQUIRED, 0, record.cash_fee,
                                            ClearingState.BOOKED)
        else:
            outcome, amount, cash, state = Outcome.NOT_DEBITED, 0, 0, ClearingState.NO_MONEY
        settled = dataclasses.replace(
            row, outcome=outcome.value, ctc=verdict.ctc, amount=amount, cash_fee=cash,
            balance_after=purse_after(row.card_kind != "A", row.balance_before, amount),
            state=state, settled_how=Settled.CTC_GAP, evidence_key=verdict.evidence_key)
        self.keep(settled, new=False)
        self.report.taken[f"settled from the card {state.value}"] += 1
