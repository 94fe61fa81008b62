"""Lane events as log lines: each kind of event at the level it deserves, with a few short fields.

Levels mean something: DEBUG for the steps of a pass and every frame, INFO for what a lane did
(a vehicle charged, refused, a connection made), WARNING for faults an operator may have to look
at (rejected frames, RSU or broker links lost, a failed purchase, a refused centre update),
ERROR for money or data at risk (a purchase left UNRESOLVED, a TAC that does not verify, the
journal failing). Alarms (`lane_engine.aio.alarms`) are logged too, raised and cleared.
`--log-level warning` therefore shows every fault and nothing else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from lane_engine.aio.bus import (
    CentreUpdate,
    EndpointListening,
    FrameReceived,
    FrameRejected,
    FrameSent,
    JournalFailed,
    LaneEvent,
    RsuConnected,
    RsuDisconnected,
)
from lane_engine.core.effects import (
    CashRequired,
    FeeDisplayed,
    KeepBarrierClosed,
    LateResultAcknowledged,
    ObuDetected,
    ObuLost,
    ObuReread,
    OpenBarrier,
    ProtocolViolation,
    RecoveryStarted,
    RsuFaulted,
    RsuHeartbeatReceived,
    RsuReady,
    TransactionCompleted,
    TransactionFailed,
    TransactionUnresolved,
    UnresolvedTransactionSettled,
    VehicleRefused,
)
from lane_engine.core.outcomes import ReasonCode, TransactionRecord
from lane_engine.logfmt import event_fields
from lane_engine.station.events import Alarm, AlarmKind, BrokerLink, LinkState
from protocols.frames import UnknownFrame

__all__ = [
    "EventLog",
    "describe",
    "event_name",
    "record_fields",
]

DEBUG, INFO, WARNING, ERROR = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR

Fields = dict[str, Any]


def record_fields(record: TransactionRecord) -> Fields:
    """The fields of a record worth a log line; the rest is in the journal."""
    fields: Fields = {"transaction": record.transaction_id, "outcome": record.outcome.value}
    if record.reason is not ReasonCode.OK:
        fields["reason"] = record.reason
    if record.card_number:
        fields["card"] = record.card_number
    if record.vehicle_class:
        fields["class"] = record.vehicle_class
    if record.mode == "exit" and record.entry_network:
        fields["entry"] = f"{record.entry_network}/{record.entry_station}"
    fields["fen"] = record.amount_debited
    if record.cash_fee:
        fields["cash_fen"] = record.cash_fee
    if record.flags:
        fields["flags"] = record.flags
    if record.tac_verified is False:
        fields["tac_verified"] = False
    if record.recovered:
        fields["recovered"] = True
    if record.detail:
        fields["detail"] = record.detail
    return fields


def _frame_name(frame: object) -> str:
    if isinstance(frame, UnknownFrame):
        return f"{frame.frame_type:02X}h"
    return type(frame).__name__


def _completed(event: TransactionCompleted) -> tuple[int, Fields]:
    # A TAC that does not verify is a debit clearing may refuse: money at risk.
    level = ERROR if event.record.tac_verified is False else INFO
    return level, record_fields(event.record)


def _broker_link(event: BrokerLink, lane: int | None) -> tuple[int, Fields]:
    fields: Fields = {"state": event.state.value, "broker": event.broker,
                      "client": event.client_id}
    if event.tls:
        fields["tls"] = True
    if event.state is LinkState.LOST:
        fields.update(detail=event.detail, retry_in_s=event.retry_in_s, failures=event.failures)
    if lane is None:
        fields["backlog"] = event.backlog
        level = WARNING if event.state is LinkState.LOST else INFO
    else:
        # A lane's status session follows the plaza's: its first failure in a row is worth a
        # warning, the retries and the steps are detail.
        first_loss = event.state is LinkState.LOST and event.failures == 1
        level = WARNING if first_loss else DEBUG
    return level, fields


def _alarm(event: Alarm, lane: int | None) -> tuple[int, Fields]:
    fields: Fields = {"alarm": event.kind.value, "state": "cleared" if event.cleared else "raised",
                      "detail": event.detail}
    if event.cleared:
        return INFO, fields
    return (ERROR if event.kind is AlarmKind.JOURNAL_ERROR else WARNING), fields


def _disconnected(event: RsuDisconnected) -> tuple[int, Fields]:
    level = INFO if event.retry_in_s is None else WARNING
    return level, {"detail": event.detail, "retry_in_s": event.retry_in_s}


def _centre(event: CentreUpdate) -> tuple[int, Fields]:
    fields: Fields = {"kind": event.kind, "version": event.version or None}
    if event.applied:
        return INFO, fields
    return WARNING, {**fields, "detail": event.detail}


#: The level and fields of each kind of event logged at one level (the name is the class's).
_FIXED: dict[type, tuple[int, Callable[[Any], Fields]]] = {
    RsuReady: (INFO, lambda e: {"terminal": e.terminal_number, "psams": e.psam_count,
                                "rsu_id": e.rsu_id, "rsu_version": e.rsu_version}),
    RsuFaulted: (WARNING, lambda e: {"rsu_status": f"{e.rsu_status:02X}h"}),
    RsuHeartbeatReceived: (DEBUG, lambda e: {"status": e.ctrl_status}),
    ObuDetected: (DEBUG, lambda e: {"obu": f"{e.obu_id:08X}", "serial": e.obu_serial,
                                    "antenna": e.antenna_id}),
    ObuReread: (DEBUG, lambda e: {"obu": f"{e.obu_id:08X}",
                                  "previous": e.previous_transaction_id}),
    ObuLost: (INFO, lambda e: {"obu": f"{e.obu_id:08X}"}),
    FeeDisplayed: (DEBUG, lambda e: {"transaction": e.transaction_id, "class": e.vehicle_class,
                                     "fee": e.fee, "fen": e.amount_fen,
                                     "cash_fen": e.cash_fee or None}),
    CashRequired: (INFO, lambda e: {"transaction": e.record.transaction_id,
                                    "cash_fen": e.amount_fen}),
    VehicleRefused: (INFO, lambda e: record_fields(e.record)),
    TransactionFailed: (WARNING, lambda e: record_fields(e.record)),
    RecoveryStarted: (WARNING, lambda e: {"transaction": e.transaction_id, "ctc": e.ctc}),
    TransactionUnresolved: (ERROR, lambda e: record_fields(e.record)),
    UnresolvedTransactionSettled: (INFO, lambda e: record_fields(e.record)),
    LateResultAcknowledged: (WARNING, lambda e: {"transaction": e.transaction_id,
                                                 "error_code": f"{e.error_code:02X}h"}),
    ProtocolViolation: (WARNING, lambda e: {"state": e.state, "frame": e.frame_type,
                                            "detail": e.detail}),
    OpenBarrier: (DEBUG, lambda e: {"transaction": e.transaction_id}),
    KeepBarrierClosed: (INFO, lambda e: {"transaction": e.transaction_id, "reason": e.reason}),
    RsuConnected: (INFO, lambda e: {"rsu": f"{e.host}:{e.port}"}),
    FrameRejected: (WARNING, lambda e: {"detail": e.detail, "count": e.count,
                                        "bytes": e.bytes}),
    JournalFailed: (ERROR, lambda e: {"detail": e.detail}),
    EndpointListening: (INFO, lambda e: {"address": e.address}),
    FrameReceived: (DEBUG, lambda e: {"frame": _frame_name(e.frame), "seq": e.seq}),
    FrameSent: (DEBUG, lambda e: {"frame": _frame_name(e.frame)}),
}
#: Kinds whose level depends on the event.
_VARIABLE: dict[type, Callable[[Any], tuple[int, Fields]]] = {
    TransactionCompleted: _completed,
    RsuDisconnected: _disconnected,
    CentreUpdate: _centre,
}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_NAMES: dict[type, str] = {}


def event_name(kind: type) -> str:
    """`TransactionCompleted` -> `transaction_completed`."""
    name = _NAMES.get(kind)
    if name is None:
        name = _NAMES[kind] = _CAMEL.sub("_", kind.__name__).lower()
    return name


#: Kinds whose level depends on the event and on the lane it is about (None: the plaza).
_BY_LANE: dict[type, Callable[[Any, int | None], tuple[int, Fields]]] = {
    BrokerLink: _broker_link,
    Alarm: _alarm,
}


def describe(event: object, lane: int | None = None) -> tuple[int, Fields]:
    """The level and fields of one event about `lane`. An event of a kind not listed here (a
    runtime event of another module) gives them itself, as `log_level` and `log_fields()`;
    else INFO, no fields."""
    kind = type(event)
    fixed = _FIXED.get(kind)
    if fixed is not None:
        return fixed[0], fixed[1](event)
    variable = _VARIABLE.get(kind)
    if variable is not None:
        return variable(event)
    by_lane = _BY_LANE.get(kind)
    if by_lane is not None:
        return by_lane(event, lane)
    fields = getattr(event, "log_fields", None)
    return getattr(event, "log_level", INFO), (fields() if callable(fields) else {})


class EventLog:
    """A bus subscriber that logs every event on `logger` (`bus.subscribe(EventLog(log))`)."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def __call__(self, event: LaneEvent) -> None:
        kind = type(event.event)
        fixed = _FIXED.get(kind)
        # Most events are DEBUG: decide before any field is built.
        if fixed is not None and not self._logger.isEnabledFor(fixed[0]):
            return
        level, fields = describe(event.event, event.lane)
        if not self._logger.isEnabledFor(level):
            return
        name = event_name(kind)
        self._logger.log(level, "%s", name.replace("_", " "),
                         extra=event_fields(name, lane=event.lane, **fields))
