"""The issuer host's side of the card cryptography: the keys personalisation writes into a card
and an OBU, and the load's MAC1 check, MAC2 and TAC check (the host holds MLK and MTK; the
outlet's reader only carries APDUs)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from centre.errors import CardProtocolError
from keys.card_keys import CardKeys
from keys.ciphers import Algorithm
from keys.derivation import issuer_factor, load_session_key
from keys.errors import KeysError
from keys.keyset import KeySet
from keys.load import LoadTerms, LoadType, load_mac2, verify_load_mac1, verify_load_tac
from keys.secret import SecretKey
from protocols.apdu import LoadInitialized
from protocols.records import CardType, IssuerInfo


@dataclass(frozen=True, slots=True)
class CardSecrets:
    """A card's diversified keys, as personalisation writes them."""

    algorithm: Algorithm
    dpk: SecretKey
    dtk: SecretKey
    dlk: SecretKey | None  # B cards only


@dataclass(frozen=True, slots=True)
class OpenLoad:
    """A load the card opened: its terms and session key, for MAC2 and the TAC check."""

    terms: LoadTerms
    initialized: LoadInitialized
    session_key: SecretKey
    algorithm: Algorithm


class IssuerHost:
    """Card and OBU keys of the issuer's key set."""

    def __init__(self, key_set: KeySet, key_version: int) -> None:
        self._card_keys = CardKeys(key_set)
        self.key_version = key_version

    def algorithm(self, network: str) -> Algorithm:
        """The algorithm of the key set's keys for `network` (CardProtocolError without)."""
        found = self._card_keys.algorithm_of(network, self.key_version)
        if found is None:
            raise CardProtocolError(f"the key set has no keys for network {network} key version"
                                    f" {self.key_version}")
        return found

    def _card_key(self, kind: str, info: IssuerInfo, algorithm: Algorithm) -> SecretKey:
        derive = getattr(self._card_keys, kind)
        try:
            key: SecretKey = derive(info.network, self.key_version, algorithm,
                                    issuer_factor(info.issuer_code),
                                    bytes.fromhex(info.card_serial))
        except (KeysError, ValueError) as exc:
            raise CardProtocolError(f"card {info.card_number}: no {kind.upper()}: {exc}") from exc
        return key

    def card_secrets(self, info: IssuerInfo) -> CardSecrets:
        algorithm = self.algorithm(info.network)
        dlk = (self._card_key("dlk", info, algorithm)
               if info.card_type == CardType.STORED_VALUE else None)
        return CardSecrets(algorithm, self._card_key("dpk", info, algorithm),
                           self._card_key("dtk", info, algorithm), dlk)

    def obu_key(self, network: str, contract_serial: str) -> tuple[Algorithm, SecretKey]:
        algorithm = self.algorithm(network)
        key = self._card_keys.obu_vehicle_key(network, self.key_version, algorithm,
                                              bytes.fromhex(contract_serial))
        return algorithm, key

    # ------------------------------------------------------------ the load

    def open_load(self, info: IssuerInfo, initialized: LoadInitialized, amount: int,
                  terminal_number: bytes) -> OpenLoad:
        """Check the card's MAC1 (CardProtocolError when it is not the card's: not a genuine
        card of ours, or another load's answer)."""
        if initialized.key_version != self.key_version:
            raise CardProtocolError(f"card {info.card_number} loads with key version "
                                    f"{initialized.key_version}, the centre holds "
                                    f"{self.key_version}")
        algorithm = self.algorithm(info.network)
        if initialized.algorithm != algorithm:
            raise CardProtocolError(f"card {info.card_number} reports algorithm "
                                    f"{initialized.algorithm:#04x}, its keys are {algorithm.name}")
        dlk = self._card_key("dlk", info, algorithm)
        session = load_session_key(algorithm, dlk, initialized.pseudo_random,
                                   initialized.online_serial)
        terms = LoadTerms(amount, LoadType.PURSE, terminal_number)
        if not verify_load_mac1(algorithm, session, initialized.balance, terms, initialized.mac1):
            raise CardProtocolError(f"card {info.card_number}: MAC1 of INITIALIZE FOR LOAD does"
                                    " not verify (not a genuine card of this issuer)")
        return OpenLoad(terms, initialized, session, algorithm)

    def mac2(self, load: OpenLoad, transaction_time: dt.datetime) -> bytes:
        return load_mac2(load.algorithm, load.session_key, load.terms, transaction_time)

    def tac_is_genuine(self, info: IssuerInfo, balance_after: int, online_serial: int,
                       terms: LoadTerms, transaction_time: dt.datetime, tac: bytes) -> bool:
        algorithm = self.algorithm(info.network)
        dtk = self._card_key("dtk", info, algorithm)
        return verify_load_tac(algorithm, dtk, balance_after, online_serial, terms,
                               transaction_time, tac)
