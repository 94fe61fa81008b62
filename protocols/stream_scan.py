"""The stream decoder's scanners, compiled with numba: each byte is looked at a bounded number of
times, whatever the bytes are (runs of FF, fake headers, escape storms), so decoding takes time
linear in the input. `protocols.stream` owns the buffer and turns their events into values.

Both scanners keep their state between calls in an int64 array (offsets are stream offsets) and
write events into a caller's array: a release (bytes that are no frame, with a reason) or a
packet (the span of a good envelope).

V3 (`scan_v3`). A candidate is an offset holding a V3 header (FF FF 00 SEQ 00 00 LEN). The frame
read from the cursor on is the first valid candidate (LEN within the maximum, whole, CRC good)
inside whose span no other valid candidate starts, not counting its last two bytes: a frame may
start there, its STX on the other's last CRC bytes, and both are taken. A candidate not yet whole
is "unknown": it holds back a valid frame in whose span it starts, and is resolved when its last
byte arrives (a bucket per end offset, so each is looked at once). CRCs come from prefix
registers, computed as CRCs need them: the CRC-16/X-25 register is linear, so the CRC of any span
is two prefix values and a shift by the span's length (`_shift`, tables of the register map
raised to powers of two): constant work per candidate however long its LEN. A valid frame is
never held back for bytes that have not come: when the bytes end exactly at its end, it is taken
even if a header may begin in its last bytes.

Legacy BCC (`scan_bcc`). A candidate is FF FF followed by a byte other than FF (of a run of FF
only the last two are the STX); its frame runs to the next FF. The BCC and the escapes are
checked as the bytes arrive; a frame's ETX may also be the first byte of the next STX, so the
scan goes on at the ETX, and a frame that lost its ETX does not take the next frame with it.

Compiled code in `protocols` (our decision, kept here). `protocols` is the standard library and
construct, with one exception: these scanners and the window that feeds them
(`protocols.stream_scan`, `protocols.stream_v3`, `protocols.stream_bcc`,
`protocols.stream_window`) use numba, and numpy arrays for their state and events;
`tests/test_layers.py` keeps both out of every other module of the package. Why: the peer
chooses the bytes, so the decoder's worst input is a normal input, and a plaza's lanes share one
event loop. The same scanners interpreted (`NUMBA_DISABLE_JIT=1`) decode fake V3 headers with
maximal LEN at 0.45 MiB/s and random bytes at 6.2 MiB/s, against 160 and 500 MiB/s compiled
(256 KiB in 4 KiB reads, CPU time, 2-core machine at load average 6, 2026-12-04): interpreted,
each 16 KiB turn of a flooded lane would take about 35 ms of the plaza's loop. So there is no
interpreted fallback: numba is a dependency of the package, as construct is
(`pyproject.toml`). Importing `protocols` loads neither numba nor numpy (they come with a
decoder's first scan, so commands that decode no stream start without them); `warm_up` loads
the compiled scanners from numba's cache (`__pycache__` beside these modules), compiling them
first on a fresh checkout or after they changed (about 10 s of CPU).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

__all__ = [
    "EV_COLUMNS",
    "EV_PACKET",
    "EV_RELEASE",
    "HEAD_COLUMNS",
    "ITEMS_PER_GAP",
    "ITEM_DONE",
    "NEW_ITEM",
    "STATE_SIZE",
    "S_ALIVE",
    "S_ARG",
    "S_AT",
    "S_BAD",
    "S_BODY",
    "S_COUNT",
    "S_CURSOR",
    "S_DETAIL",
    "S_ESCAPE",
    "S_FRAME",
    "S_FRAME_END",
    "S_HEAD",
    "S_HEADS",
    "S_MORE",
    "S_OPENED",
    "S_PENDING",
    "S_REASON",
    "S_REGISTERS",
    "S_RESOLVED",
    "S_SCAN",
    "S_TAIL",
    "S_XOR",
    "TABLE",
    "as_int",
    "describe",
    "event",
    "shift",
]

#: a byte or register as a signed 64-bit integer (mixing unsigned and signed integers makes
#: numba fall back to floats)
as_int: Callable[[object], int] = np.int64  # type: ignore[assignment]

# ---------------------------------------------------------------- shared layout

#: event kinds (column 0 of an event)
EV_RELEASE = 1
EV_PACKET = 2
#: event columns: kind, start, end, reason, detail, arg, arg2, flags
EV_COLUMNS = 8
#: flags of a release: it starts a new item; it ends its item (report it now)
NEW_ITEM = 1
ITEM_DONE = 2

#: reason codes (`protocols.stream.RejectReason` in this order)
GARBAGE, BAD_CHECKSUM, OVERSIZED, TRUNCATED, BAD_ESCAPE, MALFORMED = range(6)

#: detail codes: what `protocols.stream` writes for the first refused frame of a release
(D_NONE, D_CRC, D_LEN, D_INSIDE, D_END_HEADER, D_END_FRAME, D_BCC, D_NO_ETX, D_LEGACY_END,
 D_LEGACY_SHORT, D_NO_RSCTL, D_DATA_LONG, D_ESCAPE) = range(13)

# state slots (shared by both scanners where they mean the same)
S_CURSOR = 0  # first stream offset not yet released or emitted
S_SCAN = 1  # next offset the candidate search looks at
S_MORE = 2  # 1: the event array filled up, call again
S_HEADS = 3  # refused-frame items of the current gap (V3: heads noted; BCC: items released)
S_AT = 4  # V3: the head whose item the cursor is in
S_OPENED = 5  # V3: the last head whose item was opened (-1: none)
S_FRAME = 6  # V3: the provisional frame's offset (-1: none); BCC: the open candidate's
S_FRAME_END = 7  # V3: its end
S_ALIVE = 8  # V3: unknown candidates alive
S_HEAD = 9  # V3: deque of unknown candidates, head and tail sequence numbers
S_TAIL = 10
S_RESOLVED = 11  # V3: the offset up to which candidates' ends were resolved
S_REGISTERS = 12  # V3: window bytes whose prefix register is computed
S_BODY = 13  # BCC: next body byte to examine
S_XOR = 14  # BCC: XOR of the unescaped body so far
S_ESCAPE = 15  # BCC: 1 after an FE
S_COUNT = 16  # BCC: unescaped bytes so far
S_BAD = 17  # BCC: follower of the first bad escape (-1: none, 256: end of frame)
S_REASON = 18  # BCC: reason of the gap's last (absorbing) item
S_DETAIL = 19
S_ARG = 20
S_PENDING = 21  # V3: records waiting in the buckets
STATE_SIZE = 22

#: refused frames of one gap reported as items of their own; the last absorbs the rest of the
#: gap, so a flood of refused frames costs a bounded number of values
ITEMS_PER_GAP = 8
#: columns of a V3 head (a candidate that starts an item): offset, span end, reason, detail, args
H_POS, H_END, H_REASON, H_DETAIL, H_ARG, H_ARG2 = range(6)
HEAD_COLUMNS = 6

# ---------------------------------------------------------------- CRC-16/X-25 register maps


def _register_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table[value] = crc
    return table


def _shift_tables(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`low[j][x]` and `high[j][x]`: the register `x` (low byte) and `x << 8` after 2**j zero
    bytes; the map is linear, so any register is the XOR of its two bytes' images."""

    def zero_byte(register: int) -> int:
        return (register >> 8) ^ int(table[register & 0xFF])

    low = np.zeros((17, 256), dtype=np.int64)
    high = np.zeros((17, 256), dtype=np.int64)
    for x in range(256):
        low[0, x] = zero_byte(x)
        high[0, x] = zero_byte(x << 8)
    for j in range(1, 17):
        for x in range(256):
            for target, start in ((low, x), (high, x << 8)):
                once = int(low[j - 1, start & 0xFF] ^ high[j - 1, start >> 8])
                target[j, x] = low[j - 1, once & 0xFF] ^ high[j - 1, once >> 8]
    return low, high


