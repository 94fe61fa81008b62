"""Group commit on the journal's writer thread: the event loop goes on during a commit, writes
queued meanwhile commit together in the next one, a failure is final, shutdown commits the rest;
the station link's outbox reads beside it and marks through it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lane_engine.aio.committer import GroupCommitter
from lane_engine.aio.outbox import CommittedOutbox
from lane_engine.errors import JournalError, LaneError
from lane_engine.journal import MEMORY, SqliteJournal
from tests.lane_engine.journal.journal_records import debited, intent


class Gate:
    """A journal write that holds the writer thread until the test opens it."""

    def __init__(self) -> None:
        self.entered, self.opened = threading.Event(), threading.Event()
        self.thread: int | None = None

    def __call__(self, journal: SqliteJournal) -> None:
        self.thread = threading.get_ident()
        self.entered.set()
        assert self.opened.wait(10), "the test never opened the gate"

    async def reached(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 10)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[SqliteJournal]:
    with SqliteJournal(tmp_path / "journal.db") as opened:
        yield opened


def open_ids(journal: SqliteJournal) -> list[str]:
    return [record.transaction_id for record in journal.open_intents()]


async def test_the_loop_goes_on_while_a_commit_runs_on_the_writer_thread(
    journal: SqliteJournal,
) -> None:
    committer, gate = GroupCommitter(journal), Gate()
    committer.submit(lambda j: j.open_intent(intent(1)))
    committer.submit(gate)
    waiting = asyncio.ensure_future(committer.durable())
    await gate.reached()
    ticks = 0
    for _ in range(20):  # the loop runs other work while the commit is held
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 20 and not waiting.done()
    assert gate.thread != threading.get_ident()
    gate.opened.set()
    await asyncio.wait_for(waiting, 10)
    assert open_ids(journal) == ["L01-000001"] and committer.commits == 1
    committer.close()


async def test_writes_queued_during_a_commit_go_together_into_the_next(
    journal: SqliteJournal,
) -> None:
    committed: list[int] = []
    committer, gate = GroupCommitter(journal), Gate()
    committer._on_commit = lambda: committed.append(committer.writes)
    committer.submit(gate)
    await gate.reached()
    for serial in (1, 2, 3):  # three lanes while the first commit is in flight
        committer.submit(lambda j, serial=serial: j.open_intent(intent(serial)))  # type: ignore[misc]
    waiting = asyncio.ensure_future(committer.durable())
    await asyncio.sleep(0)
    assert committer.commits == 0 and not waiting.done()
    gate.opened.set()
    await asyncio.wait_for(waiting, 10)
    assert committed == [1, 4]  # two commits: the gate alone, then the three intents
    assert open_ids(journal) == ["L01-000001", "L01-000002", "L01-000003"]
    committer.close()


async def test_durable_returns_at_once_when_nothing_is_waiting(journal: SqliteJournal) -> None:
    committer = GroupCommitter(journal)
    await asyncio.wait_for(committer.durable(), 1)
    committer.submit(lambda j: j.open_intent(intent(1)))
    await committer.flush()
    assert open_ids(journal) == ["L01-000001"]
    await asyncio.wait_for(committer.durable(), 1)
    committer.close()


async def test_a_failed_commit_is_final_and_reported_once(journal: SqliteJournal) -> None:
    failures: list[LaneError] = []
    committer, gate = GroupCommitter(journal, on_failure=failures.append), Gate()
    committer.submit(gate)
    committer.submit(lambda j: j.open_intent(intent(1)).missing)  # type: ignore[func-returns-value]
    await gate.reached()
    committer.submit(lambda j: j.open_intent(intent(2)))  # queued for the next commit
    waiting = asyncio.ensure_future(committer.durable())
    gate.opened.set()
    with pytest.raises(JournalError):
        await asyncio.wait_for(waiting, 10)
    assert len(failures) == 1 and committer.failure is failures[0]
    assert isinstance(failures[0].__cause__, AttributeError)
    assert open_ids(journal) == []  # the failed group rolled back, the next never ran
    with pytest.raises(JournalError):
        committer.submit(lambda j: j.open_intent(intent(3)))
    with pytest.raises(JournalError):
        await committer.durable()
    committer.close()
    assert len(failures) == 1 and open_ids(journal) == []


async def test_close_waits_for_the_running_commit_and_commits_what_is_queued(
    journal: SqliteJournal,
) -> None:
    committer, gate = GroupCommitter(journal), Gate()
    committer.submit(gate)
    await gate.reached()
    committer.submit(lambda j: j.open_intent(intent(1)))
    waiting = asyncio.ensure_future(committer.durable())
    threading.Timer(0.05, gate.opened.set).start()
    committer.close()  # blocks until the gate opens, then commits the intent here
    assert open_ids(journal) == ["L01-000001"] and committer.commits == 2
    await asyncio.wait_for(waiting, 1)
    with pytest.raises(JournalError):
        committer.submit(lambda j: j.open_intent(intent(2)))
    committer.close()


async def test_a_memory_journal_commits_from_the_writer_thread_too() -> None:
    with SqliteJournal(MEMORY) as journal:
        committer = GroupCommitter(journal)
        for serial in range(1, 6):
            committer.submit(lambda j, serial=serial: j.open_intent(intent(serial)))  # type: ignore[misc]
        await committer.flush()
        assert len(open_ids(journal)) == 5 and committer.commits == 1
        committer.close()


async def test_the_outbox_reads_without_waiting_and_marks_with_the_next_group(
    journal: SqliteJournal,
) -> None:
    committer, gate = GroupCommitter(journal), Gate()
    for serial in (1, 2, 3):
        committer.submit(lambda j, serial=serial: j.close(debited(serial)))  # type: ignore[misc]
    await committer.flush()
    outbox = CommittedOutbox(committer)
    first = outbox.outbox_batch(2)
    assert [e.record.transaction_id for e in first] == ["L01-000001", "L01-000002"]
    committer.submit(gate)
    await gate.reached()
    # The writer thread holds the journal: the outbox reads on its own connection meanwhile.
    outbox.mark_published(first[-1].seq)
    assert [e.record.transaction_id for e in outbox.outbox_batch(10)] == ["L01-000003"]
    assert journal.path != MEMORY
    gate.opened.set()
    await committer.flush()
    assert committer.failure is None and journal.pending_count() == 1
    outbox.close()
    committer.close()
