"""The judge: a lane's frames, as the RSU sent and received them, checked against the rules.

Feed it what happened, in time order (`session_started`, `connected`, `frame`, `disconnected`;
times in UNIX seconds, frames as the V3 bytes on the wire), give it the lane's own records if
there are any (`lane_records`), then `finish`: the report. Per connection it follows the RSU
frame waiting for the lane's answer (a retransmission is a copy of it: same SEQ, same DATA) and
the pass of each OBU from its B2 until the next B2, a C0 or the end of the connection; at a
pass's end the business rules judge what the lane did with that vehicle.

Our decisions: an RSU frame is answered in time when the lane's first answer comes before the
RSU gives up (its first sending + (retransmissions + 1) × interval); a frame whose connection
ended, or that a C0 reset, before that is not judged. A lane's record time may differ from the
RSU's clock by `RECORD_TIME_TOLERANCE_S`. A refused vehicle gets no C6 at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from protocols.envelope import EnvelopeKind
from protocols.errors import FrameError
from protocols.frame_codec import decode_frame, nonstandard_values
from protocols.frames import (
    B2Error,
    B5Error,
    Continue,
    DeviceStatus,
    Frame,
    Heartbeat,
    HeartbeatAnswer,
    Initialise,
    LaneMode,
    ObuFound,
    Purchase,
    RefetchTac,
    SetAntenna,
    Stop,
    TacRefetched,
    TransactionResult,
    UnknownFrame,
    VehicleAndCard,
)
from protocols.records import CardType, EntryExitStatus
from protocols.stream import decode_packet
from rsu_sim.conformance.report import Evidence, FrameRef, LaneResult, Report
from rsu_sim.conformance.rules import RULES, Needs
from rsu_sim.conformance.tariff import (
    LANE_ZONE,
    Charge,
    Refuse,
    Tariff,
    chargeable,
    exit_price,
    refusals,
)

#: How far a lane's record time (0019, C6) may be from the RSU's clock (our decision).
RECORD_TIME_TOLERANCE_S = 10.0
#: How far a lane record's transaction time may be from the B4 it priced (our decision).
RECORD_MATCH_S = 30.0


@dataclass(frozen=True, slots=True)
class LaneUnderTest:
    """A scenario lane as the judge needs it: who it is and where it stands."""

    lane_id: str
    mode: LaneMode
    network: str
    station: int
    lane_number: int


@dataclass(frozen=True, slots=True)
class LinkTiming:
    """The RSU's retransmission of an unanswered frame (`pc-rsu.md` §1.1)."""

    retransmit_interval_s: float = 0.120
    max_retransmissions: int = 3

    @property
    def give_up_s(self) -> float:
        """After its first sending, when the RSU gives a frame up."""
        return (self.max_retransmissions + 1) * self.retransmit_interval_s


@dataclass(frozen=True, slots=True)
class LaneRecord:
    """What the judge reads of a lane's own transaction record (for the cash due)."""

    lane_number: int
    card_number: str
    at: float  # the record's transaction time, UNIX seconds
    outcome: str
    cash_fee: int


@dataclass(slots=True)
class _Waiting:
    """An RSU frame waiting for the lane's answer, and its copies."""

    frame: Frame
    name: str
    seq: int
    at: float
    obu_id: int
    copies: int = 1
    answers: int = 0
    answered_at: float | None = None
    answer: FrameRef | None = None

    def ref(self) -> FrameRef:
        return FrameRef("TX", self.name, self.seq, self.at)


@dataclass(slots=True)
class _Pass:
    """One OBU's pass through the zone, as the frames tell it."""

    obu_id: int
    b2: ObuFound
    b2_ref: FrameRef
    b4: VehicleAndCard | None = None
    b4_ref: FrameRef | None = None
    c6: list[tuple[Purchase, FrameRef, str]] = field(default_factory=list)  # frame, ref, why
    results: list[tuple[TransactionResult | TacRefetched, FrameRef]] = field(default_factory=list)
    last_lane: FrameRef | None = None  # the last lane frame about this OBU
    last_error_at: float | None = None  # the last B5/B8 with an error
    moot: bool = False  # the connection ended (or a C0 came) before the lane's last turn

    def vehicle(self) -> str:
        text = f"OBU {self.obu_id:08x}"
        if self.b4 is not None and self.b4.issuer_info is not None:
            text += f" card {self.b4.issuer_info.card_number}"
        if self.b4 is not None and self.b4.vehicle_info is not None:
            text += f" plate {self.b4.vehicle_info.plate.text}"
        return text


