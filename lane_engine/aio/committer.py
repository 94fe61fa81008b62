"""Group commit on one writer thread: the journal writes of every lane commit together, one
fsync for many, and the event loop never runs SQL or waits for the disk.

A write a lane must see durable before it goes on (an intent before its C6) is submitted
`urgent` or awaited with `durable()`: its group is handed to the writer at the end of the
event-loop tick. Other writes (updates, closes, refusals) hold no lane: they wait up to
`LINGER_S` to join the next group. A group is handed over once (the whole list of its writes);
the writer thread runs its SQL and its COMMIT while the loop goes on reading and answering the
other lanes, and writes submitted meanwhile gather into the next group, handed over as soon as
the running one is committed. A lane waits only for the group holding its own intent.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lane_engine.errors import JournalError, LaneError
from lane_engine.journal import SqliteJournal

__all__ = [
    "LINGER_S",
    "GroupCommitter",
    "JournalWrite",
]

JournalWrite = Callable[[SqliteJournal], object]

#: How long a write nobody waits for may stay uncommitted, waiting for an intent's commit to
#: join (our decision: at 1,000 vehicles/s an intent commits every millisecond or so, and a
#: close that is a few milliseconds late is published as late and, after a crash in that
#: window, recovered as UNRESOLVED, as a crash before the close would have it).
LINGER_S = 0.002


@dataclass(slots=True)
class _Group:
    """The writes of one commit, the future its waiters await (on the event loop) and, once
    the writer thread is done with it, how it went."""

    writes: list[JournalWrite]
    done: asyncio.Future[None] | None
    finished: bool = False
    error: BaseException | None = None
    seconds: float = 0.0  # how long its SQL and COMMIT took on the writer thread


class GroupCommitter:
    """Collects journal writes into groups and commits each group, SQL and COMMIT, on a single
    writer thread: at the end of the tick that has an urgent write, else `LINGER_S` after the
    first write, or once the group before it is committed.

    While it runs, the writer thread is the only one writing the journal. A failed commit is
    fatal for the process (nothing after it may claim durability): `on_failure` is called and
    every later write fails too. `close()` stops the thread and commits what is left.
    """

    def __init__(
        self,
        journal: SqliteJournal,
        *,
        on_commit: Callable[[], None] = lambda: None,
        on_failure: Callable[[LaneError], None] = lambda exc: None,
        writer_thread: bool = True,
    ) -> None:
        self.journal = journal
        #: False: each group is committed on the event loop when handed over (the loop waits
        #: for the fsync; no thread, no hand-off), for comparison and for machines where that
        #: measures better.
        self.writer_thread = writer_thread
        self._on_commit = on_commit
        self._on_failure = on_failure
        self._pending: list[JournalWrite] = []
        self._pending_done: asyncio.Future[None] | None = None  # the next group's waiters
        self._running: _Group | None = None  # the group on the writer thread
        self._this_tick = False  # a hand-off is scheduled at the end of this tick
        self._linger: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._groups: queue.SimpleQueue[_Group | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.failure: LaneError | None = None
        self.commits = 0
        self.writes = 0
        #: Seconds the latest commit took (SQLite writes and fsync), for the metrics.
        self.last_commit_s = 0.0

    # ------------------------------------------------------------ the event loop's side

    def submit(self, write: JournalWrite, *, urgent: bool = False) -> None:
        """Queue `write`: for the group handed over at the end of this tick when `urgent`,
        otherwise for the next group, at the latest `LINGER_S` from now."""
        if self.failure is not None:
            raise self.failure
        if self._closed:
            raise JournalError("journal write after the group committer closed")
        self._pending.append(write)
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        if self._pending_done is None:
            self._pending_done = loop.create_future()
        if urgent:
            self._hand_off_this_tick(loop)
        elif self._linger is None and not self._this_tick:
            self._linger = loop.call_later(LINGER_S, self.flush)

    def _hand_off_this_tick(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._this_tick:
            self._this_tick = True
            loop.call_soon(self.flush)

    async def durable(self) -> None:
        """Return once everything submitted so far is committed (raises if a commit failed)."""
        # Groups commit one after the other: the newest group's commit covers every write.
        if self._pending_done is not None:
            if self._pending and self._running is None:
                self._hand_off_this_tick(asyncio.get_running_loop())
            await asyncio.shield(self._pending_done)
        elif self._running is not None and self._running.done is not None:
            await asyncio.shield(self._running.done)
        elif self.failure is not None:
            raise self.failure

    def flush(self) -> None:
        """Hand what is pending to the writer thread now, unless a group is being committed
        (then it follows that one)."""
        self._this_tick = False
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if (self._running is not None or not self._pending or self.failure is not None
                or self._closed):
            return
        group = self._running = _Group(self._pending, self._pending_done)
        self._pending, self._pending_done = [], None
        if not self.writer_thread:
            started = time.perf_counter()
            group.error = self._commit(group.writes)
            group.seconds = time.perf_counter() - started
            group.finished = True
            self._finished(group)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._write_groups, name="journal-writer",
                                            daemon=True)
            self._thread.start()
        self._groups.put(group)

    async def drained(self) -> None:
        """Hand over what is pending and return once everything is committed."""
        self.flush()
        await self.durable()

    def _finished(self, group: _Group) -> None:
        """On the event loop (or in `close()`): the writer thread is done with `group`."""
        if self._running is not group:
            return  # settled already by `close()`
        self._running = None
        if group.error is not None:
            self._fail(group.error, group.done)
            return
        self.last_commit_s = group.seconds
        self._committed(len(group.writes), group.done)
        if self._pending:
            self.flush()  # what gathered while it was committed: the next group

    # ------------------------------------------------------------ the writer thread

    def _write_groups(self) -> None:
        while (group := self._groups.get()) is not None:
            started = time.perf_counter()
            group.error = self._commit(group.writes)
            group.seconds = time.perf_counter() - started
            group.finished = True
            loop = self._loop
            try:
                assert loop is not None
                loop.call_soon_threadsafe(self._finished, group)
            except RuntimeError:  # the loop is closed: `close()` settles the group
                pass

    def _commit(self, writes: list[JournalWrite]) -> BaseException | None:
        try:
            with self.journal.batch():
                for write in writes:
                    write(self.journal)
        except Exception as exc:  # any fault: nothing after it may claim durability
            return exc
        return None

    # ------------------------------------------------------------ shutdown

    def close(self) -> None:
        """Stop the writer thread after the groups handed to it, then commit whatever is still
        queued on the calling thread (blocking). For shutdown; a second call is a no-op."""
        if self._closed:
            return
        self._closed = True
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if self._thread is not None:
            self._groups.put(None)
            self._thread.join()  # every group handed over is finished now
        if self._running is not None:
            self._finished(self._running)
        left, self._pending = self._pending, []
        done, self._pending_done = self._pending_done, None
        if self.failure is not None:
            _settle(done, self.failure)
            return
        if not left:
            _settle(done, None)
            return
        started = time.perf_counter()
        error = self._commit(left)
        if error is not None:
            self._fail(error, done)
            return
        self.last_commit_s = time.perf_counter() - started
        self._committed(len(left), done)

    # ------------------------------------------------------------ outcomes

    def _committed(self, count: int, done: asyncio.Future[None] | None) -> None:
        self.commits += 1
        self.writes += count
        _settle(done, None)
        self._on_commit()

    def _fail(self, error: BaseException, done: asyncio.Future[None] | None) -> None:
        first = self.failure is None
        if first:
            self.failure = error if isinstance(error, LaneError) else JournalError(
                f"journal write failed: {error!r}")
            if self.failure is not error:
                self.failure.__cause__ = error
        assert self.failure is not None
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
