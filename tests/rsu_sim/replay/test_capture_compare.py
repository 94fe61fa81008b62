"""Reading captures for replay (frame logs and plain hex, torn lines skipped, one connection
chosen) and comparing answers field by field without the lane's clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from protocols.envelope import encode_v3
from protocols.frame_codec import encode_frame
from protocols.frames import Continue, Frame, Initialise, LaneMode, Purchase
from protocols.records import EntryExitRecord, EntryExitStatus, Plate
from rsu_sim.replay.capture import CaptureError, one_connection, read_capture
from rsu_sim.replay.compare import differences, exchanges
from rsu_sim.server.frame_log import Direction, frame_line
from tests.rsu_sim.conformance.test_judge import b2, b4

WHEN = dt.datetime(2026, 11, 27, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
C0 = Initialise(1_790_000_000, dt.datetime(2026, 11, 27, 9), LaneMode.EXIT, 10, 10, 0)
RECORD = EntryExitRecord("3701", 102, 2, 1_790_000_001, 1, EntryExitStatus.EXITED,
                         Plate.from_text("鲁A12345"), 0)
C6 = Purchase(b2().obu_id, bytes(8), 1189, dt.datetime(2026, 11, 27, 9, 0, 1), RECORD)


def wire(seq: int, frame: Frame) -> bytes:
    return encode_v3(seq, encode_frame(frame))


def log_lines(connection: str = "c1", lane: str = "exit-1") -> list[str]:
    frames = [(Direction.RX, 0x10, C0), (Direction.TX, 0x01, b2()),
              (Direction.RX, 0x20, Continue(b2().obu_id, bytes(8))), (Direction.TX, 0x02, b4()),
              (Direction.RX, 0x30, C6)]
    return [frame_line(WHEN + dt.timedelta(seconds=i), lane, connection, d, wire(seq, f))
            for i, (d, seq, f) in enumerate(frames)]


def test_a_frame_log_and_a_hex_capture_read_the_same_frames() -> None:
    lines = ["# a note", *log_lines(), "2026-11-27T09:00:09.000+08:00 exit-1 c1 TX ffff00"]
    logged = read_capture(lines)
    plain = read_capture([line.split()[-1] for line in log_lines()])
    assert [(f.direction, f.seq, f.frame) for f in logged] == [
        (f.direction, f.seq, f.frame) for f in plain]
    assert logged[0].at == WHEN.timestamp() and plain[0].at is None
    assert [f.direction for f in logged] == ["RX", "TX", "RX", "TX", "RX"]


def test_one_connection_is_chosen_and_a_capture_without_rsu_frames_refused() -> None:
    frames = read_capture(log_lines("c1") + log_lines("c2") + log_lines("c7", lane="entry-1"))
    chosen, name = one_connection(frames)
    assert name == "exit-1 c1" and len(chosen) == 5
    assert one_connection(frames, lane="entry-1")[1] == "entry-1 c7"
    assert one_connection(frames, connection="c2")[1] == "exit-1 c2"
    with pytest.raises(CaptureError, match="no RSU frames"):
        one_connection(frames, connection="c9")


def test_answers_differing_only_in_the_lanes_clock_are_the_same() -> None:
    cut = exchanges(read_capture(log_lines()))
    assert [len(e.answers) for e in cut] == [1, 1, 1]
    later = replace(C6, purchase_time=dt.datetime(2026, 11, 28),
                    station=replace(RECORD, time=1_790_086_400))
    same = [[replace(C0, unix_time=1)], [cut[1].answers[0].frame], [later]]
    assert differences(cut, same, cut[0].answers[0].at) == []
    short = [same[0], same[1], [replace(later, consume_money=1188)]]
    [found] = differences(cut, short, cut[0].answers[0].at)
    assert found.after == "B4 SEQ 02 at +3.000 s"
    assert "consume_money=1189" in found.captured and "consume_money=1188" in found.replayed
    assert str(differences(cut, same[:2], None)[0]).endswith("replay nothing")
