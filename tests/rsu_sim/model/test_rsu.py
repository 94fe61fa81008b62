"""The smart RSU against scripted lane frames: start-up, the whole exchange, retransmissions,
C8 recovery after torn purchases, and the vehicle leaving the zone at every step."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protocols.frame_codec import decode_frame, encode_frame
from protocols.frames import (
    AntennaControl,
    B4Error,
    B5Error,
    Continue,
    DeviceStatus,
    FrameType,
    Heartbeat,
    HeartbeatAnswer,
    ObuFound,
    Purchase,
    RefetchTac,
    SetAntenna,
    Stop,
    StopType,
    TacRefetched,
    TransactionResult,
    VehicleAndCard,
)
from rsu_sim.model.obu import Fleet, Obu
from rsu_sim.model.population import VehicleRecord
from rsu_sim.model.rsu import (
    LaneFrameRejected,
    PassEnd,
    PassEnded,
    Phase,
    Rsu,
    RsuEffect,
    SendFrame,
)
from rsu_sim.model.rsu_dsrc import PassFaults, TearPoint
from tests.rsu_sim.model.conftest import PURCHASE_TIME, TERMINAL, exit_record, initialise

DIV = bytes(8)


class Lane:
    """A scripted lane: runs the RSU's timers and collects what it sends."""

    def __init__(self, rsu: Rsu) -> None:
        self.rsu = rsu
        self.now = 0.0
        self.effects: list[RsuEffect] = []

    def send(self, frame: object) -> list[RsuEffect]:
        out = self.rsu.receive_frame(frame, self.now)
        self.effects += out
        return out

    def next_effect(self, limit: float = 30.0) -> RsuEffect | None:
        """Run timers until the RSU produces something; `now` moves to that moment."""
        while True:
            due = self.rsu.get_timer()
            if due is None or due > limit:
                return None
            self.now = max(self.now, due)
            out = self.rsu.handle_timer(self.now)
            if out:
                self.effects += out
                return out[0]

    def next_frame(self) -> SendFrame:
        while True:
            effect = self.next_effect()
            assert effect is not None, "the RSU went quiet"
            if isinstance(effect, SendFrame) and not isinstance(effect.frame, Heartbeat):
                return effect


def _started(make_rsu: Callable[[], Rsu]) -> Lane:
    lane = Lane(make_rsu())
    effects = lane.send(initialise())
    assert len(effects) == 1 and isinstance(effects[0], SendFrame)
    return lane


def _arrive(lane: Lane, obu: Obu, dwell: float = 0.6, faults: PassFaults | None = None) -> None:
    lane.now += 1.0
    lane.effects += lane.rsu.vehicle_arrived(lane.now, obu, lane.now + dwell,
                                             faults or PassFaults())


def _read(lane: Lane, obu: Obu) -> VehicleAndCard:
    b2 = lane.next_frame()
    assert isinstance(b2.frame, ObuFound) and b2.frame.obu_id == obu.obu_id
    lane.send(Continue(obu.obu_id, DIV))
    b4 = lane.next_frame().frame
    assert isinstance(b4, VehicleAndCard)
    return b4


def _purchase(lane: Lane, obu: Obu, amount: int = 3_500) -> TransactionResult:
    b4 = _read(lane, obu)
    assert b4.error_code == B4Error.OK and b4.vehicle_info is not None
    lane.send(Purchase(obu.obu_id, DIV, amount, PURCHASE_TIME, exit_record(b4.vehicle_info.plate)))
    b5 = lane.next_frame().frame
    assert isinstance(b5, TransactionResult)
    return b5


def _ended(lane: Lane) -> PassEnded:
    while not any(isinstance(e, PassEnded) for e in lane.effects):
        assert lane.next_effect() is not None, "the pass never ended"
    return next(e for e in lane.effects if isinstance(e, PassEnded))


def _frames(lane: Lane) -> list[SendFrame]:
    return [e for e in lane.effects if isinstance(e, SendFrame)]


