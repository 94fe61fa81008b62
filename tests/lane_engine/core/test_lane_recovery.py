"""Settling purchases: lost B5 recovered by C8/B8, timeouts, later sightings, late results, TAC."""

from __future__ import annotations

import pytest
from scripted_rsu import (
    FEE,
    OBU,
    FakeClock,
    b2,
    b4,
    b5,
    b8,
    entry_record,
    of_type,
    ready_lane,
)

from lane_engine.core.effects import (
    CashRequired,
    CloseTransaction,
    FeeDisplayed,
    KeepBarrierClosed,
    LateResultAcknowledged,
    ObuDetected,
    OpenBarrier,
    RecoveryStarted,
    SendFrame,
    TransactionCompleted,
    TransactionFailed,
    TransactionUnresolved,
    UnresolvedTransactionSettled,
    UpdateIntent,
)
from lane_engine.core.lane import Lane
from lane_engine.core.machine import LaneState
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.core.policy import Policy, cash_fee, discounted_fee
from protocols.frames import B5Error, Continue, LaneMode, Purchase, RefetchTac, Stop, StopType
from protocols.records import EntryExitStatus

DISCOUNTED = discounted_fee(FEE, Policy("policy-3"))
DIV = b2().issuer_identifier


def _to_purchase(lane: Lane, clock: FakeClock, **b4_args: object) -> TransactionRecord:
    lane.receive_frame(b2(), clock.advance(0.05), seq=2)
    on_b4 = lane.receive_frame(b4(**b4_args), clock.advance(0.05), seq=3)  # type: ignore[arg-type]
    record: TransactionRecord = on_b4[0].record
    return record


def _lost_b5(lane: Lane, clock: FakeClock) -> list[object]:
    _to_purchase(lane, clock)
    return lane.receive_frame(b5(DISCOUNTED, error_code=B5Error.PURCHASE_NO_REPLY, ctc=77),
                              clock.advance(0.3), seq=4)


def test_lost_b5_asks_c8_with_the_ctc_after_journaling_it() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    effects = _lost_b5(lane, clock)
    update = effects[0]
    assert isinstance(update, UpdateIntent)
    assert update.record.ctc == 77 and update.record.outcome is Outcome.UNRESOLVED
    assert effects[1:] == [SendFrame(RefetchTac(OBU, 77)),
                           RecoveryStarted(update.record.transaction_id, 77)]
    assert lane.state is LaneState.RECOVERING


def test_b8_ok_completes_the_transaction_as_recovered_with_its_tac() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _lost_b5(lane, clock)
    effects = lane.receive_frame(b8(rest=10_000 - DISCOUNTED), clock.advance(0.1), seq=5)
    final = effects[0].record
    assert effects == [CloseTransaction(final), SendFrame(Continue(OBU, DIV)),
                       TransactionCompleted(final), OpenBarrier(final.transaction_id)]
    assert final.outcome is Outcome.DEBITED and final.recovered
    assert (final.tac, final.ctc, final.amount_debited) == ("11223344", 77, DISCOUNTED)
    assert final.balance_after == 10_000 - DISCOUNTED


def test_b8_card_not_debited_closes_clean_and_refuses() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _lost_b5(lane, clock)
    effects = lane.receive_frame(b8(B5Error.CARD_NOT_DEBITED), clock.advance(0.1), seq=5)
    final = effects[0].record
    assert final.outcome is Outcome.NOT_DEBITED and final.reason is ReasonCode.PURCHASE_FAILED
    assert final.amount_debited == 0 and final.recovered
    assert effects == [CloseTransaction(final),
                       SendFrame(Stop(OBU, StopType.END, int(clock.now))),
                       TransactionFailed(ReasonCode.PURCHASE_FAILED, final),
                       KeepBarrierClosed(final.transaction_id, ReasonCode.PURCHASE_FAILED)]
    assert lane.state is LaneState.READY


def test_b8_no_reply_is_retried_a_bounded_number_of_times_then_unresolved() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _lost_b5(lane, clock)
    attempts = lane.config.timeouts.refetch_attempts
    for n in range(attempts - 1):
        assert lane.receive_frame(b8(B5Error.PURCHASE_NO_REPLY), clock.advance(0.1),
                                  seq=5 + n) == [SendFrame(RefetchTac(OBU, 77))]
    effects = lane.receive_frame(b8(B5Error.PURCHASE_NO_REPLY), clock.advance(0.1), seq=9)
    final = effects[0].record
    assert final.outcome is Outcome.UNRESOLVED and final.reason is ReasonCode.RESULT_UNKNOWN
    assert final.ctc == 77
    assert [type(e) for e in effects] == [CloseTransaction, SendFrame, TransactionUnresolved,
                                          KeepBarrierClosed]


def test_no_b8_at_all_times_out_the_same_way() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _lost_b5(lane, clock)
    sent = 1
    while lane.state is LaneState.RECOVERING:
        deadline = lane.get_timer()
        assert deadline is not None
        effects = lane.handle_timer(deadline)
        sent += len([e for e in effects
                     if isinstance(e, SendFrame) and isinstance(e.frame, RefetchTac)])
    assert sent == lane.config.timeouts.refetch_attempts
    assert of_type(effects, TransactionUnresolved)


