"""The journals the behavioural tests run against, on a step clock (also used by conftest)."""

from __future__ import annotations

from pathlib import Path

from lane_engine.journal import MEMORY, Journal, MemoryJournal, SqliteJournal

#: SqliteJournal on a file and on ":memory:", and MemoryJournal.
JOURNAL_KINDS = ("sqlite-file", "sqlite-memory", "memory")


class StepClock:
    """A journal clock that advances one second per reading."""

    def __init__(self, start: float = 1_714_521_600.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def open_journal(kind: str, directory: Path, clock: StepClock | None = None) -> Journal:
    """A fresh journal of `kind` (one of `JOURNAL_KINDS`)."""
    clock = clock or StepClock()
    if kind == "memory":
        return MemoryJournal(clock=clock)
    path = directory / "journal.sqlite3" if kind == "sqlite-file" else MEMORY
    return SqliteJournal(path, clock=clock)
