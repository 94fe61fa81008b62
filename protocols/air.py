"""Air-link (DSRC, GB/T 20851) frames as typed values and their bytes (`dsrc.md` §1).

Every frame: ``MAC address 4 | MAC control 1 | LLC control 1 | [status 1, uplink only] | T-APDU |
FCS 2`` with FCS = CRC-16/X-25 over everything before it, big-endian. The T-APDU encoding is ours
(GB/T 20851 field order and content, not its byte-exact ASN.1 PER), so that sizes are realistic.
Every decoding problem, a bad FCS first of all, raises `AirFrameError`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from protocols.crc import crc16_x25
from protocols.errors import AirFrameError, RecordError
from protocols.frozen import fast_init
from protocols.record_codec import (
    SYSTEM_INFO_LENGTH,
    decode_entry_exit,
    decode_issuer_info,
    decode_system_info,
    encode_entry_exit,
    encode_issuer_info,
    encode_system_info,
)
from protocols.records import EntryExitRecord, IssuerInfo, ObuSystemInfo

__all__ = [
    "BROADCAST_MAC",
    "ETC_AID",
    "FILE_BALANCE",
    "FILE_ENTRY_EXIT",
    "FILE_ISSUER_INFO",
    "PRE_READ_FILES",
    "VEHICLE_FILE_ID",
    "ActionType",
    "AirFrame",
    "AirPdu",
    "Bst",
    "Channel",
    "Direction",
    "DownlinkFrame",
    "DownlinkPdu",
    "EventReport",
    "EventType",
    "GetSecureRequest",
    "GetSecureResponse",
    "MmiResult",
    "PduTag",
    "SetMmiRequest",
    "SetMmiResponse",
    "TransferChannelRequest",
    "TransferChannelResponse",
    "UplinkFrame",
    "UplinkPdu",
    "Vst",
    "decode_air_frame",
    "decode_downlink_frame",
    "decode_uplink_frame",
    "encode_air_frame",
]

#: MAC address of a broadcast frame (the BST)
BROADCAST_MAC = 0xFFFFFFFF
#: the ETC application identifier in BST/VST application lists
ETC_AID = 0x01
#: ICC files a BST asks the OBU to pre-read: issuance data, entry/exit record, balance (EF 0002)
FILE_ISSUER_INFO = 0x0015
FILE_ENTRY_EXIT = 0x0019
FILE_BALANCE = 0x0002
PRE_READ_FILES = (FILE_ISSUER_INFO, FILE_ENTRY_EXIT, FILE_BALANCE)
#: ESAM file read by GetSecure: the vehicle information file
VEHICLE_FILE_ID = 0x01

_HEADER = struct.Struct(">IBB")
_FCS_LENGTH = 2


class PduTag(IntEnum):
    """First byte of the T-APDU (our decision, after the GB/T 20851 T-APDU choice)."""

    #: initialisation.request: BST
    BST = 0xC0
    #: initialisation.response: VST
    VST = 0xD0
    #: action.request: GetSecure / TransferChannel / SetMMI request
    ACTION_REQUEST = 0x05
    #: action.response: their responses
    ACTION_RESPONSE = 0x18
    #: event-report.request: Release
    EVENT_REPORT = 0x60


class ActionType(IntEnum):
    """Second byte of an action T-APDU (GB/T 20851 action types)."""

    #: read a file encrypted, with an authenticator
    GET_SECURE = 0x00
    #: pass APDUs to the ICC or the ESAM
    TRANSFER_CHANNEL = 0x03
    #: make the OBU beep or light
    SET_MMI = 0x04


class Channel(IntEnum):
    """TransferChannel channel."""

    #: the inserted ICC (user card)
    ICC = 0x01
    #: the OBU's ESAM
    ESAM = 0x02


class MmiResult(IntEnum):
    """SetMMI parameter."""

    #: transaction OK: the OBU beeps / lights green
    OK = 0x00
    #: transaction not OK
    NOT_OK = 0x01


class EventType(IntEnum):
    """EventReport event type."""

    #: release: the OBU leaves the session and ignores this BeaconID afterwards
    RELEASE = 0x00


class Direction(IntEnum):
    """Which way a frame travels (uplink frames carry the status byte)."""

    #: RSU → OBU
    DOWNLINK = 0
    #: OBU → RSU
    UPLINK = 1


# ---------------------------------------------------------------- PDUs


@fast_init
@dataclass(frozen=True, slots=True)
class Bst:
    """Beacon service table: the RSU's broadcast inviting OBUs, with the pre-read request."""

    beacon_id: int
    unix_time: int
    profile: int = 0
    applications: tuple[int, ...] = (ETC_AID,)
    pre_read_files: tuple[int, ...] = PRE_READ_FILES


