"""Settling a purchase: B5, recovery by C8/B8, timeouts, and UNRESOLVED transactions that a later
sighting of the card settles (`card.md` §5), at this lane or at any lane of the plaza.

The pass being served and the book of UNRESOLVED purchases are `lane_engine.core.unresolved`'s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lane_engine.core.config import LaneConfig, LocalSecond
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
    FeeDisplayed,
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
from lane_engine.core.policy import Policy, cash_fee
from lane_engine.core.ports import TacVerifier
from lane_engine.core.unresolved import Pass, UnresolvedBook, WriteMark, committed_outcome
from protocols.frames import (
    Continue,
    ObuFound,
    Purchase,
    RefetchTac,
    Stop,
    StopType,
    TacRefetched,
    TransactionResult,
)

__all__ = ["Pass", "Settling", "UnresolvedBook", "WriteMark", "closes_trip_for_cash",
           "committed_outcome", "other_obu"]

#: How many OBUs the lane remembers for the re-read window before pruning expired ones.
_COMPLETED_PRUNE_AT = 256


def other_obu(got: int, serving: int) -> str:
    """The detail of a frame about an OBU other than the one being served."""
    return f"frame for OBU {got:#010x} while serving {serving:#010x}"


def closes_trip_for_cash(reason: ReasonCode, is_exit: bool, p: Pass) -> bool:
    """Whether a purchase the card refused closes the trip for cash instead (our decision,
    `rules.md` art. 21 where B4 showed enough): at an exit, a debit the card itself refused for
    its balance (B5 21h) means the driver pays the undiscounted fee in cash, and the lane closes
    the trip on the card with a 0-fen purchase, once."""
    return (reason is ReasonCode.INSUFFICIENT_BALANCE and is_exit and p.amount > 0
            and not p.closing)


class Settling:
    """`Lane`'s handlers from C6 on (a mixin: the names below are `Lane`'s)."""

    config: LaneConfig
    _is_exit: bool
    _policy: Policy
    _local: LocalSecond
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
            if closes_trip_for_cash(reason, self._is_exit, p):
                return self._close_trip_for_cash(p, now, detail)
            if p.closing:
                return self._cash_without_trip(p, now, f"{detail} to the 0-fen purchase")
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
            if p.closing:
                return self._cash_without_trip(p, now, "B8: the 0-fen purchase was not made")
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

    def _close_trip_for_cash(self, p: Pass, now: float, detail: str) -> list[Effect]:
        """The card refused the debit for its balance: cash is due, the undiscounted fee as the
        policy rounds it; the trip is closed on the card with a 0-fen purchase."""
        intent = p.intent
        cash = cash_fee(intent.fee, self._policy)
        flags = (ReasonCode.INSUFFICIENT_BALANCE,
                 *(f for f in intent.flags if f != ReasonCode.INSUFFICIENT_BALANCE))
        p.intent = amend(intent, reason=ReasonCode.INSUFFICIENT_BALANCE, flags=flags,
                         cash_fee=cash, detail=f"{detail}: the card refused the debit; the trip "
                         "is closed with 0 fen, the fee due in cash")
        p.amount, p.closing, p.committed_outcome = 0, True, Outcome.CASH_REQUIRED
        p.written = replace(p.written, accumulated_fee=0)
        p.attempts = 0
        self._to(LaneState.PURCHASING, now + self.config.timeouts.purchase)
        local = self._local.at(now)
        return [
            UpdateIntent(p.intent),
            SendFrame(Purchase(p.obu_id, p.div_factor, 0, local.time, p.written)),
            FeeDisplayed(p.intent.transaction_id, p.intent.vehicle_class, p.intent.fee, 0, cash),
        ]

    def _cash_without_trip(self, p: Pass, now: float, why: str) -> list[Effect]:
        """The 0-fen purchase closing a short card's trip failed: the cash is due all the same,
        and the record says why the trip is still open on the card."""
        final = amend(p.intent, outcome=Outcome.CASH_REQUIRED, amount_debited=0,
                      flags=(*p.intent.flags, ReasonCode.TRIP_NOT_CLOSED),
                      detail=f"{p.intent.detail}; the trip is not closed on the card: {why}")
        self._closed(p, final.transaction_id)
        return [
            CloseTransaction(final),
            SendFrame(Stop(p.obu_id, StopType.FREEZE, int(now))),
            CashRequired(final.cash_fee, final),
            KeepBarrierClosed(final.transaction_id, ReasonCode.INSUFFICIENT_BALANCE),
        ]

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
        if p.closing:  # only the 0-fen purchase is in doubt: the cash is due all the same
            effects.append(CashRequired(record.cash_fee, record))
        effects.append(KeepBarrierClosed(record.transaction_id, ReasonCode.RESULT_UNKNOWN))
        return effects

    def _closed(self, p: Pass, transaction_id: str) -> None:
        self._pass = None
        self._last_closed = (p.obu_id, transaction_id, p.div_factor)
        self._to(LaneState.READY)
