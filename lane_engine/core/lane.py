"""`Lane`: one RSU connection's transaction machine, sans-IO (frames and time in, effects out).

Shape of h11/aioquic: `receive_frame(frame, now, seq)`, `get_timer()`, `handle_timer(now)`, each
returning a list of effects that the edge executes in order. Every transition is in
`machine.TRANSITIONS`; the handlers below are named after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lane_engine.core import decisions
from lane_engine.core.config import LaneConfig, LocalSecond, lane_local_time
from lane_engine.core.decisions import obu_div_factor, stop_type_for
from lane_engine.core.effects import (
    CashRequired,
    CloseTransaction,
    Effect,
    FeeDisplayed,
    KeepBarrierClosed,
    ObuDetected,
    ObuLost,
    ObuReread,
    OpenBarrier,
    OpenIntent,
    ProtocolViolation,
    RecordRefusal,
    RsuFaulted,
    RsuHeartbeatReceived,
    RsuReady,
    SendFrame,
    UnresolvedTransactionSettled,
    VehicleRefused,
)
from lane_engine.core.ledger import RecordStamp, TransactionIds
from lane_engine.core.machine import TRANSITIONS, LaneInput, LaneState
from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord
from lane_engine.core.policy import Policy, is_reread
from lane_engine.core.ports import CardBlacklist, FeeSchedule, TacVerifier
from lane_engine.core.pricing import Price, admit_entry, price_exit
from lane_engine.core.settling import (
    Pass,
    Settling,
    UnresolvedBook,
    committed_outcome,
    other_obu,
)
from lane_engine.errors import LocalProtocolError
from protocols.frames import (
    AntennaControl,
    Continue,
    DeviceStatus,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    ObuFound,
    Purchase,
    RsuStatus,
    SetAntenna,
    Stop,
    StopType,
    TacRefetched,
    TransactionResult,
    VehicleAndCard,
)
from protocols.records import EntryExitRecord, EntryExitStatus

__all__ = [
    "HEARTBEAT_STATUS_OK",
    "Handler",
    "Lane",
    "answers_to_retransmission",
]

_INPUT_OF: dict[type, LaneInput] = {
    DeviceStatus: LaneInput.B0,
    Heartbeat: LaneInput.B1,
    ObuFound: LaneInput.B2,
    VehicleAndCard: LaneInput.B4,
    TransactionResult: LaneInput.B5,
    TacRefetched: LaneInput.B8,
}
#: CF Status the lane answers every B1 with: lane controller normal.
HEARTBEAT_STATUS_OK = 0x00

_KEY_OF: dict[LaneInput, type] = {lane_input: cls for cls, lane_input in _INPUT_OF.items()}
Handler = Callable[[Any, float], list[Effect]]
_Bound = tuple[Handler, frozenset[LaneState], LaneInput]


class Lane(Settling):
    """The transaction machine of one lane and its RSU, for the life of the lane: when the RSU
    connection is lost (`connection_lost`) it starts again (`start`) and remembers its vehicles.

    Policy, fee schedule and blacklist are replaced as a whole (`replace_*`); the lane never
    alters them. A transaction priced before a replacement keeps the versions it was priced with.
    The lanes of a plaza may share one `UnresolvedBook` (default: a book of this lane's own).
    """

    def __init__(
        self,
        config: LaneConfig,
        policy: Policy,
        fees: FeeSchedule,
        blacklist: CardBlacklist,
        *,
        tac_verifier: TacVerifier | None = None,
        first_transaction: int = 0,
        unresolved: UnresolvedBook | None = None,
    ) -> None:
        self.config = config
        self._is_exit = config.mode == LaneMode.EXIT
        self._mode = "exit" if self._is_exit else "entry"  # as in its records
        self._ids = TransactionIds(config, first_transaction)
        self._stamp = RecordStamp(config)
        self._local = LocalSecond()
        self._verifier = tac_verifier
        self.replace_policy(policy)
        self.replace_fee_schedule(fees)
        self.replace_blacklist(blacklist)
        self._state = LaneState.STARTING
        self._deadline: float | None = None
        self._pass: Pass | None = None
        self.terminal_number = b""
        self._last_seq: int | None = None
        self._last_frame: object = None
        self._last_replies: tuple[Any, ...] = ()
        self._completed: dict[int, tuple[int, str]] = {}  # obu_id -> (time, transaction_id)
        self._last_closed: tuple[int, str, bytes] | None = None  # obu_id, id, div factor
        self._unresolved = UnresolvedBook() if unresolved is None else unresolved
        # Per state, the handlers keyed by frame class (or START/TIMER): one C-level dict lookup
        # per frame on the hot path.
        self._by_state: dict[LaneState, dict[object, _Bound]] = {state: {} for state in LaneState}
        for (state, lane_input), transition in TRANSITIONS.items():
            key = _KEY_OF.get(lane_input, lane_input)
            handler = getattr(self, f"_on_{transition.handler}")
            self._by_state[state][key] = (handler, transition.targets, lane_input)
        self._handlers = self._by_state[self._state]

    # ------------------------------------------------------------ public API

    @property
    def state(self) -> LaneState:
        """Where the lane stands (see `machine.LaneState`)."""
        return self._state

    @property
    def last_transaction_counter(self) -> int:
        """The counter of the last transaction id given out (to resume after a restart)."""
        return self._ids.last

    def replace_policy(self, policy: Policy) -> None:
        """Use this policy version from the next vehicle on."""
        self._policy = policy
        self._policy_reread_s = policy.reread_window_s
        self._stamp.stamp(policy_version=policy.version)

    def replace_fee_schedule(self, fees: FeeSchedule) -> None:
        """Use this fee table version from the next vehicle on."""
        self._fees = fees
        self._stamp.stamp(fee_table_version=str(fees.version))

    def replace_blacklist(self, blacklist: CardBlacklist) -> None:
        """Use this blacklist version from the next vehicle on."""
        self._blacklist = blacklist
        self._stamp.stamp(blacklist_version=blacklist.version)

    def start(self, now: float) -> list[Effect]:
        """Initialise the RSU (C0); call once each time the connection is up."""
        return self._run_input(LaneInput.START, now)

    def connection_lost(self, now: float) -> list[Effect]:
        """The RSU connection is gone: a purchase in flight is closed UNRESOLVED with everything
        known (and kept in the book for a later sighting), an OBU being read is lost; the lane is
        back in STARTING, its re-read window and transaction counter kept."""
        return self._run_input(LaneInput.CONNECTION_LOST, now)

    def set_antenna(self, on: bool) -> list[Effect]:
        """Switch the RSU's antenna (C4); the RSU answers with a B1. No state change."""
        return [SendFrame(SetAntenna(AntennaControl.ON if on else AntennaControl.OFF))]

    def receive_frame(self, frame: object, now: float, seq: int | None = None) -> list[Effect]:
        """Act on one frame from the RSU. A retransmission (same `seq`, same frame) is answered
        with the same frames again and not acted on twice: a purchase (C6) is never sent again
        for it (`answers_to_retransmission`)."""
        if seq is not None and seq == self._last_seq and frame == self._last_frame:
            return [SendFrame(f) for f in answers_to_retransmission(self._last_replies)]
        entry = self._handlers.get(type(frame))
        if entry is not None:
            effects = self._run(entry, frame, now)
        elif type(frame) in _INPUT_OF:
            effects = [self._violation(_INPUT_OF[type(frame)].value, "not allowed in this state")]
        else:
            effects = [self._violation(_frame_name(frame), "not an RSU frame")]
        if seq is not None:
            self._last_seq, self._last_frame = seq, frame
            self._last_replies = tuple(e.frame for e in effects if type(e) is SendFrame)
        return effects

    def get_timer(self) -> float | None:
        """When `handle_timer` must be called next (seconds of the injected clock), or None."""
        return self._deadline

    def handle_timer(self, now: float) -> list[Effect]:
        """Act on the timer; nothing happens before the deadline."""
        if self._deadline is None or now < self._deadline:
            return []
        self._deadline = None
        return self._run_input(LaneInput.TIMER, now)

    # ------------------------------------------------------------ dispatch

    def _run_input(self, lane_input: LaneInput, now: float) -> list[Effect]:
        entry = self._handlers.get(lane_input)
        if entry is None:
            return [self._violation(lane_input.value, "not allowed in this state")]
        return self._run(entry, None, now)

    def _run(self, entry: _Bound, frame: Any, now: float) -> list[Effect]:
        handler, targets, _ = entry
        effects = handler(frame, now)
        if self._state not in targets:
            raise LocalProtocolError(f"{handler.__name__} left the lane in {self._state}")
        return effects

    def _violation(self, frame_type: str, detail: str) -> ProtocolViolation:
        return ProtocolViolation(self._state.value, frame_type, detail)

    def _to(self, state: LaneState, deadline: float | None = None) -> None:
        self._state = state
        self._handlers = self._by_state[state]
        self._deadline = deadline

    # ------------------------------------------------------------ start-up and heartbeat

    def _on_start(self, _: None, now: float) -> list[Effect]:
        config = self.config
        initialise = Initialise(
            unix_time=int(now),
            date_time=lane_local_time(now),
            lane_mode=config.mode,
            bst_interval_ms=config.bst_interval_ms,
            tx_power=config.tx_power,
            pll_channel_id=config.pll_channel_id,
        )
        self._to(LaneState.INITIALISING, now + config.timeouts.initialise)
        return [SendFrame(initialise)]

    _on_initialise_timeout = _on_start

    def _on_connection_lost(self, _: None, now: float) -> list[Effect]:
        p, state = self._pass, self._state
        effects: list[Effect] = []
        if p is not None and state in (LaneState.PURCHASING, LaneState.RECOVERING):
            effects = self._leave_unresolved(p, now, "the RSU connection was lost", stop=False)
        elif p is not None:
            effects = [ObuLost(p.obu_id)]
        self._pass = None
        # A new connection numbers its frames afresh: nothing of this one is a retransmission.
        self._last_seq, self._last_frame, self._last_replies = None, None, ()
        self._to(LaneState.STARTING)
        return effects

    def _on_device_status(self, b0: DeviceStatus, now: float) -> list[Effect]:
        if b0.rsu_status != RsuStatus.NORMAL or not b0.psam_info:
            self._to(LaneState.INITIALISING, now + self.config.timeouts.initialise)
            return [RsuFaulted(b0.rsu_status)]
        self.terminal_number = b0.psam_info[0].terminal_number
        self._stamp.stamp(psam_terminal_number=self.terminal_number.hex())
        self._to(LaneState.READY)
        return [RsuReady(self.terminal_number, len(b0.psam_info), b0.rsu_id, b0.rsu_version)]

    def _on_heartbeat(self, b1: Heartbeat, now: float) -> list[Effect]:
        return [
            SendFrame(HeartbeatAnswer(HEARTBEAT_STATUS_OK)),
            RsuHeartbeatReceived((b1.ctrl_status1, b1.ctrl_status2, b1.ctrl_status3)),
        ]

    # ------------------------------------------------------------ B2: OBU found

    def _on_obu_found(self, b2: ObuFound, now: float) -> list[Effect]:
        if decisions.is_rsu_heartbeat(b2):
            return []
        local = self._local.at(now)
        refusal = decisions.obu_refusal(b2, local.date)
        if refusal is not None:
            record = self._stamp.record(
                self._ids.next(now), Outcome.REFUSED, refusal[0], b2.obu_id, b2.serial_number,
                local.text, detail=refusal[1],
            )
            return self._refuse(b2.obu_id, record, now)
        last = self._completed.get(b2.obu_id)
        if last is not None and is_reread(last[0], int(now), self._policy):
            record = self._stamp.record(
                self._ids.next(now), Outcome.REFUSED, ReasonCode.REREAD_WITHIN_WINDOW,
                b2.obu_id, b2.serial_number, local.text, detail=f"completed {last[1]}",
            )
            self._to(LaneState.READY)
            stop = Stop(b2.obu_id, stop_type_for(ReasonCode.REREAD_WITHIN_WINDOW), int(now))
            return [RecordRefusal(record), SendFrame(stop), ObuReread(b2.obu_id, last[1], record)]
        div_factor = obu_div_factor(b2)
        self._pass = Pass(b2.obu_id, b2.serial_number, div_factor)
        self._to(LaneState.READING, now + self.config.timeouts.vehicle_read)
        return [
            SendFrame(Continue(b2.obu_id, div_factor)),
            ObuDetected(b2.obu_id, b2.serial_number, b2.antenna_id),
        ]

    def _on_obu_found_while_reading(self, b2: ObuFound, now: float) -> list[Effect]:
        if decisions.is_rsu_heartbeat(b2):
            return []
        assert self._pass is not None
        lost = self._pass.obu_id
        self._pass = None
        effects: list[Effect] = [] if lost == b2.obu_id else [ObuLost(lost)]
        return effects + self._on_obu_found(b2, now)

    def _on_read_timeout(self, _: None, now: float) -> list[Effect]:
        assert self._pass is not None
        lost = self._pass.obu_id
        self._pass = None
        self._to(LaneState.READY)
        return [ObuLost(lost)]

    def _refuse(self, obu_id: int, record: TransactionRecord, now: float) -> list[Effect]:
        self._pass = None
        self._to(LaneState.READY)
        reason = record.reason
        return [
            RecordRefusal(record),
            SendFrame(Stop(obu_id, stop_type_for(reason), int(now))),
            VehicleRefused(reason, record),
            KeepBarrierClosed(record.transaction_id, reason),
        ]

    # ------------------------------------------------------------ B4: vehicle and card

    def _on_vehicle_and_card(self, b4: VehicleAndCard, now: float) -> list[Effect]:
        p = self._pass
        assert p is not None
        if b4.obu_id != p.obu_id:
            return [self._violation("B4", other_obu(b4.obu_id, p.obu_id))]
        local = self._local.at(now)
        card, vehicle, entry = b4.issuer_info, b4.vehicle_info, b4.last_station
        effects: list[Effect] = []
        if self._unresolved and card is not None and b4.error_code == 0:
            settled = self._unresolved.settle(card.card_number, entry, b4.card_rest_money,
                                              self.config.lane)
            if settled is not None:
                effects += [CloseTransaction(settled), UnresolvedTransactionSettled(settled)]
                if settled.outcome != Outcome.NOT_DEBITED and settled.mode == self._mode:
                    # The card's last write is the one a lane like this one makes here: the
                    # vehicle already passed (paid its trip, or entered) through this plaza.
                    return effects + self._release_settled(p, settled, now)
        refusal = decisions.card_refusal(b4, local.date, self._blacklist)
        if refusal is None:
            assert card is not None and vehicle is not None
            if self._is_exit:
                price = price_exit(card, vehicle, b4.card_rest_money, entry, int(now),
                                   self.config.network, self.config.station, self._policy,
                                   self._fees)
            else:
                price = admit_entry(card, vehicle, b4.card_rest_money, self._policy)
            if not isinstance(price, tuple):
                return effects + self._purchase(p, b4, price, local, now)
            refusal = price
        record = self._b4_record(p, b4, local.text, now, Outcome.REFUSED, refusal[0],
                                 detail=refusal[1])
        return effects + self._refuse(p.obu_id, record, now)

    def _b4_record(self, p: Pass, b4: VehicleAndCard, text: str, now: float, outcome: Outcome,
                   reason: ReasonCode, vehicle_class: int | None = None,
                   price: Price | None = None, detail: str = "") -> TransactionRecord:
        """The record of the vehicle of `b4`, before any purchase data."""
        card, vehicle, entry = b4.issuer_info, b4.vehicle_info, b4.last_station
        return self._stamp.vehicle_record(
            self._ids.next(now), outcome, reason, p.obu_id, p.obu_serial, text,
            _NO_CARD if card is None else (card.card_number, card.card_type,
                                           card.issuer_code.hex().upper()),
            "" if vehicle is None else vehicle.plate.text,
            vehicle_class if vehicle_class is not None else
            0 if vehicle is None else vehicle.vehicle_class,
            (entry.network, entry.station, entry.time) if entry is not None and self._is_exit
            else _NO_ENTRY,
            b4.card_rest_money,
            _NO_PRICE if price is None else (price.flags, price.fee, price.discounted_fee,
                                             price.cash_fee),
            detail,
        )

    def _purchase(self, p: Pass, b4: VehicleAndCard, price: Price, local: LocalSecond,
                  now: float) -> list[Effect]:
        """Open the intent of the priced purchase and send its C6."""
        vehicle = b4.vehicle_info
        assert vehicle is not None
        config = self.config
        intent = self._b4_record(p, b4, local.text, now, Outcome.UNRESOLVED, price.reason,
                                 price.vehicle_class, price)
        written = EntryExitRecord(
            network=config.network, station=config.station, lane=config.lane, time=int(now),
            vehicle_class=price.vehicle_class,
            status=EntryExitStatus.EXITED if self._is_exit else EntryExitStatus.ENTERED,
            plate=vehicle.plate, plate_colour=vehicle.plate_colour, accumulated_fee=price.amount,
        )
        p.priced(intent, price, written, b4.last_station,
                 committed_outcome(self._is_exit, price.reason))
        self._to(LaneState.PURCHASING, now + config.timeouts.purchase)
        return [
            OpenIntent(intent),
            SendFrame(Purchase(p.obu_id, p.div_factor, price.amount, local.time, written)),
            FeeDisplayed(intent.transaction_id, price.vehicle_class, price.fee, price.amount,
                         price.cash_fee),
        ]

    def _release_settled(self, p: Pass, settled: TransactionRecord, now: float) -> list[Effect]:
        self._completed[p.obu_id] = (int(now), settled.transaction_id)
        self._pass = None
        self._to(LaneState.READY)
        effects: list[Effect] = [SendFrame(Stop(p.obu_id, StopType.FREEZE, int(now)))]
        if settled.outcome is Outcome.CASH_REQUIRED:
            effects.append(CashRequired(settled.cash_fee, settled))
            effects.append(
                KeepBarrierClosed(settled.transaction_id, ReasonCode.INSUFFICIENT_BALANCE))
        else:
            effects.append(OpenBarrier(settled.transaction_id))
        return effects


_NO_CARD = ("", 0, "")
_NO_ENTRY = ("", 0, 0)
_NO_PRICE: tuple[tuple[ReasonCode, ...], int, int, int] = ((), 0, 0, 0)


def answers_to_retransmission(replies: tuple[Any, ...]) -> tuple[Any, ...]:
    """What the lane sends again for a retransmitted frame (our decision): the frames it
    answered the first copy with, but a C6: the RSU that sends a B4 again has the purchase on
    its way already (TCP delivers it), and a second C6 would be a second purchase for one B4."""
    return tuple(reply for reply in replies if not isinstance(reply, Purchase))


def _frame_name(frame: object) -> str:
    frame_type = getattr(frame, "frame_type", None)
    if isinstance(frame_type, int):
        return f"{frame_type:02X}"
    return type(frame).__name__
