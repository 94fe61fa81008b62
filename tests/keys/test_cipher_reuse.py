"""A key's cipher contexts are kept and reused (a CBC context chained through every MAC and
encryption of the key): whatever was computed with a key before, the next result is the one a
fresh cipher gives. Checked against block-by-block references built here from `cryptography`."""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import Algorithm, CardKeys, SecretKey, card_key, diversify, generate_key_set
from keys.ciphers import block_size, cbc_decrypt, cbc_encrypt, cbc_mac, ecb_encrypt, pad
from keys.derivation import diversify_many, issuer_factor
from keys.keyset import seeded_random_bytes
from keys.vehicle_file import obu_vehicle_key


def _reference_ecb(algorithm: Algorithm, material: bytes, block: bytes) -> bytes:
    if algorithm is Algorithm.SM4:
        cipher = algorithms.SM4(material)
    else:
        cipher = TripleDES(material * 3 if len(material) == 8 else material + material[:8])
    return Cipher(cipher, modes.ECB()).encryptor().update(block)


def _reference_cbc(algorithm: Algorithm, material: bytes, data: bytes) -> bytes:
    size = block_size(algorithm)
    padded, chain, out = pad(data, size), bytes(size), b""
    for start in range(0, len(padded), size):
        block = bytes(a ^ b for a, b in zip(padded[start : start + size], chain, strict=True))
        chain = _reference_ecb(algorithm, material, block)
        out += chain
    return out


OPERATION = st.tuples(st.sampled_from(["mac", "encrypt", "ecb", "decrypt"]),
                      st.binary(max_size=48))


@given(st.sampled_from(list(Algorithm)), st.booleans(), st.lists(OPERATION, max_size=8))
@settings(max_examples=40)
def test_a_reused_key_computes_what_a_fresh_cipher_computes(
    algorithm: Algorithm, single_des: bool, operations: list[tuple[str, bytes]]
) -> None:
    material = bytes(range(1, 9)) if single_des and algorithm is Algorithm.TDES else bytes(
        range(1, 17))
    key = SecretKey(material)
    size = block_size(algorithm)
    for operation, data in operations:
        expected = _reference_cbc(algorithm, material, data)
        if operation == "mac":
            assert cbc_mac(algorithm, key, data) == expected[-size:]
        elif operation == "encrypt":
            assert cbc_encrypt(algorithm, key, data) == expected
        elif operation == "decrypt":
            assert cbc_decrypt(algorithm, key, expected) == data
        else:
            blocks = pad(data, size)
            assert ecb_encrypt(algorithm, key, blocks) == b"".join(
                _reference_ecb(algorithm, material, blocks[i : i + size])
                for i in range(0, len(blocks), size))


@given(st.sampled_from(list(Algorithm)),
       st.lists(st.binary(min_size=8, max_size=8), min_size=1, max_size=4))
@settings(max_examples=25)
def test_diversify_many_is_diversify_for_each(algorithm: Algorithm, factors: list[bytes]) -> None:
    master = SecretKey(bytes(range(16)))
    assert diversify_many(algorithm, master, factors) == [
        diversify(algorithm, SecretKey(bytes(range(16))), f) for f in factors]


def test_card_keys_kept_per_card_are_the_derived_keys() -> None:
    key_set = generate_key_set(["3701"], Algorithm.SM4, 1, seeded_random_bytes("reuse"))
    masters = key_set.lookup("3701", 1)
    keys = CardKeys(key_set)
    code, serial = bytes.fromhex("37010001"), bytes.fromhex("1901230211225128")
    factor = issuer_factor(code)
    for _ in range(2):  # derived, then taken from the cache
        assert keys.dpk("3701", 1, Algorithm.SM4, factor, serial) == card_key(
            Algorithm.SM4, masters.mpk, code, serial)
        assert keys.dtk("3701", 1, Algorithm.SM4, factor, serial) == card_key(
            Algorithm.SM4, masters.mtk, code, serial)
        assert keys.obu_vehicle_key("3701", 1, Algorithm.SM4, serial) == obu_vehicle_key(
            Algorithm.SM4, masters.mvk, serial)
    assert keys.dpk("3701", 1, Algorithm.SM4, factor, serial) != keys.dtk(
        "3701", 1, Algorithm.SM4, factor, serial)
