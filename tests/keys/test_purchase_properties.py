"""Properties of the purchase: the PSAM's MAC1 passes the card's check, the card's MAC2 passes the
PSAM and its TAC passes clearing; any single-bit change of what they cover makes them fail."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from keys import (
    Algorithm,
    KeySet,
    MemorySerialStore,
    PurchaseTerms,
    ReportedTransaction,
    SecretKey,
    SoftwarePsam,
    TacVerifier,
    card_key,
    debit_for_purchase,
    generate_key_set,
    mac2,
    purchase_session_key,
    seeded_random_bytes,
    tac,
    transaction_proof,
    verify_mac1,
    verify_mac2,
    verify_tac,
)
from protocols.apdu import InitSamForPurchase

KEY_SETS = {
    algorithm: generate_key_set(["3701"], algorithm, 1, seeded_random_bytes(f"p-{algorithm.name}"))
    for algorithm in Algorithm
}
ISSUER_CODE = bytes.fromhex("37010001")

TIMES = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)
PURCHASES = st.fixed_dictionaries(
    {
        "algorithm": st.sampled_from(list(Algorithm)),
        "card_serial": st.binary(min_size=8, max_size=8),
        "icc_random": st.binary(min_size=4, max_size=4),
        "ctc": st.integers(0, 0xFFFF),
        "amount": st.integers(0, 0xFFFFFFFF),
        "terminal_number": st.binary(min_size=6, max_size=6),
        "time": TIMES,
        "first_serial": st.integers(1, 0xFFFF0000),
    }
)


def _bit(value: int, bit: int) -> int:
    return value ^ (1 << bit)


def _flip(data: bytes, bit: int) -> bytes:
    bit %= 8 * len(data)
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _flip_key(algorithm: Algorithm, key: SecretKey, bit: int) -> SecretKey:
    # The low bit of each DES key byte is parity and ignored by the cipher: flip a key bit.
    if algorithm is Algorithm.TDES:
        bit = (bit % 112) // 7 * 8 + 1 + bit % 7
    return SecretKey(_flip(key.reveal(), bit))


def _other_time(when: dt.datetime, field: int) -> dt.datetime:
    # One field of the BCD date-time changed, so one digit of MAC1's input changes.
    field %= 3
    if field == 0:
        return when.replace(hour=(when.hour + 1) % 24)
    if field == 1:
        return when.replace(second=(when.second + 1) % 60)
    return when.replace(minute=(when.minute + 1) % 60)


class Lane:
    """A PSAM and the card keys of one card, as an exit lane and a card would hold them."""

    def __init__(self, p: dict) -> None:
        self.algorithm: Algorithm = p["algorithm"]
        key_set: KeySet = KEY_SETS[self.algorithm]
        store = MemorySerialStore(p["first_serial"])
        self.psam = SoftwarePsam(key_set, p["terminal_number"], store)
        master = key_set.lookup("3701", 1)
        self.dpk = card_key(self.algorithm, master.mpk, ISSUER_CODE, p["card_serial"])
        self.dtk = card_key(self.algorithm, master.mtk, ISSUER_CODE, p["card_serial"])
        self.key_set = key_set

    def init_sam(self, p: dict) -> tuple[int, bytes, PurchaseTerms]:
        command = InitSamForPurchase(
            icc_random=p["icc_random"],
            ctc=p["ctc"],
            amount=p["amount"],
            trans_type=0x09,
            transaction_time=p["time"],
            key_version=1,
            algorithm=self.algorithm,
            card_serial=p["card_serial"],
            issuer_factor=ISSUER_CODE * 2,
        )
        serial, mac1 = self.psam.init_sam_for_purchase(command)
        terms = PurchaseTerms(p["amount"], 0x09, p["terminal_number"], p["time"])
        return serial, mac1, terms


@given(PURCHASES, st.integers(0, 255))
@settings(max_examples=60, deadline=None)
def test_mac1_accepted_by_the_card_and_any_change_refused(p: dict, bit: int) -> None:
    lane = Lane(p)
    serial, mac1, terms = lane.init_sam(p)
    alg = lane.algorithm
    session = purchase_session_key(alg, lane.dpk, p["icc_random"], p["ctc"], serial)
    assert verify_mac1(alg, session, terms, mac1)

    changed_terms = [
        dataclasses.replace(terms, amount=_bit(terms.amount, bit % 32)),
        dataclasses.replace(terms, terminal_number=_flip(terms.terminal_number, bit)),
        dataclasses.replace(terms, transaction_time=_other_time(terms.transaction_time, bit)),
    ]
    for changed in changed_terms:
        assert not verify_mac1(alg, session, changed, mac1)
    assert not verify_mac1(alg, session, terms, _flip(mac1, bit))
    # A different serial (last two bytes), random, CTC or key gives a different session key.
    other_sessions = [
        purchase_session_key(alg, lane.dpk, p["icc_random"], p["ctc"], _bit(serial, bit % 16)),
        purchase_session_key(alg, lane.dpk, _flip(p["icc_random"], bit), p["ctc"], serial),
        purchase_session_key(alg, lane.dpk, p["icc_random"], _bit(p["ctc"], bit % 16), serial),
        purchase_session_key(alg, _flip_key(alg, lane.dpk, bit), p["icc_random"], p["ctc"], serial),
    ]
    for other in other_sessions:
        assert not verify_mac1(alg, other, terms, mac1)


@given(PURCHASES, st.integers(0, 255))
@settings(max_examples=60, deadline=None)
def test_card_debit_mac2_accepted_by_the_psam_and_tac_by_clearing(p: dict, bit: int) -> None:
    lane = Lane(p)
    serial, mac1, terms = lane.init_sam(p)
    alg = lane.algorithm
    card = (alg, lane.dpk, lane.dtk, p["icc_random"], p["ctc"], terms, serial)
    done = debit_for_purchase(*card, mac1)
    assert done is not None
    proof = transaction_proof(*card)
    assert (proof.mac2, proof.tac) == (done.mac2, done.tac)

    reported = ReportedTransaction(
        issuer_code=ISSUER_CODE,
        card_serial=p["card_serial"],
        network="3701",
        key_version=1,
        algorithm=alg,
        amount=terms.amount,
        trans_type=terms.trans_type,
        terminal_number=terms.terminal_number,
        terminal_trans_serial=serial,
        transaction_time=terms.transaction_time,
        tac=done.tac,
    )
    verifier = TacVerifier(lane.key_set)
    assert verifier.is_genuine(reported)
    forged = [
        dataclasses.replace(reported, amount=_bit(reported.amount, bit % 32)),
        dataclasses.replace(reported, terminal_number=_flip(reported.terminal_number, bit)),
        dataclasses.replace(reported, terminal_trans_serial=_bit(serial, bit % 32)),
        dataclasses.replace(reported, transaction_time=_other_time(reported.transaction_time, bit)),
        dataclasses.replace(reported, card_serial=_flip(reported.card_serial, bit)),
        dataclasses.replace(reported, tac=_flip(done.tac, bit)),
        dataclasses.replace(reported, trans_type=0x06),
    ]
    for candidate in forged:
        assert not verifier.is_genuine(candidate)
    assert not verify_tac(alg, _flip_key(alg, lane.dtk, bit), terms, serial, done.tac)

    # The PSAM accepts the card's MAC2 once; a flipped bit or another amount is refused.
    assert not lane.psam.credit_sam_for_purchase(_flip(done.mac2, bit))
    lane.init_sam(p)  # CREDIT consumed the pending purchase: start again
    session = purchase_session_key(alg, lane.dpk, p["icc_random"], p["ctc"], serial + 1)
    assert lane.psam.credit_sam_for_purchase(mac2(alg, session, terms.amount))
    genuine = mac2(alg, session, terms.amount)
    assert not verify_mac2(alg, session, _bit(terms.amount, bit % 32), genuine)


@given(PURCHASES, st.integers(0, 255))
@settings(max_examples=30, deadline=None)
def test_card_refuses_a_wrong_mac1(p: dict, bit: int) -> None:
    lane = Lane(p)
    serial, mac1, terms = lane.init_sam(p)
    wrong = _flip(mac1, bit)
    args = (lane.algorithm, lane.dpk, lane.dtk, p["icc_random"], p["ctc"], terms, serial)
    assert debit_for_purchase(*args, wrong) is None
    assert tac(lane.algorithm, lane.dtk, terms, serial) == debit_for_purchase(*args, mac1).tac
