"""The legacy BCC scanner (see `protocols.stream_scan` for how frames are found)."""

from __future__ import annotations

import numpy as np
from numba import njit

from protocols.stream_scan import (
    BAD_CHECKSUM,
    BAD_ESCAPE,
    D_BCC,
    D_DATA_LONG,
    D_ESCAPE,
    D_LEGACY_END,
    D_LEGACY_SHORT,
    D_NO_ETX,
    D_NO_RSCTL,
    D_NONE,
    EV_PACKET,
    EV_RELEASE,
    GARBAGE,
    ITEM_DONE,
    ITEMS_PER_GAP,
    MALFORMED,
    NEW_ITEM,
    OVERSIZED,
    S_ARG,
    S_BAD,
    S_BODY,
    S_COUNT,
    S_CURSOR,
    S_DETAIL,
    S_ESCAPE,
    S_FRAME,
    S_HEADS,
    S_MORE,
    S_REASON,
    S_SCAN,
    S_XOR,
    TRUNCATED,
    as_int,
    event,
)

__all__ = [
    "scan_bcc",
]


@njit(cache=True)
def _bcc_release(state: np.ndarray, events: np.ndarray, count: int, upto: int) -> int:
    """Releases [cursor, upto): garbage, or the rest of the gap's absorbing item."""
    cursor = state[S_CURSOR]
    if upto <= cursor:
        return count
    if state[S_HEADS] >= ITEMS_PER_GAP:
        count = event(events, count, EV_RELEASE, cursor, upto, state[S_REASON],
                       state[S_DETAIL], state[S_ARG], 0, 0)
    else:
        count = event(events, count, EV_RELEASE, cursor, upto, GARBAGE, D_NONE, 0, 0, 0)
    state[S_CURSOR] = upto
    return count


@njit(cache=True)
def _bcc_refuse(state: np.ndarray, events: np.ndarray, count: int, start: int, end: int,
                reason: int, detail: int, arg: int) -> int:
    """The candidate at `start` is refused; its bytes up to `end` are an item (or, past the
    gap's room for items, part of the last)."""
    if state[S_HEADS] >= ITEMS_PER_GAP:
        return count  # absorbed: released with the rest of the gap
    count = _bcc_release(state, events, count, start)
    first = max(start, state[S_CURSOR])
    state[S_HEADS] += 1
    if end > first:
        flags = NEW_ITEM if state[S_HEADS] == ITEMS_PER_GAP else NEW_ITEM | ITEM_DONE
        count = event(events, count, EV_RELEASE, first, end, reason, detail, arg, 0, flags)
        state[S_CURSOR] = end
    if state[S_HEADS] == ITEMS_PER_GAP:
        state[S_REASON] = reason
        state[S_DETAIL] = detail
        state[S_ARG] = arg
    return count


@njit(cache=True)
def scan_bcc(buf: np.ndarray, base: int, n: int, state: np.ndarray, events: np.ndarray,
             max_length: int, final: bool) -> int:
    """Scans the window buf[0 : n - base] for legacy frames; returns the events written."""
    limit = 2 * (max_length + 2) + 3  # everything escaped, plus STX and ETX
    count = 0
    state[S_MORE] = 0
    start = state[S_FRAME]
    j = state[S_SCAN]
    k = state[S_BODY]
    xor = state[S_XOR]
    escaped = state[S_ESCAPE]
    size = state[S_COUNT]
    bad = state[S_BAD]
    while True:
        if count + 4 > events.shape[0]:
            state[S_MORE] = 1
            break
        if start < 0:
            # find an STX: FF FF and a byte that is not FF
            found = False
            while j < n:
                w = j - base
                if buf[w] != 0xFF:
                    j += 1
                    continue
                if j + 1 >= n:
                    if final:
                        j += 1  # a lone FF at the end is garbage
                    break
                if buf[w + 1] != 0xFF:
                    j += 2
                    continue
                if j + 2 >= n:
                    if final:
                        count = _bcc_refuse(state, events, count, j, n, TRUNCATED,
                                            D_LEGACY_SHORT, 0)
                        j = n
                    break
                if buf[w + 2] == 0xFF:
                    j += 1  # a run of FF: only the last two can be the STX
                    continue
                found = True
                break
            if not found:
                count = _bcc_release(state, events, count, j)
                break
            start = j
            k = j + 2
            xor = 0
            escaped = 0
            size = 0
            bad = -1
        # the body, as far as it has come
        etx = -1
        stop = min(n, start + limit)
        while k < stop:
            value = as_int(buf[k - base])
            if value == 0xFF:
                etx = k
                break
            if escaped:
                escaped = 0
                if value == 0x00 or value == 0x01:
                    xor ^= 0xFE + value
                    size += 1
                else:
                    if bad < 0:
                        bad = value
                    if value == 0xFE:
                        escaped = 1
            elif value == 0xFE:
                escaped = 1
            else:
                xor ^= value
                size += 1
            k += 1
        if etx < 0:
            if k >= start + limit:
                if state[S_HEADS] < ITEMS_PER_GAP:
                    count = _bcc_refuse(state, events, count, start, k, OVERSIZED, D_NO_ETX,
                                        limit)
                j = k
            elif final:
                if state[S_HEADS] < ITEMS_PER_GAP:
                    count = _bcc_refuse(state, events, count, start, n, TRUNCATED,
                                        D_LEGACY_END, 0)
                j = n
            else:
                count = _bcc_release(state, events, count, start)  # the open frame waits
                break
            start = -1
            continue
        if escaped and bad < 0:
            bad = 256  # FE right before the ETX
        j = etx  # the ETX may be the first byte of the next STX
        if bad >= 0 or size < 2 or size - 2 > max_length or xor != 0:
            if state[S_HEADS] < ITEMS_PER_GAP:
                if bad >= 0:
                    reason, detail, arg = BAD_ESCAPE, D_ESCAPE, bad
                elif size < 2:
                    reason, detail, arg = MALFORMED, D_NO_RSCTL, 0
                elif size - 2 > max_length:
                    reason, detail, arg = OVERSIZED, D_DATA_LONG, size - 2
                else:
                    reason, detail, arg = BAD_CHECKSUM, D_BCC, 0
                count = _bcc_refuse(state, events, count, start, etx + 1, reason, detail, arg)
        else:
            count = _bcc_release(state, events, count, start)
            count = event(events, count, EV_PACKET, start, etx + 1, 0, 0, 0, 0, 0)
            state[S_CURSOR] = max(state[S_CURSOR], etx + 1)
            state[S_HEADS] = 0
        start = -1
    state[S_FRAME] = start
    state[S_SCAN] = j
    state[S_BODY] = k
    state[S_XOR] = xor
    state[S_ESCAPE] = escaped
    state[S_COUNT] = size
    state[S_BAD] = bad
    return count
