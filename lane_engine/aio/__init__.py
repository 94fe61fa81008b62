"""The lane process at the edge: asyncio runtime, RSU connections, group commit, event bus."""

from lane_engine.aio.bus import EventBus, FrameRejected, LaneEvent, RsuConnected, RsuDisconnected
from lane_engine.aio.clock import Clock, SystemClock
from lane_engine.aio.plaza import CentreUpdate, Plaza, run_plaza

__all__ = [
    "CentreUpdate",
    "Clock",
    "EventBus",
    "FrameRejected",
    "LaneEvent",
    "Plaza",
    "RsuConnected",
    "RsuDisconnected",
    "SystemClock",
    "run_plaza",
]
