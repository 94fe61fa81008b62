"""Group commit: the journal writes of every lane commit together, one fsync for many.

A write a lane must see durable before it goes on (an intent before its C6) is submitted
`urgent` or awaited with `durable()`: it commits at the end of the event-loop tick, with every
write pending. Other writes (updates, closes, refusals) hold no lane: they wait up to
`LINGER_S` to join the next commit, so that a quiet loop does not pay one fsync per write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from lane_engine.errors import JournalError, LaneError
from lane_engine.journal import SqliteJournal

JournalWrite = Callable[[SqliteJournal], object]

#: How long a write nobody waits for may stay uncommitted, waiting for an intent's commit to
#: join (our decision: at 1,000 vehicles/s an intent commits every millisecond or so, and a
#: close that is a few milliseconds late is published as late and, after a crash in that
#: window, recovered as UNRESOLVED, as a crash before the close would have it).
LINGER_S = 0.002


class GroupCommitter:
    """Collects journal writes and commits them together: at the end of the tick that has an
    urgent one, else `LINGER_S` after the first.

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
        self._this_tick = False  # a flush is scheduled at the end of this tick
        self._linger: asyncio.TimerHandle | None = None
        self.failure: LaneError | None = None
        self.commits = 0
        self.writes = 0
        #: Seconds the latest commit took (SQLite writes and fsync), for the metrics.
        self.last_commit_s = 0.0

    def submit(self, write: JournalWrite, *, urgent: bool = False) -> None:
        """Queue `write`: for the commit at the end of this tick when `urgent`, otherwise for
        the next commit, at the latest `LINGER_S` from now."""
        if self.failure is not None:
            raise self.failure
        self._pending.append(write)
        loop = asyncio.get_running_loop()
        if self._done is None:
            self._done = loop.create_future()
        if urgent:
            self._commit_this_tick(loop)
        elif self._linger is None and not self._this_tick:
            self._linger = loop.call_later(LINGER_S, self.flush)

    def _commit_this_tick(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._this_tick:
            self._this_tick = True
            loop.call_soon(self.flush)

    async def durable(self) -> None:
        """Return once everything submitted so far is committed (raises if the commit failed)."""
        if self._done is not None:
            if self._pending:
                self._commit_this_tick(asyncio.get_running_loop())
            await asyncio.shield(self._done)
        elif self.failure is not None:
            raise self.failure

    def flush(self) -> None:
        """Commit what is pending now (also called at shutdown, outside the tick)."""
        pending, self._pending = self._pending, []
        done, self._done = self._done, None
        self._this_tick = False
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if not pending:
            if done is not None and not done.done():
                done.set_result(None)
            return
        started = time.perf_counter()
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
        self.last_commit_s = time.perf_counter() - started
        self.commits += 1
        self.writes += len(pending)
        if done is not None and not done.done():
            done.set_result(None)
        self._on_commit()
