"""The lane process at the edge: asyncio runtime, RSU connections, group commit, event bus.

Entry points: `lane_engine.aio.plaza.run_plaza` (and `Plaza`), `lane_engine.aio.bus.EventBus`.
"""
