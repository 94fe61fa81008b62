"""A scripted RSU for the lane core's tests: frames as protocols.frames values, a fake clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from lane_engine.core.blacklist import Blacklist
from lane_engine.core.config import LaneConfig
from lane_engine.core.effects import Effect
from lane_engine.core.lane import Lane
from lane_engine.core.policy import Policy
from protocols.frames import (
    DeviceStatus,
    Heartbeat,
    LaneMode,
    ObuFound,
    PsamInfo,
    TacRefetched,
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
    VehicleInfo,
)

T0 = 1_700_000_000.0  # 2023-11-15 06:13:20 in China
NETWORK, STATION, LANE = "3701", 120, 2
ENTRY_STATION = 101
TERMINAL = bytes.fromhex("01370004727f")
OBU = 0x652BC7A3
ISSUER = bytes.fromhex("c9bdb6ab37010001")
SERIAL = "1901230211225128"
CARD = NETWORK + SERIAL
PLATE = Plate.from_text("鲁L71R86")
FEE = 2_345  # fen, entry station 101 -> 120, class 1; discounted (95 %, down) 2227


@dataclass
class DictFees:
    """A dict-backed fee schedule for this lane's exit station."""

    table: dict[tuple[str, int, int], int] = field(default_factory=lambda: {
        (NETWORK, ENTRY_STATION, 1): FEE, (NETWORK, ENTRY_STATION, 2): 4_000,
        (NETWORK, ENTRY_STATION, 11): 9_999,
    })
    version: str = "fees-7"

    def fee(self, entry_network: str, entry_station: int, vehicle_class: int) -> int | None:
        return self.table.get((entry_network, entry_station, vehicle_class))


class FakeClock:
    def __init__(self, start: float = T0) -> None:
        self.now = start

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def make_lane(mode: LaneMode = LaneMode.EXIT, policy: Policy | None = None,
              blacklist: Blacklist | None = None, **kwargs: object) -> Lane:
    config = LaneConfig(NETWORK, STATION, LANE, mode)
    return Lane(config, policy or Policy("policy-3"), DictFees(),
                blacklist or Blacklist.empty(5), **kwargs)  # type: ignore[arg-type]


def b0(status: int = 0, psams: int = 1) -> DeviceStatus:
    info = tuple(PsamInfo(3, 1, 1, TERMINAL) for _ in range(psams))
    return DeviceStatus(status, 0, info, 0, 8, b"\x00\x08\x29", b"\x20\x09", 0)


def b1() -> Heartbeat:
    return Heartbeat(0, 0x11, 1, b"\x00\x03")


def b2(obu: int = OBU, **changes: object) -> ObuFound:
    frame = ObuFound(
        obu_id=obu, error_code=0, antenna_id=1, device_type=1, issuer_identifier=ISSUER,
        contract_type=1, contract_version=0, serial_number="3701012023109155",
        date_of_issue=dt.date(2020, 11, 24), date_of_expire=dt.date(2030, 11, 24),
        equipment_cv=0x10, obu_status=ObuStatus.CONTACTLESS_ICC, tamper_status=1,
    )
    return replace(frame, **changes)  # type: ignore[arg-type]


def card(card_type: int = CardType.STORED_VALUE, **changes: object) -> IssuerInfo:
    info = IssuerInfo(
        issuer_identifier=ISSUER, card_type=card_type, card_version=0x10, network=NETWORK,
        card_serial=SERIAL, start_date=dt.date(2020, 11, 24), expiry_date=dt.date(2030, 11, 24),
        plate=PLATE, user_type=0, plate_colour=0, vehicle_class=1,
    )
    return replace(info, **changes)  # type: ignore[arg-type]


def vehicle(**changes: object) -> VehicleInfo:
    info = VehicleInfo(PLATE, 0, 1, 0, 45, 18, 15, 4, 2, 27, 5)
    return replace(info, **changes)  # type: ignore[arg-type]


def entry_record(time: float = T0 - 3600, station: int = ENTRY_STATION,
                 **changes: object) -> EntryExitRecord:
    record = EntryExitRecord(network=NETWORK, station=station, lane=1, time=int(time),
                             vehicle_class=1, status=EntryExitStatus.ENTERED, plate=PLATE)
    return replace(record, **changes)  # type: ignore[arg-type]


def b4(balance: int = 10_000, issuer: IssuerInfo | None = None,
       vehicle_info: VehicleInfo | None = None, last: EntryExitRecord | None = None,
       obu: int = OBU, error_code: int = 0, *, no_entry: bool = False) -> VehicleAndCard:
    return VehicleAndCard(
        obu_id=obu, error_code=error_code, trans_type=0x10,
        vehicle_info=vehicle_info or vehicle(), card_rest_money=balance,
        issuer_info=issuer or card(), last_station=None if no_entry else (last or entry_record()),
    )


def b5(amount: int, balance_before: int = 10_000, error_code: int = 0, ctc: int = 63,
       obu: int = OBU) -> TransactionResult:
    return TransactionResult(
        obu_id=obu, error_code=error_code, psam_no=TERMINAL,
        trans_time=dt.datetime(2023, 11, 15, 6, 13, 20), trans_type=9, alg_flag=0, key_version=1,
        tac=bytes.fromhex("570bf7dc"), icc_pay_serial=ctc, psam_trans_serial=35,
        card_balance=balance_before - amount if error_code == 0 else balance_before,
    )


def b8(error_code: int = 0, rest: int = 7_773, obu: int = OBU) -> TacRefetched:
    return TacRefetched(obu, error_code, bytes.fromhex("11223344"), bytes.fromhex("55667788"),
                        rest)


def ready_lane(clock: FakeClock, **kwargs: object) -> Lane:
    """A lane started and through C0 -> B0."""
    lane = make_lane(**kwargs)  # type: ignore[arg-type]
    lane.start(clock.now)
    lane.receive_frame(b0(), clock.now, seq=1)
    return lane


def of_type(effects: list[Effect], kind: type) -> list[object]:
    return [e for e in effects if isinstance(e, kind)]
