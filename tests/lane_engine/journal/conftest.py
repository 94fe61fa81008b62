"""Journals for the tests, with a step clock: `SqliteJournal` durable on a temporary file and on
":memory:", and `MemoryJournal`; the behavioural tests run against every one of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from journals import JOURNAL_KINDS, open_journal

from lane_engine.journal import Journal


@pytest.fixture(params=JOURNAL_KINDS)
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    opened = open_journal(request.param, tmp_path)
    try:
        yield opened
    finally:
        opened.close_journal()
