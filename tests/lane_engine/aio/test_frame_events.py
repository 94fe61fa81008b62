"""Frame events on the bus (`EventBus(frames=True)`): every frame in and out, stamped when read
and just after written, so a B4's decision latency can be measured at the lane edge."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from tcp_rsu import LANE, ScriptedClock, ScriptedTcpRsu, plaza_config  # isort: skip (puts scripted_rsu on the path)
from scripted_rsu import OBU, b0, b2, b4, b5  # isort: skip

from lane_engine.aio.bus import EventBus, FrameReceived, FrameSent, LaneEvent
from lane_engine.aio.plaza import Plaza
from lane_engine.core.effects import OpenBarrier
from protocols.frames import Continue, Initialise, Purchase, TransactionResult, VehicleAndCard


async def one_transaction(tmp_path: Path, bus: EventBus) -> list[LaneEvent]:
    """A plaza with one lane sells one exit transaction; every event of the run."""
    rsu, stop, events = ScriptedTcpRsu(), asyncio.Event(), []
    await rsu.start()
    bus.subscribe(events.append)
    plaza = Plaza(plaza_config(tmp_path, {LANE: rsu.port}), bus=bus, rng=random.Random(7),
                  clock=ScriptedClock())
    task = asyncio.create_task(plaza.run(stop))
    try:
        await rsu.connected()
        await rsu.expect(Initialise)
        rsu.send(b0())
        rsu.send(b2(OBU))
        await rsu.expect(Continue)
        rsu.send(b4(obu=OBU))
        c6: Purchase = await rsu.expect(Purchase)  # type: ignore[assignment]
        rsu.send(b5(c6.consume_money))
        await rsu.expect(Continue)
        while not any(isinstance(e.event, OpenBarrier) for e in events):
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await rsu.stop()
    return events


async def test_frames_in_and_out_are_published_when_asked(tmp_path: Path) -> None:
    events = await one_transaction(tmp_path, EventBus(frames=True))
    frames = [e for e in events if isinstance(e.event, FrameReceived | FrameSent)]
    kinds = [(type(e.event), type(e.event.frame)) for e in frames]  # type: ignore[attr-defined]
    assert kinds[0] == (FrameSent, Initialise)
    b4_read = frames[kinds.index((FrameReceived, VehicleAndCard))]
    c6_sent = frames[kinds.index((FrameSent, Purchase))]
    assert frames.index(b4_read) < frames.index(c6_sent)
    assert b4_read.lane == c6_sent.lane == LANE and b4_read.at <= c6_sent.at
    assert (FrameReceived, TransactionResult) in kinds
    assert all(isinstance(e.event.seq, int) for e in frames if isinstance(e.event, FrameReceived))


async def test_no_frame_events_by_default(tmp_path: Path) -> None:
    events = await one_transaction(tmp_path, EventBus())
    assert any(isinstance(e.event, OpenBarrier) for e in events)
    assert not [e for e in events if isinstance(e.event, FrameReceived | FrameSent)]
