"""The lane's transaction journal: durable intents before C6, final records, recovery, outbox."""

from lane_engine.journal.api import (
    CloseResult,
    EntryState,
    Journal,
    JournalEntry,
    JournalFilter,
    OutboxEntry,
    may_supersede,
)
from lane_engine.journal.database import MEMORY
from lane_engine.journal.memory import MemoryJournal
from lane_engine.journal.store import SqliteJournal

__all__ = [
    "MEMORY",
    "CloseResult",
    "EntryState",
    "Journal",
    "JournalEntry",
    "JournalFilter",
    "MemoryJournal",
    "OutboxEntry",
    "SqliteJournal",
    "may_supersede",
]
