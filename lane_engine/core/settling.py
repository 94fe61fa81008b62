"""Settling a purchase: B5, recovery by C8/B8, timeouts, and UNRESOLVED transactions that a later
sighting of the card settles (`card.md` §5), at this lane or at any lane of the plaza.

Our decision for a later sighting (kept in `UnresolvedBook.settle`): the card commits its balance
and its 0019 record atomically, so when the card is read again and its 0019 is exactly the record
the purchase sent, the debit happened; when it is still exactly the record read before the
purchase, it did not; anything else (the card travelled since) proves nothing and is left for
clearing. Which lane reads the card does not matter: the 0019 names the lane that wrote it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import eq
from typing import TYPE_CHECKING

from lane_engine.core.config import LaneConfig, lane_unix_time
from lane_engine.core.decisions import (
    Settlement,
    b5_settlement,
    b8_settlement,
    is_rsu_heartbeat,
    stop_type_for,
)
from lane_engine.core.effects import (
    CashRequired,
    CloseTransaction,
    Effect,
    KeepBarrierClosed,
    LateResultAcknowledged,
    OpenBarrier,
    ProtocolViolation,
    RecoveryStarted,
    SendFrame,
    TransactionCompleted,
    TransactionFailed,
    TransactionUnresolved,
    UpdateIntent,
)
from lane_engine.core.ledger import amend
from lane_engine.core.machine import LaneState
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.core.ports import TacVerifier
from protocols.frames import (
    Continue,
    ObuFound,
    RefetchTac,
    Stop,
    StopType,
    TacRefetched,
    TransactionResult,
)
from protocols.records import EntryExitRecord, EntryExitStatus

if TYPE_CHECKING:
    from lane_engine.core.pricing import Price

#: How many OBUs the lane remembers for the re-read window before pruning expired ones.
_COMPLETED_PRUNE_AT = 256


def other_obu(got: int, serving: int) -> str:
    """The detail of a frame about an OBU other than the one being served."""
    return f"frame for OBU {got:#010x} while serving {serving:#010x}"


class Pass:
    """The OBU being served and, once priced, its purchase (private mutable state of `Lane`)."""

    __slots__ = ("amount", "attempts", "committed_outcome", "div_factor", "intent", "obu_id",
                 "obu_serial", "previous", "written")

    def __init__(self, obu_id: int, obu_serial: str, div_factor: bytes) -> None:
        self.obu_id = obu_id
        self.obu_serial = obu_serial
        self.div_factor = div_factor
        self.attempts = 0

    def priced(self, intent: TransactionRecord, price: Price, written: EntryExitRecord,
               previous: EntryExitRecord | None, committed_outcome: Outcome) -> None:
        """Remember the purchase about to be sent."""
        self.intent = intent
        self.amount = price.amount
        self.written = written
        self.previous = previous
        self.committed_outcome = committed_outcome


def committed_outcome(is_exit: bool, reason: ReasonCode) -> Outcome:
    """How a purchase closes once the card committed it: an entry written; at an exit DEBITED,
    or CASH_REQUIRED when the B card was short (its price's reason is INSUFFICIENT_BALANCE)."""
    if not is_exit:
        return Outcome.ENTRY_WRITTEN
    if reason == ReasonCode.INSUFFICIENT_BALANCE:
        return Outcome.CASH_REQUIRED
    return Outcome.DEBITED


@dataclass(frozen=True, slots=True)
class WriteMark:
    """What a journaled intent keeps of a 0019 record: where and when it was written.

    Our decision for intents recovered from the journal, which keep no whole 0019: a read showing
    the same network, station and time (and lane and status where known) is that very write; no
    other write carries the same ones.
    """

    network: str
    station: int
    time: int
    lane: int | None = None
    status: EntryExitStatus | None = None

    def matches(self, record: EntryExitRecord | None) -> bool:
        """True when `record` is the write this mark was taken from."""
        return (
            record is not None and record.time == self.time and record.station == self.station
            and record.network == self.network and self.lane in (None, record.lane)
            and self.status in (None, record.status)
        )


def _unknown(record: EntryExitRecord | None) -> bool:
    return False


#: Whether a 0019 read later proves something about the purchase.
_Proof = Callable[[EntryExitRecord | None], bool]


@dataclass(slots=True)
class _Pending:
    intent: TransactionRecord
    debited_if: _Proof  # the card holds the record the purchase wrote
    not_debited_if: _Proof  # the card still holds the record read before the purchase
    committed_outcome: Outcome
    amount: int


class UnresolvedBook:
    """UNRESOLVED purchases by card number, until a later B4 settles them.

    One book may be shared by the lanes of a plaza (a vehicle left in doubt at one lane may show
    up at another); it is plain data, used from one thread.
    """

    #: The most the book remembers; older ones stay with clearing only.
    LIMIT = 1024

    __slots__ = ("_by_card",)

    def __init__(self) -> None:
        self._by_card: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self._by_card)

    def __contains__(self, card_number: object) -> bool:
        return card_number in self._by_card

    def remember(self, p: Pass) -> None:
        """Keep the purchase of `p`, left UNRESOLVED, for a later sighting of its card."""
        self._keep(_Pending(p.intent, partial(eq, p.written), partial(eq, p.previous),
                            p.committed_outcome, p.amount))

    def remember_intent(self, intent: TransactionRecord) -> bool:
        """Keep an intent a previous run left open (read from the journal), as far as its record
        allows (see `WriteMark`); False when it cannot be known again (no card, no time)."""
        if not intent.card_number:
            return False
        try:
            written_at = lane_unix_time(intent.transaction_time)
        except ValueError:
            return False
        is_exit = intent.mode == "exit"
        written = WriteMark(intent.lane_network, intent.lane_station, written_at,
                            intent.lane_number,
                            EntryExitStatus.EXITED if is_exit else EntryExitStatus.ENTERED)
        # An exit keeps the entry it priced from; an entry keeps nothing of the card's record.
        previous: _Proof = _unknown
        if is_exit and intent.entry_time:
            previous = WriteMark(intent.entry_network, intent.entry_station,
                                 intent.entry_time).matches
        outcome = committed_outcome(is_exit, intent.reason)
        amount = intent.discounted_fee if outcome is Outcome.DEBITED else 0
        self._keep(_Pending(intent, written.matches, previous, outcome, amount))
        return True

    def _keep(self, pending: _Pending) -> None:
        card = pending.intent.card_number
        self._by_card.pop(card, None)
        self._by_card[card] = pending
        if len(self._by_card) > self.LIMIT:
            del self._by_card[next(iter(self._by_card))]

    def settle(self, card_number: str, last_station: EntryExitRecord | None, balance: int,
               read_at_lane: int) -> TransactionRecord | None:
        """The settled record when this read of the card (at lane `read_at_lane`) settles its
        UNRESOLVED purchase, which is then forgotten; None when there is none or nothing is
        proved."""
        pending = self._by_card.get(card_number)
        if pending is None:
            return None
        if pending.debited_if(last_station):
            del self._by_card[card_number]
            return amend(pending.intent, outcome=pending.committed_outcome,
                         amount_debited=pending.amount, balance_after=balance, recovered=True,
                         detail=f"settled at lane {read_at_lane}: the card holds the record "
                                "the purchase wrote")
        if pending.not_debited_if(last_station):
            del self._by_card[card_number]
            return amend(pending.intent, outcome=Outcome.NOT_DEBITED,
                         reason=ReasonCode.PURCHASE_FAILED, recovered=True,
                         detail=f"settled at lane {read_at_lane}: the card still holds its "
                                "earlier record")
        return None


