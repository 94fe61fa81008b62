"""How a lane's answers in a replay differ from those in the capture.

The capture is cut into exchanges: each RSU frame with the lane frames that followed it before
the next RSU frame (and the lane frames before the first, its C0). The replay gives, for each
RSU frame sent, the lane frames that came back before the next. Frames are compared field by
field, leaving out what a replay cannot repeat (our decision, `VOLATILE`): SEQ, the C0's clock,
the purchase time of C6 and the time in its 0019 record, the time of a C2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from protocols.frame_codec import encode_frame
from protocols.frames import Frame, Initialise, Purchase, Stop
from rsu_sim.replay.capture import TX, Captured

#: Fields that hold the lane's clock, which a replay does not repeat.
VOLATILE: dict[type, frozenset[str]] = {
    Initialise: frozenset({"unix_time", "date_time"}),
    Purchase: frozenset({"purchase_time"}),
    Stop: frozenset({"unix_time"}),
}


@dataclass(frozen=True, slots=True)
class Exchange:
    """An RSU frame of the capture (None: the start of the connection) and the lane's answers."""

    rsu: Captured | None
    answers: tuple[Captured, ...]


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the replayed answers to an exchange differ from the captured ones."""

    index: int  # the exchange's place in the capture
    after: str  # "B4 SEQ 03 at +12.345 s", or "the connection's start"
    captured: str
    replayed: str

    def __str__(self) -> str:
        return f"after {self.after}: capture {self.captured}, replay {self.replayed}"


def exchanges(frames: Sequence[Captured]) -> list[Exchange]:
    """The capture cut into exchanges (see the module docstring)."""
    cut: list[Exchange] = []
    rsu: Captured | None = None
    answers: list[Captured] = []
    for frame in frames:
        if frame.direction == TX:
            cut.append(Exchange(rsu, tuple(answers)))
            rsu, answers = frame, []
        else:
            answers.append(frame)
    cut.append(Exchange(rsu, tuple(answers)))
    return cut


def comparable(frame: Frame) -> dict[str, Any]:
    """The fields of a frame that a replay must repeat."""
    left_out = VOLATILE.get(type(frame), frozenset())
    fields: dict[str, Any] = {"type": type(frame).__name__}
    for item in dataclasses.fields(frame):
        if item.name in left_out:
            continue
        value = getattr(frame, item.name)
        if isinstance(frame, Purchase) and item.name == "station":
            value = dataclasses.replace(value, time=0)
        fields[item.name] = value
    return fields


def _name(frame: Frame) -> str:
    """The frame's type as the wire has it (B4, C6, ...)."""
    return f"{encode_frame(frame)[0]:02X}"


def describe(frame: Frame) -> str:
    """A frame for a difference line: its type and the fields a replay repeats."""
    fields = comparable(frame)
    fields.pop("type")
    shown = ", ".join(f"{k}={_short(v)}" for k, v in fields.items())
    return f"{_name(frame)}({shown})"


def _short(value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(int(value))
    return str(value)


def differences(capture: Sequence[Exchange], replayed: Sequence[Sequence[Frame]],
                start: float | None) -> list[Difference]:
    """Every exchange whose replayed answers are not the captured ones (field by field, in
    order); `start` is the capture's first time (for "+12.345 s"), None without times."""
    found = []
    for index, exchange in enumerate(capture):
        want = [c.frame for c in exchange.answers]
        got = list(replayed[index]) if index < len(replayed) else []
        if [comparable(f) for f in want] == [comparable(f) for f in got]:
            continue
        found.append(Difference(index, _after(exchange, index, start),
                                _list(want), _list(got)))
    return found


def _after(exchange: Exchange, index: int, start: float | None) -> str:
    rsu = exchange.rsu
    if rsu is None:
        return "the connection's start"
    when = f" at +{rsu.at - start:.3f} s" if rsu.at is not None and start is not None \
        else f" (frame {index})"
    return f"{_name(rsu.frame)} SEQ {rsu.seq:02x}{when}"


def _list(frames: Sequence[Frame]) -> str:
    return "; ".join(describe(f) for f in frames) if frames else "nothing"
