"""The lane's exchange with a scripted RSU: start-up, heartbeat, entry and exit, retransmission."""

from __future__ import annotations

import pytest
from scripted_rsu import (
    CARD,
    FEE,
    LANE,
    NETWORK,
    OBU,
    STATION,
    T0,
    TERMINAL,
    FakeClock,
    b0,
    b1,
    b2,
    b4,
    b5,
    card,
    make_lane,
    of_type,
    ready_lane,
)

from lane_engine.core.effects import (
    CashRequired,
    CloseTransaction,
    FeeDisplayed,
    KeepBarrierClosed,
    ObuDetected,
    OpenBarrier,
    OpenIntent,
    ProtocolViolation,
    RsuFaulted,
    RsuHeartbeatReceived,
    RsuReady,
    SendFrame,
    TransactionCompleted,
)
from lane_engine.core.machine import LaneState
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.core.policy import Policy, cash_fee, discounted_fee
from protocols.frames import (
    B5Error,
    Continue,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    Purchase,
    SetAntenna,
    Stop,
    StopType,
    UnknownFrame,
)
from protocols.records import CardType, EntryExitStatus

DISCOUNTED = discounted_fee(FEE, Policy("policy-3"))


def test_start_up_sends_c0_then_b0_makes_the_lane_ready() -> None:
    lane = make_lane()
    assert lane.state is LaneState.STARTING
    [send] = lane.start(T0)
    assert isinstance(send, SendFrame) and isinstance(send.frame, Initialise)
    assert send.frame.lane_mode is LaneMode.EXIT
    assert send.frame.unix_time == int(T0)
    # 1700000000 is 2023-11-14 22:13:20 UTC, 06:13:20 the next day in China.
    assert (send.frame.date_time.day, send.frame.date_time.hour) == (15, 6)
    assert lane.state is LaneState.INITIALISING
    assert lane.receive_frame(b0(), T0 + 0.1, seq=1) == [RsuReady(TERMINAL, 1, b"\x00\x08\x29",
                                                                  b"\x20\x09")]
    assert lane.state is LaneState.READY
    assert lane.terminal_number == TERMINAL
    assert lane.get_timer() is None


def test_a_faulty_b0_keeps_initialising_and_c0_is_sent_again_on_the_timer() -> None:
    lane = make_lane()
    lane.start(T0)
    assert lane.receive_frame(b0(status=1), T0 + 0.1) == [RsuFaulted(1)]
    deadline = lane.get_timer()
    assert deadline is not None and deadline > T0 + 0.1
    assert lane.handle_timer(deadline - 0.01) == []
    [send] = lane.handle_timer(deadline)
    assert isinstance(send, SendFrame) and isinstance(send.frame, Initialise)
    assert lane.receive_frame(b0(psams=0), deadline + 0.1) == [RsuFaulted(0)]
    lane.receive_frame(b0(), deadline + 0.2)
    assert lane.state is LaneState.READY


def test_b1_is_answered_with_cf_in_every_state() -> None:
    clock = FakeClock()
    lane = make_lane()
    lane.start(clock.now)
    expected = [SendFrame(HeartbeatAnswer(0)), RsuHeartbeatReceived((0, 0x11, 1))]
    assert lane.receive_frame(b1(), clock.now) == expected
    lane.receive_frame(b0(), clock.now)
    assert lane.receive_frame(b1(), clock.now) == expected
    lane.receive_frame(b2(), clock.now)
    assert lane.receive_frame(b1(), clock.now) == expected
    assert lane.state is LaneState.READING


def test_b2_heartbeat_is_not_answered_and_changes_nothing() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    assert lane.receive_frame(b2(obu=0, error_code=0x80), clock.now, seq=2) == []
    assert lane.state is LaneState.READY


def test_antenna_switch_sends_c4() -> None:
    lane = ready_lane(FakeClock())
    [send] = lane.set_antenna(False)
    assert isinstance(send, SendFrame) and isinstance(send.frame, SetAntenna)
    assert send.frame.control == 0


def _exit_pass(lane, clock, balance, issuer):  # type: ignore[no-untyped-def]
    on_b2 = lane.receive_frame(b2(), clock.advance(0.05), seq=2)
    on_b4 = lane.receive_frame(b4(balance, issuer), clock.advance(0.05), seq=3)
    return on_b2, on_b4


