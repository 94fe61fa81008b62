"""Key derivation: diversification, two-level card keys, purchase and load session keys, the TAC
key."""

from __future__ import annotations

from collections.abc import Sequence

from keys.ciphers import Algorithm, ecb_encrypt
from keys.errors import CryptoInputError
from keys.secret import SecretKey

__all__ = [
    "LOAD_SESSION_KEY_FILLER",
    "card_key",
    "diversify",
    "diversify_many",
    "issuer_factor",
    "issuer_key",
    "load_session_key",
    "purchase_session_key",
    "sm4_session_key_block",
    "tac_key",
]

_COMPLEMENT = bytes(0xFF - b for b in range(256))


def _need(name: str, value: bytes, size: int) -> bytes:
    if len(value) != size:
        raise CryptoInputError(f"{name} wants {size} bytes, got {len(value)}")
    return value


def diversify(algorithm: Algorithm, master: SecretKey, factor: bytes) -> SecretKey:
    """16-byte sub-key of `master` for the 8-byte `factor` (field): ECB of F ‖ NOT F.

    3DES: left = 3DES(MK, F), right = 3DES(MK, NOT F); SM4: SM4(MK, F ‖ NOT F), one block.
    """
    _need("master key", master.reveal(), 16)
    block = _need("diversification factor", factor, 8) + factor.translate(_COMPLEMENT)
    return SecretKey(ecb_encrypt(algorithm, master, block))


def diversify_many(
    algorithm: Algorithm, master: SecretKey, factors: Sequence[bytes]
) -> list[SecretKey]:
    """`diversify` for several factors of one master in one ECB pass (ECB is blockwise)."""
    _need("master key", master.reveal(), 16)
    blocks = b"".join(
        _need("diversification factor", factor, 8) + factor.translate(_COMPLEMENT)
        for factor in factors
    )
    out = ecb_encrypt(algorithm, master, blocks)
    return [SecretKey(out[start : start + 16]) for start in range(0, len(out), 16)]


def issuer_factor(issuer_code: bytes) -> bytes:
    """Level-1 factor: the 4-byte issuer code (0015 bytes 4-7) written twice (field)."""
    return _need("issuer code", issuer_code, 4) * 2


def issuer_key(algorithm: Algorithm, master: SecretKey, issuer_code: bytes) -> SecretKey:
    """Level 1 of the two-level diversification: div(MK, issuer factor)."""
    return diversify(algorithm, master, issuer_factor(issuer_code))


def card_key(
    algorithm: Algorithm, master: SecretKey, issuer_code: bytes, card_serial: bytes
) -> SecretKey:
    """The card's key (DPK from MPK, DTK from MTK): div(div(MK, issuer factor), card serial)."""
    return diversify(algorithm, issuer_key(algorithm, master, issuer_code), card_serial)


def purchase_session_key(
    algorithm: Algorithm, dpk: SecretKey, icc_random: bytes, ctc: int, terminal_trans_serial: int
) -> SecretKey:
    """SESPK from the card's DPK: 8 bytes for 3DES (field), 16 bytes for SM4 (our decision)."""
    seed = _need("ICC random", icc_random, 4) + (
        ((ctc & 0xFFFF) << 16) | (terminal_trans_serial & 0xFFFF)
    ).to_bytes(4)
    if algorithm is Algorithm.SM4:
        return SecretKey(ecb_encrypt(algorithm, dpk, sm4_session_key_block(seed)))
    return SecretKey(ecb_encrypt(algorithm, dpk, seed))


#: What stands in the terminal-serial place of the load session key's input (crypto.md §3a).
LOAD_SESSION_KEY_FILLER = 0x8000


def load_session_key(
    algorithm: Algorithm, dlk: SecretKey, pseudo_random: bytes, online_serial: int
) -> SecretKey:
    """SESLK from the card's DLK: the purchase session-key rule with random 4 ‖ online serial 2
    ‖ `80 00` as its input (3DES field; SM4 our decision, padded as the purchase key)."""
    return purchase_session_key(algorithm, dlk, pseudo_random, online_serial,
                                LOAD_SESSION_KEY_FILLER)


def sm4_session_key_block(seed: bytes) -> bytes:
    """The SM4 session-key input: random 4 ‖ CTC 2 ‖ serial 2 ‖ `80 00…00` (our decision)."""
    return seed + b"\x80" + b"\x00" * 7


def tac_key(algorithm: Algorithm, dtk: SecretKey) -> SecretKey:
    """The key the TAC is computed with, from the card's DTK.

    3DES: left 8 bytes XOR right 8 bytes of DTK, a single-DES key (field).
    SM4: DTK itself (our decision).
    """
    material = _need("DTK", dtk.reveal(), 16)
    if algorithm is Algorithm.SM4:
        return dtk
    return SecretKey(bytes(a ^ b for a, b in zip(material[:8], material[8:], strict=True)))
