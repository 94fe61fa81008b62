"""The ICC emulator against `card.md` §3.1: every APDU with good and bad input, the atomic
commit, GET TRANSACTION PROVE after a torn answer, and TACs that clearing accepts."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import (
    Algorithm,
    CardKeys,
    KeySet,
    ReportedTransaction,
    SoftwarePsam,
    TacVerifier,
    generate_key_set,
)
from keys.derivation import issuer_factor
from keys.keyset import seeded_random_bytes
from protocols.apdu import (
    DebitForCappPurchase,
    GetBalance,
    GetTransactionProve,
    InitializeForCappPurchase,
    InitSamForPurchase,
    ReadBinary,
    ReadRecord,
    Select,
    StatusWord,
    UpdateCappDataCache,
    decode_purchase_initialized,
    decode_response,
    encode_command,
)
from protocols.frames import TransType
from protocols.record_codec import decode_entry_exit, decode_issuer_info, encode_entry_exit
from protocols.records import CardType, IssuerInfo, Plate
from rsu_sim.model.card import Card, card_keys_for
from rsu_sim.model.obu import Fleet, Obu
from rsu_sim.model.population import VehicleRecord
from tests.rsu_sim.model.conftest import NETWORKS, PURCHASE_TIME, TERMINAL, exit_record


def _apdu(card: Card, command: object) -> tuple[bytes, int]:
    answer = decode_response(card.handle_apdu(encode_command(command)))  # type: ignore[arg-type]
    return answer.data, int(answer.sw)


def _selected(obu: Obu) -> Card:
    card = obu.card
    assert card is not None
    card.reset()
    assert _apdu(card, Select())[1] == StatusWord.OK
    return card


def _init(card: Card, amount: int) -> tuple[bytes, int]:
    return _apdu(card, InitializeForCappPurchase(1, amount, TERMINAL))


def _mac1(psam: SoftwarePsam, card: Card, init_body: bytes, amount: int) -> tuple[int, bytes]:
    started = decode_purchase_initialized(init_body)
    info = card.issuer_info
    sam = psam.init_sam_for_purchase(InitSamForPurchase(
        started.icc_random, started.ctc, amount, TransType.COMPOSITE_PURCHASE, PURCHASE_TIME,
        started.key_version, started.algorithm, bytes.fromhex(info.card_serial),
        issuer_factor(info.issuer_code)))
    return sam.terminal_trans_serial, sam.mac1


def _purchase(psam: SoftwarePsam, card: Card, amount: int, record: bytes | None = None,
              mac1: bytes | None = None) -> tuple[bytes, int, int]:
    body, sw = _init(card, amount)
    assert sw == StatusWord.OK
    if record is not None:
        assert _apdu(card, UpdateCappDataCache(record))[1] == StatusWord.OK
    serial, good_mac1 = _mac1(psam, card, body, amount)
    data, sw = _apdu(card, DebitForCappPurchase(serial, PURCHASE_TIME, mac1 or good_mac1))
    return data, sw, serial


def test_select_and_reads(b_obu: Obu) -> None:
    card = b_obu.card
    assert card is not None
    card.reset()
    assert _apdu(card, GetBalance())[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert _apdu(card, Select(0x3F00))[1] == StatusWord.FILE_NOT_FOUND
    assert _apdu(card, Select())[1] == StatusWord.OK
    data, sw = _apdu(card, ReadBinary(sfi=0x15, length=50))
    assert sw == StatusWord.OK and decode_issuer_info(data) == card.issuer_info
    assert _apdu(card, ReadBinary(sfi=0x16, length=6))[1] == StatusWord.FILE_NOT_FOUND
    data, sw = _apdu(card, ReadRecord())
    assert sw == StatusWord.OK and len(data) == 43
    assert _apdu(card, ReadRecord(record_id=0xAB))[1] == StatusWord.RECORD_NOT_FOUND
    data, sw = _apdu(card, GetBalance())
    assert sw == StatusWord.OK and int.from_bytes(data) == card.balance


@pytest.mark.parametrize(("apdu", "sw"), [
    (bytes.fromhex("00A4000002"), StatusWord.WRONG_LENGTH),  # Lc without its body
    (bytes.fromhex("805C0002"), StatusWord.WRONG_LENGTH),  # no Le
    (bytes.fromhex("8050030205000000000000"), StatusWord.WRONG_LENGTH),  # Lc 05 for INIT
    (bytes.fromhex("00CA000000"), StatusWord.INS_NOT_SUPPORTED),
    (bytes.fromhex("005C000204"), StatusWord.CLA_NOT_SUPPORTED),
    (bytes.fromhex("80"), StatusWord.WRONG_LENGTH),
])
def test_malformed_apdus_get_their_status_word(b_obu: Obu, apdu: bytes, sw: int) -> None:
    card = _selected(b_obu)
    answer = card.handle_apdu(apdu)
    assert int.from_bytes(answer[-2:]) == sw and len(answer) == 2


def test_purchase_commits_balance_ctc_and_record_at_once(b_obu: Obu, psam: SoftwarePsam) -> None:
    card = _selected(b_obu)
    before = (card.balance, card.ctc, card.record_raw)
    record = encode_entry_exit(exit_record(card.issuer_info.plate))
    data, sw, serial = _purchase(psam, card, 2_345, record)
    assert sw == StatusWord.OK and len(data) == 8
    assert psam.credit_sam_for_purchase(data[4:])  # MAC2 is the card's
    assert (card.balance, card.ctc, card.record_raw) == (before[0] - 2_345, before[1] + 1, record)
    entry = card.log[before[1]]
    assert (entry.tac, entry.mac2, entry.amount, entry.terminal_trans_serial) == (
        data[:4], data[4:], 2_345, serial)
    assert entry.balance_after == card.balance and entry.record == record
    assert decode_entry_exit(_apdu(card, ReadRecord())[0]) == exit_record(card.issuer_info.plate)


def test_debit_without_update_keeps_the_record(b_obu: Obu, psam: SoftwarePsam) -> None:
    card = _selected(b_obu)
    record = card.record_raw
    assert _purchase(psam, card, 100)[1] == StatusWord.OK
    assert card.record_raw == record


def test_wrong_mac1_changes_nothing(b_obu: Obu, psam: SoftwarePsam) -> None:
    card = _selected(b_obu)
    before = (card.balance, card.ctc, card.record_raw, dict(card.log))
    record = encode_entry_exit(exit_record(card.issuer_info.plate))
    data, sw, _ = _purchase(psam, card, 500, record, mac1=b"\x00\x00\x00\x00")
    assert (data, sw) == (b"", StatusWord.MAC_INVALID)
    assert (card.balance, card.ctc, card.record_raw, card.log) == before
    # The failed DEBIT closed the purchase: a second DEBIT needs a new INITIALIZE.
    assert _apdu(card, DebitForCappPurchase(1, PURCHASE_TIME, bytes(4)))[1] == \
        StatusWord.CONDITIONS_NOT_SATISFIED


def test_debit_and_update_without_initialize_are_refused(b_obu: Obu) -> None:
    card = _selected(b_obu)
    assert _apdu(card, DebitForCappPurchase(1, PURCHASE_TIME, bytes(4)))[1] == \
        StatusWord.CONDITIONS_NOT_SATISFIED
    assert _apdu(card, UpdateCappDataCache(bytes(43)))[1] == StatusWord.CONDITIONS_NOT_SATISFIED


def test_b_card_with_too_little_balance_answers_9401(b_obu: Obu) -> None:
    card = _selected(b_obu)
    assert _init(card, card.balance + 1)[1] == StatusWord.INSUFFICIENT_BALANCE
    body, sw = _init(card, card.balance)
    assert sw == StatusWord.OK
    started = decode_purchase_initialized(body)
    assert (started.balance, started.ctc, started.algorithm) == (card.balance, card.ctc,
                                                                  card.algorithm)


def test_a_card_is_debited_from_its_issuer_figure(fleet: Fleet, a_vehicle: VehicleRecord,
                                                  psam: SoftwarePsam) -> None:
    card = _selected(fleet.obu(a_vehicle))
    before = card.balance
    assert before >= 1_000_000
    assert _purchase(psam, card, 1_000_000)[1] == StatusWord.OK
    assert card.balance == before - 1_000_000


def test_locked_card_refuses_the_purchase(b_obu: Obu) -> None:
    card = _selected(b_obu)
    card.locked = True
    assert _init(card, 1)[1] == StatusWord.APPLICATION_LOCKED


def test_wrong_key_index_is_key_not_found(b_obu: Obu) -> None:
    card = _selected(b_obu)
    assert _apdu(card, InitializeForCappPurchase(2, 1, TERMINAL))[1] == StatusWord.KEY_NOT_FOUND


def test_transaction_prove_after_a_torn_answer(b_obu: Obu, psam: SoftwarePsam) -> None:
    card = _selected(b_obu)
    ctc = card.ctc
    assert _apdu(card, GetTransactionProve(ctc))[1] == StatusWord.RECORD_NOT_FOUND
    data, sw, _ = _purchase(psam, card, 777)  # the answer "is lost": only the card knows
    assert sw == StatusWord.OK
    card.reset()  # next sighting
    assert _apdu(card, GetTransactionProve(ctc))[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    _apdu(card, Select())
    proof, sw = _apdu(card, GetTransactionProve(ctc))
    assert sw == StatusWord.OK and proof == data[4:] + data[:4]  # MAC2 ‖ TAC
    assert _apdu(card, GetTransactionProve(ctc + 1))[1] == StatusWord.RECORD_NOT_FOUND
    assert _apdu(card, GetTransactionProve(ctc, TransType.SIMPLE_PURCHASE))[1] == \
        StatusWord.RECORD_NOT_FOUND


def test_initialize_without_debit_commits_nothing(b_obu: Obu) -> None:
    card = _selected(b_obu)
    ctc = card.ctc
    assert _init(card, 10)[1] == StatusWord.OK
    card.reset()
    assert card.ctc == ctc and not card.log


def test_tacs_verify_with_the_clearing_verifier(key_set: KeySet, b_obu: Obu,
                                                psam: SoftwarePsam) -> None:
    card = _selected(b_obu)
    data, sw, serial = _purchase(psam, card, 4_200)
    assert sw == StatusWord.OK
    info = card.issuer_info
    algorithm = card.algorithm
    assert algorithm is not None
    reported = ReportedTransaction(
        info.issuer_code, bytes.fromhex(info.card_serial), info.network, card.key_version,
        algorithm, 4_200, TransType.COMPOSITE_PURCHASE, TERMINAL, serial, PURCHASE_TIME,
        data[:4])
    verifier = TacVerifier(key_set)
    assert verifier.is_genuine(reported)
    assert not verifier.is_genuine(replace(reported, amount=4_201))


@settings(max_examples=40, deadline=None)
@given(apdu=st.binary(max_size=60))
def test_any_bytes_get_a_status_word_and_never_commit(apdu: bytes) -> None:
    card = _robust_card()
    before = (card.balance, card.ctc, card.record_raw)
    answer = card.handle_apdu(apdu)
    assert len(answer) >= 2
    assert (card.balance, card.ctc, card.record_raw) == before


def _robust_card() -> Card:
    info = IssuerInfo(bytes.fromhex("C9BDB6AB37010001"), CardType.STORED_VALUE, 0x10, "3701",
                      "1901230211225128", dt.date(2020, 11, 24), dt.date(2030, 11, 24),
                      Plate.from_text("鲁L71R86"), 0, 0, 1)
    keys = card_keys_for(CardKeys(generate_key_set(NETWORKS[:1], Algorithm.TDES, 1,
                                                   seeded_random_bytes("r"))), info, 1)
    card = Card(info, 5_000, 7, None, lambda n: bytes(n), keys=keys)
    card.execute(Select())
    return card



def test_an_a_card_accepts_a_debit_beyond_its_figure_which_stops_at_zero(
        fleet: Fleet, a_vehicle: VehicleRecord, psam: SoftwarePsam) -> None:
    card = _selected(fleet.obu(a_vehicle))
    card.balance = 500  # the issuer's figure, not money held
    assert _init(card, 1_189)[1] == StatusWord.OK
    card = _selected(fleet.obu(a_vehicle))
    assert _purchase(psam, card, 1_189)[1] == StatusWord.OK
    assert card.balance == 0 and card.log[card.ctc - 1].balance_after == 0
    assert _purchase(psam, _selected(fleet.obu(a_vehicle)), 300)[1] == StatusWord.OK
    assert card.balance == 0


def test_purse_conventions() -> None:
    from protocols.records import CardType
    from rsu_sim.model.card import balance_allows, purse_after

    assert balance_allows(CardType.CREDIT, 0, 5_000) and not balance_allows(
        CardType.STORED_VALUE, 4_999, 5_000)
    assert not balance_allows(CardType.CREDIT, 0, -1)
    assert purse_after(CardType.CREDIT, 1_000, 1_189) == 0
    assert purse_after(CardType.STORED_VALUE, 1_189, 1_189) == 0
    assert purse_after(CardType.CREDIT, 10_000_000, 1_189) == 9_998_811