@fast_init
@dataclass(frozen=True, slots=True)
class Vst:
    """Vehicle service table: the OBU's answer with its system information and pre-read card data.

    A pre-read part that is absent (no card, read failed) is None.
    """

    system_info: ObuSystemInfo
    profile: int = 0
    applications: tuple[int, ...] = (ETC_AID,)
    issuer_info: IssuerInfo | None = None
    entry_exit: EntryExitRecord | None = None
    balance: int | None = None  # fen


@fast_init
@dataclass(frozen=True, slots=True)
class GetSecureRequest:
    """Ask the ESAM for a file, encrypted and authenticated with rndRSU."""

    rnd_rsu: bytes  # 8
    file_id: int = VEHICLE_FILE_ID
    offset: int = 0
    length: int = 79
    key_id_for_encryption: int = 0
    key_id_for_authentication: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class GetSecureResponse:
    """The encrypted file and its 8-byte authenticator."""

    encrypted_file: bytes
    authenticator: bytes  # 8
    file_id: int = VEHICLE_FILE_ID


@fast_init
@dataclass(frozen=True, slots=True)
class TransferChannelRequest:
    """Command APDUs for the ICC or the ESAM, executed in order."""

    channel: Channel
    apdus: tuple[bytes, ...]


@fast_init
@dataclass(frozen=True, slots=True)
class TransferChannelResponse:
    """The response APDUs (data + status word), one per command."""

    channel: Channel
    apdus: tuple[bytes, ...]


@fast_init
@dataclass(frozen=True, slots=True)
class SetMmiRequest:
    """Tell the driver how it went."""

    result: MmiResult = MmiResult.OK


@fast_init
@dataclass(frozen=True, slots=True)
class SetMmiResponse:
    """The OBU's acknowledgement of SetMMI."""


@fast_init
@dataclass(frozen=True, slots=True)
class EventReport:
    """Release: end of the session for this OBU."""

    event_type: EventType = EventType.RELEASE


DownlinkPdu = Bst | GetSecureRequest | TransferChannelRequest | SetMmiRequest | EventReport
UplinkPdu = Vst | GetSecureResponse | TransferChannelResponse | SetMmiResponse
AirPdu = DownlinkPdu | UplinkPdu


@fast_init
@dataclass(frozen=True, slots=True)
class DownlinkFrame:
    """An RSU → OBU air frame."""

    mac_address: int
    pdu: DownlinkPdu
    mac_control: int = 0x40
    llc_control: int = 0x03


@fast_init
@dataclass(frozen=True, slots=True)
class UplinkFrame:
    """An OBU → RSU air frame; `status` is the uplink status byte."""

    mac_address: int
    pdu: UplinkPdu
    status: int = 0x00
    mac_control: int = 0xC0
    llc_control: int = 0x03


AirFrame = DownlinkFrame | UplinkFrame


# ---------------------------------------------------------------- encoding


def _u8_list(values: tuple[int, ...]) -> bytes:
    return bytes([len(values), *values])


def _apdu_list(apdus: tuple[bytes, ...]) -> bytes:
    out = bytearray([len(apdus)])
    for apdu in apdus:
        out.append(len(apdu))
        out += apdu
    return bytes(out)


def _fixed(name: str, value: bytes, size: int) -> bytes:
    if len(value) != size:
        raise AirFrameError(f"{name} wants {size} bytes, got {len(value)}")
    return value


def _encode_vst(pdu: Vst) -> bytes:
    parts = [bytes([PduTag.VST, pdu.profile]), _u8_list(pdu.applications),
             encode_system_info(pdu.system_info)]
    pre_read: list[tuple[int, bytes]] = []
    if pdu.issuer_info is not None:
        pre_read.append((FILE_ISSUER_INFO, encode_issuer_info(pdu.issuer_info)))
    if pdu.entry_exit is not None:
        pre_read.append((FILE_ENTRY_EXIT, encode_entry_exit(pdu.entry_exit)))
    if pdu.balance is not None:
        pre_read.append((FILE_BALANCE, struct.pack(">I", pdu.balance)))
    parts.append(bytes([len(pre_read)]))
    parts += [struct.pack(">HB", file_id, len(data)) + data for file_id, data in pre_read]
    return b"".join(parts)


