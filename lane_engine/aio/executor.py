"""Executes a lane's effects in order: journal writes, frames to the RSU, events to the bus.

The order of the core's effects is kept, with one wait: a frame that follows an `OpenIntent`
leaves only once the intent is committed (the C6 never precedes its durable intent).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from lane_engine.aio.bus import EventBus, FrameSent, LaneEvent
from lane_engine.aio.clock import Clock
from lane_engine.aio.committer import GroupCommitter
from lane_engine.core.effects import (
    CloseTransaction,
    Effect,
    OpenIntent,
    RecordRefusal,
    SendFrame,
    UpdateIntent,
)
from lane_engine.core.outcomes import TransactionRecord
from lane_engine.journal import SqliteJournal
from protocols.frames import LaneFrame

__all__ = [
    "EffectExecutor",
    "FrameSink",
]


class FrameSink(Protocol):
    """Where frames for the RSU go: one frame, one write."""

    def send(self, frame: LaneFrame) -> None: ...


def _open(record: TransactionRecord) -> Callable[[SqliteJournal], object]:
    return lambda journal: journal.open_intent(record)


def _update(record: TransactionRecord) -> Callable[[SqliteJournal], object]:
    return lambda journal: journal.update_intent(
        record.transaction_id, ctc=record.ctc, terminal_trans_serial=record.terminal_trans_serial,
        psam_terminal_number=record.psam_terminal_number, alg_flag=record.alg_flag,
        key_version=record.key_version, detail=record.detail,
    )


def _close(record: TransactionRecord) -> Callable[[SqliteJournal], object]:
    return lambda journal: journal.close(record)


def _refusal(record: TransactionRecord) -> Callable[[SqliteJournal], object]:
    return lambda journal: journal.record_refusal(record)


_JOURNAL_WRITES = {
    OpenIntent: _open, UpdateIntent: _update, CloseTransaction: _close, RecordRefusal: _refusal,
}


class EffectExecutor:
    """Runs the effects of one lane against the shared journal, its RSU link and the bus."""

    def __init__(self, lane: int, committer: GroupCommitter, bus: EventBus, clock: Clock) -> None:
        self.lane = lane
        self._committer = committer
        self._bus = bus
        self._clock = clock
        #: Whether frames in and out are published on the bus (`EventBus.frames`).
        self.frame_events = bus.frames
        self.frames_sent = 0
        self.frames_dropped = 0

    async def execute(self, effects: Sequence[Effect], sink: FrameSink | None) -> int:
        """Execute `effects` in order; frames go to `sink` (dropped when None, i.e. the RSU is
        gone). Returns the number of frames sent."""
        sent, resume = self.start(effects, sink)
        if resume is None:
            return sent
        return await self.finish(effects, sink, sent, resume)

    def start(self, effects: Sequence[Effect], sink: FrameSink | None
              ) -> tuple[int, int | None]:
        """Execute `effects` up to the first frame that must wait for an intent to be durable:
        (frames sent, the index to go on from with `finish`, or None when all are done). Most
        frames need no wait, and then no coroutine is made for them."""
        return self._run(effects, sink, 0)

    async def finish(self, effects: Sequence[Effect], sink: FrameSink | None, sent: int,
                     resume: int | None) -> int:
        """Wait for the intents and execute the rest of `effects` from `resume` (see `start`);
        returns every frame sent."""
        while resume is not None:
            await self._committer.durable()
            more, resume = self._run(effects, sink, resume)
            sent += more
        return sent

    def _run(self, effects: Sequence[Effect], sink: FrameSink | None, first: int
             ) -> tuple[int, int | None]:
        sent = 0
        intent_waiting = False
        for index in range(first, len(effects)):
            effect = effects[index]
            kind = type(effect)
            if kind is SendFrame:
                if intent_waiting:
                    self.frames_sent += sent
                    return sent, index
                if sink is None:
                    self.frames_dropped += 1
                    continue
                sink.send(effect.frame)  # type: ignore[union-attr]
                sent += 1
                if self.frame_events:
                    self.emit(FrameSent(effect.frame))  # type: ignore[union-attr]
                continue
            write = _JOURNAL_WRITES.get(kind)
            if write is not None:
                intent = kind is OpenIntent
                self._committer.submit(write(effect.record),  # type: ignore[union-attr]
                                       urgent=intent)
                intent_waiting = intent_waiting or intent
                continue
            self.emit(effect)
        self.frames_sent += sent
        return sent, None

    def emit(self, event: object, at: float | None = None) -> None:
        """Publish `event` on the bus as this lane's, stamped `at` (default: the clock, now)."""
        self._bus.publish(LaneEvent(self.lane, self._clock.time() if at is None else at, event))
