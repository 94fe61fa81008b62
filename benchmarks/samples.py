"""Sample values for the benchmarks: one frame of every PC-RSU type, and vehicles for a lane.

Built here from the typed values (not read from tests/), so the benchmarks depend on the
packages only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from protocols.frames import (
    AntennaControl,
    Continue,
    DeviceStatus,
    Frame,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    ObuFound,
    PsamInfo,
    Purchase,
    RefetchTac,
    SetAntenna,
    Stop,
    StopType,
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
NETWORK = "3701"
TERMINAL = bytes.fromhex("01370004727f")
ISSUER = bytes.fromhex("c9bdb6ab37010001")
PLATE = Plate.from_text("鲁L71R86")
WHEN = dt.datetime(2023, 11, 15, 6, 13, 20)


def obu_found(obu_id: int = 0x652BC7A3, serial: str = "3701012023109155") -> ObuFound:
    """A B2 of a healthy OBU with its card inserted."""
    return ObuFound(
        obu_id=obu_id, error_code=0, antenna_id=1, device_type=1, issuer_identifier=ISSUER,
        contract_type=1, contract_version=0, serial_number=serial,
        date_of_issue=dt.date(2020, 11, 24), date_of_expire=dt.date(2030, 11, 24),
        equipment_cv=0x10, obu_status=ObuStatus.CONTACTLESS_ICC, tamper_status=1,
    )


def card(card_serial: str = "1901230211225128") -> IssuerInfo:
    """The 0015 file of a stored-value card of network 3701."""
    return IssuerInfo(
        issuer_identifier=ISSUER, card_type=CardType.STORED_VALUE, card_version=0x10,
        network=NETWORK, card_serial=card_serial, start_date=dt.date(2020, 11, 24),
        expiry_date=dt.date(2030, 11, 24), plate=PLATE, user_type=0, plate_colour=0,
        vehicle_class=1,
    )


def vehicle() -> VehicleInfo:
    """The OBU's vehicle file of a class-1 passenger car."""
    return VehicleInfo(PLATE, 0, 1, 0, 45, 18, 15, 4, 2, 27, 5)


def entry_record(station: int, time: int) -> EntryExitRecord:
    """The 0019 record an entry lane wrote."""
    return EntryExitRecord(network=NETWORK, station=station, lane=1, time=time, vehicle_class=1,
                           status=EntryExitStatus.ENTERED, plate=PLATE)


def vehicle_and_card(obu_id: int = 0x652BC7A3, card_serial: str = "1901230211225128",
                     balance: int = 100_000,
                     last: EntryExitRecord | None = None) -> VehicleAndCard:
    """A B4: vehicle, card and (for an exit) the entry record."""
    return VehicleAndCard(obu_id=obu_id, error_code=0, trans_type=0x10, vehicle_info=vehicle(),
                          card_rest_money=balance, issuer_info=card(card_serial),
                          last_station=last)


def transaction_result(obu_id: int = 0x652BC7A3, amount: int = 2_227,
                       balance_before: int = 100_000, ctc: int = 63,
                       psam_serial: int = 35) -> TransactionResult:
    """A successful B5."""
    return TransactionResult(
        obu_id=obu_id, error_code=0, psam_no=TERMINAL, trans_time=WHEN, trans_type=9,
        alg_flag=0, key_version=1, tac=bytes.fromhex("570bf7dc"), icc_pay_serial=ctc,
        psam_trans_serial=psam_serial, card_balance=balance_before - amount,
    )


def device_status() -> DeviceStatus:
    """A B0 of a working RSU with one PSAM."""
    return DeviceStatus(0, 1, (PsamInfo(3, 1, 1, TERMINAL),), 0, 8, b"\x00\x08\x29",
                        b"\x20\x09", 0)


def every_frame() -> dict[str, Frame]:
    """One sample of each of the 13 PC-RSU frame types, by type name."""
    station = EntryExitRecord(network=NETWORK, station=120, lane=2, time=int(T0),
                              vehicle_class=1, status=EntryExitStatus.EXITED, plate=PLATE,
                              accumulated_fee=2_227)
    return {
        "C0": Initialise(int(T0), WHEN, LaneMode.EXIT, 10, 10, 0),
        "C1": Continue(0x652BC7A3, ISSUER),
        "C2": Stop(0x652BC7A3, StopType.FREEZE, int(T0)),
        "C4": SetAntenna(AntennaControl.ON),
        "C6": Purchase(0x652BC7A3, ISSUER, 2_227, WHEN, station),
        "C8": RefetchTac(0x652BC7A3, 63),
        "CF": HeartbeatAnswer(0),
        "B0": device_status(),
        "B1": Heartbeat(0, 0x11, 1, b"\x00\x00\x00"),
        "B2": obu_found(),
        "B4": vehicle_and_card(last=entry_record(101, int(T0) - 3600)),
        "B5": transaction_result(),
        "B8": TacRefetched(0x652BC7A3, 0, bytes.fromhex("11223344"), bytes.fromhex("55667788"),
                           7_773),
    }


@dataclass(frozen=True, slots=True)
class Exchange:
    """The three RSU frames of one vehicle's pass: B2, B4 and B5 (the debit it answers C6 with)."""

    obu_found: ObuFound
    vehicle_and_card: VehicleAndCard
    transaction_result: TransactionResult


def exchanges(count: int, amounts: Callable[[int], int], *, entry_stations: tuple[int, ...] | None,
              now: float, first: int = 0) -> list[Exchange]:
    """`count` distinct vehicles (own OBU, card and debit serials) from number `first` on.

    Exits carry an entry record from `entry_stations`; `amounts(entry_station)` is what the
    lane will ask for (0 for an entry lane), for the B5.
    """
    made = []
    for k in range(first, first + count):
        obu_id = 0x10000000 + k % 0x10000000
        last, amount = None, 0
        if entry_stations is not None:
            station = entry_stations[k % len(entry_stations)]
            last, amount = entry_record(station, int(now) - 3600), amounts(station)
        b4 = vehicle_and_card(obu_id, f"19{k:014d}", last=last)
        b5 = transaction_result(obu_id, amount, b4.card_rest_money, ctc=k % 0x10000,
                                psam_serial=k)
        made.append(Exchange(obu_found(obu_id, f"37010120{k:08d}"), b4, b5))
    return made
