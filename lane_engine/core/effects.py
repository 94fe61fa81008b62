"""What `Lane` asks its edge to do (commands, imperative) and tells it (events, past tense).

The edge executes the effects of one call IN ORDER: an `OpenIntent` precedes the `SendFrame` of
its C6, so the intent is durable before the purchase leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

from lane_engine.core.outcomes import ReasonCode, TransactionRecord
from protocols.frames import LaneFrame
from protocols.frozen import fast_init

__all__ = [
    "CashRequired",
    "CloseTransaction",
    "Command",
    "Effect",
    "Event",
    "FeeDisplayed",
    "KeepBarrierClosed",
    "LateResultAcknowledged",
    "ObuDetected",
    "ObuLost",
    "ObuReread",
    "OpenBarrier",
    "OpenIntent",
    "ProtocolViolation",
    "RecordRefusal",
    "RecoveryStarted",
    "RsuFaulted",
    "RsuHeartbeatReceived",
    "RsuReady",
    "SendFrame",
    "TransactionCompleted",
    "TransactionFailed",
    "TransactionUnresolved",
    "UnresolvedTransactionSettled",
    "UpdateIntent",
    "VehicleRefused",
]

# ---------------------------------------------------------------- commands


@fast_init
@dataclass(frozen=True, slots=True)
class SendFrame:
    """Send this frame to the RSU."""

    frame: LaneFrame


@fast_init
@dataclass(frozen=True, slots=True)
class OpenIntent:
    """Journal (durably) a purchase about to be sent; the record's outcome is UNRESOLVED."""

    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class UpdateIntent:
    """Journal what became known about an open intent (e.g. the CTC before C8); still UNRESOLVED."""

    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class CloseTransaction:
    """Journal the final record of an intent (same transaction_id).

    An intent closed UNRESOLVED may be closed once more, with `recovered=True`, when a later
    sighting of the card settles it: journals upsert by transaction_id.
    """

    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class RecordRefusal:
    """Journal a vehicle refused before any purchase was sent (no intent exists)."""

    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class OpenBarrier:
    """Raise the barrier for the vehicle of this transaction."""

    transaction_id: str


@fast_init
@dataclass(frozen=True, slots=True)
class KeepBarrierClosed:
    """Keep the barrier down: the vehicle of this transaction needs the operator."""

    transaction_id: str
    reason: ReasonCode


# ---------------------------------------------------------------- events


@fast_init
@dataclass(frozen=True, slots=True)
class RsuReady:
    """B0 said the RSU is working; `terminal_number` is the PSAM's (the first PSAMInfo entry)."""

    terminal_number: bytes
    psam_count: int
    rsu_id: bytes
    rsu_version: bytes


@fast_init
@dataclass(frozen=True, slots=True)
class RsuFaulted:
    """B0 reported a fault (RSUStatus not 00, or no PSAM); C0 is sent again later."""

    rsu_status: int


@fast_init
@dataclass(frozen=True, slots=True)
class RsuHeartbeatReceived:
    """B1 arrived (and was answered with CF)."""

    ctrl_status: tuple[int, int, int]


@fast_init
@dataclass(frozen=True, slots=True)
class ObuDetected:
    """B2: an OBU passed the OBU checks; its card is being read."""

    obu_id: int
    obu_serial: str
    antenna_id: int


@fast_init
@dataclass(frozen=True, slots=True)
class ObuReread:
    """B2: the OBU completed a transaction within the re-read window; it was stopped."""

    obu_id: int
    previous_transaction_id: str
    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class ObuLost:
    """The OBU vanished before any purchase was sent (no B4 in time, or the RSU moved on)."""

    obu_id: int


@fast_init
@dataclass(frozen=True, slots=True)
class FeeDisplayed:
    """The lane priced the trip (shown on the fee display as the C6 leaves)."""

    transaction_id: str
    vehicle_class: int
    fee: int  # undiscounted, fen
    amount_fen: int  # what the card is charged
    cash_fee: int  # due in cash, 0 unless the B card is short


@fast_init
@dataclass(frozen=True, slots=True)
class TransactionCompleted:
    """The purchase went through: DEBITED, ENTRY_WRITTEN or CASH_REQUIRED (trip closed)."""

    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class CashRequired:
    """The B card was short: the driver pays the undiscounted fee in cash, rounded to the yuan."""

    amount_fen: int
    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class VehicleRefused:
    """The lane refused the vehicle before any purchase (see `reason`)."""

    reason: ReasonCode
    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class TransactionFailed:
    """A purchase was attempted and the card was certainly not debited (NOT_DEBITED)."""

    reason: ReasonCode
    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class RecoveryStarted:
    """The B5 left the purchase in doubt; C8 asks the card for the TAC of `ctc`."""

    transaction_id: str
    ctc: int


@fast_init
@dataclass(frozen=True, slots=True)
class TransactionUnresolved:
    """The purchase may or may not have been committed: left for clearing (UNRESOLVED)."""

    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class UnresolvedTransactionSettled:
    """A later sighting of the card settled an UNRESOLVED transaction (its record closed again)."""

    record: TransactionRecord


@fast_init
@dataclass(frozen=True, slots=True)
class LateResultAcknowledged:
    """A B5 for a transaction already closed was acked (C1) and not recorded again."""

    transaction_id: str
    error_code: int
    tac: bytes


@fast_init
@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """The RSU sent something the transition table does not allow here; it was ignored.

    This is the lane's RemoteProtocolError, reported as an event so that the lane never stops.
    """

    state: str
    frame_type: str
    detail: str


Command = (
    SendFrame | OpenIntent | UpdateIntent | CloseTransaction | RecordRefusal | OpenBarrier
    | KeepBarrierClosed
)
Event = (
    RsuReady | RsuFaulted | RsuHeartbeatReceived | ObuDetected | ObuReread | ObuLost
    | FeeDisplayed | TransactionCompleted | CashRequired | VehicleRefused | TransactionFailed
    | RecoveryStarted | TransactionUnresolved | UnresolvedTransactionSettled
    | LateResultAcknowledged | ProtocolViolation
)
Effect = Command | Event
