"""Alarms: raised once when a fault begins, cleared once when it is over; one-shot for the
journal and refused centre updates."""

from __future__ import annotations

import dataclasses

from lane_engine.aio.alarms import AlarmBook
from lane_engine.aio.bus import (
    CentreUpdate,
    JournalFailed,
    LaneEvent,
    RsuConnected,
    RsuDisconnected,
)
from lane_engine.core.effects import (
    ObuLost,
    RsuFaulted,
    RsuReady,
    TransactionCompleted,
    TransactionFailed,
)
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.station.events import Alarm, AlarmKind
from tests.lane_engine.journal.journal_records import debited, intent

PSAM_FAILED = dataclasses.replace(intent(1), outcome=Outcome.NOT_DEBITED,
                                  reason=ReasonCode.PSAM_ERROR)


def _alarms(*events: tuple[int | None, object]) -> list[Alarm]:
    raised: list[Alarm] = []
    book = AlarmBook(raised.append)
    for lane, event in events:
        book(LaneEvent(lane, 0.0, event))
    return raised


def test_an_rsu_outage_is_one_alarm_and_one_clearance() -> None:
    alarms = _alarms(
        (2, RsuDisconnected("cannot connect: refused", 0.5)),
        (2, RsuDisconnected("cannot connect: refused", 1.0)),
        (3, ObuLost(1)),
        (2, RsuConnected("127.0.0.1", 9528)),
        (2, RsuConnected("127.0.0.1", 9528)),
        (2, RsuDisconnected("stopped", None)),  # shutdown: no alarm
    )
    assert alarms == [Alarm(AlarmKind.RSU_DOWN, 2, "cannot connect: refused"),
                      Alarm(AlarmKind.RSU_DOWN, 2, "connected", cleared=True)]


def test_psam_and_rsu_faults_clear_when_the_lane_shows_they_are_over() -> None:
    ready = RsuReady(b"\x01" * 6, 1, b"\x00" * 4, b"\x00\x01")
    alarms = _alarms(
        (1, RsuFaulted(0x01)), (1, RsuFaulted(0x01)), (1, ready),
        (1, TransactionFailed(ReasonCode.PSAM_ERROR, PSAM_FAILED)),
        (1, TransactionFailed(ReasonCode.PSAM_ERROR, PSAM_FAILED)),
        (1, TransactionFailed(ReasonCode.PURCHASE_FAILED, PSAM_FAILED)),
        (1, TransactionCompleted(debited(2))),
    )
    assert [(a.kind, a.cleared) for a in alarms] == [
        (AlarmKind.RSU_FAULT, False), (AlarmKind.RSU_FAULT, True),
        (AlarmKind.PSAM_ERROR, False), (AlarmKind.PSAM_ERROR, True)]
    assert alarms[0].detail == "B0 RSUStatus 01h"


def test_journal_errors_and_refused_centre_updates_alarm_every_time() -> None:
    alarms = _alarms(
        (None, CentreUpdate("policy", True, "2026-2")),
        (None, CentreUpdate("blacklist/delta", False, "", "base 4, lane has 6")),
        (None, CentreUpdate("blacklist/delta", False, "", "base 4, lane has 6")),
        (None, JournalFailed("disk I/O error")),
    )
    assert [(a.kind, a.lane, a.detail) for a in alarms] == [
        (AlarmKind.CENTRE_UPDATE_REFUSED, None, "blacklist/delta: base 4, lane has 6"),
        (AlarmKind.CENTRE_UPDATE_REFUSED, None, "blacklist/delta: base 4, lane has 6"),
        (AlarmKind.JOURNAL_ERROR, None, "disk I/O error")]
