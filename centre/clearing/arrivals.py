"""What reaches clearing, read into values: an MQTT transaction message or a line of a lane
journal exported as JSON Lines (`lane-engine journal export --format jsonl`), each becoming an
`Arrival`. Sans-IO: bytes and text in, values out; a payload that is not a record is a
`ClearingInputError` naming what is wrong, in one line.

A journal line is the latest record of one transaction (the journal keeps one row per
transaction id), so it has no outbox `seq`. Lines a journal marks `duplicate` (a second close
of a debit it had already journaled) and `open` (an intent not closed yet) carry nothing to
clear and are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from centre.clearing.values import Source
from centre.errors import ClearingInputError
from lane_engine.core.outcomes import TransactionRecord
from lane_engine.errors import LaneError
from lane_engine.journal.codec import record_from_dict, record_to_json

#: Journal states whose lines are cleared (the others are skipped, see the module docstring).
CLEARED_JOURNAL_STATES = frozenset({"closed"})


@dataclass(frozen=True, slots=True)
class Arrival:
    """One lane record as it reached the centre."""

    idempotency_key: str
    seq: int | None  # the lane's outbox number; None for a journal line
    source: Source
    origin: str  # the topic, or "<file>:<line>"
    record: TransactionRecord
    text: str  # the record's JSON in the lane's own field order (stable for one record)


def _record(data: Any, origin: str) -> TransactionRecord:
    if not isinstance(data, dict):
        raise ClearingInputError(f"{origin}: the record is not a JSON object")
    try:
        return record_from_dict(data)
    except (LaneError, TypeError, ValueError, KeyError) as exc:
        raise ClearingInputError(f"{origin}: not a transaction record ({exc})") from exc


def _document(text: str | bytes, origin: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ClearingInputError(f"{origin}: not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ClearingInputError(f"{origin}: not a JSON object")
    return data


def from_message(payload: bytes, topic: str) -> Arrival:
    """A transaction message `{"idempotency_key", "seq", "record"}` published by a lane."""
    data = _document(payload, topic)
    record = _record(data.get("record"), topic)
    key, seq = data.get("idempotency_key"), data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ClearingInputError(f"{topic}: seq {seq!r} is not an outbox number")
    if key != record.idempotency_key:
        raise ClearingInputError(f"{topic}: idempotency_key {key!r} is not the record's "
                                 f"({record.idempotency_key})")
    return Arrival(key, seq, Source.MQTT, topic, record, record_to_json(record))


def from_journal_line(line: str, origin: str) -> Arrival | None:
    """A line of an exported lane journal; None for a line with nothing to clear (blank, or a
    `duplicate` or `open` entry)."""
    if not line.strip():
        return None
    data = _document(line, origin)
    state = data.get("journal_state", "closed")
    if state not in CLEARED_JOURNAL_STATES:
        return None
    if "record" in data and isinstance(data["record"], dict):
        return from_message(line.encode(), origin)  # a message captured as a line
    record = _record(data, origin)
    return Arrival(record.idempotency_key, None, Source.JOURNAL, origin, record,
                   record_to_json(record))