def test_start_up_answers_c0_with_b0_and_c4_with_b1(make_rsu: Callable[[], Rsu]) -> None:
    lane = Lane(make_rsu())
    assert not lane.rsu.beaconing
    (b0,) = lane.send(initialise())
    assert isinstance(b0, SendFrame) and isinstance(b0.frame, DeviceStatus)
    assert b0.seq == 0x01 and b0.frame.psam_info[0].terminal_number == TERMINAL
    assert b0.frame.reserved == bytes.fromhex("03040000")
    assert decode_frame(encode_frame(b0.frame)) == b0.frame
    (b1,) = lane.send(SetAntenna(AntennaControl.OFF))
    assert isinstance(b1, SendFrame) and isinstance(b1.frame, Heartbeat) and b1.seq == 0x02
    assert not lane.rsu.beaconing
    lane.send(HeartbeatAnswer(0))
    assert lane.rsu.get_timer() == pytest.approx(10.0)  # the next B1


def test_heartbeat_every_ten_seconds_retransmitted_when_unanswered(
        make_rsu: Callable[[], Rsu]) -> None:
    lane = _started(make_rsu)
    first = lane.next_effect()
    assert isinstance(first, SendFrame) and isinstance(first.frame, Heartbeat)
    assert lane.now == pytest.approx(10.0)
    lane.send(HeartbeatAnswer(0))
    second = lane.next_effect()
    assert isinstance(second, SendFrame) and lane.now == pytest.approx(20.0)
    retries = [lane.next_effect() for _ in range(3)]
    assert [r.attempt for r in retries if isinstance(r, SendFrame)] == [1, 2, 3]
    assert all(isinstance(r, SendFrame) and r.seq == second.seq for r in retries)
    assert lane.now == pytest.approx(20.36)
    third = lane.next_effect()
    assert isinstance(third, SendFrame) and lane.now == pytest.approx(30.0)


def test_whole_exchange(make_rsu: Callable[[], Rsu], b_obu: Obu) -> None:
    lane = _started(make_rsu)
    card = b_obu.card
    assert card is not None
    balance, ctc = card.balance, card.ctc
    _arrive(lane, b_obu)
    arrived = lane.now
    b5 = _purchase(lane, b_obu)
    assert b5.error_code == B5Error.OK and b5.icc_pay_serial == ctc
    assert b5.card_balance == balance - 3_500 == card.balance
    assert b5.tac == card.log[ctc].tac and b5.psam_no == TERMINAL
    assert b5.psam_trans_serial == card.log[ctc].terminal_trans_serial
    assert 0.1 <= lane.now - arrived <= 0.3  # the air side of a transaction (dsrc.md §2)
    lane.send(Continue(b_obu.obu_id, DIV))
    ended = _ended(lane)
    assert ended.how is PassEnd.RELEASED and ended.vehicle_id == b_obu.vehicle_id
    frames = _frames(lane)
    assert [f.seq for f in frames] == [1, 2, 3, 4]  # B0 B2 B4 B5
    assert all(decode_frame(encode_frame(f.frame)) == f.frame for f in frames)
    assert lane.rsu.phase is Phase.IDLE


@pytest.mark.parametrize("answer_b2", [False, True])
def test_unanswered_frame_is_sent_three_more_times(make_rsu: Callable[[], Rsu], b_obu: Obu,
                                                   answer_b2: bool) -> None:
    lane = _started(make_rsu)
    _arrive(lane, b_obu)
    if answer_b2:
        _purchase(lane, b_obu)
    else:
        lane.next_frame()
    first = _frames(lane)[-1]
    retries = [lane.next_frame() for _ in range(3)]
    assert [(r.seq, r.frame, r.attempt) for r in retries] == [
        (first.seq, first.frame, n) for n in (1, 2, 3)]
    assert [r.at - first.at for r in retries] == pytest.approx([0.12, 0.24, 0.36])
    ended = _ended(lane)
    assert ended.how is PassEnd.LANE_SILENT and ended.at == pytest.approx(first.at + 0.48)


def test_c2_resend_repeats_the_current_frame(make_rsu: Callable[[], Rsu], b_obu: Obu) -> None:
    lane = _started(make_rsu)
    _arrive(lane, b_obu)
    b2 = lane.next_frame()
    (again,) = lane.send(Stop(b_obu.obu_id, StopType.RESEND, 0))
    assert isinstance(again, SendFrame) and (again.seq, again.frame) == (b2.seq, b2.frame)


