"""Group commit on the journal's own thread: the event loop never waits for SQLite or fsync.

Writes submitted while no commit is running start one at the end of the event-loop tick; writes
submitted while one is running (any lane) all go into the next. A lane that must not go on before
its write is durable (an intent before its C6) awaits `durable()` while the loop serves the other
lanes; every other write commits without holding its lane.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable

from lane_engine.errors import JournalError, LaneError
from lane_engine.journal import SqliteJournal

JournalWrite = Callable[[SqliteJournal], object]
_Running = tuple["concurrent.futures.Future[None]", int, "asyncio.Future[None] | None"]


class GroupCommitter:
    """Commits queued journal writes, one transaction per group, on a single writer thread.

    While the runtime runs, that thread is the only one writing the journal (the journal's lock
    keeps other readers correct). A failed commit is fatal for the process (nothing after it may
    claim durability): `on_failure` is called and every later write fails too.
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
        self._writer = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="journal-commit")
        self._pending: list[JournalWrite] = []
        self._pending_done: asyncio.Future[None] | None = None  # the next group's commit
        #: The commit on the writer thread: its future, number of writes and waiters' future.
        self._running: _Running | None = None
        self._closed = False
        self.failure: LaneError | None = None
        self.commits = 0
        self.writes = 0

    def submit(self, write: JournalWrite) -> None:
        """Queue `write` for the next group commit (at the end of this tick, or as soon as the
        commit now running ends)."""
        if self.failure is not None:
            raise self.failure
        if self._closed:
            raise JournalError("journal write after the committer closed")
        self._pending.append(write)
        if self._pending_done is None:
            loop = asyncio.get_running_loop()
            self._pending_done = loop.create_future()
            if self._running is None:
                loop.call_soon(self._start)

    async def durable(self) -> None:
        """Return once everything submitted so far is committed (raises if the commit failed)."""
        # Groups commit one after the other, so the newest group's commit covers every write.
        done = self._pending_done or (self._running[2] if self._running else None)
        if done is not None:
            await asyncio.shield(done)
        elif self.failure is not None:
            raise self.failure

    async def flush(self) -> None:
        """Commit everything submitted so far and wait for it (raises if a commit failed)."""
        self._start()
        await self.durable()

    def close(self) -> None:
        """Stop the writer thread after the commit it is running, then commit what is still
        queued on the calling thread (blocking). For shutdown; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        self._writer.shutdown(wait=True)
        if self._running is not None:
            self._finished(*self._running)
        writes, self._pending = self._pending, []
        done, self._pending_done = self._pending_done, None
        if self.failure is not None:
            _settle(done, self.failure)
            return
        try:
            self._commit(writes)
        except Exception as exc:  # any fault: nothing after it may claim durability
            self._fail(exc, done)
            return
        self._committed(len(writes), done)

    def _start(self) -> None:
        """Hand the queued group to the writer thread unless a commit is running."""
        if self._running is not None or not self._pending or self._closed or self.failure:
            return
        writes, self._pending = self._pending, []
        done, self._pending_done = self._pending_done, None
        commit = self._writer.submit(self._commit, writes)
        running = self._running = (commit, len(writes), done)
        loop = asyncio.get_running_loop()

        def report(_: object) -> None:  # on the writer thread
            with contextlib.suppress(RuntimeError):  # the loop is gone: `close()` settles it
                loop.call_soon_threadsafe(self._finished, *running)

        commit.add_done_callback(report)

    def _commit(self, writes: list[JournalWrite]) -> None:
        """On the writer thread: every write of the group in one transaction."""
        with self.journal.batch():
            for write in writes:
                write(self.journal)

    def _finished(self, commit: concurrent.futures.Future[None], count: int,
                  done: asyncio.Future[None] | None) -> None:
        """A group's commit ended (on the event loop, or in `close()`)."""
        if self._running is None or self._running[0] is not commit:
            return  # already settled by `close()`
        self._running = None
        error = commit.exception()
        if error is not None:
            self._fail(error, done)
            return
        self._committed(count, done)
        self._start()  # the writes that gathered meanwhile

    def _committed(self, count: int, done: asyncio.Future[None] | None) -> None:
        self.commits += 1
        self.writes += count
        _settle(done, None)
        self._on_commit()

    def _fail(self, error: BaseException, done: asyncio.Future[None] | None) -> None:
        if self.failure is None:
            if isinstance(error, LaneError):
                self.failure = error
            else:
                self.failure = JournalError(f"journal write failed: {error!r}")
                self.failure.__cause__ = error
            first = True
        else:
            first = False
        # The queued writes will never commit: whoever waits for them learns of the failure.
        for waiting in (done, self._pending_done):
            _settle(waiting, self.failure)
        self._pending, self._pending_done = [], None
        if first:
            self._on_failure(self.failure)


def _settle(done: asyncio.Future[None] | None, failure: LaneError | None) -> None:
    if done is None or done.done():
        return
    if failure is None:
        done.set_result(None)
        return
    done.set_exception(failure)
    done.exception()  # retrieved here: the failure is reported through on_failure
