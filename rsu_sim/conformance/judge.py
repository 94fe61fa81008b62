"""The judge: a lane's frames, as the RSU sent and received them, checked against the rules.

Feed it what happened, in time order (`session_started`, `connected`, `frame`, `disconnected`;
times in UNIX seconds, frames as the V3 bytes on the wire), give it the lane's own records if
there are any (`lane_records`), then `finish`: the report. The protocol rules follow each
connection frame by frame (`protocol`); at each pass's end, and for the cash due at the run's
end, the business rules judge what the lane did with the vehicle (`business`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from protocols.envelope import EnvelopeKind
from protocols.errors import FrameError
from protocols.frame_codec import decode_frame
from protocols.frames import LaneMode
from protocols.stream import decode_packet
from rsu_sim.conformance.business import RECORD_TIME_TOLERANCE_S, BusinessJudge
from rsu_sim.conformance.protocol import ProtocolJudge
from rsu_sim.conformance.report import LaneResult, Report
from rsu_sim.conformance.tariff import LANE_ZONE, Tariff
from rsu_sim.conformance.values import (
    Connection,
    LaneRecord,
    LaneState,
    LaneUnderTest,
    LinkTiming,
)

#: The RSU's retransmission as `pc-rsu.md` §1.1 gives it, unless the caller says otherwise.
_STANDARD_TIMING = LinkTiming()


class Judge:
    """See the module docstring. `tariff` None: the business rules that need it are not judged;
    `blacklisted` None: the blacklist rule is not judged."""

    def __init__(self, lanes: Sequence[LaneUnderTest], *, tariff: Tariff | None = None,
                 blacklisted: Callable[[str], bool] | None = None,
                 timing: LinkTiming = _STANDARD_TIMING, inputs: dict[str, str] | None = None
                 ) -> None:
        self._lanes = {spec.lane_id: LaneState(spec, LaneResult(
            spec.lane_id, "entry" if spec.mode == LaneMode.ENTRY else "exit",
            f"{spec.network}/{spec.station} lane {spec.lane_number}")) for spec in lanes}
        self._business = BusinessJudge(tariff, blacklisted)
        self._protocol = ProtocolJudge(timing, self._business.judge_pass)
        self._connections: dict[tuple[str, str], Connection] = {}
        self._inputs = dict(inputs or {})

    def session_started(self, at: float) -> None:
        """A serve run (re)started: every connection of an earlier run has ended."""
        for conn in list(self._connections.values()):
            if conn.closed_at is None:
                self._protocol.close(conn, at)

    def connected(self, at: float, lane: str, connection: str) -> None:
        """A lane connected."""
        owner = self._lanes.get(lane)
        if owner is None:
            return
        self._connections[(lane, connection)] = Connection(connection, owner, at)
        owner.result.connections.append(connection)

    def disconnected(self, at: float, lane: str, connection: str) -> None:
        """A lane connection ended."""
        conn = self._connections.get((lane, connection))
        if conn is not None and conn.closed_at is None:
            self._protocol.close(conn, at)

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
            self._protocol.rsu_frame(conn, frame, seq, at)
        else:
            self._protocol.lane_frame(conn, frame, seq, at)

    def lane_records(self, records: Iterable[LaneRecord]) -> None:
        """The lane's own records (this project's journal, or any lane's JSON Lines)."""
        self._business.records = list(records)

    def finish(self, at: float) -> Report:
        """Close what is still open at `at` and give the report."""
        for conn in self._connections.values():
            if conn.closed_at is None:
                self._protocol.close(conn, at)
        for lane in self._lanes.values():
            self._business.finish(lane)
        return Report([lane.result for lane in self._lanes.values()], self._inputs,
                      self._business.notes(), LANE_ZONE)


def iso_seconds(text: str) -> float:
    """UNIX seconds of an ISO 8601 time with its offset (the frame log's)."""
    return dt.datetime.fromisoformat(text).timestamp()


__all__ = ["RECORD_TIME_TOLERANCE_S", "Judge", "LaneRecord", "LaneUnderTest", "LinkTiming",
           "iso_seconds"]