def test_debit_answer_lost_then_c8_returns_the_tac(make_rsu: Callable[[], Rsu],
                                                   b_obu: Obu) -> None:
    lane = _started(make_rsu)
    card = b_obu.card
    assert card is not None
    balance, ctc = card.balance, card.ctc
    _arrive(lane, b_obu, faults=PassFaults(TearPoint.DEBIT_RESPONSE))
    b5 = _purchase(lane, b_obu)
    assert b5.error_code == B5Error.PURCHASE_NO_REPLY and b5.icc_pay_serial == ctc
    assert card.ctc == ctc + 1 and card.balance == balance - 3_500  # the card did commit
    lane.send(RefetchTac(b_obu.obu_id, b5.icc_pay_serial))
    b8 = lane.next_frame().frame
    assert isinstance(b8, TacRefetched) and b8.error_code == B5Error.OK
    assert (b8.tac, b8.mac2, b8.card_rest_money) == (card.log[ctc].tac, card.log[ctc].mac2,
                                                     card.balance)
    lane.send(Continue(b_obu.obu_id, DIV))
    assert _ended(lane).how is PassEnd.RELEASED


def test_debit_request_lost_then_c8_says_not_debited(make_rsu: Callable[[], Rsu],
                                                     b_obu: Obu) -> None:
    lane = _started(make_rsu)
    card = b_obu.card
    assert card is not None
    balance, ctc = card.balance, card.ctc
    _arrive(lane, b_obu, faults=PassFaults(TearPoint.DEBIT_REQUEST))
    b5 = _purchase(lane, b_obu)
    assert b5.error_code == B5Error.PURCHASE_NO_REPLY and b5.icc_pay_serial == ctc
    assert (card.ctc, card.balance) == (ctc, balance) and not card.log
    lane.send(RefetchTac(b_obu.obu_id, ctc))
    b8 = lane.next_frame().frame
    assert isinstance(b8, TacRefetched) and b8.error_code == B5Error.CARD_NOT_DEBITED
    lane.send(Stop(b_obu.obu_id, StopType.END, 0))
    assert _ended(lane).how is PassEnd.STOPPED


# Where the vehicle leaves the zone → (B2 seen, B4 error, B5 error, card committed, B8 error).
LEAVING = {
    TearPoint.VST: (False, None, None, False, None),
    TearPoint.GET_SECURE: (True, B4Error.NO_DSRC_REPLY, None, False, None),
    TearPoint.INIT_REQUEST: (True, B4Error.OK, B5Error.CARD_NOT_DEBITED, False, None),
    TearPoint.INIT_RESPONSE: (True, B4Error.OK, B5Error.CARD_NOT_DEBITED, False, None),
    TearPoint.DEBIT_REQUEST: (True, B4Error.OK, B5Error.PURCHASE_NO_REPLY, False,
                              B5Error.PURCHASE_NO_REPLY),
    TearPoint.DEBIT_RESPONSE: (True, B4Error.OK, B5Error.PURCHASE_NO_REPLY, True,
                               B5Error.PURCHASE_NO_REPLY),
    TearPoint.B5_TO_LANE: (True, B4Error.OK, None, True, None),
}


@pytest.mark.parametrize("point", list(LEAVING), ids=lambda p: p.value)
def test_vehicle_leaving_the_zone_at_each_step(make_rsu: Callable[[], Rsu], b_obu: Obu,
                                               point: TearPoint) -> None:
    seen_b2, b4_error, b5_error, committed, b8_error = LEAVING[point]
    lane = _started(make_rsu)
    card = b_obu.card
    assert card is not None
    ctc = card.ctc
    _arrive(lane, b_obu, faults=PassFaults(point, leave_zone=True))
    if not seen_b2:
        assert _ended(lane).how is PassEnd.NOT_FOUND
        assert not [f for f in _frames(lane) if isinstance(f.frame, ObuFound)]
        return
    b4 = _read(lane, b_obu)
    assert b4.error_code == b4_error
    if b4_error != B4Error.OK:
        assert b4.vehicle_info is None and b4.issuer_info is None
        lane.send(Stop(b_obu.obu_id, StopType.END, 0))
        assert _ended(lane).how is PassEnd.STOPPED
        return
    assert b4.vehicle_info is not None
    lane.send(Purchase(b_obu.obu_id, DIV, 100, PURCHASE_TIME, exit_record(b4.vehicle_info.plate)))
    if b5_error is None:  # B5 was built but never reached the lane
        ended = _ended(lane)
        assert ended.how is PassEnd.LANE_SILENT
        assert not [f for f in _frames(lane) if isinstance(f.frame, TransactionResult)]
    else:
        b5 = lane.next_frame().frame
        assert isinstance(b5, TransactionResult) and b5.error_code == b5_error
        if b8_error is not None:
            lane.send(RefetchTac(b_obu.obu_id, b5.icc_pay_serial))
            b8 = lane.next_frame().frame
            assert isinstance(b8, TacRefetched) and b8.error_code == b8_error
    assert (card.ctc == ctc + 1) is committed
    assert (ctc in card.log) is committed