def _encode_pdu(pdu: AirPdu) -> bytes:
    match pdu:
        case Bst():
            files = struct.pack(f">B{len(pdu.pre_read_files)}H", len(pdu.pre_read_files),
                                *pdu.pre_read_files)
            return (struct.pack(">BIIB", PduTag.BST, pdu.beacon_id, pdu.unix_time, pdu.profile)
                    + _u8_list(pdu.applications) + files)
        case Vst():
            return _encode_vst(pdu)
        case GetSecureRequest():
            return struct.pack(
                ">BBBHB8sBB", PduTag.ACTION_REQUEST, ActionType.GET_SECURE, pdu.file_id,
                pdu.offset, pdu.length, _fixed("rndRSU", pdu.rnd_rsu, 8),
                pdu.key_id_for_encryption, pdu.key_id_for_authentication,
            )
        case GetSecureResponse():
            return (bytes([PduTag.ACTION_RESPONSE, ActionType.GET_SECURE, pdu.file_id,
                           len(pdu.encrypted_file)]) + pdu.encrypted_file
                    + _fixed("authenticator", pdu.authenticator, 8))
        case TransferChannelRequest():
            head = bytes([PduTag.ACTION_REQUEST, ActionType.TRANSFER_CHANNEL, pdu.channel])
            return head + _apdu_list(pdu.apdus)
        case TransferChannelResponse():
            head = bytes([PduTag.ACTION_RESPONSE, ActionType.TRANSFER_CHANNEL, pdu.channel])
            return head + _apdu_list(pdu.apdus)
        case SetMmiRequest():
            return bytes([PduTag.ACTION_REQUEST, ActionType.SET_MMI, pdu.result])
        case SetMmiResponse():
            return bytes([PduTag.ACTION_RESPONSE, ActionType.SET_MMI])
        case EventReport():
            return bytes([PduTag.EVENT_REPORT, pdu.event_type])
    raise AirFrameError(f"not an air PDU: {type(pdu).__name__}")


def encode_air_frame(frame: AirFrame) -> bytes:
    """The bytes of `frame` on the air, FCS included."""
    uplink = isinstance(frame, UplinkFrame)
    if uplink != isinstance(frame.pdu, UplinkPdu):
        raise AirFrameError(f"{type(frame.pdu).__name__} cannot travel in a {type(frame).__name__}")
    try:
        head = _HEADER.pack(frame.mac_address, frame.mac_control, frame.llc_control)
        if isinstance(frame, UplinkFrame):
            head += bytes([frame.status])
        body = head + _encode_pdu(frame.pdu)
    except (struct.error, ValueError, OverflowError, TypeError) as exc:
        raise AirFrameError(f"{type(frame.pdu).__name__} cannot be encoded: {exc}") from exc
    except RecordError as exc:
        raise AirFrameError(f"{type(frame.pdu).__name__}: {exc}") from exc
    return body + crc16_x25(body).to_bytes(2, "big")


# ---------------------------------------------------------------- decoding