def test_exit_a_card_is_debited_the_discounted_fee() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    on_b2, on_b4 = _exit_pass(lane, clock, 4_194_966_991, card(CardType.CREDIT))
    assert on_b2 == [SendFrame(Continue(OBU, b2().issuer_identifier)),
                     ObuDetected(OBU, "3701012023109155", 1)]
    assert [type(e) for e in on_b4] == [OpenIntent, SendFrame, FeeDisplayed]
    intent = on_b4[0].record
    purchase = on_b4[1].frame
    assert isinstance(purchase, Purchase)
    assert purchase.consume_money == DISCOUNTED
    assert purchase.station.status == EntryExitStatus.EXITED
    assert (purchase.station.network, purchase.station.station, purchase.station.lane) == (
        NETWORK, STATION, LANE)
    assert purchase.station.time == int(clock.now)
    assert intent.outcome is Outcome.UNRESOLVED and intent.card_number == CARD
    assert intent.card_issuer_code == "37010001"  # bytes 4-7 of the issuer identifier
    assert (intent.fee, intent.discounted_fee) == (FEE, DISCOUNTED)
    assert (intent.policy_version, intent.fee_table_version) == ("policy-3", "fees-7")
    assert on_b4[2] == FeeDisplayed(intent.transaction_id, 1, FEE, DISCOUNTED, 0)
    assert lane.state is LaneState.PURCHASING

    on_b5 = lane.receive_frame(b5(DISCOUNTED, 4_194_966_991), clock.advance(0.2), seq=4)
    final = on_b5[0].record
    assert on_b5 == [CloseTransaction(final), SendFrame(Continue(OBU, b2().issuer_identifier)),
                     TransactionCompleted(final), OpenBarrier(intent.transaction_id)]
    assert final.transaction_id == intent.transaction_id
    assert final.outcome is Outcome.DEBITED and final.reason is ReasonCode.OK
    assert final.amount_debited == DISCOUNTED
    assert (final.ctc, final.tac, final.terminal_trans_serial) == (63, "570bf7dc", 35)
    assert final.psam_terminal_number == TERMINAL.hex()
    assert final.balance_after == 4_194_966_991 - DISCOUNTED
    assert lane.state is LaneState.READY and lane.get_timer() is None


@pytest.mark.parametrize("delta", [0, 1])
def test_exit_b_card_with_enough_balance_is_debited(delta: int) -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _, on_b4 = _exit_pass(lane, clock, DISCOUNTED + delta, card())
    assert on_b4[1].frame.consume_money == DISCOUNTED
    on_b5 = lane.receive_frame(b5(DISCOUNTED, DISCOUNTED + delta), clock.advance(0.2), seq=4)
    final = on_b5[0].record
    assert final.outcome is Outcome.DEBITED and final.balance_after == delta
    assert of_type(on_b5, OpenBarrier) and not of_type(on_b5, CashRequired)


def test_exit_b_card_one_fen_short_closes_the_trip_and_asks_undiscounted_cash() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _, on_b4 = _exit_pass(lane, clock, DISCOUNTED - 1, card())
    purchase = on_b4[1].frame
    assert purchase.consume_money == 0
    assert purchase.station.status == EntryExitStatus.EXITED
    cash = cash_fee(FEE, Policy("policy-3"))
    assert cash == 2_300  # 23.45 yuan, half up to the yuan
    assert on_b4[2].cash_fee == cash and on_b4[2].amount_fen == 0
    on_b5 = lane.receive_frame(b5(0, DISCOUNTED - 1), clock.advance(0.2), seq=4)
    final = on_b5[0].record
    assert final.outcome is Outcome.CASH_REQUIRED
    assert final.reason is ReasonCode.INSUFFICIENT_BALANCE
    assert (final.amount_debited, final.cash_fee, final.balance_after) == (0, cash, DISCOUNTED - 1)
    assert on_b5[1:] == [SendFrame(Continue(OBU, b2().issuer_identifier)),
                         TransactionCompleted(final), CashRequired(cash, final),
                         KeepBarrierClosed(final.transaction_id, ReasonCode.INSUFFICIENT_BALANCE)]


@pytest.mark.parametrize("error", [B5Error.CARD_NOT_DEBITED, B5Error.CARD_LOCKED])
def test_a_short_b_card_whose_0_fen_purchase_fails_still_owes_the_cash(error: B5Error) -> None:
    # The card was short at B4, so the C6 was the 0-fen one that closes the trip: its failure
    # leaves the trip open on the card, but the driver owes the undiscounted toll all the same.
    clock = FakeClock()
    lane = ready_lane(clock)
    _, on_b4 = _exit_pass(lane, clock, DISCOUNTED - 1, card())
    assert on_b4[1].frame.consume_money == 0
    cash = cash_fee(FEE, Policy("policy-3"))
    on_b5 = lane.receive_frame(b5(0, DISCOUNTED - 1, error_code=error), clock.advance(0.2),
                               seq=4)
    final = on_b5[0].record
    assert final.outcome is Outcome.CASH_REQUIRED
    assert final.reason is ReasonCode.INSUFFICIENT_BALANCE
    assert (final.amount_debited, final.cash_fee) == (0, cash) and not final.tac
    assert "not closed on the card" in final.detail and f"{error:#04x}" in final.detail
    assert ReasonCode.TRIP_NOT_CLOSED in final.flags
    assert CashRequired(cash, final) in on_b5
    assert KeepBarrierClosed(final.transaction_id, ReasonCode.INSUFFICIENT_BALANCE) in on_b5
    assert lane.state is LaneState.READY


