"""The run's journal with group commit: writes gather in one transaction, which is committed
before any frame that follows an intent leaves (the C6 never precedes its durable intent) and
at the end of the run."""

from __future__ import annotations

from contextlib import AbstractContextManager

from lane_engine.core.outcomes import TransactionRecord
from lane_engine.journal import Journal


class GroupCommitJournal:
    """A journal (`SqliteJournal`, `MemoryJournal`) kept inside an open batch; `commit()` makes
    everything so far durable."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.commits = 0
        self._batch: AbstractContextManager[None] | None = None
        self._dirty = False

    def _begin(self) -> None:
        if self._batch is None:
            self._batch = self.journal.batch()
            self._batch.__enter__()

    def commit(self) -> None:
        """Commit the open batch, if it holds anything."""
        if self._batch is not None:
            batch, self._batch = self._batch, None
            batch.__exit__(None, None, None)
            if self._dirty:
                self.commits += 1
        self._dirty = False

    def open_intent(self, record: TransactionRecord) -> None:
        """Journal an intent (durable at the next `commit`)."""
        self._begin()
        self._dirty = True
        self.journal.open_intent(record)

    def update_intent(self, record: TransactionRecord) -> None:
        """Journal what an error B5 told about an open intent."""
        self._begin()
        self._dirty = True
        self.journal.update_intent(
            record.transaction_id, ctc=record.ctc,
            terminal_trans_serial=record.terminal_trans_serial,
            psam_terminal_number=record.psam_terminal_number, alg_flag=record.alg_flag,
            key_version=record.key_version, detail=record.detail,
        )

    def close(self, record: TransactionRecord) -> TransactionRecord:
        """Journal a final record; returns the record the journal holds (the first for a twin)."""
        self._begin()
        self._dirty = True
        return self.journal.close(record).record

    def record_refusal(self, record: TransactionRecord) -> None:
        """Journal a refusal."""
        self._begin()
        self._dirty = True
        self.journal.record_refusal(record)

    def finish(self) -> None:
        """Commit and release the database."""
        self.commit()
        self.journal.close_journal()
