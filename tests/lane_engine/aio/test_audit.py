"""The runtime's optional TAC audit: each completed record is checked with its own card's issuer
code against the audit key set; a genuine TAC verifies, a forged one is flagged."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from tcp_rsu import LANE  # isort: skip (puts scripted_rsu on the path)
from scripted_rsu import FEE, SERIAL, TERMINAL, FakeClock, b2, b4, b5, card, ready_lane  # isort: skip

from keys.card import transaction_proof
from keys.card_keys import CardKeys
from keys.ciphers import Algorithm
from keys.derivation import issuer_factor
from keys.keyset import generate_key_set, seeded_random_bytes
from keys.keyset_file import write_key_set
from keys.purchase import PurchaseTerms
from lane_engine.aio.data import COMPOSITE_PURCHASE, record_verifier
from lane_engine.config import AuditSettings
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.core.policy import Policy, discounted_fee

DISCOUNTED = discounted_fee(FEE, Policy("policy-3"))
#: Not the network digits + "0001" a configured default once assumed: only the record knows it.
ISSUER_CODE = bytes.fromhex("37019999")
KEY_SET = generate_key_set(["3701"], Algorithm.TDES, 1, seeded_random_bytes("audit test"))
CTC, TERMINAL_SERIAL = 63, 35


def genuine_tac(intent: TransactionRecord) -> bytes:
    """The TAC the card of `intent` computes for the purchase the lane sent."""
    keys, serial = CardKeys(KEY_SET), bytes.fromhex(SERIAL)
    factor = issuer_factor(ISSUER_CODE)
    dpk = keys.dpk("3701", 1, Algorithm.TDES, factor, serial)
    dtk = keys.dtk("3701", 1, Algorithm.TDES, factor, serial)
    terms = PurchaseTerms(DISCOUNTED, COMPOSITE_PURCHASE, TERMINAL,
                          dt.datetime.fromisoformat(intent.transaction_time))
    return transaction_proof(Algorithm.TDES, dpk, dtk, b"\x12\x34\x56\x78", CTC, terms,
                             TERMINAL_SERIAL).tac


@pytest.mark.parametrize("genuine", [True, False], ids=["genuine", "forged"])
def test_a_genuine_tac_verifies_and_a_forged_one_is_flagged(tmp_path: Path,
                                                            genuine: bool) -> None:
    write_key_set(tmp_path / "keys.toml", KEY_SET)
    verify = record_verifier(AuditSettings(tmp_path / "keys.toml"))
    clock = FakeClock()
    lane = ready_lane(clock, tac_verifier=verify)
    issuer = card(issuer_identifier=bytes.fromhex("c9bdb6ab") + ISSUER_CODE)
    lane.receive_frame(b2(), clock.advance(0.05), seq=2)
    intent = lane.receive_frame(b4(issuer=issuer), clock.advance(0.05), seq=3)[0].record  # type: ignore[union-attr]
    assert intent.card_issuer_code == ISSUER_CODE.hex().upper()
    tac = genuine_tac(intent)
    if not genuine:
        tac = bytes([tac[0] ^ 0x01]) + tac[1:]
    result = replace(b5(DISCOUNTED, ctc=CTC), tac=tac)
    assert result.psam_trans_serial == TERMINAL_SERIAL
    final = lane.receive_frame(result, clock.advance(0.1), seq=4)[0].record  # type: ignore[union-attr]
    assert final.outcome is Outcome.DEBITED and final.lane_number == LANE
    assert final.tac_verified is genuine
    assert (ReasonCode.TAC_INVALID in final.flags) is not genuine


@pytest.mark.parametrize("written", ["lane offset", "UTC"])
def test_a_record_time_in_another_offset_is_the_same_lane_local_time(
        tmp_path: Path, written: str) -> None:
    # The card signs lane local time; a record that writes its time in UTC still verifies.
    write_key_set(tmp_path / "keys.toml", KEY_SET)
    verify = record_verifier(AuditSettings(tmp_path / "keys.toml"))
    clock = FakeClock()
    lane = ready_lane(clock, tac_verifier=verify)
    issuer = card(issuer_identifier=bytes.fromhex("c9bdb6ab") + ISSUER_CODE)
    lane.receive_frame(b2(), clock.advance(0.05), seq=2)
    intent = lane.receive_frame(b4(issuer=issuer), clock.advance(0.05), seq=3)[0].record  # type: ignore[union-attr]
    final = lane.receive_frame(replace(b5(DISCOUNTED, ctc=CTC), tac=genuine_tac(intent)),
                               clock.advance(0.1), seq=4)[0].record  # type: ignore[union-attr]
    if written == "UTC":
        moment = dt.datetime.fromisoformat(final.transaction_time).astimezone(dt.UTC)
        final = replace(final, transaction_time=moment.isoformat())
    assert verify(final) is True
    assert verify(replace(final, amount_debited=final.amount_debited + 1)) is False
