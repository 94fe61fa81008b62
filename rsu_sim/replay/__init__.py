"""Replaying a captured frame log to a lane, RSU side, and telling how the lane's answers differ
from those in the capture. `capture` and `compare` are sans-IO; `runner` is the asyncio edge.
May use `server.frame_log` (the log's line format); never `lane_engine`."""
