"""A lane's transaction records for the audit, from this project's journal or from a JSON Lines
file any lane can write.

The JSON Lines schema (documented in the README): one object a line, either a record itself
(the `TransactionRecord` fields, enums by value, as `lane-engine journal export --format jsonl`
writes them, whose extra `journal_*` columns are read when present) or an MQTT transaction
message `{"idempotency_key", "seq", "record"}`. A transaction that appears more than once keeps
its last line (for messages: the highest `seq`), as the station de-duplicates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_conventions.files import NotText, decode_text
from lane_engine.errors import LaneError
from lane_engine.journal import EntryState, JournalEntry, SqliteJournal
from lane_engine.journal.codec import record_from_dict
from rsu_sim.errors import OutputError


def load_journal(path: Path) -> tuple[JournalEntry, ...]:
    """Every entry of this project's lane journal at `path` (read only)."""
    try:
        journal = SqliteJournal(path, create=False)
        try:
            return tuple(journal.entries())
        finally:
            journal.close_journal()
    except LaneError as exc:
        raise OutputError(str(exc)) from exc


def load_records(path: Path) -> tuple[JournalEntry, ...]:
    """The lane records of a JSON Lines file (see the module docstring)."""
    try:
        lines = decode_text(path.read_bytes(), str(path)).splitlines()
    except OSError as exc:
        raise OutputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except NotText as exc:
        raise OutputError(str(exc)) from None
    latest: dict[str, tuple[float, JournalEntry]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            order, entry = _entry(data, number)
        except (ValueError, LaneError, TypeError, KeyError) as exc:
            raise OutputError(f"{path} line {number}: not a transaction record ({exc})") from exc
        held = latest.get(entry.record.transaction_id)
        if held is None or order >= held[0]:
            latest[entry.record.transaction_id] = (order, entry)
    return tuple(entry for _, entry in latest.values())


def _entry(data: dict[str, Any], number: int) -> tuple[float, JournalEntry]:
    """(order, entry) of one line: a message orders by its `seq`, a record by its line."""
    if "record" in data and isinstance(data["record"], dict):
        record = record_from_dict(data["record"])
        return float(data.get("seq", number)), JournalEntry(record, EntryState.CLOSED, 0.0, 0.0)
    record = record_from_dict(data)
    state = EntryState(data.get("journal_state", EntryState.CLOSED.value))
    # The journal's own times are bookkeeping the audit does not read: not parsed.
    return float(number), JournalEntry(record, state, 0.0, 0.0, data.get("journal_duplicate_of"))
