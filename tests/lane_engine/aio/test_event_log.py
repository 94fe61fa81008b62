"""Lane events as log lines: faults at WARNING, money or data at risk at ERROR, steps at DEBUG."""

from __future__ import annotations

import dataclasses
import io
import json
import logging

import pytest

from lane_engine.aio.bus import (
    CentreUpdate,
    FrameRejected,
    JournalFailed,
    LaneEvent,
    RsuConnected,
    RsuDisconnected,
)
from lane_engine.aio.event_log import EventLog, describe, event_name
from lane_engine.core.effects import (
    FeeDisplayed,
    ObuDetected,
    ProtocolViolation,
    RecoveryStarted,
    RsuFaulted,
    TransactionCompleted,
    TransactionFailed,
    TransactionUnresolved,
    VehicleRefused,
)
from lane_engine.core.outcomes import Outcome, ReasonCode
from lane_engine.logfmt import JsonFormatter
from tests.lane_engine.journal.journal_records import debited, intent

DEBITED = debited(7)
UNRESOLVED = intent(8)
REFUSED = dataclasses.replace(intent(9), outcome=Outcome.REFUSED, reason=ReasonCode.BLACKLISTED)
FAILED = dataclasses.replace(intent(10), outcome=Outcome.NOT_DEBITED,
                             reason=ReasonCode.PSAM_ERROR)

LEVELS = [
    (ObuDetected(0x12345678, "3701000012345678", 1), logging.DEBUG),
    (FeeDisplayed("t", 1, 1252, 1189, 0), logging.DEBUG),
    (TransactionCompleted(DEBITED), logging.INFO),
    (VehicleRefused(ReasonCode.BLACKLISTED, REFUSED), logging.INFO),
    (RsuConnected("127.0.0.1", 9527), logging.INFO),
    (RsuDisconnected("stopped", None), logging.INFO),
    (CentreUpdate("policy", True, "2026-2"), logging.INFO),
    (FrameRejected("bad CRC"), logging.WARNING),
    (RsuDisconnected("cannot connect: refused", 0.4769667286167571), logging.WARNING),
    (RsuFaulted(0x01), logging.WARNING),
    (ProtocolViolation("READY", "B5", "no purchase"), logging.WARNING),
    (TransactionFailed(ReasonCode.PSAM_ERROR, FAILED), logging.WARNING),
    (RecoveryStarted("t", 12), logging.WARNING),
    (CentreUpdate("blacklist/delta", False, "", "base 4, lane has 6"), logging.WARNING),
    (TransactionUnresolved(UNRESOLVED), logging.ERROR),
    (TransactionCompleted(dataclasses.replace(DEBITED, tac_verified=False)), logging.ERROR),
    (JournalFailed("disk I/O error"), logging.ERROR),
]


@pytest.mark.parametrize(("event", "level"), LEVELS, ids=lambda v: getattr(v, "__name__", ""))
def test_each_kind_of_event_has_its_level(event: object, level: int) -> None:
    assert describe(event)[0] == level


def _logged(level: int) -> list[dict[str, object]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("lane_engine.test_event_log")
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(level)
    log = EventLog(logger)
    for event, _ in LEVELS:
        log(LaneEvent(2, 1_717_200_000.0, event))
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_at_warning_every_fault_and_nothing_else_is_logged() -> None:
    logged = _logged(logging.WARNING)
    faults = [event for event, level in LEVELS if level >= logging.WARNING]
    assert [line["event"] for line in logged] == [event_name(type(e)) for e in faults]
    assert {line["level"] for line in logged} == {"warning", "error"}


def test_lines_are_short_and_name_the_lane() -> None:
    logged = _logged(logging.DEBUG)
    assert len(logged) == len(LEVELS)
    assert all(line["lane"] == 2 and len(json.dumps(line)) < 300 for line in logged)
    unresolved = next(line for line in logged if line["event"] == "transaction_unresolved")
    assert unresolved == {
        "at": unresolved["at"], "level": "error", "event": "transaction_unresolved", "lane": 2,
        "transaction": UNRESOLVED.transaction_id, "outcome": "unresolved",
        "card": UNRESOLVED.card_number, "class": 1, "entry": "3701/205", "fen": 0}
    retry = next(line for line in logged if line.get("retry_in_s"))
    assert retry["retry_in_s"] == 0.477
