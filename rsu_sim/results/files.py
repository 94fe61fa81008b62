"""The files of a run under its output directory, written and read back in one place.

DIR/journal.sqlite3 (the lanes' journal), DIR/keys.toml (the key set, mode 0600),
DIR/cards.jsonl (every simulated card's final state and transaction log), DIR/summary.json and
DIR/scenario.json (the scenario as run). The audit reads them with `load_run`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli_conventions.files import NotText, decode_text, write_file
from keys.errors import KeySetError
from keys.keyset import KeySet
from keys.keyset_file import load_key_set, write_key_set
from lane_engine.errors import LaneError
from lane_engine.journal import EntryState, Journal, JournalEntry, SqliteJournal
from lane_engine.times import LANE_TIME_ZONE
from protocols.records import CardType
from rsu_sim.errors import OutputError
from rsu_sim.model.obu import Fleet
from rsu_sim.model.population import CardPopulation

DEFAULT_DIR = Path("var/sim")
JOURNAL_FILE = "journal.sqlite3"
KEYS_FILE = "keys.toml"
CARDS_FILE = "cards.jsonl"
SUMMARY_FILE = "summary.json"
SCENARIO_FILE = "scenario.json"


@dataclass(frozen=True, slots=True)
class CardLogEntry:
    """One committed purchase of a card, as its transaction log holds it."""

    ctc: int
    amount: int
    trans_type: int
    terminal_number: str  # hex
    terminal_trans_serial: int
    transaction_time: str  # ISO 8601 with the lane's offset (the card keeps lane local time)
    tac: str  # hex
    balance_after: int
    record: str  # hex of the 0019 committed


@dataclass(frozen=True, slots=True)
class CardLoadEntry:
    """One committed load (top-up) of a card, as its load log holds it."""

    online_serial: int
    amount: int
    transaction_time: str  # ISO 8601 with the lane's offset (the card keeps local time)
    balance_after: int


@dataclass(frozen=True, slots=True)
class CardState:
    """A simulated card at the end of a run, with its initial purse for the balance check."""

    card_number: str
    vehicle_id: int
    issuer_info: str  # hex of file 0015
    network: str
    issuer_code: str  # hex, 4 bytes
    card_type: int
    key_version: int
    algorithm: int  # keys.Algorithm value, -1 for a card without keys
    initial_balance: int
    initial_ctc: int
    balance: int
    ctc: int
    record: str  # hex of file 0019
    log: tuple[CardLogEntry, ...]
    loads: tuple[CardLoadEntry, ...] = ()


def journal_path(directory: Path) -> Path:
    """Where the run's journal lives."""
    return directory / JOURNAL_FILE


def prepare(directory: Path) -> None:
    """Create DIR and remove the journal of an earlier run (a run replaces its outputs)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            (directory / f"{JOURNAL_FILE}{suffix}").unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot prepare ({exc.strerror})") from exc


def final_cards(fleet: Fleet, population: CardPopulation) -> list[CardState]:
    """Every card the run touched: its initial purse (population) and final state (fleet)."""
    cards = []
    for obu in sorted(fleet, key=lambda o: o.vehicle_id):
        card, initial = obu.card, population[obu.vehicle_id].card
        if card is None or initial is None:
            continue
        log = tuple(
            CardLogEntry(e.ctc, e.amount, e.trans_type, e.terminal_number.hex(),
                         e.terminal_trans_serial,
                         e.transaction_time.replace(tzinfo=LANE_TIME_ZONE).isoformat(), e.tac.hex(),
                         e.balance_after, e.record.hex())
            for _, e in sorted(card.log.items())
        )
        info = card.issuer_info
        cards.append(CardState(
            info.card_number, obu.vehicle_id, card.issuer_raw.hex(), info.network,
            info.issuer_code.hex(), info.card_type, card.key_version,
            -1 if card.algorithm is None else int(card.algorithm), initial.balance,
            initial.ctc, card.balance, card.ctc, card.record_raw.hex(), log,
        ))
    return cards


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, tuple | list | frozenset | set):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _write_text(path: Path, text: str) -> None:
    try:
        write_file(path, text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from exc


def _card_document(card: CardState) -> dict[str, Any]:
    """A card's line of the cards file (`loads` only for a card that was loaded)."""
    document: dict[str, Any] = _plain(card)
    if not card.loads:
        del document["loads"]
    return document