class Settling:
    """`Lane`'s handlers from C6 on (a mixin: the names below are `Lane`'s)."""

    config: LaneConfig
    _pass: Pass | None
    _verifier: TacVerifier | None
    _completed: dict[int, tuple[int, str]]
    _last_closed: tuple[int, str, bytes] | None
    _unresolved: UnresolvedBook
    _policy_reread_s: int
    _prune_at: int = _COMPLETED_PRUNE_AT

    if TYPE_CHECKING:
        def _to(self, state: LaneState, deadline: float | None = None) -> None: ...
        def _violation(self, frame_type: str, detail: str) -> ProtocolViolation: ...
        def _on_obu_found(self, b2: ObuFound, now: float) -> list[Effect]: ...

    def _on_transaction_result(self, b5: TransactionResult, now: float) -> list[Effect]:
        p = self._pass
        assert p is not None
        if b5.obu_id != p.obu_id:
            return [self._violation("B5", other_obu(b5.obu_id, p.obu_id))]
        settlement, reason = b5_settlement(b5.error_code)
        terminal = b5.psam_no.hex()
        if settlement is Settlement.COMMITTED:
            return self._complete(p, amend(
                p.intent, outcome=p.committed_outcome, amount_debited=p.amount,
                balance_after=b5.card_balance, ctc=b5.icc_pay_serial,
                psam_terminal_number=terminal, terminal_trans_serial=b5.psam_trans_serial,
                tac=b5.tac.hex(), alg_flag=b5.alg_flag, key_version=b5.key_version,
            ), now)
        detail = f"B5 error {b5.error_code:#04x}"
        if settlement is Settlement.NOT_DEBITED:
            return self._fail(p, amend(p.intent, outcome=Outcome.NOT_DEBITED, reason=reason,
                                         detail=detail), now)
        p.intent = amend(
            p.intent, ctc=b5.icc_pay_serial, psam_terminal_number=terminal,
            terminal_trans_serial=b5.psam_trans_serial, alg_flag=b5.alg_flag,
            key_version=b5.key_version, detail=detail,
        )
        p.attempts = 1
        self._to(LaneState.RECOVERING, now + self.config.timeouts.refetch)
        return [
            UpdateIntent(p.intent),
            SendFrame(RefetchTac(p.obu_id, b5.icc_pay_serial)),
            RecoveryStarted(p.intent.transaction_id, b5.icc_pay_serial),
        ]

    def _on_tac_refetched(self, b8: TacRefetched, now: float) -> list[Effect]:
        p = self._pass
        assert p is not None
        if b8.obu_id != p.obu_id:
            return [self._violation("B8", other_obu(b8.obu_id, p.obu_id))]
        settlement = b8_settlement(b8.error_code)
        if settlement is Settlement.COMMITTED:
            return self._complete(p, amend(
                p.intent, outcome=p.committed_outcome, amount_debited=p.amount,
                balance_after=b8.card_rest_money, tac=b8.tac.hex(), recovered=True, detail="",
            ), now)
        if settlement is Settlement.NOT_DEBITED:
            return self._fail(p, amend(
                p.intent, outcome=Outcome.NOT_DEBITED, reason=ReasonCode.PURCHASE_FAILED,
                recovered=True, detail=f"{p.intent.detail}; B8: card not debited",
            ), now)
        return self._refetch_again(p, now, f"B8 error {b8.error_code:#04x}")

    def _on_refetch_timeout(self, _: None, now: float) -> list[Effect]:
        assert self._pass is not None
        return self._refetch_again(self._pass, now, "no B8")

    def _on_purchase_timeout(self, _: None, now: float) -> list[Effect]:
        assert self._pass is not None
        return self._leave_unresolved(self._pass, now, "no B5", stop=True)

    def _on_obu_found_while_settling(self, b2: ObuFound, now: float) -> list[Effect]:
        if is_rsu_heartbeat(b2):
            return []
        assert self._pass is not None
        # The RSU has given up the purchase and moved on: it is in doubt; serve the new OBU.
        effects = self._leave_unresolved(self._pass, now, "the RSU moved on", stop=False)
        return effects + self._on_obu_found(b2, now)

    def _on_late_result(self, b5: TransactionResult, now: float) -> list[Effect]:
        last = self._last_closed
        if last is None or last[0] != b5.obu_id:
            return [self._violation("B5", "B5 with no purchase in progress")]
        return [SendFrame(Continue(last[0], last[2])),
                LateResultAcknowledged(last[1], b5.error_code, b5.tac)]

    # ------------------------------------------------------------ closing

    def _refetch_again(self, p: Pass, now: float, why: str) -> list[Effect]:
        if p.attempts >= self.config.timeouts.refetch_attempts:
            return self._leave_unresolved(p, now, f"{why} after {p.attempts} C8", stop=True)
        p.attempts += 1
        self._to(LaneState.RECOVERING, now + self.config.timeouts.refetch)
        return [SendFrame(RefetchTac(p.obu_id, p.intent.ctc))]

    def _complete(self, p: Pass, final: TransactionRecord, now: float) -> list[Effect]:
        if self._verifier is not None:
            final = self._verified(final)
        transaction_id = final.transaction_id
        self._closed(p, transaction_id)
        completed = self._completed
        if len(completed) >= self._prune_at:
            horizon = int(now) - self._policy_reread_s
            self._completed = completed = {k: v for k, v in completed.items() if v[0] > horizon}
            # Amortised: the next prune waits until the map has doubled again.
            self._prune_at = max(_COMPLETED_PRUNE_AT, 2 * len(completed))
        completed[p.obu_id] = (int(now), transaction_id)
        effects: list[Effect] = [
            CloseTransaction(final),
            SendFrame(Continue(p.obu_id, p.div_factor)),
            TransactionCompleted(final),
        ]
        if final.outcome is Outcome.CASH_REQUIRED:
            effects.append(CashRequired(final.cash_fee, final))
            effects.append(KeepBarrierClosed(transaction_id, ReasonCode.INSUFFICIENT_BALANCE))
        else:
            effects.append(OpenBarrier(transaction_id))
        return effects

    def _verified(self, record: TransactionRecord) -> TransactionRecord:
        assert self._verifier is not None
        try:
            ok = bool(self._verifier(record))
        except Exception as exc:  # a verifier's fault must not stop the lane: flag it
            flags = (*record.flags, ReasonCode.TAC_INVALID)
            return amend(record, tac_verified=False, flags=flags,
                           detail=f"TAC check raised {type(exc).__name__}")
        if ok:
            return amend(record, tac_verified=True)
        return amend(record, tac_verified=False, flags=(*record.flags, ReasonCode.TAC_INVALID))

    def _fail(self, p: Pass, final: TransactionRecord, now: float) -> list[Effect]:
        self._closed(p, final.transaction_id)
        reason = final.reason
        return [
            CloseTransaction(final),
            SendFrame(Stop(p.obu_id, stop_type_for(reason), int(now))),
            TransactionFailed(reason, final),
            KeepBarrierClosed(final.transaction_id, reason),
        ]

    def _leave_unresolved(self, p: Pass, now: float, why: str, *, stop: bool) -> list[Effect]:
        record = amend(p.intent, outcome=Outcome.UNRESOLVED, reason=ReasonCode.RESULT_UNKNOWN,
                         detail=why)
        self._unresolved.remember(p)
        self._closed(p, record.transaction_id)
        effects: list[Effect] = [CloseTransaction(record)]
        if stop:
            effects.append(SendFrame(Stop(p.obu_id, StopType.END, int(now))))
        effects.append(TransactionUnresolved(record))
        effects.append(KeepBarrierClosed(record.transaction_id, ReasonCode.RESULT_UNKNOWN))
        return effects

    def _closed(self, p: Pass, transaction_id: str) -> None:
        self._pass = None
        self._last_closed = (p.obu_id, transaction_id, p.div_factor)
        self._to(LaneState.READY)
