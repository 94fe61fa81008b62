"""The OBU emulator: VST content, GetSecure sealed for the PSAM, TransferChannel, and the air
frame sizes the RSU computes by formula checked against the real encodings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from keys import SoftwarePsam, VehicleFileError
from keys.vehicle_file import SealedVehicleFile
from protocols.air import (
    Bst,
    Channel,
    DownlinkFrame,
    EventReport,
    GetSecureRequest,
    GetSecureResponse,
    SetMmiRequest,
    SetMmiResponse,
    TransferChannelRequest,
    TransferChannelResponse,
    UplinkFrame,
    decode_uplink_frame,
    encode_air_frame,
)
from protocols.apdu import (
    DebitForCappPurchase,
    GetTransactionProve,
    InitializeForCappPurchase,
    StatusWord,
    UpdateCappDataCache,
    decode_response,
    encode_command,
)
from protocols.record_codec import decode_vehicle_info
from protocols.records import ObuStatus
from rsu_sim.model import rsu_dsrc
from rsu_sim.model.obu import CARD_READS, Fleet, Obu, obu_network
from rsu_sim.model.population import VehicleRecord
from tests.rsu_sim.model.conftest import PURCHASE_TIME, TERMINAL


def test_vst_carries_system_information_and_pre_read_files(b_obu: Obu) -> None:
    vst = b_obu.vst()
    card = b_obu.card
    assert card is not None
    assert vst.system_info == b_obu.system_info
    assert vst.issuer_info == card.issuer_info and vst.balance == card.balance
    frame = encode_air_frame(UplinkFrame(b_obu.obu_id, vst))
    assert len(frame) == b_obu.vst_length()
    assert decode_uplink_frame(frame).pdu == vst


def test_obu_without_card(fleet: Fleet, vehicles: list[VehicleRecord]) -> None:
    vehicle = next((v for v in vehicles if v.card is None), None)
    if vehicle is None:
        base = vehicles[0]
        info = replace(base.system_info,
                       obu_status=base.system_info.obu_status | ObuStatus.ICC_ABSENT)
        vehicle = replace(base, vehicle_id=999, obu_id=999, card=None, system_info=info)
    obu = fleet.obu(vehicle)
    assert not obu.has_card
    vst = obu.vst()
    assert vst.issuer_info is None and vst.balance is None
    assert len(encode_air_frame(UplinkFrame(obu.obu_id, vst))) == obu.vst_length()
    answers = obu.transfer(CARD_READS)
    assert all(not a.ok for a in answers)
    select = encode_command(CARD_READS[0])
    raw = obu.transfer_channel(TransferChannelRequest(Channel.ICC, (select,)))
    assert decode_response(raw.apdus[0]).sw == StatusWord.CONDITIONS_NOT_SATISFIED


def test_get_secure_opens_only_with_the_psam(b_obu: Obu, psam: SoftwarePsam) -> None:
    rnd = bytes(range(8))
    response = b_obu.get_secure(GetSecureRequest(rnd))
    assert response is not None
    assert response.encrypted_file != b_obu.vehicle_file
    algorithm = b_obu.card.algorithm if b_obu.card else None
    assert algorithm is not None
    serial = bytes.fromhex(b_obu.system_info.contract_serial)
    sealed = SealedVehicleFile(response.encrypted_file, response.authenticator)
    plain = psam.decrypt_vehicle_file(obu_network(b_obu.system_info), 1, algorithm, serial,
                                      rnd, sealed)
    assert decode_vehicle_info(plain).plate == decode_vehicle_info(b_obu.vehicle_file).plate
    with pytest.raises(VehicleFileError):
        psam.decrypt_vehicle_file(obu_network(b_obu.system_info), 1, algorithm, serial,
                                  bytes(8), sealed)


def test_raw_transfer_channel_matches_the_typed_path(fleet: Fleet,
                                                     vehicles: list[VehicleRecord]) -> None:
    with_card = [v for v in vehicles if v.card is not None][:2]
    raw_obu, typed_obu = (fleet.obu(v) for v in with_card[:1] * 2)
    assert raw_obu is typed_obu  # the fleet keeps one OBU per vehicle
    apdus = tuple(encode_command(c) for c in CARD_READS)
    raw = raw_obu.transfer_channel(TransferChannelRequest(Channel.ICC, apdus))
    typed = typed_obu.transfer(CARD_READS)
    assert [decode_response(a) for a in raw.apdus] == typed
    esam = raw_obu.transfer_channel(TransferChannelRequest(Channel.ESAM, apdus[:1]))
    assert decode_response(esam.apdus[0]).sw == StatusWord.INS_NOT_SUPPORTED


def test_formula_sizes_match_the_encodings(b_obu: Obu) -> None:
    mac = b_obu.obu_id
    assert len(encode_air_frame(DownlinkFrame(0xFFFFFFFF, Bst(1, 2)))) == rsu_dsrc.BST_LENGTH
    assert len(encode_air_frame(DownlinkFrame(mac, GetSecureRequest(bytes(8))))) == \
        rsu_dsrc.GET_SECURE_REQUEST_LENGTH
    assert len(encode_air_frame(DownlinkFrame(mac, SetMmiRequest()))) == \
        rsu_dsrc.SET_MMI_REQUEST_LENGTH
    assert len(encode_air_frame(UplinkFrame(mac, SetMmiResponse()))) == \
        rsu_dsrc.SET_MMI_RESPONSE_LENGTH
    assert len(encode_air_frame(DownlinkFrame(mac, EventReport()))) == rsu_dsrc.RELEASE_LENGTH
    sealed = b_obu.get_secure(GetSecureRequest(bytes(8)))
    assert isinstance(sealed, GetSecureResponse)
    assert len(encode_air_frame(UplinkFrame(mac, sealed))) == \
        rsu_dsrc.UPLINK_OVERHEAD + 4 + 8 + 80
    commands = (*CARD_READS, InitializeForCappPurchase(1, 5, TERMINAL),
                UpdateCappDataCache(bytes(43)), DebitForCappPurchase(1, PURCHASE_TIME, bytes(4)),
                GetTransactionProve(3))
    apdus = tuple(encode_command(c) for c in commands)
    for command, apdu in zip(commands, apdus, strict=True):
        assert len(apdu) == rsu_dsrc._APDU_LENGTH[type(command)]
    down = encode_air_frame(DownlinkFrame(mac, TransferChannelRequest(Channel.ICC, apdus)))
    assert len(down) == rsu_dsrc._transfer_length(rsu_dsrc.DOWNLINK_OVERHEAD,
                                                  [len(a) for a in apdus])
    answers = tuple(bytes(n) for n in (rsu_dsrc._ANSWER_LENGTH[type(c)] for c in commands))
    up = encode_air_frame(UplinkFrame(mac, TransferChannelResponse(Channel.ICC, answers)))
    assert len(up) == rsu_dsrc._transfer_length(rsu_dsrc.UPLINK_OVERHEAD,
                                                [len(a) for a in answers])
    successes = b_obu.transfer(CARD_READS)
    assert [len(a.data) + 2 for a in successes] == \
        [rsu_dsrc._ANSWER_LENGTH[type(c)] for c in CARD_READS]
