"""The data a plaza's lanes price and check with, loaded from the configured files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keys.ciphers import Algorithm
from keys.clearing import ReportedTransaction, TacVerifier
from keys.errors import KeysError
from keys.keyset_file import load_key_set
from lane_engine.config import AuditSettings, PlazaConfig
from lane_engine.core.blacklist import Blacklist
from lane_engine.core.outcomes import TransactionRecord
from lane_engine.core.policy import Policy
from lane_engine.core.ports import FeeSchedule
from lane_engine.core.ports import TacVerifier as RecordVerifier
from lane_engine.errors import ConfigError
from lane_engine.fees.table_file import load_fee_slice
from lane_engine.files.blacklist import load_binary, load_text
from lane_engine.files.formats import TEXT_BLACKLIST_SUFFIXES
from lane_engine.files.policy import load_policy
from lane_engine.times import lane_datetime

#: Transaction type the lane's purchases use (composite purchase), part of the TAC input.
COMPOSITE_PURCHASE = 0x09


class NoFees:
    """The fee schedule of an entry-only plaza: it prices nothing."""

    version = "none"

    def fee(self, entry_network: str, entry_station: int, vehicle_class: int) -> int | None:
        return None


@dataclass(slots=True)
class LaneData:
    """The versions in force for every lane of the plaza (replaced as wholes)."""

    policy: Policy
    fees: FeeSchedule
    blacklist: Blacklist
    verifier: RecordVerifier | None = None


def load_blacklist(path: Path) -> Blacklist:
    """A full list from a text or binary file (by suffix, see TEXT_BLACKLIST_SUFFIXES)."""
    if path.suffix.lower() in TEXT_BLACKLIST_SUFFIXES:
        return load_text(path)
    return load_binary(path)


def load_fees(config: PlazaConfig, path: Path) -> FeeSchedule:
    """The block of this plaza's station in the fee table at `path`."""
    return load_fee_slice(path, config.network, config.station)


def load_lane_data(config: PlazaConfig) -> LaneData:
    """Policy, fees, blacklist and the optional TAC audit of `config` (LaneError subclasses on
    faults, naming the file)."""
    fees = NoFees() if config.fee_table is None else load_fees(config, config.fee_table)
    blacklist = Blacklist.empty(0) if config.blacklist is None else load_blacklist(
        config.blacklist)
    verifier = None if config.audit is None else record_verifier(config.audit)
    return LaneData(load_policy(config.policy), fees, blacklist, verifier)


def record_verifier(audit: AuditSettings) -> RecordVerifier:
    """The core's TAC check of a completed record, against the audit key set."""
    try:
        verifier = TacVerifier(load_key_set(audit.key_set))
    except KeysError as exc:
        raise ConfigError(f"{audit.key_set}: audit key set: {exc}") from exc

    def verify(record: TransactionRecord) -> bool:
        network, serial = record.card_number[:4], record.card_number[4:]
        reported = ReportedTransaction(
            issuer_code=bytes.fromhex(record.card_issuer_code), card_serial=bytes.fromhex(serial),
            network=network, key_version=record.key_version,
            algorithm=Algorithm(record.alg_flag), amount=record.amount_debited,
            trans_type=COMPOSITE_PURCHASE,
            terminal_number=bytes.fromhex(record.psam_terminal_number),
            terminal_trans_serial=record.terminal_trans_serial,
            # The card signed its lane local time, without a zone.
            transaction_time=lane_datetime(record.transaction_time).replace(tzinfo=None),
            tac=bytes.fromhex(record.tac),
        )
        return verifier.is_genuine(reported)

    return verify
