"""The lane's states and the one table that holds every transition (h11's style).

`Lane` dispatches every input through `TRANSITIONS`; an input the table does not know for the
current state is a protocol violation (reported, ignored), never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "TRANSITIONS",
    "LaneInput",
    "LaneState",
    "Transition",
    "render_state_diagram",
]


class LaneState(Enum):
    """Where the lane stands with its RSU."""

    # Members are singletons compared by identity: hash them as such (C speed; the lane looks
    # its state up on every frame, and Enum's own __hash__ is Python code).
    __hash__ = object.__hash__

    #: created, or the RSU connection was lost; C0 not sent yet
    STARTING = "starting"
    #: C0 sent, waiting for a good B0
    INITIALISING = "initialising"
    #: waiting for an OBU (B2)
    READY = "ready"
    #: C1 sent after B2, waiting for the vehicle and card (B4)
    READING = "reading"
    #: C6 sent, waiting for the transaction result (B5)
    PURCHASING = "purchasing"
    #: C8 sent, waiting for the re-fetched TAC (B8)
    RECOVERING = "recovering"


class LaneInput(Enum):
    """What drives the lane: a frame type from the RSU, the start call, a timer or the loss of
    the RSU connection."""

    __hash__ = object.__hash__  # as LaneState's: looked up on every start and timer

    START = "start"
    TIMER = "timer"
    CONNECTION_LOST = "connection_lost"
    B0 = "B0"
    B1 = "B1"
    B2 = "B2"
    B4 = "B4"
    B5 = "B5"
    B8 = "B8"


@dataclass(frozen=True, slots=True)
class Transition:
    """The handler `Lane` runs for an input, and the states it may leave the lane in."""

    handler: str
    targets: frozenset[LaneState]


def _t(handler: str, *targets: LaneState) -> Transition:
    return Transition(handler, frozenset(targets))


S = LaneState
I = LaneInput  # noqa: E741

#: Every transition of the lane. Handlers are `Lane` methods named `_on_<handler>`.
TRANSITIONS: dict[tuple[LaneState, LaneInput], Transition] = {
    (S.STARTING, I.START): _t("start", S.INITIALISING),
    (S.INITIALISING, I.B0): _t("device_status", S.READY, S.INITIALISING),
    (S.INITIALISING, I.B1): _t("heartbeat", S.INITIALISING),
    (S.INITIALISING, I.TIMER): _t("initialise_timeout", S.INITIALISING),
    (S.READY, I.B0): _t("device_status", S.READY, S.INITIALISING),
    (S.READY, I.B1): _t("heartbeat", S.READY),
    (S.READY, I.B2): _t("obu_found", S.READING, S.READY),
    (S.READY, I.B5): _t("late_result", S.READY),
    (S.READING, I.B1): _t("heartbeat", S.READING),
    (S.READING, I.B2): _t("obu_found_while_reading", S.READING, S.READY),
    (S.READING, I.B4): _t("vehicle_and_card", S.PURCHASING, S.READY, S.READING),
    (S.READING, I.TIMER): _t("read_timeout", S.READY),
    (S.PURCHASING, I.B1): _t("heartbeat", S.PURCHASING),
    (S.PURCHASING, I.B2): _t("obu_found_while_settling", S.PURCHASING, S.READING, S.READY),
    (S.PURCHASING, I.B5): _t("transaction_result", S.READY, S.RECOVERING, S.PURCHASING),
    (S.PURCHASING, I.TIMER): _t("purchase_timeout", S.READY),
    (S.RECOVERING, I.B1): _t("heartbeat", S.RECOVERING),
    (S.RECOVERING, I.B2): _t("obu_found_while_settling", S.RECOVERING, S.READING, S.READY),
    (S.RECOVERING, I.B8): _t("tac_refetched", S.READY, S.RECOVERING),
    (S.RECOVERING, I.TIMER): _t("refetch_timeout", S.RECOVERING, S.READY),
    # The RSU connection is gone: whatever was in flight is closed, the lane starts again.
    **{(state, I.CONNECTION_LOST): _t("connection_lost", S.STARTING) for state in S},
}


def render_state_diagram() -> str:
    """The transition table as a Mermaid state diagram (for the README; it cannot drift)."""
    edges: dict[tuple[LaneState, LaneState], list[str]] = {}
    for (state, lane_input), transition in TRANSITIONS.items():
        for target in sorted(transition.targets, key=lambda s: s.value):
            edges.setdefault((state, target), []).append(lane_input.value)
    lines = ["stateDiagram-v2", f"    [*] --> {LaneState.STARTING.name}"]
    for (source, target), inputs in edges.items():
        lines.append(f"    {source.name} --> {target.name} : {', '.join(inputs)}")
    return "\n".join(lines) + "\n"
