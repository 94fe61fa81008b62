"""The journal's outbox as the station link uses it while the writer thread owns the journal:
reads on a connection of their own (a WAL reader never waits for a commit in flight), and
publication marks committed with the lanes' next group."""

from __future__ import annotations

from lane_engine.aio.committer import GroupCommitter
from lane_engine.journal import MEMORY, OutboxEntry, SqliteJournal

__all__ = [
    "CommittedOutbox",
]


class CommittedOutbox:
    """What `MqttLink` drains: committed outbox entries, read without waiting for the writer,
    and marks queued into the group commit (no SQL on the event loop's journal connection).

    A mark is effective at once for this reader and durable with the next group commit; a crash
    before that publishes those entries again (the station keeps the latest by key, as ever).
    """

    def __init__(self, committer: GroupCommitter) -> None:
        self._committer = committer
        journal = committer.journal
        # ":memory:" has no second connection: its reads share the writer's (and its lock).
        self._reader = journal if journal.path == MEMORY else SqliteJournal(
            journal.path, create=False)
        self._marked = 0  # the highest sequence number marked published so far

    def outbox_batch(self, limit: int) -> list[OutboxEntry]:
        """The oldest committed entries not yet marked published, in commit order."""
        return self._reader.outbox_batch(limit, after=self._marked)

    def mark_published(self, up_to_seq: int) -> int:
        """Mark every entry up to `up_to_seq` published (committed with the next group);
        returns 0: the count is known only then."""
        self._marked = max(self._marked, up_to_seq)
        self._committer.submit(lambda journal: journal.mark_published(up_to_seq))
        return 0

    def pending_count(self) -> int:
        """Entries not yet published, as last committed (marks in flight still count)."""
        return self._reader.pending_count()

    def close(self) -> None:
        """Release the reading connection."""
        if self._reader is not self._committer.journal:
            self._reader.close_journal()
