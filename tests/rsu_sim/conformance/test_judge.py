"""The judge on scripted frame sequences (no sockets): answers in time or not, retransmissions,
frames out of place, SEQ, heartbeats, vendor values, and the business rules on a toy tariff."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from protocols.envelope import encode_v3
from protocols.frame_codec import encode_frame
from protocols.frames import (
    B2Error,
    B4Error,
    B5Error,
    Continue,
    DeviceType,
    Frame,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    ObuFound,
    Purchase,
    Stop,
    StopType,
    TransactionResult,
    VehicleAndCard,
)
from protocols.records import (
    CardType,
    EntryExitRecord,
    EntryExitStatus,
    IssuerInfo,
    ObuStatus,
    Plate,
    TamperStatus,
    VehicleInfo,
)
from rsu_sim.conformance.judge import Judge, LaneRecord, LaneUnderTest
from rsu_sim.conformance.report import Report, Verdict, fails, parse_fail_on
from rsu_sim.conformance.tariff import LANE_ZONE, Tariff

T0 = 1_790_000_000.0
EXIT = LaneUnderTest("exit-1", LaneMode.EXIT, "3701", 102, 2)
ENTRY = LaneUnderTest("entry-1", LaneMode.ENTRY, "3701", 101, 1)
OBU = 0x1234ABCD
FEE = 1364
PLATE = Plate.from_text("鲁A12345")
TODAY = dt.datetime.fromtimestamp(T0, LANE_ZONE).date()

TARIFF = Tariff(fee=lambda net, st, xnet, xst, cls: FEE if st == 120 else None,
                discounted=lambda f: f * 95 // 100, cash=lambda f: (f + 50) // 100 * 100,
                stale_limit_s=72 * 3600, uturn_grace_s=1800, no_entry_fee=None,
                entry_min_balance=0, describe="toy")


def b2(obu: int = OBU, **changes: object) -> ObuFound:
    frame = ObuFound(obu, B2Error.OK, 1, DeviceType.DOUBLE_CHIP_OBU, bytes(8), 1, 0x10,
                     "3701202400000001", TODAY - dt.timedelta(days=30),
                     TODAY + dt.timedelta(days=300), 0, ObuStatus(0), TamperStatus.INSTALLED)
    return replace(frame, **changes)  # type: ignore[arg-type]


def b4(obu: int = OBU, card_type: int = CardType.CREDIT, balance: int = 10_000,
       entry_station: int | None = 120, **card: object) -> VehicleAndCard:
    info = IssuerInfo(bytes(8), card_type, 0x10, "3701", "1901230211225128",
                      TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=300), PLATE, 0,
                      0, 1)
    entry = None if entry_station is None else EntryExitRecord(
        "3701", entry_station, 1, int(T0) - 3600, 1, EntryExitStatus.ENTERED, PLATE, 0)
    vehicle = VehicleInfo(PLATE, 0, 1, 0, 48, 18, 15, 4, 2, 28, 5)
    return VehicleAndCard(obu, B4Error.OK, 0x10, vehicle, balance,
                          replace(info, **card), entry)  # type: ignore[arg-type]


def c6(amount: int, lane: LaneUnderTest = EXIT, at: float = T0, obu: int = OBU) -> Purchase:
    status = EntryExitStatus.ENTERED if lane.mode == LaneMode.ENTRY else EntryExitStatus.EXITED
    record = EntryExitRecord(lane.network, lane.station, lane.lane_number, int(at), 1, status,
                             PLATE, 0)
    return Purchase(obu, bytes(8), amount, dt.datetime(2026, 9, 21, 22, 13, 20), record)


def b5(error: int = B5Error.OK, obu: int = OBU) -> TransactionResult:
    return TransactionResult(obu, error, bytes(6), dt.datetime(2026, 9, 21, 22, 13, 20), 9, 0,
                             1, bytes(4), 1, 1, 5_000)


class Script:
    """Frames between one lane and its RSU, at given times, with SEQs counted as they would be."""

    def __init__(self, lane: LaneUnderTest = EXIT, **options: object) -> None:
        self.lane = lane
        self.judge = Judge([lane], **options)  # type: ignore[arg-type]
        self.lane_seq, self.rsu_seq = 1, 1
        self.judge.connected(T0, lane.lane_id, "c1")

    def tx(self, at: float, frame: Frame, seq: int | None = None) -> int:
        if seq is None:
            seq, self.rsu_seq = self.rsu_seq, self.rsu_seq % 9 + 1
        raw = encode_v3(seq, encode_frame(frame))
        self.judge.frame(T0 + at, self.lane.lane_id, "c1", "TX", raw)
        return seq

    def rx(self, at: float, frame: Frame, seq: int | None = None) -> None:
        if seq is None:
            seq, self.lane_seq = self.lane_seq << 4, self.lane_seq % 9 + 1
        raw = encode_v3(seq, encode_frame(frame))
        self.judge.frame(T0 + at, self.lane.lane_id, "c1", "RX", raw)

    def start(self) -> Script:
        self.rx(0.0, Initialise(int(T0), dt.datetime(2026, 9, 21, 22), self.lane.mode, 10, 10, 0))
        return self

    def report(self, at: float = 30.0) -> Report:
        return self.judge.finish(T0 + at)

    def exit_pass(self, at: float, amount: int, b4_frame: VehicleAndCard | None = None) -> None:
        self.tx(at, b2())
        self.rx(at + 0.01, Continue(OBU, bytes(8)))
        self.tx(at + 0.1, b4_frame or b4())
        self.rx(at + 0.11, c6(amount, at=T0 + at))
        self.tx(at + 0.2, b5())
        self.rx(at + 0.21, Continue(OBU, bytes(8)))


def verdict(report: Report, rule: str) -> Verdict:
    return report.lanes[0].rules[rule].verdict


def seen(report: Report, rule: str) -> list[str]:
    return [e.seen for e in report.lanes[0].rules[rule].evidence]


def test_a_good_exit_passes_every_rule_it_judges() -> None:
    script = Script(tariff=TARIFF, blacklisted=lambda card: False).start()
    script.exit_pass(1.0, FEE * 95 // 100)
    report = script.report()
    assert not report.failed_rules(), report.markdown()
    rules = report.lanes[0].rules
    assert rules["debit_amount"].checked == 1 and rules["answered_in_time"].checked == 3
    assert verdict(report, "cash_due") is Verdict.NOT_JUDGED


def test_one_fen_short_is_a_failure_with_its_amount() -> None:
    script = Script(tariff=TARIFF).start()
    script.exit_pass(1.0, FEE * 95 // 100 - 1)
    report = script.report()
    assert verdict(report, "debit_amount") is Verdict.FAIL
    assert seen(report, "debit_amount") == ["C6 1294 fen: 1 fen short"]


def test_without_a_fee_table_the_amounts_are_not_judged() -> None:
    script = Script().start()
    script.exit_pass(1.0, 1)
    report = script.report()
    assert verdict(report, "debit_amount") is Verdict.NOT_JUDGED
    assert verdict(report, "refuse_blacklisted") is Verdict.NOT_JUDGED
    assert any("no fee table" in note for note in report.notes)
    assert not report.failed_rules()


def test_an_unanswered_frame_fails_once_the_rsu_would_have_given_up() -> None:
    script = Script().start()
    seq = script.tx(1.0, b2())
    for n in range(1, 4):
        script.tx(1.0 + 0.12 * n, b2(), seq=seq)
    report = script.report(at=1.45)
    assert verdict(report, "answered_in_time") is Verdict.PASS  # not yet given up
    script = Script().start()
    seq = script.tx(1.0, b2())
    report = script.report(at=1.6)
    assert seen(report, "answered_in_time") == ["no answer (1 sent)"]


def test_a_frame_cut_off_by_the_connection_is_not_judged() -> None:
    script = Script().start()
    script.tx(1.0, b2())
    script.judge.disconnected(T0 + 1.1, EXIT.lane_id, "c1")
    report = script.report()
    assert report.lanes[0].rules["answered_in_time"].checked == 0


def test_a_retransmitted_b4_gets_one_c6() -> None:
    script = Script().start()
    script.tx(1.0, b2())
    script.rx(1.01, Continue(OBU, bytes(8)))
    seq = script.tx(1.1, b4())
    script.tx(1.105, b4(), seq=seq)  # a duplicate: the same SEQ and DATA
    script.rx(1.11, c6(0))
    script.rx(1.115, c6(0))
    report = script.report()
    assert verdict(report, "retransmission_not_acted_on") is Verdict.FAIL
    assert seen(report, "retransmission_not_acted_on") == ["C6 number 2 for it"]


def test_a_retransmitted_b2_answered_twice_is_fine_but_a_stray_c1_is_not() -> None:
    script = Script().start()
    seq = script.tx(1.0, b2())
    script.tx(1.12, b2(), seq=seq)
    script.rx(1.121, Continue(OBU, bytes(8)))
    script.rx(1.122, Continue(OBU, bytes(8)))
    assert not script.report(at=1.5).failed_rules()
    script.rx(1.2, Continue(OBU, bytes(8)))  # a third answer to two copies
    script.rx(1.3, Continue(0x99, bytes(8)))  # about an OBU the RSU does not serve
    assert len(seen(script.report(at=1.5), "answers_in_place")) == 2


def test_a_c6_outside_a_purchase_and_the_trip_closing_c6() -> None:
    script = Script().start()
    script.tx(1.0, b2())
    script.rx(1.01, c6(100))  # B2 waits for C1 or C2, not a purchase
    assert verdict(script.report(), "no_c6_outside_purchase") is Verdict.FAIL
    script = Script(tariff=TARIFF).start()
    script.tx(1.0, b2())
    script.rx(1.01, Continue(OBU, bytes(8)))
    script.tx(1.1, b4(balance=2_000))
    script.rx(1.11, c6(FEE * 95 // 100, at=T0 + 1.1))
    script.tx(1.2, b5(B5Error.CARD_INSUFFICIENT_BALANCE))  # the card itself said no
    script.rx(1.21, c6(0, at=T0 + 1.2))  # closing the trip with 0 fen is allowed
    script.tx(1.3, b5())
    script.rx(1.31, Continue(OBU, bytes(8)))
    card = b4().issuer_info.card_number  # type: ignore[union-attr]
    script.judge.lane_records([LaneRecord(2, card, T0 + 1.1, "cash_required", 1400)])
    report = script.report()
    assert not report.failed_rules(), report.markdown()
    assert report.lanes[0].rules["cash_due"].checked == 1


def test_an_error_b5_left_unanswered_is_not_closed() -> None:
    script = Script().start()
    script.tx(1.0, b2())
    script.rx(1.01, Continue(OBU, bytes(8)))
    script.tx(1.1, b4())
    script.rx(1.11, c6(1296))
    script.tx(1.2, b5(B5Error.CARD_LOCKED))
    script.tx(3.0, b2(obu=0x77))
    report = script.report(at=3.1)
    assert seen(report, "b5_error_closed") == ["nothing after it"]
    script = Script().start()
    script.tx(1.0, b2())
    script.rx(1.01, Continue(OBU, bytes(8)))
    script.tx(1.1, b4())
    script.rx(1.11, c6(1296))
    script.tx(1.2, b5(B5Error.CARD_LOCKED))
    script.rx(1.21, Stop(OBU, StopType.END, int(T0)))
    assert verdict(script.report(), "b5_error_closed") is Verdict.PASS


def test_lane_seq_heartbeats_first_frame_and_vendor_values() -> None:
    script = Script()
    script.rx(0.0, HeartbeatAnswer(0))  # CF before C0, with no B1 waiting
    script.rx(0.1, Initialise(int(T0), dt.datetime(2026, 9, 21, 22), 0x13, 10, 10, 0))
    script.rx(0.2, HeartbeatAnswer(0), seq=0x50)  # 30 after 20 was due
    beat = Heartbeat(0, 0, 0, b"\x00\x00\x00")
    script.tx(1.0, beat)
    script.rx(1.01, HeartbeatAnswer(0), seq=0x60)
    script.tx(11.0, beat)  # never answered
    report = script.report(at=20.0)
    assert verdict(report, "initialise_first") is Verdict.FAIL
    assert seen(report, "lane_seq") == ["SEQ 50"]
    assert seen(report, "standard_values") == ["lane_mode 0x13"]
    assert sorted(seen(report, "heartbeat_answered")) == [
        "CF with no B1 waiting for it", "CF with no B1 waiting for it", "no CF (1 sent)"]


@pytest.mark.parametrize("change, rule", [
    ({"b2": {"tamper_status": TamperStatus.REMOVED}}, "refuse_tampered"),
    ({"b2": {"obu_status": ObuStatus.ICC_ABSENT}}, "refuse_no_card"),
    ({"b2": {"date_of_expire": TODAY - dt.timedelta(days=1)}}, "refuse_expired"),
    ({"card": {"expiry_date": TODAY - dt.timedelta(days=1)}}, "refuse_expired"),
    ({"card": {"start_date": TODAY + dt.timedelta(days=1)}}, "refuse_not_yet_valid"),
    ({"card": {"plate": Plate.from_text("鲁B99999")}}, "refuse_plate_mismatch"),
    ({"card": {"card_serial": "0000000000000001"}}, "refuse_blacklisted"),
    ({"b4": {"entry_station": None}}, "refuse_no_valid_entry"),
    ({"b4": {"entry_station": 999}}, "refuse_no_valid_entry"),
])
def test_a_vehicle_to_refuse_that_gets_a_c6_fails_its_rule(
        change: dict[str, dict[str, object]], rule: str) -> None:
    listed = "37010000000000000001"
    script = Script(tariff=TARIFF, blacklisted=lambda card: card == listed).start()
    script.tx(1.0, b2(**change.get("b2", {})))
    script.rx(1.01, Continue(OBU, bytes(8)))
    script.tx(1.1, b4(**change.get("b4", {}), **change.get("card", {})))  # type: ignore[arg-type]
    script.rx(1.11, c6(1296))
    script.tx(1.2, b5())
    script.rx(1.21, Continue(OBU, bytes(8)))
    report = script.report()
    assert verdict(report, rule) is Verdict.FAIL, report.markdown()
    refused = Script(tariff=TARIFF, blacklisted=lambda card: card == listed).start()
    refused.tx(1.0, b2(**change.get("b2", {})))
    refused.rx(1.01, Continue(OBU, bytes(8)))
    refused.tx(1.1, b4(**change.get("b4", {}), **change.get("card", {})))  # type: ignore[arg-type]
    refused.rx(1.11, Stop(OBU, StopType.FREEZE, int(T0)))
    report = refused.report()
    assert not report.failed_rules() and report.lanes[0].rules[rule].checked == 1


def test_a_short_b_card_owes_the_undiscounted_fee_in_cash() -> None:
    options = {"tariff": TARIFF}
    short = b4(card_type=CardType.STORED_VALUE, balance=100)
    script = Script(**options).start()
    script.exit_pass(1.0, 1296, short)  # debited in full: not allowed
    assert verdict(script.report(), "b_card_short_not_debited") is Verdict.FAIL
    script = Script(**options).start()
    script.exit_pass(1.0, 0, short)
    card = short.issuer_info.card_number  # type: ignore[union-attr]
    script.judge.lane_records([LaneRecord(2, card, T0 + 1.1, "cash_required", 1400)])
    report = script.report()
    assert not report.failed_rules(), report.markdown()
    assert report.lanes[0].rules["cash_due"].checked == 1
    script = Script(**options).start()
    script.exit_pass(1.0, 0, short)
    script.judge.lane_records([LaneRecord(2, card, T0 + 1.1, "cash_required", 1300)])
    assert seen(script.report(), "cash_due") == ["cash_required, 1300 fen due"]


def test_entry_records_name_the_lane_and_its_time() -> None:
    script = Script(ENTRY).start()
    script.tx(1.0, b2())
    script.rx(1.01, Continue(OBU, bytes(8)))
    script.tx(1.1, b4())
    script.rx(1.11, c6(0, lane=replace(ENTRY, station=120), at=T0 - 60))
    script.tx(1.2, b5())
    script.rx(1.21, Continue(OBU, bytes(8)))
    report = script.report()
    assert seen(report, "record_written") == ["station 3701/120 lane 1, time -61 s off"]


def test_fail_on_names_rules_families_any_and_none() -> None:
    script = Script(tariff=TARIFF).start()
    script.exit_pass(1.0, 1)
    report = script.report()
    assert fails(report, parse_fail_on("any")) == ["debit_amount"]
    assert fails(report, parse_fail_on("protocol")) == []
    assert fails(report, parse_fail_on("business,lane_seq")) == ["debit_amount"]
    assert fails(report, parse_fail_on("none")) == []
    with pytest.raises(ValueError, match="not a rule"):
        parse_fail_on("debit")


def test_the_readme_lists_every_rule_as_the_catalogue_says() -> None:
    from pathlib import Path

    from rsu_sim.conformance.rules import RULES

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    for rule in RULES:
        line = f"| `{rule.id}` | {rule.family.value} | {rule.needs.value} | {rule.title} |"
        assert line in readme, rule.id