def _timed_out(lane: Lane, clock: FakeClock, **b4_args: object) -> TransactionRecord:
    intent = _to_purchase(lane, clock, **b4_args)
    deadline = lane.get_timer()
    assert deadline is not None
    assert lane.handle_timer(deadline - 0.001) == []
    effects = lane.handle_timer(deadline)
    final = effects[0].record
    assert effects == [CloseTransaction(final), SendFrame(Stop(OBU, StopType.END, int(deadline))),
                       TransactionUnresolved(final),
                       KeepBarrierClosed(final.transaction_id, ReasonCode.RESULT_UNKNOWN)]
    assert final.transaction_id == intent.transaction_id
    return final


def test_no_b5_closes_unresolved_with_everything_known() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    final = _timed_out(lane, clock)
    assert final.outcome is Outcome.UNRESOLVED and final.ctc == -1
    assert (final.card_number, final.discounted_fee, final.balance_before) == (
        "37011901230211225128", DISCOUNTED, 10_000)
    assert final.psam_terminal_number == "01370004727f" and final.transaction_time
    assert lane.state is LaneState.READY


def test_a_later_read_showing_this_lanes_write_settles_it_as_debited() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    lane.receive_frame(b2(), clock.advance(0.05), seq=2)
    on_b4 = lane.receive_frame(b4(), clock.advance(0.05), seq=3)
    written = on_b4[1].frame.station
    lane.handle_timer(clock.advance(5))
    lane.receive_frame(b2(), clock.advance(10), seq=5)
    effects = lane.receive_frame(b4(10_000 - DISCOUNTED, last=written), clock.advance(0.05), seq=6)
    settled = effects[0].record
    assert settled.transaction_id == on_b4[0].record.transaction_id
    assert settled.outcome is Outcome.DEBITED and settled.recovered
    assert effects == [CloseTransaction(settled), UnresolvedTransactionSettled(settled),
                       SendFrame(Stop(OBU, StopType.FREEZE, int(clock.now))),
                       OpenBarrier(settled.transaction_id)]


def test_a_later_read_showing_the_old_entry_settles_it_not_debited_and_charges_afresh() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    first = _timed_out(lane, clock)
    lane.receive_frame(b2(), clock.advance(10), seq=5)
    effects = lane.receive_frame(b4(), clock.advance(0.05), seq=6)
    settled = effects[0].record
    assert settled.transaction_id == first.transaction_id
    assert settled.outcome is Outcome.NOT_DEBITED and settled.recovered
    assert effects[1] == UnresolvedTransactionSettled(settled)
    intent = effects[2].record
    assert intent.transaction_id != first.transaction_id
    assert effects[3].frame.consume_money == DISCOUNTED


def test_a_later_read_proving_nothing_leaves_it_for_clearing() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _timed_out(lane, clock)
    lane.receive_frame(b2(), clock.advance(3600), seq=5)
    elsewhere = entry_record(time=clock.now - 600, station=105)
    effects = lane.receive_frame(b4(last=elsewhere), clock.advance(0.05), seq=6)
    assert not of_type(effects, UnresolvedTransactionSettled)


def test_late_b5_after_the_timeout_is_acked_not_recorded() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    final = _timed_out(lane, clock)
    effects = lane.receive_frame(b5(DISCOUNTED), clock.advance(0.1), seq=7)
    assert effects == [SendFrame(Continue(OBU, DIV)),
                       LateResultAcknowledged(final.transaction_id, 0, bytes.fromhex("570bf7dc"))]


def test_a_b5_repeated_with_a_new_seq_after_closing_is_acked_once_more_only() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _to_purchase(lane, clock)
    first = lane.receive_frame(b5(DISCOUNTED), clock.advance(0.1), seq=4)
    again = lane.receive_frame(b5(DISCOUNTED), clock.advance(0.1), seq=5)
    assert not of_type(again, CloseTransaction) and not of_type(again, TransactionCompleted)
    assert again[0] == first[1]


def test_a_new_obu_while_purchasing_leaves_the_purchase_unresolved() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _to_purchase(lane, clock)
    effects = lane.receive_frame(b2(obu=OBU + 1), clock.advance(0.5), seq=4)
    assert [type(e) for e in effects] == [CloseTransaction, TransactionUnresolved,
                                          KeepBarrierClosed, SendFrame, ObuDetected]
    assert lane.state is LaneState.READING


@pytest.mark.parametrize(("code", "reason", "stop"), [
    (B5Error.CARD_MAC1_INVALID, ReasonCode.CARD_MAC_INVALID, StopType.FREEZE),
    (B5Error.CARD_LOCKED, ReasonCode.CARD_LOCKED, StopType.FREEZE),
    (B5Error.CARD_OTHER_ERROR, ReasonCode.CARD_ERROR, StopType.FREEZE),
    (B5Error.PSAM_MAC1_FAILED, ReasonCode.PSAM_ERROR, StopType.FREEZE),
])
def test_card_refusals_in_b5_are_not_debited_with_a_reason(
    code: int, reason: ReasonCode, stop: StopType
) -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _to_purchase(lane, clock)
    effects = lane.receive_frame(b5(DISCOUNTED, error_code=code), clock.advance(0.1), seq=4)
    final = effects[0].record
    assert final.outcome is Outcome.NOT_DEBITED and final.reason is reason
    assert final.amount_debited == 0 and not final.recovered
    assert effects[1:] == [SendFrame(Stop(OBU, stop, int(clock.now))),
                           TransactionFailed(reason, final),
                           KeepBarrierClosed(final.transaction_id, reason)]