def test_card_refusal_is_an_extended_code(make_rsu: Callable[[], Rsu], b_obu: Obu) -> None:
    lane = _started(make_rsu)
    card = b_obu.card
    assert card is not None
    balance = card.balance
    _arrive(lane, b_obu)
    b5 = _purchase(lane, b_obu, amount=balance + 1)
    assert b5.error_code == B5Error.CARD_INSUFFICIENT_BALANCE and card.balance == balance


def test_next_vehicle_waits_for_the_zone(make_rsu: Callable[[], Rsu], fleet: Fleet,
                                        vehicles: list[VehicleRecord]) -> None:
    first, second = (fleet.obu(v) for v in [v for v in vehicles if v.card][:2])
    lane = _started(make_rsu)
    _arrive(lane, first)
    lane.effects += lane.rsu.vehicle_arrived(lane.now + 0.05, second, lane.now + 0.35)
    assert lane.rsu.queue_length == 1
    _purchase(lane, first)
    lane.send(Continue(first.obu_id, DIV))
    b2 = lane.next_frame()
    assert isinstance(b2.frame, ObuFound) and b2.frame.obu_id == second.obu_id
    assert any(isinstance(e, PassEnded) and e.obu_id == first.obu_id for e in lane.effects)


def test_frames_out_of_place_are_rejected(make_rsu: Callable[[], Rsu], b_obu: Obu) -> None:
    lane = _started(make_rsu)
    (rejected,) = lane.send(Continue(b_obu.obu_id, DIV))
    assert isinstance(rejected, LaneFrameRejected) and rejected.phase is Phase.IDLE
    _arrive(lane, b_obu)
    lane.next_frame()
    (other,) = lane.send(Continue(b_obu.obu_id ^ 1, DIV))
    assert isinstance(other, LaneFrameRejected) and other.detail == "about another OBU"
    (early,) = lane.send(RefetchTac(b_obu.obu_id, 1))
    assert isinstance(early, LaneFrameRejected)


def test_duplicate_fault_sends_a_frame_twice(make_rsu: Callable[[], Rsu], b_obu: Obu) -> None:
    lane = _started(make_rsu)
    _arrive(lane, b_obu, faults=PassFaults(duplicate=frozenset({FrameType.B2})))
    lane.next_frame()
    b2s = [f for f in _frames(lane) if isinstance(f.frame, ObuFound)]
    assert len(b2s) == 2 and b2s[0] == b2s[1]


def test_vehicle_passes_unserved_before_c0(make_rsu: Callable[[], Rsu], b_obu: Obu) -> None:
    lane = Lane(make_rsu())
    _arrive(lane, b_obu, dwell=0.4)
    assert _ended(lane).how is PassEnd.NOT_SERVED


def _run_until(lane: Lane, limit: float) -> None:
    while lane.next_effect(limit) is not None:
        pass


def _ends_by_vehicle(lane: Lane) -> dict[int, list[PassEnd]]:
    ends: dict[int, list[PassEnd]] = {}
    for effect in lane.effects:
        if isinstance(effect, PassEnded):
            ends.setdefault(effect.obu_id, []).append(effect.how)
    return ends


def test_restart_mid_pass_ends_every_vehicle_exactly_once(
        make_rsu: Callable[[], Rsu], fleet: Fleet, vehicles: list[VehicleRecord]) -> None:
    first, second = (fleet.obu(v) for v in [v for v in vehicles if v.card][:2])
    lane = _started(make_rsu)
    _arrive(lane, first)
    lane.effects += lane.rsu.vehicle_arrived(lane.now + 0.01, second, lane.now + 0.5)
    lane.next_frame()  # B2 of the first vehicle: its session is open, the second waits
    lane.effects += lane.rsu.restart(lane.now)
    assert _ends_by_vehicle(lane) == {first.obu_id: [PassEnd.RESET]}
    assert lane.rsu.queue_length == 1 and not lane.rsu.beaconing
    _run_until(lane, lane.now + 5.0)
    assert _ends_by_vehicle(lane) == {first.obu_id: [PassEnd.RESET],
                                      second.obu_id: [PassEnd.NOT_SERVED]}