TABLE = _register_table()
SHIFT_LOW, SHIFT_HIGH = _shift_tables(TABLE)


@njit(cache=True, inline="always")
def shift(register: int, count: int, low: np.ndarray, high: np.ndarray) -> int:
    """The register after `count` zero bytes."""
    level = 0
    while count:
        if count & 1:
            register = low[level, register & 0xFF] ^ high[level, register >> 8]
        count >>= 1
        level += 1
    return register


@njit(cache=True, inline="always")
def event(events: np.ndarray, count: int, kind: int, start: int, end: int, reason: int,
           detail: int, arg: int, arg2: int, flags: int) -> int:
    events[count, 0] = kind
    events[count, 1] = start
    events[count, 2] = end
    events[count, 3] = reason
    events[count, 4] = detail
    events[count, 5] = arg
    events[count, 6] = arg2
    events[count, 7] = flags
    return count + 1


def describe(code: int, arg: int, arg2: int, max_length: int) -> str:
    """The detail text of a release's detail code and arguments."""
    if code == D_CRC:
        return f"CRC-16/X-25 mismatch (LEN {arg})"
    if code == D_LEN:
        return f"LEN {arg} > {max_length}"
    if code == D_INSIDE:
        return f"LEN {arg}: a valid frame starts inside it"
    if code == D_END_HEADER:
        return "inside the V3 header"
    if code == D_END_FRAME:
        return f"LEN {arg}, {arg2} bytes"
    if code == D_BCC:
        return "BCC mismatch"
    if code == D_NO_ETX:
        return f"no ETX within {arg} bytes"
    if code == D_LEGACY_END:
        return "no ETX"
    if code == D_LEGACY_SHORT:
        return "inside the legacy frame"
    if code == D_NO_RSCTL:
        return "no RSCTL and BCC"
    if code == D_DATA_LONG:
        return f"DATA {arg} > {max_length}"
    if code == D_ESCAPE:
        follower = "end of frame" if arg == 256 else f"{arg:02x}"
        return f"bad escape: FE followed by {follower}"
    return ""
