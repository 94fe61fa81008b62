"""The transition table, its diagram, and the lane's robustness against any frame sequence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from scripted_rsu import FakeClock, b0, b1, b2, b4, b5, b8, make_lane

from lane_engine.core.effects import ProtocolViolation
from lane_engine.core.machine import TRANSITIONS, LaneState, render_state_diagram
from protocols.frames import UnknownFrame


def test_every_state_is_reachable_and_every_handler_exists() -> None:
    targets = {t for transition in TRANSITIONS.values() for t in transition.targets}
    assert targets | {LaneState.STARTING} == set(LaneState)
    lane = make_lane()
    for transition in TRANSITIONS.values():
        assert callable(getattr(lane, f"_on_{transition.handler}"))


def test_diagram_shows_every_transition() -> None:
    diagram = render_state_diagram()
    assert diagram.startswith("stateDiagram-v2\n")
    assert "READING --> PURCHASING : B4" in diagram
    assert "PURCHASING --> RECOVERING : B5" in diagram
    for (state, lane_input), transition in TRANSITIONS.items():
        for target in transition.targets:
            edge = [line for line in diagram.splitlines()
                    if line.strip().startswith(f"{state.name} --> {target.name} :")]
            assert edge and lane_input.value in edge[0]


FRAMES = [b0(), b0(status=2), b1(), b2(), b2(obu=0, error_code=0x80), b2(obu=7), b4(),
          b4(error_code=1), b4(obu=7), b5(100), b5(0, error_code=0x10), b5(0, error_code=0x21),
          b8(), b8(0x10), b8(0x20), UnknownFrame(b"\xb9"), UnknownFrame(b"")]

LOSE_CONNECTION, START_AGAIN = len(FRAMES), len(FRAMES) + 1  # steps that are not frames
steps = st.lists(
    st.tuples(st.sampled_from(range(len(FRAMES) + 2)), st.floats(0, 3), st.integers(0, 9),
              st.booleans()),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_no_frame_sequence_crashes_the_lane(script: list[tuple[int, float, int, bool]]) -> None:
    clock = FakeClock()
    lane = make_lane()
    lane.start(clock.now)
    for index, delay, seq, fire_timer in script:
        clock.advance(delay)
        if fire_timer and lane.get_timer() is not None:
            lane.handle_timer(clock.now)
        if index == LOSE_CONNECTION:
            effects = lane.connection_lost(clock.now)
            assert lane.state is LaneState.STARTING
        elif index == START_AGAIN:
            effects = lane.start(clock.now)
        else:
            effects = lane.receive_frame(FRAMES[index], clock.now, seq=seq or None)
        for effect in effects:
            if isinstance(effect, ProtocolViolation):
                assert effect.state in {s.value for s in LaneState}
        assert (lane.get_timer() is None) == (lane.state in (LaneState.READY,
                                                             LaneState.STARTING))
