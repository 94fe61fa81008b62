"""Group commit: urgent writes commit at the end of the tick, others join the next commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from lane_engine.aio import committer as committer_module
from lane_engine.aio.committer import GroupCommitter
from lane_engine.errors import JournalError
from lane_engine.journal import SqliteJournal


@pytest.fixture
def journal() -> Iterator[SqliteJournal]:
    opened = SqliteJournal(":memory:")
    try:
        yield opened
    finally:
        opened.close_journal()


def note(seen: list[str], name: str) -> committer_module.JournalWrite:
    return lambda journal: seen.append(name)


async def test_an_urgent_write_commits_with_the_writes_waiting_before_it(
        journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(committer_module, "LINGER_S", 60.0)  # the linger never ends here
    seen: list[str] = []
    group = GroupCommitter(journal)
    group.submit(note(seen, "close"))
    await asyncio.sleep(0)
    assert (seen, group.commits) == ([], 0)
    group.submit(note(seen, "intent"), urgent=True)
    await group.durable()
    assert (seen, group.commits, group.writes) == (["close", "intent"], 1, 2)


async def test_durable_commits_lingering_writes_at_the_end_of_the_tick(
        journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(committer_module, "LINGER_S", 60.0)
    seen: list[str] = []
    group = GroupCommitter(journal)
    group.submit(note(seen, "update"))
    await asyncio.wait_for(group.durable(), 5.0)
    assert (seen, group.commits) == (["update"], 1)


async def test_a_write_nobody_waits_for_commits_after_the_linger(
        journal: SqliteJournal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(committer_module, "LINGER_S", 0.001)
    committed = asyncio.Event()
    seen: list[str] = []
    group = GroupCommitter(journal, on_commit=committed.set)
    group.submit(note(seen, "refusal"))
    group.submit(note(seen, "close"))
    await asyncio.wait_for(committed.wait(), 5.0)
    assert (seen, group.commits, group.writes) == (["refusal", "close"], 1, 2)


async def test_a_failed_commit_fails_the_waiters_and_every_later_write(
        journal: SqliteJournal) -> None:
    failures: list[Exception] = []

    def broken(journal: SqliteJournal) -> object:
        raise RuntimeError("disk gone")

    group = GroupCommitter(journal, on_failure=failures.append)
    group.submit(broken, urgent=True)
    with pytest.raises(JournalError):
        await group.durable()
    assert len(failures) == 1
    with pytest.raises(JournalError):
        group.submit(note([], "later"))