@dataclass(slots=True)
class _Connection:
    name: str
    lane: _Lane
    opened_at: float
    closed_at: float | None = None
    frames: int = 0
    last_lane_seq: int | None = None
    heartbeat: _Waiting | None = None
    session: _Waiting | None = None
    current: _Pass | None = None
    recent: dict[int, _Pass] = field(default_factory=dict)


@dataclass(slots=True)
class _Lane:
    spec: LaneUnderTest
    result: LaneResult
    charges: list[tuple[_Pass, Charge, str]] = field(default_factory=list)  # short B cards


class Judge:
    """See the module docstring. `tariff` None: the business rules that need it are not judged;
    `blacklisted` None: the blacklist rule is not judged."""

    def __init__(self, lanes: Sequence[LaneUnderTest], *, tariff: Tariff | None = None,
                 blacklisted: Callable[[str], bool] | None = None,
                 timing: LinkTiming = LinkTiming(), inputs: dict[str, str] | None = None
                 ) -> None:
        self._lanes = {spec.lane_id: _Lane(spec, LaneResult(
            spec.lane_id, "entry" if spec.mode == LaneMode.ENTRY else "exit",
            f"{spec.network}/{spec.station} lane {spec.lane_number}")) for spec in lanes}
        self._tariff = tariff
        self._blacklisted = blacklisted
        self._timing = timing
        self._connections: dict[tuple[str, str], _Connection] = {}
        self._records: list[LaneRecord] | None = None
        self._inputs = dict(inputs or {})

    # ------------------------------------------------------------ what happened

    def session_started(self, at: float) -> None:
        """A serve run (re)started: every connection of an earlier run has ended."""
        for conn in list(self._connections.values()):
            if conn.closed_at is None:
                self._close(conn, at)

    def connected(self, at: float, lane: str, connection: str) -> None:
        """A lane connected."""
        owner = self._lanes.get(lane)
        if owner is None:
            return
        self._connections[(lane, connection)] = _Connection(connection, owner, at)
        owner.result.connections.append(connection)

    def disconnected(self, at: float, lane: str, connection: str) -> None:
        """A lane connection ended."""
        conn = self._connections.get((lane, connection))
        if conn is not None and conn.closed_at is None:
            self._close(conn, at)

    def frame(self, at: float, lane: str, connection: str, direction: str, raw: bytes) -> None:
        """A frame went over a lane connection: "RX" from the lane, "TX" to it."""
        conn = self._connections.get((lane, connection))
        if conn is None:
            if lane not in self._lanes:
                return
            self.connected(at, lane, connection)
            conn = self._connections[(lane, connection)]
        try:
            packet = decode_packet(raw, EnvelopeKind.V3)
            frame = decode_frame(packet.data)
        except FrameError:
            return
        seq = getattr(packet, "seq", 0)
        conn.frames += 1
        conn.lane.result.frames += 1
        if direction == "TX":
            self._rsu_frame(conn, frame, seq, at)
        else:
            self._lane_frame(conn, frame, seq, at)

    def lane_records(self, records: Iterable[LaneRecord]) -> None:
        """The lane's own records (this project's journal, or any lane's JSON Lines)."""
        self._records = list(records)

    def finish(self, at: float) -> Report:
        """Close what is still open at `at` and give the report."""
        for conn in self._connections.values():
            if conn.closed_at is None:
                self._close(conn, at)
        for lane in self._lanes.values():
            self._judge_cash(lane)
            self._not_judged(lane)
        notes = []
        if self._tariff is None:
            notes.append("no fee table given (--network or --fees): the rules on amounts, "
                         "charges and entries were not judged")
        if self._blacklisted is None:
            notes.append("no blacklist given: refuse_blacklisted was not judged")
        if self._records is None:
            notes.append("the lane's records were not given (--journal or --records): "
                         "cash_due was not judged")
        return Report([lane.result for lane in self._lanes.values()], self._inputs, notes,
                      LANE_ZONE)

    # ------------------------------------------------------------ RSU frames

    def _rsu_frame(self, conn: _Connection, frame: Frame, seq: int, at: float) -> None:
        if isinstance(frame, DeviceStatus | UnknownFrame):
            return
        if isinstance(frame, Heartbeat):
            beat = conn.heartbeat
            if beat is not None and beat.seq == seq and beat.frame == frame:
                beat.copies += 1
                return
            if beat is not None:
                self._settle_heartbeat(conn, beat, at)
            conn.heartbeat = _Waiting(frame, "B1", seq, at, 0)
            return
        if isinstance(frame, ObuFound) and frame.error_code == B2Error.NO_OBU \
                and frame.obu_id == 0:
            return  # some RSUs' heartbeat: nothing to answer
        waiting = conn.session
        if waiting is not None and waiting.seq == seq and waiting.frame == frame:
            waiting.copies += 1
            return
        if waiting is not None:
            self._settle(conn, waiting, at)
        name = _NAMES[type(frame)]
        obu_id = getattr(frame, "obu_id", 0)
        conn.session = _Waiting(frame, name, seq, at, obu_id)
        ref = conn.session.ref()
        if isinstance(frame, ObuFound):
            self._end_pass(conn)
            conn.current = _Pass(obu_id, frame, ref)
            conn.recent[obu_id] = conn.current
            conn.lane.result.passes += 1
            return
        p = conn.recent.get(obu_id)
        if p is None:
            return
        if isinstance(frame, VehicleAndCard):
            p.b4, p.b4_ref = frame, ref
        elif isinstance(frame, TransactionResult | TacRefetched):
            p.results.append((frame, ref))
            if frame.error_code != B5Error.OK:
                p.last_error_at = at

    def _settle(self, conn: _Connection, waiting: _Waiting, at: float) -> None:
        """Judge whether `waiting` was answered in time, now (`at`) that it waits no more: one
        unanswered, superseded or cut off before the RSU gave it up is not judged."""
        rule = conn.lane.result.rules["answered_in_time"]
        deadline = waiting.at + self._timing.give_up_s
        if waiting.answered_at is not None:
            late = waiting.answered_at > deadline
            rule.check(not late, self._evidence(
                conn, waiting, "an answer within "
                f"{self._timing.give_up_s * 1000:.0f} ms", f"the first answer after "
                f"{(waiting.answered_at - waiting.at) * 1000:.0f} ms"))
        elif at >= deadline:
            rule.check(False, self._evidence(
                conn, waiting, f"an answer within {self._timing.give_up_s * 1000:.0f} ms",
                f"no answer ({waiting.copies} sent)"))

    def _settle_heartbeat(self, conn: _Connection, beat: _Waiting, at: float) -> None:
        rule = conn.lane.result.rules["heartbeat_answered"]
        deadline = beat.at + self._timing.give_up_s
        if beat.answered_at is not None:
            rule.check(beat.answered_at <= deadline, self._evidence(
                conn, beat, "CF before the RSU gives up",
                f"CF after {(beat.answered_at - beat.at) * 1000:.0f} ms"))
        elif at >= deadline:
            rule.check(False, self._evidence(conn, beat, "CF", f"no CF ({beat.copies} sent)"))

    # ------------------------------------------------------------ lane frames

    def _lane_frame(self, conn: _Connection, frame: Frame, seq: int, at: float) -> None:
        rules = conn.lane.result.rules
        ref = FrameRef("RX", _frame_name(frame), seq, at)
        first = conn.last_lane_seq is None
        if first:
            rules["initialise_first"].check(isinstance(frame, Initialise), Evidence(
                conn.name, "-", (ref,), "C0 first", f"{ref.frame} first"))
        self._check_seq(conn, seq, ref)
        odd = nonstandard_values(frame)
        rules["standard_values"].check(not odd, Evidence(
            conn.name, "-", (ref,), " and ".join(f"a standard {v.standard}" for v in odd),
            " and ".join(f"{v.field} {v.value:#04x}" for v in odd)))
        match frame:
            case Initialise():
                if conn.session is not None:
                    self._settle(conn, conn.session, at)
                    conn.session = None
                if conn.current is not None:
                    conn.current.moot = True
                self._end_pass(conn)
            case HeartbeatAnswer():
                self._answer_heartbeat(conn, ref, at)
            case Continue():
                self._answer(conn, frame.obu_id, ref, at, ("B2", "B5", "B8"), "answers_in_place")
            case RefetchTac():
                self._answer(conn, frame.obu_id, ref, at, ("B5", "B8"), "answers_in_place")
            case Stop():
                self._answer(conn, frame.obu_id, ref, at, ("B2", "B4", "B5", "B8"), None)
            case Purchase():
                self._purchase(conn, frame, ref, at)
            case SetAntenna():
                pass

    def _check_seq(self, conn: _Connection, seq: int, ref: FrameRef) -> None:
        rule = conn.lane.result.rules["lane_seq"]
        counter = seq >> 4
        ok = seq & 0x0F == 0 and 1 <= counter <= 9
        expected = "SEQ X0, X 1..9"
        if ok and conn.last_lane_seq is not None:
            wanted = conn.last_lane_seq % 9 + 1
            ok = counter == wanted
            expected = f"SEQ {wanted:x}0 after {conn.last_lane_seq:x}0"
        rule.check(ok, Evidence(conn.name, "-", (ref,), expected, f"SEQ {seq:02x}"))
        if seq & 0x0F == 0 and 1 <= counter <= 9:
            conn.last_lane_seq = counter

    def _answer_heartbeat(self, conn: _Connection, ref: FrameRef, at: float) -> None:
        beat = conn.heartbeat
        if beat is not None and beat.answers < beat.copies:
            beat.answers += 1
            if beat.answered_at is None:
                beat.answered_at, beat.answer = at, ref
            return
        conn.lane.result.rules["heartbeat_answered"].check(False, Evidence(
            conn.name, "-", (ref,), "CF answering a B1", "CF with no B1 waiting for it"))

    def _answer(self, conn: _Connection, obu_id: int, ref: FrameRef, at: float,
                answers: tuple[str, ...], rule_id: str | None) -> bool:
        """Count `ref` as the answer of the frame waiting for it; else, for `rule_id`, a
        frame out of place."""
        p = conn.recent.get(obu_id)
        if p is not None:
            p.last_lane = ref
        waiting = conn.session
        if waiting is not None and waiting.obu_id == obu_id and waiting.name in answers \
                and waiting.answers < waiting.copies:
            waiting.answers += 1
            if waiting.answered_at is None:
                waiting.answered_at, waiting.answer = at, ref
            if rule_id is not None:
                conn.lane.result.rules[rule_id].check(True)
            return True
        if rule_id is not None:
            last = f"; the last RSU frame is {waiting.name} SEQ {waiting.seq:02x} for OBU " \
                   f"{waiting.obu_id:08x}" if waiting is not None else ""
            frames = (ref,) if waiting is None else (waiting.ref(), ref)
            conn.lane.result.rules[rule_id].check(False, Evidence(
                conn.name, p.vehicle() if p else f"OBU {obu_id:08x}", frames,
                f"{ref.frame} only in answer to {' or '.join(answers)} of the same OBU",
                f"{ref.frame} answering nothing{last}"))
        return False

    def _purchase(self, conn: _Connection, c6: Purchase, ref: FrameRef, at: float) -> None:
        rules = conn.lane.result.rules
        waiting = conn.session
        p = conn.recent.get(c6.obu_id)
        if p is not None:
            p.last_lane = ref
        same = waiting is not None and waiting.obu_id == c6.obu_id and p is not None
        if same and waiting is not None and p is not None and waiting.name == "B4":
            if waiting.answers and any(why == "B4" for _, _, why in p.c6):
                rules["retransmission_not_acted_on"].check(False, Evidence(
                    conn.name, p.vehicle(), (waiting.ref(), *(r for _, r, _ in p.c6), ref),
                    f"one C6 for B4 SEQ {waiting.seq:02x} (sent {waiting.copies} times)",
                    f"C6 number {len(p.c6) + 1} for it"))
                p.c6.append((c6, ref, "again"))
                return
            self._answer(conn, c6.obu_id, ref, at, ("B4",), None)
            rules["no_c6_outside_purchase"].check(True)
            if waiting.copies > 1:
                rules["retransmission_not_acted_on"].check(True)
            p.c6.append((c6, ref, "B4"))
            return
        closing = (same and waiting is not None and p is not None and waiting.name == "B5"
                   and conn.lane.spec.mode == LaneMode.EXIT and c6.consume_money == 0
                   and getattr(waiting.frame, "error_code", None)
                   == B5Error.CARD_INSUFFICIENT_BALANCE
                   and not any(why == "closing" for _, _, why in p.c6))
        if closing and p is not None:
            self._answer(conn, c6.obu_id, ref, at, ("B5",), None)
            rules["no_c6_outside_purchase"].check(True)
            p.c6.append((c6, ref, "closing"))
            return
        seen = "no RSU frame waiting" if waiting is None else \
            f"the RSU waits with {waiting.name} SEQ {waiting.seq:02x} for OBU " \
            f"{waiting.obu_id:08x}"
        rules["no_c6_outside_purchase"].check(False, Evidence(
            conn.name, p.vehicle() if p else f"OBU {c6.obu_id:08x}",
            (ref,) if waiting is None else (waiting.ref(), ref),
            "C6 only in answer to a B4 of the same OBU", f"C6 {c6.consume_money} fen; {seen}"))
        if p is not None:
            p.c6.append((c6, ref, "stray"))

    # ------------------------------------------------------------ ends

    def _close(self, conn: _Connection, at: float) -> None:
        conn.closed_at = at
        if conn.session is not None:
            deadline = conn.session.at + self._timing.give_up_s
            if conn.current is not None and conn.session.answered_at is None and at < deadline:
                conn.current.moot = True
            self._settle(conn, conn.session, at)
            conn.session = None
        if conn.heartbeat is not None:
            if at >= conn.heartbeat.at + self._timing.give_up_s \
                    or conn.heartbeat.answered_at is not None:
                self._settle_heartbeat(conn, conn.heartbeat, at)
            conn.heartbeat = None
        self._end_pass(conn)

    def _end_pass(self, conn: _Connection) -> None:
        p = conn.current
        conn.current = None
        if p is None:
            return
        self._judge_pass(conn, p)
        # Keep the last few passes: a late C2 or a stray C1 is still named by its vehicle.
        while len(conn.recent) > 8:
            del conn.recent[next(iter(conn.recent))]

    def _judge_pass(self, conn: _Connection, p: _Pass) -> None:
        lane = conn.lane
        rules = lane.result.rules
        spec = lane.spec
        at = p.b2_ref.at
        purchases = [(c6, ref) for c6, ref, why in p.c6 if why in ("B4", "closing")]
        if p.last_error_at is not None and not p.moot:
            closed = p.last_lane is not None and p.last_lane.frame in ("C1", "C2") \
                and p.last_lane.at >= p.last_error_at
            errors = [r for f, r in p.results if f.error_code != B5Error.OK]
            rules["b5_error_closed"].check(closed, Evidence(
                conn.name, p.vehicle(), (*errors[-1:], *((p.last_lane,) if p.last_lane else ())),
                "C1 or C2 after the error", "nothing after it" if p.last_lane is None
                or p.last_lane.at < p.last_error_at else f"{p.last_lane.frame} last"))
        debits = [r for r, ref in p.results if isinstance(r, TransactionResult)
                  and r.error_code == B5Error.OK]
        if debits:
            paid = sum(1 for c6, _ in purchases if c6.consume_money > 0)
            rules["one_debit_per_pass"].check(paid <= 1 and len(debits) <= 1, Evidence(
                conn.name, p.vehicle(), tuple(ref for _, ref in p.results),
                "one debit", f"{len(debits)} purchases committed"))
        for c6, ref in purchases:
            self._judge_record(conn, p, c6, ref)
        reasons = refusals(p.b2, p.b4, at, self._blacklisted)
        any_c6 = [ref for _, ref, _ in p.c6]
        for rule_id, why in reasons.items():
            rules[rule_id].check(not any_c6, Evidence(
                conn.name, p.vehicle(), (p.b2_ref, *((p.b4_ref,) if p.b4_ref else ()), *any_c6),
                f"refused ({why}): no C6", ", ".join(
                    f"C6 {c6.consume_money} fen" for c6, _, _ in p.c6)))
        if reasons or p.b4 is None or p.b4_ref is None or not chargeable(p.b4):
            return
        if spec.mode == LaneMode.ENTRY:
            self._judge_entry(conn, p, purchases)
        elif self._tariff is not None:
            self._judge_exit(conn, p, purchases, self._tariff)

    def _judge_record(self, conn: _Connection, p: _Pass, c6: Purchase, ref: FrameRef) -> None:
        spec = conn.lane.spec
        record = c6.station
        status = EntryExitStatus.ENTERED if spec.mode == LaneMode.ENTRY else \
            EntryExitStatus.EXITED
        wrong = []
        if (record.network, record.station, record.lane) != \
                (spec.network, spec.station, spec.lane_number):
            wrong.append(f"station {record.network}/{record.station} lane {record.lane}")
        if record.status != status:
            wrong.append(f"status {int(record.status):02x}")
        if abs(record.time - ref.at) > RECORD_TIME_TOLERANCE_S:
            wrong.append(f"time {record.time - ref.at:+.0f} s off")
        conn.lane.result.rules["record_written"].check(not wrong, Evidence(
            conn.name, p.vehicle(), (ref,),
            f"0019 status {int(status):02x} at {spec.network}/{spec.station} lane "
            f"{spec.lane_number}, time within {RECORD_TIME_TOLERANCE_S:.0f} s",
            ", ".join(wrong)))
        if spec.mode == LaneMode.ENTRY:
            conn.lane.result.rules["debit_amount"].check(c6.consume_money == 0, Evidence(
                conn.name, p.vehicle(), (ref,), "0 fen at an entry lane",
                f"C6 {c6.consume_money} fen"))

    def _judge_entry(self, conn: _Connection, p: _Pass,
                     purchases: list[tuple[Purchase, FrameRef]]) -> None:
        b4 = p.b4
        assert b4 is not None and b4.issuer_info is not None and p.b4_ref is not None
        minimum = 0 if self._tariff is None else self._tariff.entry_min_balance
        if b4.issuer_info.card_type == CardType.STORED_VALUE and b4.card_rest_money < minimum:
            return
        if not p.moot:
            conn.lane.result.rules["vehicle_charged"].check(bool(purchases), Evidence(
                conn.name, p.vehicle(), (p.b4_ref,), "the entry written (C6 0 fen)",
                _answer_text(p)))

    def _judge_exit(self, conn: _Connection, p: _Pass, purchases: list[tuple[Purchase, FrameRef]],
                    tariff: Tariff) -> None:
        rules = conn.lane.result.rules
        spec = conn.lane.spec
        b4, b4_ref = p.b4, p.b4_ref
        assert b4 is not None and b4_ref is not None
        price = exit_price(b4, b4_ref.at, spec.network, spec.station, tariff)
        first = [(c6, ref) for c6, ref, why in p.c6 if why == "B4"]
        if isinstance(price, Refuse):
            rules["refuse_no_valid_entry"].check(not first, Evidence(
                conn.name, p.vehicle(), (b4_ref, *(r for _, r in first)),
                f"refused ({price.why}): no C6",
                ", ".join(f"C6 {c6.consume_money} fen" for c6, _ in first)))
            return
        if not first:
            if not p.moot:
                rules["vehicle_charged"].check(False, Evidence(
                    conn.name, p.vehicle(), (b4_ref,),
                    f"C6 {price.amount} fen ({price.how})", _answer_text(p)))
            return
        rules["vehicle_charged"].check(True)
        c6, ref = first[0]
        asked = c6.consume_money
        if price.short:
            conn.lane.charges.append((p, price, conn.name))
            rules["b_card_short_not_debited"].check(asked == 0, Evidence(
                conn.name, p.vehicle(), (b4_ref, ref),
                f"0 fen: balance {b4.card_rest_money} is short of {price.discounted} fen, "
                f"{price.cash} fen due in cash", f"C6 {asked} fen"))
            return
        if any(why == "closing" for _, _, why in p.c6):
            conn.lane.charges.append((p, price, conn.name))  # the card refused: cash is due
        gap = asked - price.amount
        rules["debit_amount"].check(gap == 0, Evidence(
            conn.name, p.vehicle(), (b4_ref, ref),
            f"{price.amount} fen (fee {price.fee}, {price.how})",
            f"C6 {asked} fen: " + (f"{-gap} fen short" if gap < 0 else f"{gap} fen over")))

    def _judge_cash(self, lane: _Lane) -> None:
        rule = lane.result.rules["cash_due"]
        if self._records is None:
            return
        for p, price, connection in lane.charges:
            card = p.b4.issuer_info.card_number if p.b4 and p.b4.issuer_info else ""
            at = p.b4_ref.at if p.b4_ref else p.b2_ref.at
            found = [r for r in self._records if r.card_number == card
                     and r.lane_number == lane.spec.lane_number
                     and abs(r.at - at) <= RECORD_MATCH_S]
            if not found:
                rule.check(False, Evidence(connection, p.vehicle(), (p.b2_ref,),
                                           f"a record with {price.cash} fen due in cash",
                                           "no record of the lane for this vehicle"))
                continue
            record = found[-1]
            rule.check(record.outcome == "cash_required" and record.cash_fee == price.cash,
                       Evidence(connection, p.vehicle(), (p.b2_ref,),
                                f"cash_required, {price.cash} fen due (fee {price.fee})",
                                f"{record.outcome}, {record.cash_fee} fen due"))

    def _not_judged(self, lane: _Lane) -> None:
        missing = {Needs.TARIFF: self._tariff is None, Needs.BLACKLIST: self._blacklisted is None,
                   Needs.RECORDS: self._records is None or self._tariff is None}
        entry = lane.spec.mode == LaneMode.ENTRY
        for rule in RULES:
            result = lane.result.rules[rule.id]
            if entry and rule.id in _EXIT_ONLY:
                result.note = "exit lanes only"
            elif entry and rule.id in _ENTRY_WITHOUT_TARIFF:
                continue  # an entry writes 0 fen: no fee table needed
            elif missing.get(rule.needs):
                result.judged = False
                result.note = _MISSING[rule.needs]

    def _evidence(self, conn: _Connection, waiting: _Waiting, expected: str,
                  seen: str) -> Evidence:
        p = conn.recent.get(waiting.obu_id)
        frames = (waiting.ref(),) if waiting.answer is None else (waiting.ref(), waiting.answer)
        return Evidence(conn.name, p.vehicle() if p else "-", frames, expected, seen)


