"""Group commit: the journal writes of every lane in one event-loop tick commit together.

A lane that must not go on before its write is durable (an intent before its C6) awaits
`durable()`; every other write is committed at the end of the tick without holding the lane.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from lane_engine.errors import JournalError, LaneError
from lane_engine.journal import SqliteJournal

JournalWrite = Callable[[SqliteJournal], object]


class GroupCommitter:
    """Collects journal writes and commits them in one transaction per event-loop tick.

    A failed commit is fatal for the process (nothing after it may claim durability):
    `on_failure` is called and every later write fails too.
    """

    def __init__(
        self,
        journal: SqliteJournal,
        *,
        on_commit: Callable[[], None] = lambda: None,
        on_failure: Callable[[LaneError], None] = lambda exc: None,
    ) -> None:
        self.journal = journal
        self._on_commit = on_commit
        self._on_failure = on_failure
        self._pending: list[JournalWrite] = []
        self._done: asyncio.Future[None] | None = None
        self.failure: LaneError | None = None
        self.commits = 0
        self.writes = 0

    def submit(self, write: JournalWrite) -> None:
        """Queue `write` for the commit at the end of this tick."""
        if self.failure is not None:
            raise self.failure
        self._pending.append(write)
        if self._done is None:
            loop = asyncio.get_running_loop()
            self._done = loop.create_future()
            loop.call_soon(self.flush)

    async def durable(self) -> None:
        """Return once everything submitted so far is committed (raises if the commit failed)."""
        if self._done is not None:
            await asyncio.shield(self._done)
        elif self.failure is not None:
            raise self.failure

    def flush(self) -> None:
        """Commit what is pending now (also called at shutdown, outside the tick)."""
        pending, self._pending = self._pending, []
        done, self._done = self._done, None
        if not pending:
            if done is not None and not done.done():
                done.set_result(None)
            return
        try:
            with self.journal.batch():
                for write in pending:
                    write(self.journal)
        except Exception as exc:  # any fault: nothing after it may claim durability
            failure = exc if isinstance(exc, LaneError) else JournalError(
                f"journal write failed: {exc!r}")
            self.failure = failure
            if done is not None and not done.done():
                done.set_exception(failure)
                done.exception()  # retrieved here: the failure is reported through on_failure
            self._on_failure(failure)
            return
        self.commits += 1
        self.writes += len(pending)
        if done is not None and not done.done():
            done.set_result(None)
        self._on_commit()
