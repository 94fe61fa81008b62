"""Losing the RSU connection in each state and starting again: what is in flight is closed, what
the lane knows of its vehicles (re-read window, UNRESOLVED purchases, counter) is kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scripted_rsu import (
    FEE,
    OBU,
    FakeClock,
    b0,
    b2,
    b4,
    b5,
    make_lane,
    of_type,
    ready_lane,
)

from lane_engine.core.effects import (
    CloseTransaction,
    Effect,
    KeepBarrierClosed,
    ObuLost,
    ObuReread,
    OpenBarrier,
    RsuReady,
    SendFrame,
    TransactionUnresolved,
    UnresolvedTransactionSettled,
)
from lane_engine.core.lane import Lane
from lane_engine.core.machine import LaneState
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.core.policy import Policy, discounted_fee
from protocols.frames import B5Error, Initialise, Purchase

DISCOUNTED = discounted_fee(FEE, Policy("policy-3"))


def _starting(clock: FakeClock) -> Lane:
    return make_lane()


def _initialising(clock: FakeClock) -> Lane:
    lane = make_lane()
    lane.start(clock.now)
    return lane


def _reading(clock: FakeClock) -> Lane:
    lane = ready_lane(clock)
    lane.receive_frame(b2(), clock.advance(0.05), seq=2)
    return lane


def _purchasing(clock: FakeClock) -> Lane:
    lane = _reading(clock)
    lane.receive_frame(b4(), clock.advance(0.05), seq=3)
    return lane


def _recovering(clock: FakeClock) -> Lane:
    lane = _purchasing(clock)
    lane.receive_frame(b5(DISCOUNTED, error_code=B5Error.PURCHASE_NO_REPLY, ctc=77),
                       clock.advance(0.3), seq=4)
    return lane


STATES: dict[LaneState, Callable[[FakeClock], Lane]] = {
    LaneState.STARTING: _starting, LaneState.INITIALISING: _initialising,
    LaneState.READY: ready_lane, LaneState.READING: _reading,
    LaneState.PURCHASING: _purchasing, LaneState.RECOVERING: _recovering,
}


def _lose_and_restart(lane: Lane, clock: FakeClock) -> list[Effect]:
    effects = lane.connection_lost(clock.advance(0.2))
    assert lane.state is LaneState.STARTING and lane.get_timer() is None
    [send] = lane.start(clock.advance(1))
    assert isinstance(send, SendFrame) and isinstance(send.frame, Initialise)
    assert lane.state is LaneState.INITIALISING
    return effects


@pytest.mark.parametrize("state", list(STATES))
def test_connection_lost_in_each_state_goes_back_to_starting(state: LaneState) -> None:
    clock = FakeClock()
    lane = STATES[state](clock)
    assert lane.state is state
    effects = _lose_and_restart(lane, clock)
    assert not of_type(effects, SendFrame)  # there is no RSU to send to
    if state is LaneState.READING:
        assert effects == [ObuLost(OBU)]
    elif state not in (LaneState.PURCHASING, LaneState.RECOVERING):
        assert effects == []
    # Whatever the state, the new connection starts the RSU afresh.
    assert lane.receive_frame(b0(), clock.advance(0.1), seq=1)[0] == RsuReady(
        b0().psam_info[0].terminal_number, 1, b"\x00\x08\x29", b"\x20\x09")
    assert lane.state is LaneState.READY


@pytest.mark.parametrize(("state", "ctc"), [(LaneState.PURCHASING, -1),
                                            (LaneState.RECOVERING, 77)])
def test_a_purchase_in_flight_is_closed_unresolved_with_everything_known(
    state: LaneState, ctc: int
) -> None:
    clock = FakeClock()
    lane = STATES[state](clock)
    effects = _lose_and_restart(lane, clock)
    final = effects[0].record  # type: ignore[union-attr]
    assert effects == [CloseTransaction(final), TransactionUnresolved(final),
                       KeepBarrierClosed(final.transaction_id, ReasonCode.RESULT_UNKNOWN)]
    assert final.outcome is Outcome.UNRESOLVED and final.reason is ReasonCode.RESULT_UNKNOWN
    assert (final.card_number, final.discounted_fee, final.ctc) == (
        "37011901230211225128", DISCOUNTED, ctc)
    assert "connection" in final.detail


def test_a_late_timer_after_the_loss_does_nothing() -> None:
    clock = FakeClock()
    lane = _purchasing(clock)
    deadline = lane.get_timer()
    assert deadline is not None
    lane.connection_lost(clock.advance(0.1))
    assert lane.handle_timer(deadline + 10) == []


def test_the_re_read_window_survives_the_reconnection() -> None:
    clock = FakeClock()
    lane = _purchasing(clock)
    lane.receive_frame(b5(DISCOUNTED), clock.advance(0.1), seq=4)
    _lose_and_restart(lane, clock)
    lane.receive_frame(b0(), clock.advance(0.1), seq=1)
    effects = lane.receive_frame(b2(), clock.advance(1), seq=2)
    assert of_type(effects, ObuReread)


def test_frames_of_the_new_connection_are_not_taken_for_retransmissions() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)  # its B0 came with seq 1
    _lose_and_restart(lane, clock)
    assert of_type(lane.receive_frame(b0(), clock.advance(0.1), seq=1), RsuReady)


def test_an_unresolved_purchase_before_the_loss_is_settled_by_the_card_after_it() -> None:
    clock = FakeClock()
    lane = _reading(clock)
    on_b4 = lane.receive_frame(b4(), clock.advance(0.05), seq=3)
    intent = on_b4[0].record  # type: ignore[union-attr]
    c6 = on_b4[1].frame  # type: ignore[union-attr]
    assert isinstance(c6, Purchase)
    _lose_and_restart(lane, clock)
    lane.receive_frame(b0(), clock.advance(0.1), seq=1)
    lane.receive_frame(b2(), clock.advance(30), seq=2)
    effects = lane.receive_frame(b4(10_000 - DISCOUNTED, last=c6.station), clock.advance(0.05),
                                 seq=3)
    settled = effects[0].record  # type: ignore[union-attr]
    assert settled.transaction_id == intent.transaction_id
    assert settled.outcome is Outcome.DEBITED and settled.recovered
    assert of_type(effects, UnresolvedTransactionSettled) and of_type(effects, OpenBarrier)
    assert lane.last_transaction_counter == 1  # the counter went on; nothing new was sold
