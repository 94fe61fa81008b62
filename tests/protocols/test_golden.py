"""Every captured frame decodes to the fields listed beside it and re-encodes to the same bytes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from protocols import (
    BccPacket,
    EnvelopeKind,
    V3Packet,
    bcc_of,
    decode_frame,
    decode_packet,
    encode_bcc,
    encode_frame,
    encode_v3,
    guess_envelope,
)
from tests.protocols import golden

#: golden field name → attribute of our frame values
ATTRIBUTE = {
    "RSUStatus": "rsu_status", "PSAMNum_reported": "psam_num_reported", "PSAMInfo": "psam_info",
    "RSUAlgId": "rsu_alg_id", "RSUManuID": "rsu_manu_id", "RSUID": "rsu_id",
    "RSUVersion": "rsu_version", "WorkStatus": "work_status", "FlagID": "flag_id",
    "Reserved": "reserved", "CtrlStatus1": "ctrl_status1", "CtrlStatus2": "ctrl_status2",
    "CtrlStatus3": "ctrl_status3", "OBUID": "obu_id", "ErrorCode": "error_code",
    "AntennaID": "antenna_id", "DeviceType": "device_type",
    "IssuerIdentifier": "issuer_identifier", "ContractType": "contract_type",
    "ContractVersion": "contract_version", "SerialNumber": "serial_number",
    "DateOfIssue": "date_of_issue", "DateOfExpire": "date_of_expire",
    "EquipmentCV": "equipment_cv", "OBUStatus": "obu_status", "TamperStatus": "tamper_status",
    "PSAMNo": "psam_no", "TransTime": "trans_time", "TransType": "trans_type",
    "AlgFlag": "alg_flag", "KeyVersion": "key_version", "TAC": "tac",
    "ICCPaySerial": "icc_pay_serial", "PSAMTransSerial": "psam_trans_serial",
    "CardBalance": "card_balance", "ControlType": "control",
    "channel": "channel", "version": "version", "auth_status": "auth_status",
    "terminal_number": "terminal_number",
}


def as_golden(attribute: str, value: Any) -> Any:
    """Our value written the way the golden file writes it."""
    if attribute == "obu_id":
        return f"{value:08x}"
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, tuple):
        return [as_golden(attribute, item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = {field.name for field in dataclasses.fields(value)}
        return {
            key: as_golden(name, getattr(value, name))
            for key, name in ATTRIBUTE.items()
            if name in names
        }
    return int(value) if isinstance(value, int) else value


def check_fields(frame: Any, expected: dict[str, Any]) -> None:
    for key, want in expected.items():
        if key == "type" or key.endswith("_text"):
            continue
        attribute = ATTRIBUTE[key]  # an unknown golden name fails here instead of being skipped
        got = as_golden(attribute, getattr(frame, attribute))
        assert got == want, key


@pytest.mark.parametrize("frame", golden.V3, ids=golden.name)
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "interpreted"])
def test_v3_golden_frame_decodes_to_its_fields_and_back(
    frame: dict[str, Any], compiled: bool
) -> None:
    raw = golden.raw(frame)
    packet = decode_packet(raw, EnvelopeKind.V3)
    assert isinstance(packet, V3Packet)
    assert packet.seq == int(frame["seq"], 16)
    decoded = decode_frame(packet.data, compiled=compiled)
    assert f"{packet.data[0]:02X}" == frame["fields"]["type"]
    check_fields(decoded, frame["fields"])
    assert encode_frame(decoded) == packet.data
    assert encode_v3(packet.seq, encode_frame(decoded)) == raw
    assert guess_envelope(raw) is EnvelopeKind.V3


@pytest.mark.parametrize("frame", golden.BCC, ids=golden.name)
def test_legacy_golden_envelope_decodes_and_reencodes(frame: dict[str, Any]) -> None:
    raw = golden.raw(frame)
    packet = decode_packet(raw, EnvelopeKind.BCC)
    assert isinstance(packet, BccPacket)
    assert packet.rsctl == int(frame["rsctl"], 16)
    if "data_unescaped" in frame:
        assert packet.data.hex() == frame["data_unescaped"]
        assert bcc_of(bytes([packet.rsctl]) + packet.data) == int(frame["bcc_unescaped"], 16)
    if "type" in frame.get("fields", {}):
        assert f"{packet.data[0]:02X}" == frame["fields"]["type"]
    assert encode_bcc(packet.rsctl, packet.data) == raw
    assert guess_envelope(raw) is EnvelopeKind.BCC


def test_golden_b0_keeps_reported_psam_count_and_counts_entries_from_length() -> None:
    frame = golden.V3[0]
    decoded = decode_frame(decode_packet(golden.raw(frame), EnvelopeKind.V3).data)
    assert decoded.psam_num_reported == frame["fields"]["PSAMNum_reported"]  # type: ignore[union-attr]
    assert len(decoded.psam_info) == len(frame["fields"]["PSAMInfo"])  # type: ignore[union-attr]