def write_outputs(directory: Path, *, key_set: KeySet, cards: Iterable[CardState],
                  summary: dict[str, Any], scenario: object) -> None:
    """Write the key set (0600), the cards, the summary and the scenario under `directory`."""
    try:
        write_key_set(directory / KEYS_FILE, key_set, replace=True)
    except KeySetError as exc:
        raise OutputError(str(exc)) from exc
    lines = (json.dumps(_card_document(card), ensure_ascii=False, separators=(",", ":"))
             for card in cards)
    _write_text(directory / CARDS_FILE, "".join(line + "\n" for line in lines))
    _write_text(directory / SUMMARY_FILE, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    _write_text(directory / SCENARIO_FILE,
                json.dumps(_plain(scenario), indent=2, ensure_ascii=False) + "\n")


SHARDS_DIR = "shards"
SHARDS_FILE = "shards.json"


def prepare_sharded(directory: Path) -> None:
    """Create DIR for a sharded run and remove the shards of an earlier one (a run replaces
    its outputs)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        shards = directory / SHARDS_DIR
        if shards.is_dir():
            shutil.rmtree(shards)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot prepare ({exc.strerror})") from exc


def write_sharded_outputs(directory: Path, *, summary: dict[str, Any], scenario: object,
                          shards: list[dict[str, Any]]) -> None:
    """The merged summary, the scenario as planned and what each shard was and cost; each
    shard's own files are in `shards/<name>/` (see `write_outputs`)."""
    _write_text(directory / SUMMARY_FILE, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    _write_text(directory / SCENARIO_FILE,
                json.dumps(_plain(scenario), indent=2, ensure_ascii=False) + "\n")
    _write_text(directory / SHARDS_FILE, json.dumps(shards, indent=1, ensure_ascii=False) + "\n")


def shard_directories(directory: Path) -> list[Path]:
    """The shards of a sharded run in `directory`, in shard order (empty for a plain run)."""
    shards = directory / SHARDS_DIR
    if not shards.is_dir():
        return []
    return sorted(p for p in shards.iterdir() if p.is_dir() and p.name.startswith("shard-"))


def copy_journal(source: Journal, path: Path) -> None:
    """Write the entries of an in-memory journal into a journal file (for `--journal memory`):
    open intents stay open, closed records are closed; duplicates were never debits of their
    own and are left out."""
    target = SqliteJournal(path, clock=lambda: 0.0)
    try:
        with target.batch():
            for entry in source.entries():
                if entry.state is EntryState.OPEN:
                    target.open_intent(entry.record)
                elif entry.state is EntryState.CLOSED:
                    target.close(entry.record)
    finally:
        target.close_journal()


@dataclass(frozen=True, slots=True)
class RunFiles:
    """A finished run read back from its directory."""

    journal: tuple[JournalEntry, ...]
    cards: tuple[CardState, ...]
    key_set: KeySet
    summary: dict[str, Any]


def _card(line: str) -> CardState:
    raw = json.loads(line)
    raw["log"] = tuple(CardLogEntry(**entry) for entry in raw["log"])
    raw["loads"] = tuple(CardLoadEntry(**entry) for entry in raw.get("loads", ()))
    if isinstance(raw["card_type"], str):  # cards.jsonl names it; the audit compares codes
        raw["card_type"] = int(CardType[raw["card_type"]])
    return CardState(**raw)


def load_run(directory: Path) -> RunFiles:
    """Read the journal, the cards, the key set and the summary of the run in `directory`."""
    if not journal_path(directory).is_file():
        raise OutputError(f"{directory}: no {JOURNAL_FILE} (run `rsu-sim run` first)")
    try:
        journal = SqliteJournal(journal_path(directory), create=False)
        try:
            entries = tuple(journal.entries())
        finally:
            journal.close_journal()
        key_set = load_key_set(directory / KEYS_FILE)
        cards_path = directory / CARDS_FILE
        text = decode_text(cards_path.read_bytes(), str(cards_path))
        cards = tuple(_card(line) for line in text.splitlines() if line.strip())
        summary_path = directory / SUMMARY_FILE
        summary = (json.loads(decode_text(summary_path.read_bytes(), str(summary_path)))
                   if summary_path.is_file() else {})
    except (LaneError, KeySetError, NotText) as exc:
        raise OutputError(str(exc)) from exc
    except OSError as exc:
        raise OutputError(f"{directory}: cannot read ({exc.strerror})") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise OutputError(f"{directory}: malformed {CARDS_FILE} or {SUMMARY_FILE}: {exc}") from exc
    return RunFiles(entries, cards, key_set, summary)
