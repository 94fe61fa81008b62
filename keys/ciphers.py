"""Block-cipher building blocks of both families: ISO 9797-1 method-2 padding, ECB and CBC with
3DES (cryptography's decrepit TripleDES, keys expanded so no deprecated form is used) and SM4,
and the CBC-MAC chain.
"""

from __future__ import annotations

import threading
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

__all__ = [
    "Algorithm",
    "block_size",
    "cbc_decrypt",
    "cbc_encrypt",
    "cbc_mac",
    "cbc_mac_once",
    "ecb_encrypt",
    "pad",
    "unpad",
]


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


#: The modes are plain values (the IV is all a CBC mode holds): made once, shared by every key.
_ECB = modes.ECB()
_ZERO_IV_CBC = {8: modes.CBC(bytes(8)), 16: modes.CBC(bytes(16))}


class _KeyCiphers:
    """The cipher contexts of one key, built on first use: an ECB encryptor and a zero-IV CBC
    encryptor that every CBC encryption and MAC of the key chains through.

    A CBC context cannot be rewound to a zero IV, but it can be fed as if it were: XOR-ing the
    first block of a new message with the last ciphertext block it put out makes the chain
    exactly the zero-IV chain of that message. So a key pays for one key schedule per mode,
    and a MAC is one `update` call over the whole message instead of one per block.
    """

    __slots__ = ("_block", "_cbc", "_chain", "_ecb", "_size")

    def __init__(self, algorithm: Algorithm, material: bytes) -> None:
        self._block = _block_cipher(algorithm, material)
        self._size = block_size(algorithm)
        self._ecb: CipherContext | None = None
        self._cbc: CipherContext | None = None
        self._chain = 0  # the last ciphertext block the CBC context put out, as an int

    def ecb(self, data: bytes) -> bytes:
        """ECB encryption of whole blocks."""
        context = self._ecb
        if context is None:
            context = self._ecb = Cipher(self._block, _ECB).encryptor()
        return context.update(data)

    def cbc(self, padded: bytes) -> bytes:
        """Zero-IV CBC encryption of whole blocks."""
        size = self._size
        context = self._cbc
        if context is None:
            context = self._cbc = Cipher(self._block, _ZERO_IV_CBC[size]).encryptor()
        elif self._chain:
            first = int.from_bytes(padded[:size]) ^ self._chain
            padded = first.to_bytes(size) + padded[size:]
        out = context.update(padded)
        self._chain = int.from_bytes(out[-size:])
        return out

    def cbc_decrypt(self, data: bytes) -> bytes:
        """Zero-IV CBC decryption of whole blocks (a fresh context: decryption is rare)."""
        decryptor = Cipher(self._block, _ZERO_IV_CBC[self._size]).decryptor()
        return decryptor.update(data) + decryptor.finalize()


#: Cipher contexts kept by key material, per thread (a context is not for two threads at once),
#: so that two `SecretKey`s of the same material share one key schedule: a card and the PSAM
#: derive the same session key, the OBU and the PSAM the same vehicle-file keys. Bounded: the
#: cache starts over when full (our decision: 4096 keys of each algorithm, a few MiB of OpenSSL
#: contexts).
_SHARED_LIMIT = 4096
_shared = threading.local()
#: The thread that imported this module (the main thread) keeps its caches in plain dicts:
#: a thread-local lookup for every new key costs more than its dict lookup.
_FIRST_THREAD = threading.get_ident()
#: One cache per algorithm, keyed by the key bytes alone: an IntEnum in the key would be hashed
#: by its Python-level `__hash__` on every lookup.
_first_thread_caches: tuple[dict[bytes, _KeyCiphers], dict[bytes, _KeyCiphers]] = ({}, {})


def _shared_ciphers(algorithm: Algorithm, material: bytes) -> _KeyCiphers:
    caches: tuple[dict[bytes, _KeyCiphers], dict[bytes, _KeyCiphers]] | None
    if threading.get_ident() == _FIRST_THREAD:
        caches = _first_thread_caches
    else:
        caches = getattr(_shared, "caches", None)
        if caches is None:
            caches = _shared.caches = ({}, {})
    cache = caches[algorithm is Algorithm.SM4]
    found = cache.get(material)
    if found is None:
        if len(cache) >= _SHARED_LIMIT:
            cache.clear()
        found = cache[material] = _KeyCiphers(algorithm, material)
    return found


def _ciphers(algorithm: Algorithm, key: SecretKey) -> _KeyCiphers:
    found = key.kept(algorithm)
    if found is None:
        found = _shared_ciphers(algorithm, key.reveal())
        key.keep(algorithm, found)
    return found  # type: ignore[return-value]


def ecb_encrypt(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """ECB encryption of whole blocks (8-byte 3DES key = single DES)."""
    if len(data) % block_size(algorithm):
        raise CryptoInputError("ECB data is not a whole number of blocks")
    return _ciphers(algorithm, key).ecb(data)


def cbc_mac(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """The last block of the zero-IV CBC chain over `pad(data)` (not truncated)."""
    size = block_size(algorithm)
    return _ciphers(algorithm, key).cbc(pad(data, size))[-size:]


def cbc_mac_once(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """`cbc_mac` under a key used once and dropped (a card's TAC key, checked once per debit):
    a fresh context, nothing kept, so the caches of the keys that do repeat stay small."""
    size = block_size(algorithm)
    context = Cipher(_block_cipher(algorithm, key.reveal()), _ZERO_IV_CBC[size]).encryptor()
    return context.update(pad(data, size))[-size:]


def cbc_encrypt(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """Zero-IV CBC encryption of `pad(data)`."""
    return _ciphers(algorithm, key).cbc(pad(data, block_size(algorithm)))


def cbc_decrypt(algorithm: Algorithm, key: SecretKey, data: bytes) -> bytes:
    """Zero-IV CBC decryption and unpadding; CryptoInputError on a bad length or padding."""
    size = block_size(algorithm)
    if not data or len(data) % size:
        raise CryptoInputError("CBC ciphertext is not a whole number of blocks")
    return unpad(_ciphers(algorithm, key).cbc_decrypt(data), size)