def test_after_a_restart_c0_serves_the_vehicle_still_in_the_zone(
        make_rsu: Callable[[], Rsu], fleet: Fleet, vehicles: list[VehicleRecord]) -> None:
    first, second = (fleet.obu(v) for v in [v for v in vehicles if v.card][:2])
    lane = _started(make_rsu)
    _arrive(lane, first)
    lane.effects += lane.rsu.vehicle_arrived(lane.now + 0.01, second, lane.now + 2.0)
    lane.next_frame()
    lane.effects += lane.rsu.restart(lane.now)
    lane.now += 0.1
    lane.send(initialise(lane.now))
    b2 = lane.next_frame()
    assert isinstance(b2.frame, ObuFound) and b2.frame.obu_id == second.obu_id
    lane.send(Continue(second.obu_id, DIV))  # then silent: the RSU gives up on the lane
    _run_until(lane, lane.now + 5.0)
    assert _ends_by_vehicle(lane) == {first.obu_id: [PassEnd.RESET],
                                      second.obu_id: [PassEnd.LANE_SILENT]}


_ACTIONS = st.lists(st.tuples(st.sampled_from(["arrive", "restart", "c0", "c2", "answer"]),
                              st.floats(0.0, 0.3), st.floats(0.05, 1.5)),
                    min_size=1, max_size=25)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=_ACTIONS)
@example(actions=[("arrive", 0.0, 1.0), ("arrive", 0.0, 1.0), ("restart", 0.01, 1.0)])
def test_every_vehicle_ends_exactly_once_whatever_the_lane_does(
        make_rsu: Callable[[], Rsu], fleet: Fleet, vehicles: list[VehicleRecord],
        actions: list[tuple[str, float, float]]) -> None:
    obus = [fleet.obu(v) for v in vehicles if v.card]
    lane = _started(make_rsu)
    arrived: list[int] = []
    for action, wait, dwell in actions:
        lane.now += wait
        lane.effects += lane.rsu.handle_timer(lane.now)
        if action == "arrive" and len(arrived) < len(obus):
            obu = obus[len(arrived)]
            arrived.append(obu.obu_id)
            lane.effects += lane.rsu.vehicle_arrived(lane.now, obu, lane.now + dwell)
        elif action == "restart":
            lane.effects += lane.rsu.restart(lane.now)
        elif action == "c0":
            lane.send(initialise(lane.now))
        elif action in ("c2", "answer"):
            sent = [e.frame for e in _frames(lane) if isinstance(e.frame, ObuFound)]
            if sent:
                obu_id = sent[-1].obu_id
                lane.send(Stop(obu_id, StopType.END, 0) if action == "c2"
                          else Continue(obu_id, DIV))
    _run_until(lane, lane.now + 60.0)
    ends = _ends_by_vehicle(lane)
    assert {obu_id: len(ends.get(obu_id, [])) for obu_id in arrived} == dict.fromkeys(arrived, 1)
    assert set(ends) == set(arrived)


def test_after_the_cards_refusal_a_zero_fen_purchase_closes_the_trip(
        make_rsu: Callable[[], Rsu], b_obu: Obu) -> None:
    lane = _started(make_rsu)
    card = b_obu.card
    assert card is not None
    balance, ctc = card.balance, card.ctc
    _arrive(lane, b_obu, dwell=2.0)
    b5 = _purchase(lane, b_obu, amount=balance + 1)
    assert b5.error_code == B5Error.CARD_INSUFFICIENT_BALANCE
    b4 = next(f.frame for f in _frames(lane) if isinstance(f.frame, VehicleAndCard))
    assert b4.vehicle_info is not None
    lane.send(Purchase(b_obu.obu_id, DIV, 0, PURCHASE_TIME, exit_record(b4.vehicle_info.plate)))
    closed = lane.next_frame().frame
    assert isinstance(closed, TransactionResult) and closed.error_code == B5Error.OK
    assert (card.balance, card.ctc) == (balance, ctc + 1) and card.log[ctc].amount == 0
    (again,) = lane.send(Purchase(b_obu.obu_id, DIV, 0, PURCHASE_TIME,
                                  exit_record(b4.vehicle_info.plate)))
    assert isinstance(again, LaneFrameRejected) and "done" in again.detail