@pytest.mark.parametrize(("verdict", "flags"), [(True, ()), (False, (ReasonCode.TAC_INVALID,))])
def test_tac_verifier_flags_the_record(verdict: bool, flags: tuple[ReasonCode, ...]) -> None:
    seen: list[TransactionRecord] = []

    def verifier(record: TransactionRecord) -> bool:
        seen.append(record)
        return verdict

    clock = FakeClock()
    lane = ready_lane(clock, tac_verifier=verifier)
    _to_purchase(lane, clock)
    effects = lane.receive_frame(b5(DISCOUNTED), clock.advance(0.1), seq=4)
    final = effects[0].record
    assert seen[0].tac == "570bf7dc"
    assert final.tac_verified is verdict and final.flags == flags
    assert final.outcome is Outcome.DEBITED and of_type(effects, OpenBarrier)


def test_a_verifier_that_raises_is_a_failed_check_not_a_crash() -> None:
    def verifier(record: TransactionRecord) -> bool:
        raise KeyError("no key for this key version")

    clock = FakeClock()
    lane = ready_lane(clock, tac_verifier=verifier)
    _to_purchase(lane, clock)
    final = lane.receive_frame(b5(DISCOUNTED), clock.advance(0.1), seq=4)[0].record
    assert final.tac_verified is False and ReasonCode.TAC_INVALID in final.flags


def _card_says_short(lane: Lane, clock: FakeClock) -> tuple[TransactionRecord, list[object]]:
    """B4 showed enough, then the card itself refused the debit for its balance (B5 21h)."""
    intent = _to_purchase(lane, clock)
    effects = lane.receive_frame(b5(DISCOUNTED, error_code=B5Error.CARD_INSUFFICIENT_BALANCE),
                                 clock.advance(0.1), seq=4)
    return intent, effects


def test_a_card_short_at_the_debit_owes_the_undiscounted_fee_and_its_trip_is_closed() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    intent, effects = _card_says_short(lane, clock)
    update, send, shown = effects
    assert isinstance(update, UpdateIntent) and isinstance(send, SendFrame)
    cash = cash_fee(FEE, Policy("policy-3"))
    assert update.record.cash_fee == cash == 2_300  # 23.45 yuan, half up
    assert update.record.reason is ReasonCode.INSUFFICIENT_BALANCE
    closing = send.frame
    assert isinstance(closing, Purchase) and closing.consume_money == 0
    assert closing.station.status == EntryExitStatus.EXITED and closing.station.accumulated_fee == 0
    assert shown == FeeDisplayed(intent.transaction_id, 1, FEE, 0, cash)
    assert lane.state is LaneState.PURCHASING
    done = lane.receive_frame(b5(0, ctc=64), clock.advance(0.1), seq=5)
    final = done[0].record
    assert final.outcome is Outcome.CASH_REQUIRED and final.amount_debited == 0
    assert final.cash_fee == cash and final.tac and final.ctc == 64
    assert CashRequired(cash, final) in done
    assert KeepBarrierClosed(final.transaction_id, ReasonCode.INSUFFICIENT_BALANCE) in done
    assert lane.state is LaneState.READY


def test_when_the_trip_cannot_be_closed_the_cash_is_due_and_the_record_says_why() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _card_says_short(lane, clock)
    done = lane.receive_frame(b5(0, error_code=B5Error.CARD_LOCKED), clock.advance(0.1), seq=5)
    final = done[0].record
    assert final.outcome is Outcome.CASH_REQUIRED and final.amount_debited == 0 and not final.tac
    assert "not closed on the card" in final.detail and "0x23" in final.detail
    assert ReasonCode.TRIP_NOT_CLOSED in final.flags
    assert CashRequired(final.cash_fee, final) in done and final.cash_fee == 2_300
    clock = FakeClock()
    lane = ready_lane(clock)
    _card_says_short(lane, clock)
    timed_out = lane.handle_timer(clock.advance(5.0))  # no B5 for the 0-fen purchase
    record = timed_out[0].record
    assert record.outcome is Outcome.UNRESOLVED and record.cash_fee == 2_300
    assert CashRequired(2_300, record) in timed_out


def test_an_entry_lane_refused_for_its_balance_is_not_debited() -> None:
    clock = FakeClock()
    lane = ready_lane(clock, mode=LaneMode.ENTRY)
    _to_purchase(lane, clock)
    effects = lane.receive_frame(b5(0, error_code=B5Error.CARD_INSUFFICIENT_BALANCE),
                                 clock.advance(0.1), seq=4)
    assert effects[0].record.outcome is Outcome.NOT_DEBITED
