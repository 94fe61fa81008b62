"""Card and OBU file records as typed values: ICC files 0015 and 0019, the ESAM system information
file and the 79-byte vehicle information file.

Only the values live here; bytes are converted by `protocols.record_codec`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from protocols.frozen import fast_init

__all__ = [
    "ALL_CLASSES",
    "PLATE_ENCODING",
    "PLATE_LENGTH",
    "CardType",
    "EntryExitRecord",
    "EntryExitStatus",
    "IssuerInfo",
    "ObuStatus",
    "ObuSystemInfo",
    "Plate",
    "PlateColour",
    "TamperStatus",
    "VehicleClass",
    "VehicleInfo",
    "card_number",
]

PLATE_LENGTH = 12
PLATE_ENCODING = "gbk"


class CardType(IntEnum):
    """0015 byte 8: which purse rules apply to the card."""

    #: B card, stored value (储值卡): debited only when the balance covers the toll
    STORED_VALUE = 0x16
    #: A card, credit (记账卡): always debited; the balance figure is the issuer's
    CREDIT = 0x17


class EntryExitStatus(IntEnum):
    """0019 byte 13: where the trip written on the card stands."""

    #: never written (all-zero record)
    NONE = 0x00
    #: entered at the station in the record, trip open
    ENTERED = 0x03
    #: exited at the station in the record, trip closed
    EXITED = 0x04


class VehicleClass(IntEnum):
    """JT/T 489-2019 vehicle classes as coded in cards and OBUs."""

    #: passenger class 1 (客1)
    PASSENGER_1 = 1
    #: passenger class 2 (客2)
    PASSENGER_2 = 2
    #: passenger class 3 (客3)
    PASSENGER_3 = 3
    #: passenger class 4 (客4)
    PASSENGER_4 = 4
    #: truck class 1 (货1)
    TRUCK_1 = 11
    #: truck class 2 (货2)
    TRUCK_2 = 12
    #: truck class 3 (货3)
    TRUCK_3 = 13
    #: truck class 4 (货4)
    TRUCK_4 = 14
    #: truck class 5 (货5)
    TRUCK_5 = 15
    #: truck class 6 (货6)
    TRUCK_6 = 16
    #: special-purpose class 1 (专1)
    SPECIAL_1 = 21
    #: special-purpose class 2 (专2)
    SPECIAL_2 = 22
    #: special-purpose class 3 (专3)
    SPECIAL_3 = 23
    #: special-purpose class 4 (专4)
    SPECIAL_4 = 24
    #: special-purpose class 5 (专5)
    SPECIAL_5 = 25
    #: special-purpose class 6 (专6)
    SPECIAL_6 = 26


#: The classes in fee-table order: index i of a fee table's class axis is ALL_CLASSES[i].
ALL_CLASSES: tuple[VehicleClass, ...] = tuple(VehicleClass)


class PlateColour(IntEnum):
    """Plate colour codes (general practice)."""

    #: blue
    BLUE = 0
    #: yellow
    YELLOW = 1
    #: black
    BLACK = 2
    #: white
    WHITE = 3
    #: gradient green, small new-energy vehicle
    GRADIENT_GREEN = 4
    #: yellow-green, large new-energy vehicle
    YELLOW_GREEN = 5
    #: blue-white
    BLUE_WHITE = 6
    #: temporary plate
    TEMPORARY = 7
    #: green
    GREEN = 11
    #: red
    RED = 12


class ObuStatus(IntFlag):
    """B2 OBUStatus / ESAM system-information byte 26: a set bit is the bad or alternative state."""

    #: no ICC inserted
    ICC_ABSENT = 0x80
    #: reserved
    RESERVED = 0x40
    #: the ICC is a contactless card
    CONTACTLESS_ICC = 0x20
    #: the ICC is a logic-encrypted (non-CPU) card
    LOGIC_ENCRYPTED_CARD = 0x10
    #: the ICC reported an error
    ICC_ERROR = 0x08
    #: the OBU is locked
    OBU_LOCKED = 0x04
    #: the OBU was removed from the windscreen
    OBU_TAMPERED = 0x02
    #: the OBU battery is low
    BATTERY_LOW = 0x01


class TamperStatus(IntEnum):
    """ESAM system-information byte 27 (our decision: 01 installed, 00 removed, after a capture)."""

    #: removed from the windscreen
    REMOVED = 0x00
    #: installed
    INSTALLED = 0x01


@fast_init
@dataclass(frozen=True, slots=True)
class Plate:
    """A plate number as stored on cards and OBUs: 12 bytes of GBK, zero-padded.

    The raw bytes are kept so that a record re-encodes exactly even when it holds bytes that are
    not valid GBK.
    """

    raw: bytes

    @classmethod
    def from_text(cls, text: str) -> Plate:
        """Encode a plate such as ``鲁L71R86`` to its zero-padded GBK form."""
        from protocols.errors import RecordError

        try:
            encoded = text.encode(PLATE_ENCODING)
        except UnicodeEncodeError as exc:
            raise RecordError(f"plate {text!r} cannot be encoded in GBK") from exc
        if len(encoded) > PLATE_LENGTH:
            raise RecordError(f"plate {text!r} is {len(encoded)} bytes in GBK, at most 12 fit")
        return cls(encoded.ljust(PLATE_LENGTH, b"\x00"))

    @property
    def text(self) -> str:
        """The plate as text; bytes that are not GBK show as U+FFFD."""
        return self.raw.rstrip(b"\x00").decode(PLATE_ENCODING, errors="replace")

    def __str__(self) -> str:
        return self.text


def card_number(network: str, serial: str) -> str:
    """The card identifier used in lists and records: network number followed by the 16-digit
    application serial, e.g. ``3701`` + ``1901230211225128`` (our decision, kept here only)."""
    return network + serial


@fast_init
@dataclass(frozen=True, slots=True)
class IssuerInfo:
    """ICC file 0015, card issuance data (50 bytes; older cards 43, without the reserved tail)."""

    issuer_identifier: bytes  # 8: GBK province name (4) + issuer code (4)
    card_type: int  # CardType where known
    card_version: int
    network: str  # 4 BCD digits, e.g. "3701"
    card_serial: str  # 16 BCD digits: the key-diversification factor
    start_date: dt.date | None  # None where the BCD is all zero
    expiry_date: dt.date | None
    plate: Plate
    user_type: int
    plate_colour: int
    vehicle_class: int
    reserved: bytes = b"\x00" * 7  # 7 bytes in the 50-byte form, b"" in the 43-byte form

    @property
    def card_number(self) -> str:
        """Network number + application serial (see `card_number`)."""
        return card_number(self.network, self.card_serial)

    @property
    def issuer_code(self) -> bytes:
        """The 4-byte issuer code (bytes 4-7), the first-level diversification input."""
        return self.issuer_identifier[4:8]


@fast_init
@dataclass(frozen=True, slots=True)
class EntryExitRecord:
    """ICC file 0019, the composite-application entry/exit record (43 bytes, our layout)."""

    network: str  # 4 BCD digits of the entry/exit station's network
    station: int
    lane: int
    time: int  # UNIX seconds
    vehicle_class: int
    status: int  # EntryExitStatus where known
    plate: Plate
    plate_colour: int = 0
    last_gantry: bytes = b"\x00\x00\x00"
    last_gantry_time: int = 0
    truck_axles: int = 0
    truck_weight_kg: int = 0
    vehicle_status_flag: int = 0
    accumulated_fee: int = 0  # fen
    app_type: int = 0xAA
    record_length: int = 0x29
    lock_flag: int = 0x00


@fast_init
@dataclass(frozen=True, slots=True)
class ObuSystemInfo:
    """ESAM system information file as carried in VST and reported in B2."""

    contract_provider: bytes  # 8: issuer identifier
    contract_type: int
    contract_version: int
    contract_serial: str  # 16 BCD digits: the OBU number
    signed_date: dt.date | None
    expiry_date: dt.date | None
    equipment_cv: int
    obu_status: ObuStatus
    tamper_status: int  # TamperStatus where known


@fast_init
@dataclass(frozen=True, slots=True)
class VehicleInfo:
    """ESAM vehicle information file, 79 bytes (read by GetSecure, reported in B4)."""

    plate: Plate
    plate_colour: int  # 2 bytes on the wire
    vehicle_class: int
    user_type: int
    length_dm: int
    width_dm: int
    height_dm: int
    wheels: int
    axles: int
    wheelbase_dm: int
    load_or_seats: int  # 3 bytes
    description: bytes = b"\x00" * 16  # GBK text, zero-padded
    engine_number: bytes = b"\x00" * 16
    reserved: bytes = b"\x00" * 20
