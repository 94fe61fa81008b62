"""Every decision of `rules.md` §3 ends with its reason code in the record and the events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from scripted_rsu import (
    CARD,
    FEE,
    OBU,
    STATION,
    T0,
    FakeClock,
    b2,
    b4,
    b5,
    card,
    entry_record,
    of_type,
    ready_lane,
    vehicle,
)

from lane_engine.core.blacklist import Blacklist, Reason
from lane_engine.core.effects import (
    Effect,
    KeepBarrierClosed,
    ObuReread,
    OpenBarrier,
    OpenIntent,
    RecordRefusal,
    SendFrame,
    VehicleRefused,
)
from lane_engine.core.lane import Lane
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.core.policy import NoEntryHandling, Policy, discounted_fee
from protocols.frames import DeviceType, LaneMode, Stop, StopType
from protocols.records import CardType, EntryExitStatus, ObuStatus, Plate

FREEZE, END = StopType.FREEZE, StopType.END
TODAY = dt.date(2023, 11, 15)  # the scripted clock's day in China
Script = Callable[[Lane, FakeClock], list[Effect]]


def _b2(**changes: object) -> Script:
    return lambda lane, clock: lane.receive_frame(b2(**changes), clock.advance(0.05), seq=2)


def _b4(**b4_args: object) -> Script:
    def run(lane: Lane, clock: FakeClock) -> list[Effect]:
        lane.receive_frame(b2(), clock.advance(0.05), seq=2)
        return lane.receive_frame(b4(**b4_args), clock.advance(0.05), seq=3)  # type: ignore[arg-type]
    return run


REFUSALS: list[tuple[ReasonCode, StopType, Script]] = [
    (ReasonCode.OBU_READ_FAILED, END, _b2(error_code=0x01)),
    (ReasonCode.OBU_EXPIRED, FREEZE, _b2(date_of_expire=TODAY - dt.timedelta(days=1))),
    (ReasonCode.OBU_TAMPERED, FREEZE, _b2(tamper_status=0)),
    (ReasonCode.OBU_TAMPERED, FREEZE,
     _b2(obu_status=ObuStatus.OBU_TAMPERED | ObuStatus.CONTACTLESS_ICC)),
    (ReasonCode.OBU_LOCKED, FREEZE, _b2(obu_status=ObuStatus.OBU_LOCKED)),
    (ReasonCode.OBU_NO_CARD, FREEZE, _b2(obu_status=ObuStatus.ICC_ABSENT)),
    (ReasonCode.CARD_ERROR, FREEZE, _b2(obu_status=ObuStatus.ICC_ERROR)),
    (ReasonCode.UNSUPPORTED_CARD, FREEZE, _b2(device_type=DeviceType.CPC_CARD)),
    (ReasonCode.RADIO_LOST, END, _b4(error_code=0x01)),
    (ReasonCode.VEHICLE_INFO_UNREADABLE, FREEZE, _b4(error_code=0x05)),
    (ReasonCode.CARD_ERROR, FREEZE, _b4(error_code=0x11)),
    (ReasonCode.UNSUPPORTED_CARD, FREEZE, _b4(issuer=card(0x18))),
    (ReasonCode.CARD_EXPIRED, FREEZE, _b4(issuer=card(expiry_date=TODAY - dt.timedelta(1)))),
    (ReasonCode.CARD_NOT_YET_VALID, FREEZE,
     _b4(issuer=card(start_date=TODAY + dt.timedelta(1)))),
    (ReasonCode.PLATE_MISMATCH, FREEZE, _b4(issuer=card(plate=Plate.from_text("鲁A12345")))),
    (ReasonCode.PLATE_MISMATCH, FREEZE, _b4(vehicle_info=vehicle(plate_colour=1))),
    (ReasonCode.NO_ENTRY, FREEZE, _b4(no_entry=True)),
    (ReasonCode.NO_ENTRY, FREEZE, _b4(last=entry_record(status=EntryExitStatus.EXITED))),
    (ReasonCode.STALE_ENTRY, FREEZE, _b4(last=entry_record(time=T0 - 73 * 3600))),
    (ReasonCode.UNKNOWN_ENTRY_STATION, FREEZE, _b4(last=entry_record(station=999))),
]


@pytest.mark.parametrize(("reason", "stop", "script"), REFUSALS)
def test_refusals_are_recorded_stopped_and_reported(
    reason: ReasonCode, stop: StopType, script: Script
) -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    effects = script(lane, clock)
    record = effects[0].record
    assert effects == [RecordRefusal(record), SendFrame(Stop(OBU, stop, int(clock.now))),
                       VehicleRefused(reason, record),
                       KeepBarrierClosed(record.transaction_id, reason)]
    assert record.outcome is Outcome.REFUSED and record.reason is reason
    assert (record.policy_version, record.fee_table_version, record.blacklist_version) == (
        "policy-3", "fees-7", 5)
    assert lane.state.value == "ready"


def test_blacklisted_card_is_refused_with_the_list_reason() -> None:
    clock = FakeClock()
    lane = ready_lane(clock, blacklist=Blacklist.from_entries(9, [(CARD, Reason.LOST)]))
    effects = _b4()(lane, clock)
    record = effects[0].record
    assert record.reason is ReasonCode.BLACKLISTED and record.detail == "LOST"
    assert record.blacklist_version == 9
    assert effects[2] == VehicleRefused(ReasonCode.BLACKLISTED, record)


def test_a_swapped_blacklist_applies_to_the_next_vehicle() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    lane.replace_blacklist(Blacklist.from_entries(6, [(CARD, Reason.CANCELLED)]))
    record = _b4()(lane, clock)[0].record
    assert record.reason is ReasonCode.BLACKLISTED and record.blacklist_version == 6


def test_class_mismatch_charges_the_higher_class_and_flags_it() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    effects = _b4(vehicle_info=vehicle(vehicle_class=2))(lane, clock)
    intent = effects[0].record
    assert isinstance(effects[0], OpenIntent)
    assert intent.vehicle_class == 2 and intent.fee == 4_000
    assert intent.reason is ReasonCode.CLASS_MISMATCH
    assert intent.flags == (ReasonCode.CLASS_MISMATCH,)
    assert effects[1].frame.station.vehicle_class == 2


def test_class_mismatch_with_a_short_b_card_keeps_both() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    intent = _b4(balance=1, vehicle_info=vehicle(vehicle_class=2))(lane, clock)[0].record
    assert intent.reason is ReasonCode.INSUFFICIENT_BALANCE
    assert intent.flags == (ReasonCode.INSUFFICIENT_BALANCE, ReasonCode.CLASS_MISMATCH)
    assert intent.cash_fee == 4_000


def test_uturn_within_grace_costs_nothing_but_closes_the_trip() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    effects = _b4(last=entry_record(time=clock.now - 600, station=STATION))(lane, clock)
    intent = effects[0].record
    assert intent.reason is ReasonCode.UTURN and intent.fee == 0
    assert effects[1].frame.consume_money == 0
    assert effects[1].frame.station.status == EntryExitStatus.EXITED


def test_no_entry_charged_by_policy_when_it_says_so() -> None:
    clock = FakeClock()
    policy = Policy("p-ne", no_entry_handling=NoEntryHandling.CHARGE_DEFAULT_FEE,
                    no_entry_fee=10_000)
    lane = ready_lane(clock, policy=policy)
    effects = _b4(issuer=card(CardType.CREDIT), no_entry=True)(lane, clock)
    intent = effects[0].record
    assert intent.reason is ReasonCode.NO_ENTRY and intent.policy_version == "p-ne"
    assert effects[1].frame.consume_money == discounted_fee(10_000, policy)


def test_entry_refuses_a_b_card_below_the_entry_minimum() -> None:
    clock = FakeClock()
    lane = ready_lane(clock, mode=LaneMode.ENTRY, policy=Policy("p-min", entry_min_balance=500))
    effects = _b4(balance=499, no_entry=True)(lane, clock)
    assert effects[0].record.reason is ReasonCode.INSUFFICIENT_BALANCE
    assert isinstance(effects[0], RecordRefusal)
    clock2 = FakeClock()
    lane2 = ready_lane(clock2, mode=LaneMode.ENTRY, policy=Policy("p-min", entry_min_balance=500))
    assert isinstance(_b4(balance=500, no_entry=True)(lane2, clock2)[0], OpenIntent)


def test_reread_within_the_window_is_stopped_and_recorded_without_barrier() -> None:
    clock = FakeClock()
    lane = ready_lane(clock)
    _b4()(lane, clock)
    done = lane.receive_frame(b5(discounted_fee(FEE, Policy("x"))), clock.advance(0.1), seq=4)
    completed_id = done[0].record.transaction_id
    effects = lane.receive_frame(b2(), clock.advance(5), seq=5)
    record = effects[0].record
    assert effects == [RecordRefusal(record), SendFrame(Stop(OBU, FREEZE,
                                                             int(clock.now))),
                       ObuReread(OBU, completed_id, record)]
    assert record.reason is ReasonCode.REREAD_WITHIN_WINDOW
    assert not of_type(effects, KeepBarrierClosed) and not of_type(effects, OpenBarrier)
    # After the window the same OBU is a new vehicle.
    later = lane.receive_frame(b2(), clock.advance(20), seq=6)
    assert later[0] == SendFrame(later[0].frame) and lane.state.value == "reading"


# Reasons exercised by the other modules of this folder (recovery, TAC, exchange).
ELSEWHERE = {
    ReasonCode.OK, ReasonCode.PURCHASE_FAILED, ReasonCode.PSAM_ERROR,
    ReasonCode.CARD_MAC_INVALID, ReasonCode.CARD_LOCKED, ReasonCode.RESULT_UNKNOWN,
    ReasonCode.TAC_INVALID, ReasonCode.INSUFFICIENT_BALANCE, ReasonCode.TRIP_NOT_CLOSED,
}
HERE = {r for r, _, _ in REFUSALS} | {
    ReasonCode.BLACKLISTED, ReasonCode.CLASS_MISMATCH, ReasonCode.UTURN,
    ReasonCode.REREAD_WITHIN_WINDOW,
}


def test_every_reason_code_has_a_scenario() -> None:
    assert set(ReasonCode) - HERE - ELSEWHERE == set()
