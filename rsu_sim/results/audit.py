"""Reconcile a run's journal with its simulated cards (`rules.md` art. 29): nothing lost, nothing
charged twice, every TAC genuine, every balance accounted for. A pure function over loaded data;
`rsu-sim audit` reads the files (`rsu_sim.results.files.load_run`) and prints the report.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from keys.ciphers import Algorithm
from keys.clearing import ReportedTransaction, TacVerifier
from keys.errors import KeysError
from keys.keyset import KeySet
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.journal import EntryState, JournalEntry
from lane_engine.times import lane_datetime
from protocols.frames import TransType
from rsu_sim.model.card import purse_after
from rsu_sim.results.files import CardLoadEntry, CardLogEntry, CardState

_CTC_MODULUS = 0x1_0000


def unresolved_committed_is_clean() -> bool:
    """Our decision: a debit the card committed whose journal record is UNRESOLVED (left for
    clearing) is clean: it is neither lost (the record names the card and the amount) nor
    charged twice. The audit lists how many there are."""
    return True


@dataclass(slots=True)
class AuditReport:
    """What the audit found: problems (each one line) and the counts of a clean reconciliation."""

    problems: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def clean(self) -> bool:
        """True when nothing disagrees."""
        return not self.problems

    def render(self) -> str:
        """The report as text: every problem, then the counts."""
        lines = [f"PROBLEM {problem}" for problem in self.problems]
        verdict = "clean" if self.clean else f"{len(self.problems)} problem(s)"
        lines.append(f"audit: {verdict}")
        width = max((len(k) for k in self.counts), default=0)
        lines += [f"  {name:<{width}}  {count:,}" for name, count in sorted(self.counts.items())]
        return "\n".join(lines)


def intended_amount(record: TransactionRecord) -> int:
    """What the C6 of a record asked the card for (an UNRESOLVED record never says it): 0 at an
    entry lane and for a short B card, else the discounted fee."""
    if record.mode == "entry" or ReasonCode.INSUFFICIENT_BALANCE in record.flags \
            or record.cash_fee:
        return 0
    return record.discounted_fee


def card_time(text: str) -> dt.datetime:
    """A record's or a card log's purchase time as the card keeps it: lane local, no zone (a
    record's time carries its offset, a card's does not)."""
    return lane_datetime(text).replace(tzinfo=None)


def _tac_genuine(verifier: TacVerifier, card: CardState, *, amount: int, terminal: str,
                 serial: int, when: str, tac: str, key_version: int, alg: int) -> bool:
    try:
        return verifier.is_genuine(ReportedTransaction(
            bytes.fromhex(card.issuer_code), bytes.fromhex(card.card_number[4:]), card.network,
            key_version, Algorithm(alg), amount, TransType.COMPOSITE_PURCHASE,
            bytes.fromhex(terminal), serial, card_time(when), bytes.fromhex(tac),
        ))
    except (KeysError, ValueError):
        return False


class _Reconciler:
    def __init__(self, cards: Iterable[CardState], key_set: KeySet, with_records: bool) -> None:
        self.cards = {card.card_number: card for card in cards}
        self.verifier = TacVerifier(key_set)
        self.report = AuditReport()
        self.with_records = with_records
        self.claimed: dict[tuple[str, int], str] = {}  # (card, ctc) -> transaction id
        self.serials: dict[tuple[str, int], tuple[str, int]] = {}  # (terminal, serial) -> card

    def problem(self, text: str) -> None:
        self.report.problems.append(text)

    def find(self, card: CardState, record: TransactionRecord, amount: int
             ) -> CardLogEntry | None:
        """The card log entry this record's purchase is: by CTC when the record knows it, else
        by purchase time and amount; the purchase time must agree either way."""
        try:
            when = card_time(record.transaction_time)
        except ValueError:
            return None
        for entry in card.log:
            if card_time(entry.transaction_time) != when:
                continue
            if record.ctc >= 0 and entry.ctc == record.ctc:
                return entry
            if record.ctc < 0 and entry.amount == amount:
                return entry
        return None

    def claim(self, card: CardState, entry: CardLogEntry, record: TransactionRecord) -> None:
        key = (card.card_number, entry.ctc)
        holder = self.claimed.get(key)
        if holder is not None and holder != record.transaction_id:
            self.problem(f"{record.transaction_id}: card {card.card_number} CTC {entry.ctc} is "
                         f"already journaled by {holder}: charged twice")
            return
        self.claimed[key] = record.transaction_id

    def committed(self, record: TransactionRecord) -> None:
        tid, counts = record.transaction_id, self.report.counts
        card = self.cards.get(record.card_number)
        if card is None:
            self.problem(f"{tid}: {record.outcome.value} for unknown card {record.card_number}")
            return
        entry = self.find(card, record, record.amount_debited)
        if entry is None:
            self.problem(f"{tid}: {record.outcome.value} {record.amount_debited} fen CTC "
                         f"{record.ctc} has no matching purchase on card {card.card_number}")
            return
        self.claim(card, entry, record)
        if entry.amount != record.amount_debited or entry.balance_after != record.balance_after:
            self.problem(f"{tid}: journal says {record.amount_debited} fen, balance "
                         f"{record.balance_after}; card {card.card_number} CTC {entry.ctc} says "
                         f"{entry.amount} fen, balance {entry.balance_after}")
        if not record.tac:
            counts["settled on a later pass (no TAC in the record)"] += 1
            return
        if record.tac != entry.tac:
            self.problem(f"{tid}: TAC {record.tac} differs from the card's {entry.tac}")
        if not _tac_genuine(self.verifier, card, amount=record.amount_debited,
                            terminal=record.psam_terminal_number,
                            serial=record.terminal_trans_serial, when=record.transaction_time,
                            tac=record.tac, key_version=record.key_version, alg=record.alg_flag):
            self.problem(f"{tid}: TAC {record.tac} does not verify under the issuer keys")
        else:
            counts["journal TACs verified"] += 1

    def unresolved(self, record: TransactionRecord) -> None:
        card = self.cards.get(record.card_number)
        entry = None if card is None else self.find(card, record, intended_amount(record))
        if card is None or entry is None:
            self.report.counts["unresolved, card not debited"] += 1
            return
        self.claim(card, entry, record)
        self.report.counts["unresolved, committed: left for clearing"] += 1

    def not_charged(self, record: TransactionRecord) -> None:
        card = self.cards.get(record.card_number)
        if card is None or record.ctc < 0:
            return
        entry = self.find(card, record, record.amount_debited)
        if entry is not None:
            self.problem(f"{record.transaction_id}: journal says {record.outcome.value} but card "
                         f"{card.card_number} committed CTC {entry.ctc} ({entry.amount} fen)")

    def card_checks(self, card: CardState) -> None:
        counts = self.report.counts
        spent, purse = 0, card.initial_balance
        loads = sorted(card.loads, key=lambda load: card_time(load.transaction_time))
        for entry in card.log:
            while loads and card_time(loads[0].transaction_time) <= \
                    card_time(entry.transaction_time):
                purse = self.loaded(card, loads.pop(0), purse)
            spent += entry.amount
            # The purse as the card's convention has it (an A card's figure stops at 0).
            purse = purse_after(card.card_type, purse, entry.amount)
            if entry.balance_after != purse:
                self.problem(f"card {card.card_number} CTC {entry.ctc}: balance after "
                             f"{entry.balance_after}, the purse says {purse}")
            self.serial_used(card, entry)
            if self.with_records and (card.card_number, entry.ctc) not in self.claimed:
                self.problem(f"card {card.card_number} CTC {entry.ctc}: committed {entry.amount}"
                             f" fen at {entry.transaction_time}, missing from the journal")
            if _tac_genuine(self.verifier, card, amount=entry.amount,
                            terminal=entry.terminal_number, serial=entry.terminal_trans_serial,
                            when=entry.transaction_time, tac=entry.tac,
                            key_version=card.key_version, alg=card.algorithm):
                counts["card log TACs verified"] += 1
            else:
                self.problem(f"card {card.card_number} CTC {entry.ctc}: TAC {entry.tac} does "
                             f"not verify")
        for load in loads:
            purse = self.loaded(card, load, purse)
        if purse != card.balance:
            loaded = sum(load.amount for load in card.loads)
            self.problem(f"card {card.card_number}: initial {card.initial_balance} plus "
                         f"{loaded} fen loaded less the {spent} fen logged is {purse}, not the "
                         f"final balance {card.balance}")
        if (card.initial_ctc + len(card.log)) % _CTC_MODULUS != card.ctc:
            self.problem(f"card {card.card_number}: CTC {card.initial_ctc} + {len(card.log)} "
                         f"purchases != final CTC {card.ctc}")
        counts["cards"] += 1
        counts["card purchases"] += len(card.log)

    def loaded(self, card: CardState, load: CardLoadEntry, purse: int) -> int:
        """The purse after a load, checked against the balance the card logged."""
        purse += load.amount
        if load.balance_after != purse:
            self.problem(f"card {card.card_number} load {load.online_serial}: balance after "
                         f"{load.balance_after}, the purse says {purse}")
        self.report.counts["card loads"] += 1
        return purse

    def serial_used(self, card: CardState, entry: CardLogEntry) -> None:
        key = (entry.terminal_number, entry.terminal_trans_serial)
        holder = self.serials.get(key)
        if holder is not None:
            self.problem(f"PSAM {entry.terminal_number} serial {entry.terminal_trans_serial} "
                         f"used twice: card {holder[0]} CTC {holder[1]} and card "
                         f"{card.card_number} CTC {entry.ctc}")
            return
        self.serials[key] = (card.card_number, entry.ctc)

    def serials_reserved(self, reserved: Mapping[str, int]) -> None:
        """Every serial on a card lies below what its PSAM had made durable: a restart can
        never hand it out again."""
        for (terminal, serial), (card, ctc) in sorted(self.serials.items()):
            limit = reserved.get(terminal)
            if limit is None or serial >= limit:
                self.problem(f"card {card} CTC {ctc}: PSAM {terminal} serial {serial} is not "
                             f"below the serials it reserved ({limit}): it could be reused")
        self.report.counts["terminal serials, each used once"] = len(self.serials)


def audit(journal: Sequence[JournalEntry] | None, cards: Sequence[CardState], key_set: KeySet,
          reserved_serials: Mapping[str, int] | None = None) -> AuditReport:
    """Reconcile journal records with the cards' transaction logs, TACs and balances, and check
    that no PSAM terminal serial was used twice. Without a journal (None: a served world whose
    lane's records were not given) the cards are checked on their own. `reserved_serials`
    (a served world's) also checks each serial against what its PSAM had reserved."""
    rec = _Reconciler(cards, key_set, journal is not None)
    counts = rec.report.counts
    for entry in journal or ():
        record = entry.record
        if entry.state is EntryState.DUPLICATE:
            counts["duplicate closes (twins of a journaled debit)"] += 1
            continue
        counts[f"records {record.outcome.value}"] += 1
        if entry.state is EntryState.OPEN or record.outcome is Outcome.UNRESOLVED:
            rec.unresolved(record)
        elif record.card_committed:
            rec.committed(record)
        else:
            if record.outcome is Outcome.CASH_REQUIRED:
                counts["cash due, trip not closed on the card"] += 1
            rec.not_charged(record)
    for card in cards:
        rec.card_checks(card)
    if reserved_serials is not None:
        rec.serials_reserved(reserved_serials)
    if journal is None:
        counts["lane records not given: card logs checked alone"] = 1
    return rec.report
