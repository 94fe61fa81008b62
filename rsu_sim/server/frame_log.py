"""The server's frame log and its end-of-run summary.

One line per frame in or out: `<ISO time> <lane> <connection> <RX|TX> <hex>`, the format
`python -m protocols decode --file LOG` reads (it keeps the prefix up to the first token that
starts with ``ffff`` as the time, lane, connection and direction of the frame). The connection
names one lane connection of the run (`c3`; `c2.3` in session 2 of a served world). Whatever is
not a whole frame (rejected bytes, undecodable frames, injected faults, connections,
non-standard values) is a ``#`` comment line, `# <ISO time> <lane> <connection or -> <text>`,
which the decoder skips; so a log decodes cleanly and still tells everything. The log writes to
a text stream it is given; it opens no file.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from rsu_sim.model.rsu_effects import PassEnd


class Direction(enum.Enum):
    """Which way a frame went, seen from the RSU."""

    #: from the lane to the RSU
    RX = "RX"
    #: from the RSU to the lane
    TX = "TX"


_UNSAFE = re.compile(r"[\s#]")


def log_lane_name(lane_id: str) -> str:
    """A lane id as one token of a log line (whitespace and ``#`` would break the format)."""
    return _UNSAFE.sub("_", lane_id) or "_"


#: The connection token of a note that belongs to no lane connection.
NO_CONNECTION = "-"
#: How the notes that a reader of the log needs begin (a connection opens or ends, a run
#: starts listening or stops).
CONNECTED = "lane connected from"
DISCONNECTED = "lane disconnected:"
LISTENING = "listening:"
STOPPED = "stopped:"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a frame log read back: a frame (`direction` set, `raw` its bytes) or a note
    (`direction` None, `text` the note)."""

    at: float  # UNIX seconds
    lane: str
    connection: str
    direction: Direction | None
    raw: bytes = b""
    text: str = ""


def parse_line(line: str) -> LogLine | None:
    """A frame-log line read back; None for a line that is neither a frame nor a note of the
    log (blank, torn by a crash, from elsewhere)."""
    try:
        if line.startswith("# "):
            when, lane, connection, text = line[2:].rstrip("\n").split(" ", 3)
            return LogLine(_seconds(when), lane, connection, None, text=text)
        parts = line.split()
        if len(parts) == 4:  # a log written before lines named their connection
            parts.insert(2, NO_CONNECTION)
        when, lane, connection, direction, hex_text = parts
        return LogLine(_seconds(when), lane, connection, Direction(direction),
                       bytes.fromhex(hex_text))
    except ValueError:
        return None


def _seconds(text: str) -> float:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("a log time carries its offset")
    return value.timestamp()


def connection_name(number: int, session: int | None = None) -> str:
    """The log token of a run's `number`th lane connection (in `session` of a served world)."""
    return f"c{number}" if session is None else f"c{session}.{number}"


def frame_line(when: dt.datetime, lane_id: str, connection: str, direction: Direction,
               raw: bytes) -> str:
    """One frame-log line, without the newline."""
    return f"{when.isoformat(timespec='milliseconds')} {log_lane_name(lane_id)} " \
           f"{connection} {direction.value} {raw.hex()}"


def note_line(when: dt.datetime, lane_id: str, connection: str, text: str) -> str:
    """A comment line: an event that is not a frame."""
    return (f"# {when.isoformat(timespec='milliseconds')} {log_lane_name(lane_id)} "
            f"{connection} {text}")


class FrameLog:
    """Writes frame lines and notes to `stream` (None: logging off), flushing each line."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    @staticmethod
    def _now() -> dt.datetime:
        return dt.datetime.now(dt.UTC).astimezone()

    def frame(self, lane_id: str, connection: str, direction: Direction, raw: bytes,
              when: dt.datetime | None = None) -> None:
        """Log one whole frame as it went over the wire (at `when`, default now)."""
        self._write(frame_line(when or self._now(), lane_id, connection, direction, raw))

    def note(self, lane_id: str, text: str, connection: str = NO_CONNECTION) -> None:
        """Log an event as a comment line."""
        self._write(note_line(self._now(), lane_id, connection, text))

    def _write(self, line: str) -> None:
        if self._stream is not None:
            self._stream.write(line + "\n")
            self._stream.flush()


@dataclass(slots=True)
class ServeSummary:
    """What a `serve` run did: vehicles and passes, how the passes ended, link counters."""

    vehicles: int = 0
    arrivals: int = 0
    ended: Counter[PassEnd] = field(default_factory=Counter)
    connections: int = 0
    frames_sent: int = 0
    frames_received: int = 0
    rejected_inputs: int = 0
    corrupted_frames: int = 0
    duplicated_frames: int = 0
    restarts: int = 0

    @property
    def passes(self) -> int:
        """Passes that ended (each arrival ends in exactly one)."""
        return sum(self.ended.values())

    def lines(self) -> list[str]:
        """The summary as text lines for the console."""
        how = ", ".join(f"{end.value} {self.ended[end]}" for end in PassEnd if self.ended[end])
        return [
            f"vehicles {self.vehicles}, arrivals {self.arrivals}, passes ended {self.passes}"
            + (f" ({how})" if how else ""),
            f"lane connections {self.connections}, frames sent {self.frames_sent}, "
            f"received {self.frames_received}, rejected inputs {self.rejected_inputs}",
            f"faults: corrupted frames {self.corrupted_frames}, duplicated frames "
            f"{self.duplicated_frames}, RSU restarts {self.restarts}",
        ]
