"""The load (top-up) cryptography: the published 3DES vectors of crypto.md §3a as they are, SM4
checked against gmssl, and the project's own TAC vectors, frozen once MAC1 and MAC2 agreed."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys import (
    Algorithm,
    CardKeys,
    LoadTerms,
    LoadType,
    SecretKey,
    card_key,
    generate_key_set,
    issuer_factor,
    load_mac1,
    load_mac2,
    load_session_key,
    load_tac,
    purchase_session_key,
    seeded_random_bytes,
    verify_load_mac1,
    verify_load_mac2,
    verify_load_tac,
)
from keys.errors import CryptoInputError
from tests.keys.test_vectors import _gm_cbc_mac, _gm_ecb

H = bytes.fromhex
TDES, SM4 = Algorithm.TDES, Algorithm.SM4

# ------------------------------------------------------------ published (crypto.md §3a)

PUBLISHED_DLK = SecretKey(H("11223344556677888877665544332211"))
PUBLISHED_SESSION = "9B1D924E05595603"
#: The published vector loads the electronic deposit (type 01).
PUBLISHED_TERMS = LoadTerms(amount=0x1000, trans_type=LoadType.DEPOSIT,
                            terminal_number=H("001122334455"))
PUBLISHED_TIME = dt.datetime(2011, 12, 21, 21, 48, 22)


def test_published_load_session_key() -> None:
    session = load_session_key(TDES, PUBLISHED_DLK, H("11223344"), 0x0000)
    assert session.reveal() == H(PUBLISHED_SESSION)


def test_the_load_session_key_is_the_purchase_rule_with_8000_for_the_serial() -> None:
    assert purchase_session_key(TDES, PUBLISHED_DLK, H("11223344"), 0, 0x8000).reveal() == H(
        PUBLISHED_SESSION)


def test_published_load_mac1() -> None:
    session = SecretKey(H(PUBLISHED_SESSION))
    assert load_mac1(TDES, session, 0, PUBLISHED_TERMS) == H("2988AE5A")
    assert verify_load_mac1(TDES, session, 0, PUBLISHED_TERMS, H("2988AE5A"))
    assert not verify_load_mac1(TDES, session, 1, PUBLISHED_TERMS, H("2988AE5A"))


def test_published_load_mac2() -> None:
    session = SecretKey(H(PUBLISHED_SESSION))
    assert load_mac2(TDES, session, PUBLISHED_TERMS, PUBLISHED_TIME) == H("3A845BF0")
    assert verify_load_mac2(TDES, session, PUBLISHED_TERMS, PUBLISHED_TIME, H("3A845BF0"))
    later = PUBLISHED_TIME + dt.timedelta(seconds=1)
    assert not verify_load_mac2(TDES, session, PUBLISHED_TERMS, later, H("3A845BF0"))


# ------------------------------------------------------------ SM4 against gmssl


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=4, max_size=4),
       st.integers(0, 0xFFFF))
def test_sm4_load_session_key_matches_gmssl(dlk: bytes, rnd: bytes, serial: int) -> None:
    block = rnd + serial.to_bytes(2) + H("8000") + H("8000000000000000")
    assert load_session_key(SM4, SecretKey(dlk), rnd, serial).reveal() == _gm_ecb(dlk, block)


@given(st.binary(min_size=16, max_size=16), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1))
def test_sm4_load_macs_match_gmssl(session: bytes, balance: int, amount: int) -> None:
    terms = LoadTerms(amount, LoadType.PURSE, H("370101000001"))
    when = dt.datetime(2026, 11, 2, 9, 30, 5)
    mac1_input = balance.to_bytes(4) + terms.encode()
    mac2_input = terms.encode() + H("20261102093005")
    assert load_mac1(SM4, SecretKey(session), balance, terms) == _gm_cbc_mac(
        session, mac1_input)[:4]
    assert load_mac2(SM4, SecretKey(session), terms, when) == _gm_cbc_mac(
        session, mac2_input)[:4]


# ------------------------------------------------------------ the project's own, frozen

#: (algorithm, load TAC with DTK = the published DLK, balance after 4096 fen, serial 0, the
#: published terms and time, as purse load type 02 for SM4).
FROZEN_TACS = [(TDES, LoadType.DEPOSIT, "FF5C1389"), (SM4, LoadType.PURSE, "63890F41")]


@pytest.mark.parametrize(("algorithm", "trans_type", "expected"), FROZEN_TACS)
def test_frozen_load_tacs(algorithm: Algorithm, trans_type: int, expected: str) -> None:
    terms = LoadTerms(0x1000, trans_type, H("001122334455"))
    got = load_tac(algorithm, PUBLISHED_DLK, 0x1000, 0, terms, PUBLISHED_TIME)
    assert got == H(expected)
    assert verify_load_tac(algorithm, PUBLISHED_DLK, 0x1000, 0, terms, PUBLISHED_TIME, got)
    assert not verify_load_tac(algorithm, PUBLISHED_DLK, 0x1000, 1, terms, PUBLISHED_TIME, got)


def test_frozen_sm4_session_key_and_macs() -> None:
    session = load_session_key(SM4, PUBLISHED_DLK, H("11223344"), 0)
    assert session.reveal() == H("ABBFBB882E7AACE091DA65BE73B1FC9E")
    terms = LoadTerms(0x1000, LoadType.PURSE, H("001122334455"))
    assert load_mac1(SM4, session, 0, terms) == H("4DA6F0A4")
    assert load_mac2(SM4, session, terms, PUBLISHED_TIME) == H("59212D90")


@pytest.mark.parametrize("algorithm", [TDES, SM4])
def test_card_keys_give_dlk_from_mlk_by_two_level_diversification(algorithm: Algorithm) -> None:
    key_set = generate_key_set(["3701"], algorithm, 1, seeded_random_bytes("load"))
    master = key_set.lookup("3701", 1)
    issuer_code, serial = H("37010001"), H("2616000000000001")
    derived = CardKeys(key_set).dlk("3701", 1, algorithm, issuer_factor(issuer_code), serial)
    assert derived == card_key(algorithm, master.mlk, issuer_code, serial)
    assert derived != card_key(algorithm, master.mpk, issuer_code, serial)


@pytest.mark.parametrize(("field", "terms"), [
    ("terminal", LoadTerms(1, LoadType.PURSE, H("0011"))),
    ("amount", LoadTerms(2**32, LoadType.PURSE, H("001122334455"))),
])
def test_out_of_range_load_fields_are_input_errors(field: str, terms: LoadTerms) -> None:
    with pytest.raises(CryptoInputError):
        load_mac1(TDES, SecretKey(H(PUBLISHED_SESSION)), 0, terms)


def test_an_online_serial_past_two_bytes_is_an_input_error() -> None:
    with pytest.raises(CryptoInputError, match="online serial"):
        load_tac(TDES, PUBLISHED_DLK, 1, 0x10000, PUBLISHED_TERMS, PUBLISHED_TIME)
