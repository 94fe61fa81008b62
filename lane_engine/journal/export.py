"""Journal entries as JSON Lines or CSV, written to a stream the caller opened.

Times are ISO 8601 with the lane's offset (`lane_engine.times.iso_time`). In CSV a yes/no field
is `true`/`false`, a missing value (`tac_verified` without an audit, `journal_duplicate_of`) is
empty and a list (`flags`) is its codes joined by `;`, empty when there are none.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable
from typing import Any, TextIO

from lane_engine.core.outcomes import TransactionRecord
from lane_engine.journal.api import JournalEntry
from lane_engine.journal.codec import record_to_dict
from lane_engine.times import iso_time

__all__ = ["JOURNAL_COLUMNS", "entry_to_dict", "write_csv", "write_jsonl"]

#: Bookkeeping columns after the record's own fields (prefixed so they never clash with one).
JOURNAL_COLUMNS = (
    "journal_state",
    "journal_opened_at",
    "journal_recorded_at",
    "journal_duplicate_of",
)


def entry_to_dict(entry: JournalEntry) -> dict[str, Any]:
    """The record's fields (enums by value) followed by the journal's bookkeeping."""
    return {
        **record_to_dict(entry.record),
        "journal_state": entry.state.value,
        "journal_opened_at": iso_time(entry.opened_at),
        "journal_recorded_at": iso_time(entry.recorded_at),
        "journal_duplicate_of": entry.duplicate_of,
    }


def write_jsonl(entries: Iterable[JournalEntry], stream: TextIO) -> int:
    """One JSON object per line; return the number written."""
    count = 0
    for entry in entries:
        stream.write(json.dumps(entry_to_dict(entry), ensure_ascii=False, sort_keys=False))
        stream.write("\n")
        count += 1
    return count


def write_csv(entries: Iterable[JournalEntry], stream: TextIO) -> int:
    """A header row, then one row per entry; return the number of entries written."""
    columns = [f.name for f in dataclasses.fields(TransactionRecord)] + list(JOURNAL_COLUMNS)
    writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    count = 0
    for entry in entries:
        writer.writerow({k: _csv_value(v) for k, v in entry_to_dict(entry).items()})
        count += 1
    return count


def _csv_value(value: Any) -> Any:
    """A field as a spreadsheet reads it (see the module's docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return value
