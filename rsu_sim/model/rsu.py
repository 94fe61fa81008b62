"""The smart RSU of one lane, sans-IO: PC-RSU frames and vehicles in, frames for the lane out.

Shape of aioquic: `receive_frame(frame, now)`, `vehicle_arrived(now, obu, leaves_zone_at)`,
`get_timer()` / `handle_timer(now)`; each returns the effects (`SendFrame`, `PassEnded`,
`LaneFrameRejected`) in time order. The frames are values; the harness or the server encodes
them with the V3 envelope and the SEQ given. The air side of each pass is `rsu_dsrc.DsrcPass`.

The zone holds one vehicle at a time (our decision, `zone_entry`): a vehicle arriving while
another is being served waits behind it and enters when the RSU is done with the first, keeping
its own dwell time; a vehicle arriving while the RSU is not beaconing drives through unserved.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from keys.psam import Psam
from protocols.envelope import SeqCounter, Side
from protocols.frame_codec import HeartbeatLayout, build_heartbeat
from protocols.frames import (
    AntennaControl,
    B5Error,
    Continue,
    DeviceStatus,
    FrameType,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    ObuFound,
    PsamInfo,
    Purchase,
    RefetchTac,
    RsuFrame,
    RsuStatus,
    SetAntenna,
    Stop,
    StopType,
    TacRefetched,
    TransactionResult,
    VehicleAndCard,
)
from rsu_sim.model.obu import Obu
from rsu_sim.model.radio import RadioLink
from rsu_sim.model.rsu_dsrc import NO_FAULTS, DsrcPass, PassFaults, StepResult, TearPoint
from rsu_sim.model.rsu_effects import (
    LaneFrameRejected,
    PassEnd,
    PassEnded,
    RsuConfig,
    RsuEffect,
    SendFrame,
)


class Phase(enum.Enum):
    """Where the RSU stands with the vehicle in its zone."""

    #: no vehicle being served
    IDLE = "idle"
    #: BST/VST on the air
    FINDING = "finding"
    #: B2 sent, waiting for C1 or C2
    B2_SENT = "b2_sent"
    #: GetSecure and card reads on the air
    READING = "reading"
    #: B4 sent, waiting for C6 or C2
    B4_SENT = "b4_sent"
    #: the purchase on the air
    PURCHASING = "purchasing"
    #: B5 sent, waiting for C1, C8 or C2
    B5_SENT = "b5_sent"
    #: GET TRANSACTION PROVE on the air
    PROVING = "proving"
    #: B8 sent, waiting for C1, C8 or C2
    B8_SENT = "b8_sent"
    #: SetMMI / Release on the air
    CLOSING = "closing"


_BUSY = frozenset({Phase.FINDING, Phase.READING, Phase.PURCHASING, Phase.PROVING, Phase.CLOSING})

#: Every session transition: (phase, lane frame type) → handler `Rsu._on_<name>`. C0, C4 and CF
#: are taken in any phase; anything else is rejected (`LaneFrameRejected`), never a crash.
TRANSITIONS: dict[tuple[Phase, type], str] = {
    (Phase.B2_SENT, Continue): "read",
    (Phase.B4_SENT, Purchase): "purchase",
    (Phase.B5_SENT, Continue): "close",
    (Phase.B5_SENT, RefetchTac): "prove",
    (Phase.B5_SENT, Purchase): "purchase_again",
    (Phase.B8_SENT, Continue): "close",
    (Phase.B8_SENT, RefetchTac): "prove",
    **{(phase, Stop): "stop" for phase in Phase if phase is not Phase.IDLE},
}


@dataclass(slots=True)
class _Outstanding:
    """A sent frame waiting for the lane's answer."""

    frame: RsuFrame
    seq: int
    attempts: int
    next_at: float
    withheld: bool  # a fault hook keeps it from the lane; the RSU still waits and gives up


@dataclass(slots=True)
class _Waiting:
    obu: Obu
    arrived: float
    leaves_at: float
    faults: PassFaults
    behind_session: bool


def zone_entry(arrived: float, leaves_at: float, now: float, behind_session: bool
               ) -> tuple[float, float]:
    """When a waiting vehicle enters the zone and leaves it (our decision): one that queued
    behind a vehicle being served enters at `now` and keeps its dwell; others keep their times."""
    if behind_session and now > arrived:
        return now, leaves_at + (now - arrived)
    return max(arrived, now), leaves_at


