"""Card keys drawn from a key set (DPK, DTK, DLK, the OBU vehicle key); issuer-level keys and the
most recent card and OBU keys are kept, so a card or OBU seen again costs no derivation."""

from __future__ import annotations

from keys.ciphers import Algorithm
from keys.derivation import diversify
from keys.errors import KeyNotFoundError
from keys.keyset import KeySet, MasterKeys
from keys.secret import SecretKey
from keys.vehicle_file import obu_vehicle_key

__all__ = [
    "CardKeys",
]

_ISSUER_CACHE_LIMIT = 4096
#: Card and OBU keys kept (our decision: a lane sees a returning vehicle within hours; the bound
#: keeps memory flat, the cache starting over when full).
_DEVICE_CACHE_LIMIT = 16384


class CardKeys:
    """Derives per-card keys from `key_set`; the issuer-level keys (few) are kept."""

    def __init__(self, key_set: KeySet) -> None:
        self._key_set = key_set
        self._issuer_keys: dict[tuple[str, int, str, bytes], SecretKey] = {}
        self._device_keys: dict[tuple[str, str, int, Algorithm, bytes, bytes], SecretKey] = {}

    def master_keys(self, network: str, key_version: int, algorithm: Algorithm) -> MasterKeys:
        """The master keys (KeyNotFoundError when the set lacks them)."""
        return self._key_set.lookup(network, key_version, algorithm)

    def algorithm_of(self, network: str, key_version: int) -> Algorithm | None:
        """The algorithm family of the set's keys for `network` and version, None without keys."""
        try:
            return self._key_set.lookup(network, key_version).algorithm
        except KeyNotFoundError:
            return None

    def _card_key(
        self,
        kind: str,
        network: str,
        key_version: int,
        algorithm: Algorithm,
        issuer_factor: bytes,
        card_serial: bytes,
    ) -> SecretKey:
        device_ident = (kind, network, key_version, algorithm, issuer_factor, card_serial)
        found = self._device_keys.get(device_ident)
        if found is not None:
            return found
        issuer_key = self.issuer_key(kind, network, key_version, algorithm, issuer_factor)
        return self._keep(device_ident, diversify(algorithm, issuer_key, card_serial))

    def issuer_key(self, kind: str, network: str, key_version: int, algorithm: Algorithm,
                   issuer_factor: bytes) -> SecretKey:
        """Level 1 of a card key: div(master `kind` ("mpk", "mtk", "mlk"), issuer factor), kept."""
        ident = (network, key_version, kind, issuer_factor)
        issuer_key = self._issuer_keys.get(ident)
        if issuer_key is None:
            master = getattr(self.master_keys(network, key_version, algorithm), kind)
            issuer_key = diversify(algorithm, master, issuer_factor)
            if len(self._issuer_keys) >= _ISSUER_CACHE_LIMIT:
                self._issuer_keys.clear()
            self._issuer_keys[ident] = issuer_key
        return issuer_key

    def _keep(
        self, ident: tuple[str, str, int, Algorithm, bytes, bytes], key: SecretKey
    ) -> SecretKey:
        if len(self._device_keys) >= _DEVICE_CACHE_LIMIT:
            self._device_keys.clear()
        self._device_keys[ident] = key
        return key

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

    def dlk(
        self,
        network: str,
        key_version: int,
        algorithm: Algorithm,
        issuer_factor: bytes,
        card_serial: bytes,
    ) -> SecretKey:
        """The card's load key: div(div(MLK, issuer factor), card serial)."""
        return self._card_key("mlk", network, key_version, algorithm, issuer_factor, card_serial)

    def obu_vehicle_key(
        self, network: str, key_version: int, algorithm: Algorithm, contract_serial: bytes
    ) -> SecretKey:
        """The OBU's vehicle-file key: div(MVK, contract serial)."""
        ident = ("mvk", network, key_version, algorithm, b"", contract_serial)
        found = self._device_keys.get(ident)
        if found is not None:
            return found
        mvk = self.master_keys(network, key_version, algorithm).mvk
        return self._keep(ident, obu_vehicle_key(algorithm, mvk, contract_serial))
