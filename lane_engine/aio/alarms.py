"""Which lane events raise an alarm an operator must act on, and when it is cleared.

An alarm with a state (RSU down, RSU fault, PSAM error) is raised once, when the fault begins,
and cleared once, when the lane shows it is over; one without (journal error, centre update
refused) is raised each time. Alarms go on the bus as events (`Alarm`) and, with a broker, to
the plaza's `alarms` topic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lane_engine.aio.bus import (
    CentreUpdate,
    JournalFailed,
    LaneEvent,
    RsuConnected,
    RsuDisconnected,
)
from lane_engine.core.effects import RsuFaulted, RsuReady, TransactionCompleted, TransactionFailed
from lane_engine.core.outcomes import ReasonCode
from lane_engine.station.events import Alarm, AlarmKind

__all__ = ["AlarmBook"]


class AlarmBook:
    """A bus subscriber that turns lane events into alarms and hands each to `emit`."""

    def __init__(self, emit: Callable[[Alarm], None]) -> None:
        self._emit = emit
        self.raised: set[tuple[AlarmKind, int | None]] = set()
        # Called for every event of every lane: one dict lookup for the events that matter not.
        self._handlers: dict[type, Callable[[int | None, Any], None]] = {
            RsuDisconnected: self._rsu_disconnected,
            RsuConnected: lambda lane, _: self._clear(AlarmKind.RSU_DOWN, lane, "connected"),
            RsuFaulted: lambda lane, e: self._raise(AlarmKind.RSU_FAULT, lane,
                                                    f"B0 RSUStatus {e.rsu_status:02X}h"),
            RsuReady: lambda lane, _: self._clear(AlarmKind.RSU_FAULT, lane, "ready"),
            TransactionFailed: self._transaction_failed,
            TransactionCompleted: lambda lane, _: self._clear(AlarmKind.PSAM_ERROR, lane,
                                                              "a purchase went through"),
            JournalFailed: lambda lane, e: self._emit(Alarm(AlarmKind.JOURNAL_ERROR, lane,
                                                            e.detail)),
            CentreUpdate: self._centre_update,
        }

    def __call__(self, event: LaneEvent) -> None:
        handler = self._handlers.get(type(event.event))
        if handler is not None:
            handler(event.lane, event.event)

    def _rsu_disconnected(self, lane: int | None, event: RsuDisconnected) -> None:
        if event.retry_in_s is not None:  # None: the plaza is stopping
            self._raise(AlarmKind.RSU_DOWN, lane, event.detail)

    def _transaction_failed(self, lane: int | None, event: TransactionFailed) -> None:
        if event.reason is ReasonCode.PSAM_ERROR:
            self._raise(AlarmKind.PSAM_ERROR, lane,
                        f"purchase {event.record.transaction_id} failed on the PSAM (B5 06h)")

    def _centre_update(self, lane: int | None, event: CentreUpdate) -> None:
        if not event.applied:
            detail = event.detail
            if not detail.startswith(event.kind):
                detail = f"{event.kind}: {detail}"
            self._emit(Alarm(AlarmKind.CENTRE_UPDATE_REFUSED, lane, detail))

    def _raise(self, kind: AlarmKind, lane: int | None, detail: str) -> None:
        if (kind, lane) not in self.raised:
            self.raised.add((kind, lane))
            self._emit(Alarm(kind, lane, detail))

    def _clear(self, kind: AlarmKind, lane: int | None, detail: str) -> None:
        if (kind, lane) in self.raised:
            self.raised.discard((kind, lane))
            self._emit(Alarm(kind, lane, detail, cleared=True))
