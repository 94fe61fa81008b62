"""The protocol rules: per connection, the RSU frame waiting for the lane's answer (a
retransmission is a copy of it: same SEQ, same DATA), the lane's frames checked against it, and
the pass of each OBU from its B2 until the next B2, a C0 or the end of the connection; at a
pass's end the business rules are handed the pass (`judge_pass`).

Our decisions: an RSU frame is answered in time when the lane's first answer comes before the
RSU gives up (its first sending + (retransmissions + 1) × interval); a frame whose connection
ended, or that a C0 reset, before that is not judged.
"""

from __future__ import annotations

from collections.abc import Callable

from protocols.frame_codec import nonstandard_values
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
from rsu_sim.conformance.report import Evidence, FrameRef
from rsu_sim.conformance.values import Connection, LinkTiming, ObuPass, Waiting

#: Passes kept per connection after their end: a late C2 or a stray C1 is still named by its
#: vehicle.
RECENT_PASSES = 8


class ProtocolJudge:
    """Follows the frames of each connection and judges the protocol rules on them."""

    def __init__(self, timing: LinkTiming,
                 judge_pass: Callable[[Connection, ObuPass], None]) -> None:
        self._timing = timing
        self._judge_pass = judge_pass

    # ------------------------------------------------------------ RSU frames

    def rsu_frame(self, conn: Connection, frame: Frame, seq: int, at: float) -> None:
        """The RSU sent `frame` to the lane."""
        if isinstance(frame, DeviceStatus | UnknownFrame):
            return
        if isinstance(frame, Heartbeat):
            beat = conn.heartbeat
            if beat is not None and beat.seq == seq and beat.frame == frame:
                beat.copies += 1
                return
            if beat is not None:
                self._settle_heartbeat(conn, beat, at)
            conn.heartbeat = Waiting(frame, "B1", seq, at, 0)
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
        conn.session = Waiting(frame, name, seq, at, obu_id)
        ref = conn.session.ref()
        if isinstance(frame, ObuFound):
            self._end_pass(conn)
            conn.current = ObuPass(obu_id, frame, ref)
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

    def _settle(self, conn: Connection, waiting: Waiting, at: float) -> None:
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

    def _settle_heartbeat(self, conn: Connection, beat: Waiting, at: float) -> None:
        rule = conn.lane.result.rules["heartbeat_answered"]
        deadline = beat.at + self._timing.give_up_s
        if beat.answered_at is not None:
            rule.check(beat.answered_at <= deadline, self._evidence(
                conn, beat, "CF before the RSU gives up",
                f"CF after {(beat.answered_at - beat.at) * 1000:.0f} ms"))
        elif at >= deadline:
            rule.check(False, self._evidence(conn, beat, "CF", f"no CF ({beat.copies} sent)"))

    # ------------------------------------------------------------ lane frames

    def lane_frame(self, conn: Connection, frame: Frame, seq: int, at: float) -> None:
        """The lane sent `frame` to the RSU."""
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

    def _check_seq(self, conn: Connection, seq: int, ref: FrameRef) -> None:
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

    def _answer_heartbeat(self, conn: Connection, ref: FrameRef, at: float) -> None:
        beat = conn.heartbeat
        if beat is not None and beat.answers < beat.copies:
            beat.answers += 1
            if beat.answered_at is None:
                beat.answered_at, beat.answer = at, ref
            return
        conn.lane.result.rules["heartbeat_answered"].check(False, Evidence(
            conn.name, "-", (ref,), "CF answering a B1", "CF with no B1 waiting for it"))

    def _answer(self, conn: Connection, obu_id: int, ref: FrameRef, at: float,
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

    def _purchase(self, conn: Connection, c6: Purchase, ref: FrameRef, at: float) -> None:
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

    def close(self, conn: Connection, at: float) -> None:
        """The connection ended at `at`: settle what waits and end the pass."""
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

    def _end_pass(self, conn: Connection) -> None:
        p = conn.current
        conn.current = None
        if p is None:
            return
        self._judge_error_closed(conn, p)
        self._judge_pass(conn, p)
        while len(conn.recent) > RECENT_PASSES:
            del conn.recent[next(iter(conn.recent))]

    def _judge_error_closed(self, conn: Connection, p: ObuPass) -> None:
        if p.last_error_at is None or p.moot:
            return
        closed = p.last_lane is not None and p.last_lane.frame in ("C1", "C2") \
            and p.last_lane.at >= p.last_error_at
        errors = [r for f, r in p.results if f.error_code != B5Error.OK]
        conn.lane.result.rules["b5_error_closed"].check(closed, Evidence(
            conn.name, p.vehicle(), (*errors[-1:], *((p.last_lane,) if p.last_lane else ())),
            "C1 or C2 after the error", "nothing after it" if p.last_lane is None
            or p.last_lane.at < p.last_error_at else f"{p.last_lane.frame} last"))

    def _evidence(self, conn: Connection, waiting: Waiting, expected: str,
                  seen: str) -> Evidence:
        p = conn.recent.get(waiting.obu_id)
        frames = (waiting.ref(),) if waiting.answer is None else (waiting.ref(), waiting.answer)
        return Evidence(conn.name, p.vehicle() if p else "-", frames, expected, seen)


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


__all__ = ["RECENT_PASSES", "ProtocolJudge"]
