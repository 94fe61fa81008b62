"""Group commit: urgent writes are handed to the writer thread at the end of the tick, others
join the next group; SQL and COMMIT run on the writer, one hand-off per group."""

from __future__ import annotations

import asyncio
import threading
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


async def test_sql_and_commit_run_on_the_writer_thread_one_hand_off_per_group(
        journal: SqliteJournal) -> None:
    threads: list[str] = []
    group = GroupCommitter(journal)
    for name in ("a", "b", "c"):
        group.submit(lambda j, name=name: threads.append(threading.current_thread().name),
                     urgent=True)
    await group.durable()
    assert threads == ["journal-writer"] * 3 and group.commits == 1
    group.close()


async def test_the_loop_serves_on_while_a_group_commits_and_later_writes_gather(
        journal: SqliteJournal) -> None:
    release = threading.Event()
    group = GroupCommitter(journal)
    group.submit(lambda j: release.wait(5), urgent=True)  # a slow fsync, as it were
    first = asyncio.ensure_future(group.durable())
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 20 and not first.done()  # the loop went on; the group is still committing
    seen: list[str] = []
    group.submit(note(seen, "intent 2"), urgent=True)
    group.submit(note(seen, "close 1"))
    second = asyncio.ensure_future(group.durable())
    release.set()
    await first
    await second
    assert seen == ["intent 2", "close 1"]
    assert (group.commits, group.writes) == (2, 3)  # the two writes went in one group
    group.close()


async def test_a_lane_waits_for_its_own_group_only(journal: SqliteJournal) -> None:
    release = threading.Event()
    group = GroupCommitter(journal)
    group.submit(lambda j: None, urgent=True)
    mine = asyncio.ensure_future(group.durable())
    await mine  # committed: a later slow group does not hold it
    group.submit(lambda j: release.wait(5), urgent=True)
    later = asyncio.ensure_future(group.durable())
    await asyncio.sleep(0.01)
    assert mine.done() and not later.done()
    release.set()
    await later
    group.close()


async def test_close_commits_what_is_left_and_stops_the_writer(journal: SqliteJournal,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.setattr(committer_module, "LINGER_S", 60.0)
    seen: list[str] = []
    writer: list[threading.Thread] = []
    group = GroupCommitter(journal)
    group.submit(lambda j: writer.append(threading.current_thread()), urgent=True)
    group.submit(note(seen, "intent"), urgent=True)
    await group.durable()
    group.submit(note(seen, "close"))  # lingering: nobody waits for it
    group.close()
    assert seen == ["intent", "close"] and group.commits == 2
    assert not writer[0].is_alive()
    with pytest.raises(JournalError, match="closed"):
        group.submit(note(seen, "late"))


async def test_without_the_writer_thread_a_group_commits_on_the_loop(
        journal: SqliteJournal) -> None:
    threads: list[str] = []
    group = GroupCommitter(journal, writer_thread=False)
    group.submit(lambda j: threads.append(threading.current_thread().name), urgent=True)
    await group.durable()
    assert threads == [threading.current_thread().name] and group.commits == 1
    group.close()
