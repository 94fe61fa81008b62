"""A served world read back for the audit: its cards as the audit sees them (first purse, final
purse, log), the key set, every PSAM's reserved serials and the sessions that ran on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keys.errors import KeySetError
from keys.keyset import KeySet
from keys.keyset_file import load_key_set
from rsu_sim.errors import OutputError, WorldError
from rsu_sim.results.files import CardLogEntry, CardState
from rsu_sim.world.opening import KEYS_FILE
from rsu_sim.world.store import WORLD_FILE, SessionRow, WorldStore


@dataclass(frozen=True, slots=True)
class ServedWorld:
    """What the audit reads of a served world."""

    cards: tuple[CardState, ...]
    key_set: KeySet
    reserved_serials: dict[str, int]  # terminal number (hex) -> first serial not reserved
    sessions: tuple[SessionRow, ...]


def is_served(directory: Path) -> bool:
    """True when `directory` holds a served world (rather than a `rsu-sim run`)."""
    return (directory / WORLD_FILE).is_file()


def load_served(directory: Path) -> ServedWorld:
    """Read the world of `directory` (nothing is written to it)."""
    try:
        store = WorldStore.open(directory / WORLD_FILE)
    except WorldError as exc:
        raise OutputError(str(exc)) from exc
    try:
        logs = store.card_logs()
        cards = tuple(
            CardState(
                row.card_number, row.vehicle_id, row.issuer_info.hex(), row.card_number[:4],
                row.issuer_info[4:8].hex(), row.card_type, row.key_version, row.algorithm,
                row.initial_balance, row.initial_ctc, row.balance, row.ctc, row.record.hex(),
                tuple(CardLogEntry(e.ctc, e.amount, e.trans_type, e.terminal_number.hex(),
                                   e.terminal_trans_serial, e.transaction_time.isoformat(),
                                   e.tac.hex(), e.balance_after, e.record.hex())
                      for e in logs.get(row.card_number, ())),
            )
            for row in store.cards()
        )
        reserved = store.reserved_serials()
        sessions = tuple(store.sessions())
    except WorldError as exc:
        raise OutputError(str(exc)) from exc
    finally:
        store.close()
    try:
        key_set = load_key_set(directory / KEYS_FILE)
    except KeySetError as exc:
        raise OutputError(str(exc)) from exc
    return ServedWorld(cards, key_set, reserved, sessions)
