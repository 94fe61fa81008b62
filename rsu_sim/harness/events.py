"""The virtual clock: one heap of (time, seq, action, arguments); actions run in time order, ties
in the order they were scheduled, so a run is deterministic."""

from __future__ import annotations

import heapq
from collections.abc import Callable

Action = Callable[..., None]  # called with the time it was due, then its arguments


class EventQueue:
    """A discrete-event loop in simulated seconds; nothing sleeps."""

    __slots__ = ("_heap", "_seq", "now")

    def __init__(self, start: float = 0.0) -> None:
        self._heap: list[tuple[float, int, Action, tuple[object, ...]]] = []
        self._seq = 0
        self.now = start

    def __len__(self) -> int:
        return len(self._heap)

    def at(self, time: float, action: Action, *args: object) -> None:
        """Run `action(time, *args)` at `time` (never earlier than the current time)."""
        self._seq += 1
        now = self.now
        heapq.heappush(self._heap, (time if time > now else now, self._seq, action, args))

    def run(self, until: float) -> None:
        """Run every action due up to `until`; the clock ends at `until`."""
        heap = self._heap
        pop = heapq.heappop
        while heap and heap[0][0] <= until:
            time, _, action, args = pop(heap)
            self.now = time
            action(time, *args)
        self.now = max(self.now, until)
