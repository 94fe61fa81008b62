"""Block-cipher building blocks of both families: ISO 9797-1 method-2 padding, ECB and CBC with
3DES (cryptography's decrepit TripleDES, keys expanded so no deprecated form is used) and SM4,
and the CBC-MAC chain.
"""

from __future__ import annotations

from enum import IntEnum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import (
    BlockCipherAlgorithm,
    Cipher,
    CipherContext,
    algorithms,
    modes,
)

from keys.errors import CryptoInputError
from keys.secret import SecretKey


class Algorithm(IntEnum):
    """The algorithm family of a card, PSAM or key set (INITIALIZE response, B5.AlgFlag)."""

    #: 3DES family (original PBOC electronic purse)
    TDES = 0x00
    #: SM4 family (national upgrade)
    SM4 = 0x04


def block_size(algorithm: Algorithm) -> int:
    """8 for DES/3DES, 16 for SM4."""
    return 8 if algorithm is Algorithm.TDES else 16


def pad(data: bytes, size: int) -> bytes:
    """ISO 9797-1 method 2: `80`, then `00` to a multiple of `size` (always at least one byte)."""
    return data + b"\x80" + b"\x00" * (size - 1 - len(data) % size)


def unpad(data: bytes, size: int) -> bytes:
    """Strip ISO 9797-1 method-2 padding; CryptoInputError when it is not there."""
    body = data.rstrip(b"\x00")
    if not data or len(data) % size or not body.endswith(b"\x80") or len(data) - len(body) >= size:
        raise CryptoInputError("bad ISO 9797-1 method-2 padding")
    return body[:-1]


def _block_cipher(algorithm: Algorithm, material: bytes) -> BlockCipherAlgorithm:
    if algorithm is Algorithm.SM4:
        if len(material) != 16:
            raise CryptoInputError(f"SM4 wants a 16-byte key, got {len(material)} bytes")
        return algorithms.SM4(material)
    # Two-key and one-key TripleDES are deprecated in cryptography: hand it K1K2K1 or KKK.
    if len(material) == 16:
        return TripleDES(material + material[:8])
    if len(material) == 8:
        return TripleDES(material * 3)
    raise CryptoInputError(f"3DES wants an 8- or 16-byte key, got {len(material)} bytes")


def _ecb_encryptor(algorithm: Algorithm, material: bytes) -> CipherContext:
    return Cipher(_block_cipher(algorithm, material), modes.ECB()).encryptor()


def _encryptor(algorithm: Algorithm, key: SecretKey) -> CipherContext:
    # An ECB context is never finalised, so one per key serves every block it will ever encrypt.
    return key.cached(algorithm, lambda material: _ecb_encryptor(algorithm, material))


def ecb_encrypt(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """ECB encryption of whole blocks (8-byte 3DES key = single DES)."""
    if len(data) % block_size(algorithm):
        raise CryptoInputError("ECB data is not a whole number of blocks")
    return _encryptor(algorithm, key).update(data)


def cbc_mac(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """The last block of the zero-IV CBC chain over `pad(data)` (not truncated)."""
    size = block_size(algorithm)
    padded = pad(data, size)
    encrypt = _encryptor(algorithm, key).update
    chain = 0
    for start in range(0, len(padded), size):
        block = chain ^ int.from_bytes(padded[start : start + size])
        chain = int.from_bytes(encrypt(block.to_bytes(size)))
    return chain.to_bytes(size)


def cbc_encrypt(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """Zero-IV CBC encryption of `pad(data)`."""
    cipher = Cipher(_block_cipher(algorithm, key.reveal()), modes.CBC(bytes(block_size(algorithm))))
    encryptor = cipher.encryptor()
    return encryptor.update(pad(data, block_size(algorithm))) + encryptor.finalize()


def cbc_decrypt(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """Zero-IV CBC decryption and unpadding; CryptoInputError on a bad length or padding."""
    size = block_size(algorithm)
    if not data or len(data) % size:
        raise CryptoInputError("CBC ciphertext is not a whole number of blocks")
    decryptor = Cipher(_block_cipher(algorithm, key.reveal()), modes.CBC(bytes(size))).decryptor()
    return unpad(decryptor.update(data) + decryptor.finalize(), size)