class _Reader:
    """Bounded reads over a T-APDU; running short is an AirFrameError."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise AirFrameError(f"T-APDU truncated: wants {size} bytes at offset {self.pos}")
        chunk = self.data[self.pos:self.pos + size]
        self.pos += size
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def u8_list(self) -> tuple[int, ...]:
        return tuple(self.take(self.u8()))

    def apdu_list(self) -> tuple[bytes, ...]:
        return tuple(self.take(self.u8()) for _ in range(self.u8()))

    def done(self) -> None:
        if self.pos != len(self.data):
            raise AirFrameError(f"{len(self.data) - self.pos} bytes left after the T-APDU")


def _enum(enum: type[IntEnum], value: int) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise AirFrameError(f"{value:#04x} is not a {enum.__name__}") from None


def _decode_bst(r: _Reader) -> Bst:
    beacon_id, unix_time, profile = r.unpack(">IIB")
    applications = r.u8_list()
    count = r.u8()
    files = r.unpack(f">{count}H")
    return Bst(beacon_id, unix_time, profile, applications, files)


def _decode_vst(r: _Reader) -> Vst:
    profile = r.u8()
    applications = r.u8_list()
    system_info = decode_system_info(r.take(SYSTEM_INFO_LENGTH))
    found: dict[int, bytes] = {}
    for _ in range(r.u8()):
        file_id, size = r.unpack(">HB")
        if file_id in found or file_id not in PRE_READ_FILES:
            raise AirFrameError(f"VST pre-read file {file_id:04X} unknown or repeated")
        found[file_id] = r.take(size)
    issuer = found.get(FILE_ISSUER_INFO)
    record = found.get(FILE_ENTRY_EXIT)
    balance = found.get(FILE_BALANCE)
    if balance is not None and len(balance) != 4:
        raise AirFrameError(f"VST balance wants 4 bytes, got {len(balance)}")
    return Vst(
        system_info, profile, applications,
        None if issuer is None else decode_issuer_info(issuer),
        None if record is None else decode_entry_exit(record),
        None if balance is None else int.from_bytes(balance, "big"),
    )


def _decode_action_request(r: _Reader) -> DownlinkPdu:
    action = _enum(ActionType, r.u8())
    if action is ActionType.GET_SECURE:
        file_id, offset, length, rnd, key_enc, key_auth = r.unpack(">BHB8sBB")
        return GetSecureRequest(rnd, file_id, offset, length, key_enc, key_auth)
    if action is ActionType.TRANSFER_CHANNEL:
        return TransferChannelRequest(_enum(Channel, r.u8()), r.apdu_list())
    return SetMmiRequest(_enum(MmiResult, r.u8()))


def _decode_action_response(r: _Reader) -> UplinkPdu:
    action = _enum(ActionType, r.u8())
    if action is ActionType.GET_SECURE:
        file_id = r.u8()
        encrypted = r.take(r.u8())
        return GetSecureResponse(encrypted, r.take(8), file_id)
    if action is ActionType.TRANSFER_CHANNEL:
        return TransferChannelResponse(_enum(Channel, r.u8()), r.apdu_list())
    return SetMmiResponse()


_DOWNLINK: dict[int, Callable[[_Reader], DownlinkPdu]] = {
    PduTag.BST: _decode_bst,
    PduTag.ACTION_REQUEST: _decode_action_request,
    PduTag.EVENT_REPORT: lambda r: EventReport(_enum(EventType, r.u8())),
}
_UPLINK: dict[int, Callable[[_Reader], UplinkPdu]] = {
    PduTag.VST: _decode_vst,
    PduTag.ACTION_RESPONSE: _decode_action_response,
}


def _checked_body(data: bytes, header_size: int) -> bytes:
    if len(data) < header_size + 1 + _FCS_LENGTH:
        raise AirFrameError(f"air frame of {len(data)} bytes is too short")
    body, fcs = data[:-_FCS_LENGTH], int.from_bytes(data[-_FCS_LENGTH:], "big")
    if crc16_x25(body) != fcs:
        raise AirFrameError(f"FCS {fcs:04X} does not match {crc16_x25(body):04X}")
    return body


def _decode_pdu(table: dict[int, Callable[[_Reader], Any]], tapdu: bytes, direction: str) -> Any:
    reader = _Reader(tapdu)
    tag = reader.u8()
    decoder = table.get(tag)
    if decoder is None:
        raise AirFrameError(f"T-APDU tag {tag:#04x} is not a {direction} PDU")
    try:
        pdu = decoder(reader)
    except RecordError as exc:
        raise AirFrameError(f"{direction} PDU holds a bad record: {exc}") from exc
    except struct.error as exc:
        raise AirFrameError(f"{direction} PDU does not fit its layout: {exc}") from exc
    reader.done()
    return pdu


def decode_downlink_frame(data: bytes) -> DownlinkFrame:
    """An RSU → OBU frame (what the OBU hears); bad FCS or layout raises AirFrameError."""
    body = _checked_body(bytes(data), _HEADER.size)
    mac_address, mac_control, llc_control = _HEADER.unpack_from(body)
    pdu = _decode_pdu(_DOWNLINK, body[_HEADER.size:], "downlink")
    return DownlinkFrame(mac_address, pdu, mac_control, llc_control)


def decode_uplink_frame(data: bytes) -> UplinkFrame:
    """An OBU → RSU frame (what the RSU hears); bad FCS or layout raises AirFrameError."""
    body = _checked_body(bytes(data), _HEADER.size + 1)
    mac_address, mac_control, llc_control = _HEADER.unpack_from(body)
    status = body[_HEADER.size]
    pdu = _decode_pdu(_UPLINK, body[_HEADER.size + 1:], "uplink")
    return UplinkFrame(mac_address, pdu, status, mac_control, llc_control)


def decode_air_frame(data: bytes, direction: Direction) -> AirFrame:
    """Decode a frame heard travelling in `direction`."""
    if direction is Direction.UPLINK:
        return decode_uplink_frame(data)
    return decode_downlink_frame(data)
