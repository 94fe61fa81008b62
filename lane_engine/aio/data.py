"""The data a plaza's lanes price and check with, loaded from the configured files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keys.ciphers import Algorithm
from keys.clearing import TacVerifier
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
from lane_engine.times import iso_time, lane_datetime

__all__ = [
    "COMPOSITE_PURCHASE",
    "LaneData",
    "NoFees",
    "load_blacklist",
    "load_fees",
    "load_lane_data",
    "record_verifier",
]

#: Transaction type the lane's purchases use (composite purchase), part of the TAC input.
COMPOSITE_PURCHASE = 0x09
_LANE_OFFSET = iso_time(0)[-6:]  # "+08:00"


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


def _card_time(text: str) -> bytes:
    """A record time as the 7 BCD bytes the card signed: its lane local date and time (a record
    time is ISO 8601 with the lane's offset; any other offset is converted)."""
    if len(text) == 25 and text.endswith(_LANE_OFFSET):  # the form the lane writes
        digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
    else:
        digits = lane_datetime(text).strftime("%Y%m%d%H%M%S")
    return bytes.fromhex(digits)


def record_verifier(audit: AuditSettings) -> RecordVerifier:
    """The core's TAC check of a completed record, against the audit key set."""
    try:
        verifier = TacVerifier(load_key_set(audit.key_set))
    except KeysError as exc:
        raise ConfigError(f"{audit.key_set}: audit key set: {exc}") from exc

    def verify(record: TransactionRecord) -> bool:
        card = record.card_number
        return verifier.tac_matches(
            card[:4], record.key_version, Algorithm(record.alg_flag),
            bytes.fromhex(record.card_issuer_code), bytes.fromhex(card[4:]),
            record.amount_debited, COMPOSITE_PURCHASE,
            bytes.fromhex(record.psam_terminal_number), record.terminal_trans_serial,
            _card_time(record.transaction_time), bytes.fromhex(record.tac))

    return verify
