"""Card keys drawn from a key set (DPK, DTK, the OBU vehicle key), the issuer level cached."""

from __future__ import annotations

from keys.ciphers import Algorithm
from keys.derivation import diversify
from keys.keyset import KeySet, MasterKeys
from keys.secret import SecretKey
from keys.vehicle_file import obu_vehicle_key

_ISSUER_CACHE_LIMIT = 4096


class CardKeys:
    """Derives per-card keys from `key_set`; the issuer-level keys (few) are kept."""

    def __init__(self, key_set: KeySet) -> None:
        self._key_set = key_set
        self._issuer_keys: dict[tuple[str, int, str, bytes], SecretKey] = {}

    def master_keys(self, network: str, key_version: int, algorithm: Algorithm) -> MasterKeys:
        """The master keys (KeyNotFoundError when the set lacks them)."""
        return self._key_set.lookup(network, key_version, algorithm)

    def _card_key(
        self,
        kind: str,
        network: str,
        key_version: int,
        algorithm: Algorithm,
        issuer_factor: bytes,
        card_serial: bytes,
    ) -> SecretKey:
        ident = (network, key_version, kind, issuer_factor)
        issuer_key = self._issuer_keys.get(ident)
        if issuer_key is None:
            master = getattr(self.master_keys(network, key_version, algorithm), kind)
            issuer_key = diversify(algorithm, master, issuer_factor)
            if len(self._issuer_keys) >= _ISSUER_CACHE_LIMIT:
                self._issuer_keys.clear()
            self._issuer_keys[ident] = issuer_key
        return diversify(algorithm, issuer_key, card_serial)

    def dpk(
        self,
        network: str,
        key_version: int,
        algorithm: Algorithm,
        issuer_factor: bytes,
        card_serial: bytes,
    ) -> SecretKey:
        """The card's purchase key: div(div(MPK, issuer factor), card serial)."""
        return self._card_key("mpk", network, key_version, algorithm, issuer_factor, card_serial)

    def dtk(
        self,
        network: str,
        key_version: int,
        algorithm: Algorithm,
        issuer_factor: bytes,
        card_serial: bytes,
    ) -> SecretKey:
        """The card's TAC key: div(div(MTK, issuer factor), card serial)."""
        return self._card_key("mtk", network, key_version, algorithm, issuer_factor, card_serial)

    def obu_vehicle_key(
        self, network: str, key_version: int, algorithm: Algorithm, contract_serial: bytes
    ) -> SecretKey:
        """The OBU's vehicle-file key: div(MVK, contract serial)."""
        mvk = self.master_keys(network, key_version, algorithm).mvk
        return obu_vehicle_key(algorithm, mvk, contract_serial)
