"""Known answers: the published 3DES vectors of crypto.md §4, SM4 against gmssl, and the project's
own vectors, frozen once the code agreed with the published ones."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from gmssl import sm4 as gm
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import (
    Algorithm,
    PurchaseTerms,
    SecretKey,
    card_key,
    cbc_mac,
    diversify,
    ecb_encrypt,
    issuer_key,
    mac1,
    mac2,
    obu_vehicle_key,
    pad,
    purchase_session_key,
    seal_vehicle_file,
    tac,
    tac_key,
)

H = bytes.fromhex
TDES, SM4 = Algorithm.TDES, Algorithm.SM4


def key(text: str) -> SecretKey:
    return SecretKey(H(text))


# ------------------------------------------------------------ published (crypto.md §4)

PUBLISHED_SESSION = "003238ABC57659DD"
PUBLISHED_TERMS = PurchaseTerms(
    amount=0x1000,
    trans_type=0x06,
    terminal_number=H("001122334455"),
    transaction_time=dt.datetime(2012, 2, 29, 13, 51, 0),
)


def test_published_session_key() -> None:
    dpk = key("11223344556677888877665544332211")
    session = purchase_session_key(TDES, dpk, H("11223344"), 0x0000, 0x00000001)
    assert session.reveal() == H(PUBLISHED_SESSION)


def test_published_mac1() -> None:
    assert mac1(TDES, key(PUBLISHED_SESSION), PUBLISHED_TERMS) == H("F15CAB75")


def test_published_mac2() -> None:
    assert mac2(TDES, key(PUBLISHED_SESSION), 0x1000) == H("56988A13")


def test_published_mac1_input_layout() -> None:
    assert PUBLISHED_TERMS.encode() == H("00001000" "06" "001122334455" "20120229" "135100")


# ------------------------------------------------------------ padding and 3DES keying


@pytest.mark.parametrize(
    ("data", "size", "padded"),
    [
        ("", 8, "8000000000000000"),
        ("01", 8, "0180000000000000"),
        ("01020304050607", 8, "0102030405060780"),
        ("0102030405060708", 8, "01020304050607088000000000000000"),
        ("0102030405060708", 16, "01020304050607088000000000000000"),
    ],
)
def test_iso9797_method2_padding(data: str, size: int, padded: str) -> None:
    assert pad(H(data), size) == H(padded)


def _single_des(k: bytes, block: bytes, decrypt: bool = False) -> bytes:
    cipher = Cipher(TripleDES(k * 3), modes.ECB())
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(block)


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=8, max_size=8))
@settings(max_examples=25)
def test_two_key_3des_is_ede_with_k1_k2_k1(material: bytes, block: bytes) -> None:
    k1, k2 = material[:8], material[8:]
    expected = _single_des(k1, _single_des(k2, _single_des(k1, block), decrypt=True))
    assert ecb_encrypt(TDES, SecretKey(material), block) == expected


# ------------------------------------------------------------ SM4 against gmssl


def _gm_ecb(k: bytes, data: bytes) -> bytes:
    crypt = gm.CryptSM4(padding_mode=-1)  # neither PKCS7 nor zero padding: blocks as given
    crypt.set_key(k, gm.SM4_ENCRYPT)
    return crypt.crypt_ecb(data)


def _gm_cbc_mac(k: bytes, data: bytes) -> bytes:
    padded = pad(data, 16)
    chain = bytes(16)
    for start in range(0, len(padded), 16):
        block = bytes(a ^ b for a, b in zip(chain, padded[start : start + 16], strict=True))
        chain = _gm_ecb(k, block)
    return chain


def test_sm4_standard_vector() -> None:
    k = H("0123456789ABCDEFFEDCBA9876543210")
    assert ecb_encrypt(SM4, SecretKey(k), k) == H("681EDF34D206965E86B3E94F536E4246")
    assert _gm_ecb(k, k) == H("681EDF34D206965E86B3E94F536E4246")


SIXTEEN = st.binary(min_size=16, max_size=16)
FOUR = st.binary(min_size=4, max_size=4)


@given(SIXTEEN, st.binary(min_size=8, max_size=8))
@settings(max_examples=25)
def test_sm4_diversification_matches_gmssl(master: bytes, factor: bytes) -> None:
    complement = bytes(b ^ 0xFF for b in factor)
    expected = _gm_ecb(master, factor + complement)
    assert diversify(SM4, SecretKey(master), factor).reveal() == expected


@given(SIXTEEN, FOUR, st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1))
@settings(max_examples=25)
def test_sm4_session_key_matches_gmssl(dpk: bytes, rnd: bytes, ctc: int, serial: int) -> None:
    seed = rnd + ctc.to_bytes(2) + (serial & 0xFFFF).to_bytes(2)
    expected = _gm_ecb(dpk, seed + H("8000000000000000"))
    assert purchase_session_key(SM4, SecretKey(dpk), rnd, ctc, serial).reveal() == expected


@given(SIXTEEN, st.binary(max_size=80))
@settings(max_examples=25)
def test_sm4_cbc_mac_matches_gmssl(k: bytes, data: bytes) -> None:
    assert cbc_mac(SM4, SecretKey(k), data) == _gm_cbc_mac(k, data)


# ------------------------------------------------------------ the project's own, frozen

MASTER = key("0123456789ABCDEFFEDCBA9876543210")
MTK = key("00112233445566778899AABBCCDDEEFF")
ISSUER_CODE = H("37010001")
CARD_SERIAL = H("1901230211225128")
TERMS = PurchaseTerms(1234, 0x09, H("370100000001"), dt.datetime(2024, 5, 17, 8, 30, 59))
RANDOM, CTC, SERIAL = H("A1B2C3D4"), 0x0017, 0x00012345

FROZEN = {
    TDES: {
        "diversified": "EB279AA213B611B0C5B3C9B4C0029B5C",
        "issuer_key": "C82980A2CB344334666BE34F804CF708",
        "dpk": "4B314AA9DE9AA8639D12F48C7C22B493",
        "dtk": "BE666E47FBE0B5FA73A53C845F468520",
        "session_key": "44267F7C6375C70F",
        "mac1": "C177B173",
        "mac2": "0B60FC94",
        "tac_key": "CDC352C3A4A630DA",
        "tac": "1CABACBA",
        "obu_key": "CFF116EF18A4673AFBEF20C7DBE512DD",
        "sealed_head": "143BDBACEC45710DEB053F2DF37D8710",
        "authenticator": "AD945AD47A0AD71D",
    },
    SM4: {
        "diversified": "8F673A94289E9B9DC7259B45F6FA6935",
        "issuer_key": "7E4187FE8E66BC96B377106E914D5AAC",
        "dpk": "2EDA7993A17064D53E80A9173BE05CED",
        "dtk": "A9FA179A560734BFBA30023D46DCFE85",
        "session_key": "3E870646E78E14093659BAC26E31EAC3",
        "mac1": "40B4A9DD",
        "mac2": "E6C38F50",
        "tac_key": "A9FA179A560734BFBA30023D46DCFE85",
        "tac": "13EC2B3A",
        "obu_key": "11EE5989B07D410B22433BEE07245689",
        "sealed_head": "0DAE518AB95B41361D74F886A5F8869A",
        "authenticator": "C5A6F7A5B9051464",
    },
}


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_frozen_vectors(algorithm: Algorithm) -> None:
    want = {name: H(value) for name, value in FROZEN[algorithm].items()}
    assert diversify(algorithm, MASTER, CARD_SERIAL).reveal() == want["diversified"]
    assert issuer_key(algorithm, MASTER, ISSUER_CODE).reveal() == want["issuer_key"]
    dpk = card_key(algorithm, MASTER, ISSUER_CODE, CARD_SERIAL)
    dtk = card_key(algorithm, MTK, ISSUER_CODE, CARD_SERIAL)
    assert (dpk.reveal(), dtk.reveal()) == (want["dpk"], want["dtk"])
    session = purchase_session_key(algorithm, dpk, RANDOM, CTC, SERIAL)
    assert session.reveal() == want["session_key"]
    assert mac1(algorithm, session, TERMS) == want["mac1"]
    assert mac2(algorithm, session, TERMS.amount) == want["mac2"]
    assert tac_key(algorithm, dtk).reveal() == want["tac_key"]
    assert tac(algorithm, dtk, TERMS, SERIAL) == want["tac"]
    obu_key = obu_vehicle_key(algorithm, MASTER, H("3701012023109155"))
    assert obu_key.reveal() == want["obu_key"]
    sealed = seal_vehicle_file(algorithm, obu_key, H("0102030405060708"), b"\x01" * 79)
    assert sealed.ciphertext[:16] == want["sealed_head"]
    assert sealed.authenticator == want["authenticator"]


def test_two_level_is_diversification_twice() -> None:
    level1 = diversify(TDES, MASTER, ISSUER_CODE * 2)
    assert card_key(TDES, MASTER, ISSUER_CODE, CARD_SERIAL) == diversify(TDES, level1, CARD_SERIAL)


def test_3des_tac_key_is_left_xor_right_of_dtk() -> None:
    dtk = H(FROZEN[TDES]["dtk"])
    expected = bytes(a ^ b for a, b in zip(dtk[:8], dtk[8:], strict=True))
    assert tac_key(TDES, SecretKey(dtk)).reveal() == expected