class Rsu:
    """One lane's RSU with its PSAM and radio; serves one vehicle at a time."""

    def __init__(
        self,
        psam: Psam,
        radio: RadioLink,
        random_bytes: Callable[[int], bytes],
        config: RsuConfig | None = None,
    ) -> None:
        self.config = config or RsuConfig()
        self.psam = psam
        self._radio = radio
        self._random = random_bytes
        self._queue: deque[_Waiting] = deque()
        self._heartbeat_at: float | None = None
        self._power_on()

    def _power_on(self) -> None:
        self._seq = SeqCounter(Side.RSU)
        self.initialised = False
        self.antenna_on = True
        self._bst_interval_s = self.config.default_bst_interval_s
        self._flag_id = b"\x00\x00\x00"
        self.phase = Phase.IDLE
        self._pass: DsrcPass | None = None
        self._step_at: float | None = None
        self._step_then: Callable[[float], list[RsuEffect]] | None = None
        self._session_out: _Outstanding | None = None
        self._heartbeat_out: _Outstanding | None = None
        self._last_b5_ok = False

    # ------------------------------------------------------------ public API

    @property
    def beaconing(self) -> bool:
        """True when the RSU looks for OBUs (initialised by C0, antenna on)."""
        return self.initialised and self.antenna_on

    @property
    def queue_length(self) -> int:
        """Vehicles waiting to enter the zone."""
        return len(self._queue)

    def start(self, now: float) -> list[RsuEffect]:
        """The lane link is up: heartbeats (B1) start, every `heartbeat_interval_s`."""
        self._heartbeat_at = now + self.config.heartbeat_interval_s
        return []

    def restart(self, now: float) -> list[RsuEffect]:
        """Power-cycle: the session's vehicle ends RESET and C0 is needed again; waiting vehicles
        stay, and pass unserved unless a C0 comes while they are still in the zone."""
        # No next pass starts here: the power-on would drop it without its PassEnded.
        effects: list[RsuEffect] = (
            [self._drop_pass(now, PassEnd.RESET)] if self._pass is not None else [])
        self._power_on()
        self._heartbeat_at = now + self.config.heartbeat_interval_s
        return effects

    def vehicle_arrived(self, now: float, obu: Obu, leaves_zone_at: float,
                        faults: PassFaults = NO_FAULTS) -> list[RsuEffect]:
        """A vehicle enters the zone at `now` and leaves it at `leaves_zone_at` (if not held)."""
        effects = self.handle_timer(now)
        self._queue.append(_Waiting(obu, now, leaves_zone_at, faults, self._pass is not None))
        return effects + self._start_next(now)

    def receive_frame(self, frame: object, now: float) -> list[RsuEffect]:
        """Act on one lane frame (a decoded `protocols.frames` value); timers due are run first."""
        effects = self.handle_timer(now)
        match frame:
            case Initialise():
                return effects + self._on_initialise(frame, now)
            case SetAntenna():
                self.antenna_on = frame.control == AntennaControl.ON
                effects += self._send(self._heartbeat(), now, expect_answer=True, heartbeat=True)
                return effects + self._start_next(now)
            case HeartbeatAnswer():
                self._heartbeat_out = None
                return effects
        name = TRANSITIONS.get((self.phase, type(frame)))
        if name is None:
            return [*effects, LaneFrameRejected(frame, self.phase, "not allowed in this phase")]
        assert self._pass is not None
        obu_id = getattr(frame, "obu_id", None)
        if obu_id != self._pass.obu.obu_id:
            return [*effects, LaneFrameRejected(frame, self.phase, "about another OBU")]
        handler: Callable[[object, float], list[RsuEffect]] = getattr(self, f"_on_{name}")
        return effects + handler(frame, now)

    def get_timer(self) -> float | None:
        """When `handle_timer` must be called next, or None."""
        due = self._next_due()
        return None if due is None else due[0]

    def handle_timer(self, now: float) -> list[RsuEffect]:
        """Run everything due up to `now`, each at its own time."""
        effects: list[RsuEffect] = []
        while (due := self._next_due()) is not None and due[0] <= now:
            effects += due[1](due[0])
        return effects

    # ------------------------------------------------------------ timers

    def _next_due(self) -> tuple[float, Callable[[float], list[RsuEffect]]] | None:
        # Called on every frame and timer: plain comparisons, no candidate list. Ties go to the
        # earlier line, as the order of the candidates always did.
        at: float | None = self._step_at
        action: Callable[[float], list[RsuEffect]] = self._run_step
        out = self._session_out
        if out is not None and (at is None or out.next_at < at):
            at, action = out.next_at, self._retransmit_session
        out = self._heartbeat_out
        if out is not None and (at is None or out.next_at < at):
            at, action = out.next_at, self._retransmit_heartbeat
        beat = self._heartbeat_at
        if beat is not None and (at is None or beat < at):
            at, action = beat, self._send_heartbeat
        if self._pass is None and self._queue:
            leaves = self._queue[0].leaves_at
            if at is None or leaves < at:
                at, action = leaves, self._start_next
        return None if at is None else (at, action)

    def _run_step(self, at: float) -> list[RsuEffect]:
        then = self._step_then
        self._step_at = self._step_then = None
        assert then is not None
        return then(at)

    def _schedule(self, at: float, then: Callable[[float], list[RsuEffect]]) -> None:
        self._step_at, self._step_then = at, then

    def _retransmit_session(self, at: float) -> list[RsuEffect]:
        out = self._session_out
        assert out is not None
        if out.attempts >= self.config.max_retransmissions:
            self._session_out = None
            return self._end_pass(at, PassEnd.LANE_SILENT) if self._pass is not None else []
        return self._resend(out, at)

    def _retransmit_heartbeat(self, at: float) -> list[RsuEffect]:
        out = self._heartbeat_out
        assert out is not None
        if out.attempts >= self.config.max_retransmissions:
            self._heartbeat_out = None
            return []
        return self._resend(out, at)

    def _resend(self, out: _Outstanding, at: float) -> list[RsuEffect]:
        out.attempts += 1
        out.next_at = at + self.config.retransmit_interval_s
        if out.withheld:
            return []
        return [SendFrame(out.frame, out.seq, at, out.attempts)]

    def _send_heartbeat(self, at: float) -> list[RsuEffect]:
        self._heartbeat_at = at + self.config.heartbeat_interval_s
        return self._send(self._heartbeat(), at, expect_answer=True, heartbeat=True)

    # ------------------------------------------------------------ sending

    def _send(self, frame: RsuFrame, at: float, *, expect_answer: bool, heartbeat: bool = False,
              withheld: bool = False, duplicate: bool = False) -> list[RsuEffect]:
        seq = self._seq.value
        self._seq = self._seq.next()
        if expect_answer:
            out = _Outstanding(frame, seq, 0, at + self.config.retransmit_interval_s, withheld)
            if heartbeat:
                self._heartbeat_out = out
            else:
                self._session_out = out
        if withheld:
            return []
        sent = SendFrame(frame, seq, at)
        return [sent, sent] if duplicate else [sent]

    def _send_session(self, frame: RsuFrame, at: float, withheld: bool = False
                      ) -> list[RsuEffect]:
        assert self._pass is not None
        duplicate = _FRAME_TYPE[type(frame)] in self._pass.faults.duplicate
        return self._send(frame, at, expect_answer=True, withheld=withheld, duplicate=duplicate)

    def _heartbeat(self) -> Heartbeat:
        terminal = self.psam.terminal_number
        layout = HeartbeatLayout(
            psam_status1=(bytes((1, 0, terminal[-1])),),
            antenna_status=(bytes((1, 0 if self.antenna_on else 1, 0, 0)),),
        )
        return build_heartbeat(0x00, 0x00 if self.initialised else 0x01, 0x00, layout)

    def _device_status(self) -> DeviceStatus:
        config = self.config
        return DeviceStatus(
            rsu_status=RsuStatus.NORMAL, psam_num_reported=1,
            psam_info=(PsamInfo(1, 1, 0x00, self.psam.terminal_number),),
            rsu_alg_id=0x00, rsu_manu_id=config.rsu_manu_id, rsu_id=config.rsu_id,
            rsu_version=config.rsu_version, work_status=0x01 if self.antenna_on else 0x00,
            flag_id=self._flag_id, reserved=config.interface_version,
        )

    # ------------------------------------------------------------ lane frames

    def _on_initialise(self, c0: Initialise, now: float) -> list[RsuEffect]:
        effects: list[RsuEffect] = []
        if self._pass is not None:
            effects += self._end_pass(now, PassEnd.RESET)
        self.initialised = True
        self._flag_id = c0.flag_id
        if c0.bst_interval_ms:
            self._bst_interval_s = c0.bst_interval_ms / 1000
        if self._heartbeat_at is None:
            self._heartbeat_at = now + self.config.heartbeat_interval_s
        effects += self._send(self._device_status(), now, expect_answer=False)
        return effects + self._start_next(now)

    def _on_read(self, _: Continue, now: float) -> list[RsuEffect]:
        return self._step(Phase.READING, self._dsrc.read(now), Phase.B4_SENT)

    def _on_purchase(self, c6: Purchase, now: float) -> list[RsuEffect]:
        return self._step(Phase.PURCHASING, self._dsrc.purchase(now, c6), Phase.B5_SENT)

    def _on_purchase_again(self, c6: Purchase, now: float) -> list[RsuEffect]:
        """A C6 after this pass's B5 (our decision, as a vendor RSU): after a B5 with an error
        the lane may purchase again (the 0-fen purchase that closes a short card's trip);
        after a good B5 the pass's purchase is done and the C6 is refused."""
        if self._last_b5_ok:
            return [LaneFrameRejected(c6, self.phase, "the purchase of this pass is done")]
        return self._on_purchase(c6, now)

    def _on_prove(self, c8: RefetchTac, now: float) -> list[RsuEffect]:
        return self._step(Phase.PROVING, self._dsrc.prove(now, c8.ep_serial), Phase.B8_SENT)

    def _on_close(self, _: Continue, now: float) -> list[RsuEffect]:
        self._session_out = None
        self.phase = Phase.CLOSING
        self._schedule(self._dsrc.close(now, self._last_b5_ok),
                       lambda at: self._end_pass(at, PassEnd.RELEASED))
        return []

    def _on_stop(self, c2: Stop, now: float) -> list[RsuEffect]:
        if c2.stop_type == StopType.RESEND:
            out = self._session_out
            return [] if out is None else self._resend(out, now)
        self._session_out = None
        if self.phase in _BUSY:
            # The air step in progress runs to its end; its result is dropped, then Release.
            if self.phase is not Phase.CLOSING:
                self._step_then = self._released_after_step
            return []
        return self._released_after_step(now)

    def _released_after_step(self, at: float) -> list[RsuEffect]:
        self.phase = Phase.CLOSING
        self._schedule(self._dsrc.release(at), lambda t: self._end_pass(t, PassEnd.STOPPED))
        return []

    # ------------------------------------------------------------ the pass

    @property
    def _dsrc(self) -> DsrcPass:
        assert self._pass is not None
        return self._pass

    def _step(self, busy: Phase, result: StepResult, waiting: Phase) -> list[RsuEffect]:
        self._session_out = None
        self.phase = busy

        def done(at: float) -> list[RsuEffect]:
            frame = result.frame
            assert frame is not None
            self.phase = waiting
            withheld = False
            if waiting is Phase.B5_SENT:
                self._last_b5_ok = getattr(frame, "error_code", None) == B5Error.OK
                withheld = self._dsrc.faults.tear is TearPoint.B5_TO_LANE
            return self._send_session(frame, at, withheld)

        self._schedule(result.done_at, done)
        return []

    def _start_next(self, now: float) -> list[RsuEffect]:
        effects: list[RsuEffect] = []
        while self._pass is None and self._queue:
            head = self._queue[0]
            entered, leaves_at = zone_entry(head.arrived, head.leaves_at, now,
                                            head.behind_session)
            if not self.beaconing:
                if head.leaves_at > now:
                    break
                self._queue.popleft()
                effects.append(PassEnded(head.obu.vehicle_id, head.obu.obu_id, head.leaves_at,
                                         PassEnd.NOT_SERVED))
                continue
            self._queue.popleft()
            if leaves_at <= now:
                effects.append(PassEnded(head.obu.vehicle_id, head.obu.obu_id, leaves_at,
                                         PassEnd.NOT_SERVED))
                continue
            self._pass = DsrcPass(head.obu, leaves_at, head.faults, self._radio, self.psam,
                                  self._random)
            self._find(entered)
        return effects

    def _find(self, at: float) -> list[RsuEffect]:
        self.phase = Phase.FINDING
        result = self._dsrc.find(at)

        def done(t: float) -> list[RsuEffect]:
            if result.frame is not None:
                self.phase = Phase.B2_SENT
                return self._send_session(result.frame, t)
            next_bst = t + self._bst_interval_s
            if next_bst >= self._dsrc.deadline:
                return self._end_pass(t, PassEnd.NOT_FOUND)
            self._schedule(next_bst, self._find)
            return []

        self._schedule(result.done_at, done)
        return []

    def _end_pass(self, at: float, how: PassEnd) -> list[RsuEffect]:
        return [self._drop_pass(at, how), *self._start_next(at)]

    def _drop_pass(self, at: float, how: PassEnd) -> PassEnded:
        """The RSU is done with the vehicle in its zone; the next one is not started."""
        dsrc = self._dsrc
        self._pass = None
        self.phase = Phase.IDLE
        self._step_at = self._step_then = None
        self._session_out = None
        return PassEnded(dsrc.obu.vehicle_id, dsrc.obu.obu_id, at, how)


_FRAME_TYPE: dict[type, int] = {
    DeviceStatus: FrameType.B0, Heartbeat: FrameType.B1, ObuFound: FrameType.B2,
    VehicleAndCard: FrameType.B4, TransactionResult: FrameType.B5, TacRefetched: FrameType.B8,
}


__all__ = ["TRANSITIONS", "LaneFrameRejected", "PassEnd", "PassEnded", "Phase", "Rsu", "RsuConfig",
           "RsuEffect", "SendFrame", "zone_entry"]
