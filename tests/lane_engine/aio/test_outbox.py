"""The station link's outbox while the writer thread owns the journal: committed entries read on
a connection of their own, marks committed with the next group."""

from __future__ import annotations

from pathlib import Path

from lane_engine.aio.committer import GroupCommitter
from lane_engine.aio.outbox import CommittedOutbox
from lane_engine.journal import SqliteJournal
from tests.lane_engine.journal.journal_records import debited, intent


async def test_entries_are_read_once_committed_and_marks_go_with_the_next_group(
        tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "journal.sqlite3")
    committer = GroupCommitter(journal)
    outbox = CommittedOutbox(committer)
    try:
        for n in (1, 2, 3):
            committer.submit(lambda j, n=n: j.open_intent(intent(n)), urgent=True)
            committer.submit(lambda j, n=n: j.close(debited(n)))
        assert outbox.outbox_batch(10) == []  # nothing committed yet
        await committer.drained()
        batch = outbox.outbox_batch(10)
        assert [e.record.transaction_id for e in batch] == ["L01-000001", "L01-000002",
                                                           "L01-000003"]
        outbox.mark_published(batch[1].seq)
        # Effective at once for the reader, before the mark is committed:
        assert [e.record.transaction_id for e in outbox.outbox_batch(10)] == ["L01-000003"]
        await committer.drained()
        assert outbox.pending_count() == 1
    finally:
        committer.close()
        outbox.close()
        journal.close_journal()
    reopened = SqliteJournal(tmp_path / "journal.sqlite3", create=False)
    try:
        assert [e.record.transaction_id for e in reopened.outbox_batch(10)] == ["L01-000003"]
    finally:
        reopened.close_journal()
