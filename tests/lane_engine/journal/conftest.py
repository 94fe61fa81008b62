"""Journals for the tests: durable on a temporary file, and in memory, with a step clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lane_engine.journal import MEMORY, SqliteJournal


class StepClock:
    """A journal clock that advances one second per reading."""

    def __init__(self, start: float = 1_714_521_600.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture(params=["file", "memory"])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteJournal]:
    path = tmp_path / "journal.sqlite3" if request.param == "file" else MEMORY
    with SqliteJournal(path, clock=StepClock()) as opened:
        yield opened
