"""GetSecure: the OBU's vehicle file, encrypted on the air and decrypted by the RSU's PSAM.

The whole scheme is our decision (the public record gives only "encrypted vehicle file + 8-byte
authenticator"); it lives in this module alone:

* OBU key K_obu = div(MVK, contract serial 8 bytes) (one level);
* per request, K_enc = div(K_obu, rndRSU) and K_auth = div(K_obu, rndRSU XOR 5A…5A), so that
  every read has fresh keys and encryption and authentication never share a key;
* ciphertext = zero-IV CBC of the method-2-padded file with K_enc (3DES K1K2K1 or SM4);
* authenticator = leftmost 8 bytes of the CBC-MAC with K_auth over rndRSU ‖ ciphertext
  (encrypt-then-MAC, checked before decrypting).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from keys.ciphers import Algorithm, cbc_decrypt, cbc_encrypt, cbc_mac
from keys.derivation import diversify, diversify_many
from keys.errors import CryptoInputError, VehicleFileError
from keys.secret import SecretKey
from protocols.frozen import fast_init

__all__ = [
    "AUTHENTICATOR_LENGTH",
    "SealedVehicleFile",
    "obu_vehicle_key",
    "open_vehicle_file",
    "seal_vehicle_file",
]

AUTHENTICATOR_LENGTH = 8
_AUTH_MASK = 0x5A5A5A5A5A5A5A5A


@fast_init
@dataclass(frozen=True, slots=True)
class SealedVehicleFile:
    """The GetSecure.response payload: encrypted vehicle file and its 8-byte authenticator."""

    ciphertext: bytes
    authenticator: bytes


def obu_vehicle_key(algorithm: Algorithm, mvk: SecretKey, contract_serial: bytes) -> SecretKey:
    """The OBU's vehicle-file key: div(MVK, contract serial) (our decision)."""
    return diversify(algorithm, mvk, contract_serial)


def _read_keys(
    algorithm: Algorithm, obu_key: SecretKey, rnd_rsu: bytes
) -> tuple[SecretKey, SecretKey]:
    if len(rnd_rsu) != 8:
        raise CryptoInputError("rndRSU wants 8 bytes")
    auth_factor = (int.from_bytes(rnd_rsu) ^ _AUTH_MASK).to_bytes(8)
    enc_key, auth_key = diversify_many(algorithm, obu_key, (rnd_rsu, auth_factor))
    return enc_key, auth_key


def _authenticator(
    algorithm: Algorithm, key: SecretKey, rnd_rsu: bytes, ciphertext: bytes
) -> bytes:
    return cbc_mac(algorithm, key, rnd_rsu + ciphertext)[:AUTHENTICATOR_LENGTH]


def seal_vehicle_file(
    algorithm: Algorithm, obu_key: SecretKey, rnd_rsu: bytes, vehicle_file: bytes
) -> SealedVehicleFile:
    """The OBU side of GetSecure: encrypt and authenticate `vehicle_file` for this rndRSU."""
    enc_key, auth_key = _read_keys(algorithm, obu_key, rnd_rsu)
    ciphertext = cbc_encrypt(algorithm, enc_key, vehicle_file)
    return SealedVehicleFile(ciphertext, _authenticator(algorithm, auth_key, rnd_rsu, ciphertext))


def open_vehicle_file(
    algorithm: Algorithm, obu_key: SecretKey, rnd_rsu: bytes, sealed: SealedVehicleFile
) -> bytes:
    """The PSAM side of GetSecure: check the authenticator, then decrypt; VehicleFileError if
    either fails."""
    enc_key, auth_key = _read_keys(algorithm, obu_key, rnd_rsu)
    expected = _authenticator(algorithm, auth_key, rnd_rsu, sealed.ciphertext)
    if not hmac.compare_digest(expected, sealed.authenticator):
        raise VehicleFileError("vehicle file authenticator does not match")
    try:
        return cbc_decrypt(algorithm, enc_key, sealed.ciphertext)
    except CryptoInputError as exc:
        raise VehicleFileError("vehicle file does not decrypt to a padded file") from exc