@pytest.mark.parametrize("card_type", [CardType.CREDIT, CardType.STORED_VALUE])
def test_entry_writes_status_03_with_zero_fen(card_type: CardType) -> None:
    clock = FakeClock()
    lane = ready_lane(clock, mode=LaneMode.ENTRY)
    lane.receive_frame(b2(), clock.advance(0.05), seq=2)
    on_b4 = lane.receive_frame(b4(0, card(card_type), no_entry=True), clock.advance(0.05), seq=3)
    assert [type(e) for e in on_b4] == [OpenIntent, SendFrame, FeeDisplayed]
    purchase = on_b4[1].frame
    assert purchase.consume_money == 0
    record = purchase.station
    assert record.status == EntryExitStatus.ENTERED
    assert (record.network, record.station, record.lane, record.time, record.vehicle_class) == (
        NETWORK, STATION, LANE, int(clock.now), 1)
    assert record.plate == b4().vehicle_info.plate
    on_b5 = lane.receive_frame(b5(0, 0), clock.advance(0.2), seq=4)
    final = on_b5[0].record
    assert final.outcome is Outcome.ENTRY_WRITTEN and final.mode == "entry"
    assert on_b5[-1] == OpenBarrier(final.transaction_id)


def test_retransmitted_frames_are_answered_again_and_acted_on_once() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    first = lane.receive_frame(b2(), clock.now, seq=2)
    assert lane.receive_frame(b2(), clock.advance(0.12), seq=2) == [first[0]]
    lane.receive_frame(b4(), clock.advance(0.05), seq=3)
    again = lane.receive_frame(b4(), clock.advance(0.12), seq=3)
    assert again == []  # the C6 is on its way: no second C6, no second intent
    on_b5 = lane.receive_frame(b5(DISCOUNTED), clock.advance(0.1), seq=4)
    assert lane.receive_frame(b5(DISCOUNTED), clock.advance(0.12), seq=4) == [on_b5[1]]
    assert lane.state is LaneState.READY


def test_same_seq_with_another_frame_is_acted_on() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    lane.receive_frame(b1(), clock.now, seq=2)
    effects = lane.receive_frame(b2(), clock.now, seq=2)
    assert of_type(effects, ObuDetected)


def test_ids_are_deterministic_and_distinct() -> None:
    ids = []
    for _ in range(2):
        clock = FakeClock()
        lane = ready_lane(clock, first_transaction=41)
        for n in range(3):
            lane.receive_frame(b2(obu=OBU + n), clock.advance(30), seq=2)
            on_b4 = lane.receive_frame(b4(obu=OBU + n), clock.advance(0.05), seq=3)
            lane.receive_frame(b5(DISCOUNTED, obu=OBU + n), clock.advance(0.1), seq=4)
            ids.append(on_b4[0].record.transaction_id)
        assert lane.last_transaction_counter == 44
    assert ids[:3] == ids[3:]
    assert len(set(ids[:3])) == 3
    assert ids[0].startswith(f"{NETWORK}-{STATION:05d}-{LANE:03d}-00000042-")


def test_unknown_frame_is_a_violation_and_changes_nothing() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    lane.receive_frame(b2(), clock.now, seq=2)
    [violation] = lane.receive_frame(UnknownFrame(b"\xb7\x01\x02"), clock.now, seq=3)
    assert violation == ProtocolViolation("reading", "B7", "not an RSU frame")
    assert lane.state is LaneState.READING


@pytest.mark.parametrize("frame_name", ["B4", "B5", "B8"])
def test_a_frame_not_allowed_in_the_state_is_a_violation(frame_name: str) -> None:
    from scripted_rsu import b8

    clock = FakeClock()
    lane = ready_lane(clock)
    frame = {"B4": b4(), "B5": b5(1, obu=OBU + 9), "B8": b8()}[frame_name]
    [violation] = lane.receive_frame(frame, clock.now, seq=2)
    assert isinstance(violation, ProtocolViolation) and violation.frame_type == frame_name
    assert lane.state is LaneState.READY


def test_frames_before_start_are_violations() -> None:
    lane = make_lane()
    [violation] = lane.receive_frame(b0(), T0)
    assert violation == ProtocolViolation("starting", "B0", "not allowed in this state")


def test_b4_for_another_obu_is_a_violation() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    lane.receive_frame(b2(), clock.now, seq=2)
    [violation] = lane.receive_frame(b4(obu=OBU + 1), clock.now, seq=3)
    assert isinstance(violation, ProtocolViolation)
    assert lane.state is LaneState.READING


def test_no_b4_in_time_gives_the_obu_up() -> None:
    from lane_engine.core.effects import ObuLost

    clock = FakeClock()
    lane = ready_lane(clock)
    lane.receive_frame(b2(), clock.now, seq=2)
    deadline = lane.get_timer()
    assert deadline is not None
    assert lane.handle_timer(deadline) == [ObuLost(OBU)]
    assert lane.state is LaneState.READY


def test_stop_after_refusal_names_the_obu_and_time() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    effects = lane.receive_frame(b2(tamper_status=0), clock.now, seq=2)
    [stop] = [e.frame for e in of_type(effects, SendFrame)]
    assert stop == Stop(OBU, StopType.FREEZE, int(clock.now))