_EXIT_ONLY = frozenset({"b_card_short_not_debited", "cash_due", "refuse_no_valid_entry"})
_ENTRY_WITHOUT_TARIFF = frozenset({"debit_amount", "vehicle_charged"})
_MISSING = {Needs.TARIFF: "not judged: no fee table given",
            Needs.BLACKLIST: "not judged: no blacklist given",
            Needs.RECORDS: "not judged: no lane records (or no fee table) given"}


def _answer_text(p: _Pass) -> str:
    return "no answer" if p.last_lane is None else f"{p.last_lane.frame} and no C6"


_NAMES: dict[type, str] = {
    ObuFound: "B2", VehicleAndCard: "B4", TransactionResult: "B5", TacRefetched: "B8",
    Heartbeat: "B1", DeviceStatus: "B0",
}
_LANE_NAMES: dict[type, str] = {
    Initialise: "C0", Continue: "C1", Stop: "C2", SetAntenna: "C4", Purchase: "C6",
    RefetchTac: "C8", HeartbeatAnswer: "CF",
}


def _frame_name(frame: Frame) -> str:
    if isinstance(frame, UnknownFrame):
        return f"{frame.frame_type:02X}"
    return _LANE_NAMES.get(type(frame)) or _NAMES.get(type(frame), type(frame).__name__)


def iso_seconds(text: str) -> float:
    """UNIX seconds of an ISO 8601 time with its offset (the frame log's)."""
    return dt.datetime.fromisoformat(text).timestamp()


__all__ = ["RECORD_TIME_TOLERANCE_S", "Judge", "LaneRecord", "LaneUnderTest", "LinkTiming",
           "iso_seconds"]
