"""The V3 scanner (see `protocols.stream_scan` for how frames are found)."""

from __future__ import annotations

import numpy as np
from numba import njit

from protocols.stream_scan import (
    BAD_CHECKSUM,
    D_CRC,
    D_END_FRAME,
    D_END_HEADER,
    D_INSIDE,
    D_LEN,
    D_NONE,
    EV_PACKET,
    EV_RELEASE,
    GARBAGE,
    H_ARG,
    H_ARG2,
    H_DETAIL,
    H_END,
    H_POS,
    H_REASON,
    ITEM_DONE,
    NEW_ITEM,
    OVERSIZED,
    S_ALIVE,
    S_AT,
    S_CURSOR,
    S_FRAME,
    S_FRAME_END,
    S_HEAD,
    S_HEADS,
    S_MORE,
    S_OPENED,
    S_PENDING,
    S_REGISTERS,
    S_RESOLVED,
    S_SCAN,
    S_TAIL,
    TRUNCATED,
    as_int,
    event,
    shift,
)

__all__ = [
    "NEVER",
    "STX_SHARED",
    "scan_v3",
]

#: a valid frame may start in the last bytes of another (its STX there): both are taken
STX_SHARED = 2

# what the scan finds at an offset
NOT_HEADER, UNDECIDED, REFUSED, UNKNOWN, VALID = range(5)
#: no head may be noted any more in this gap
NEVER = 1 << 62


@njit(cache=True, inline="always")
def _crc_good(buf: np.ndarray, base: int, registers: np.ndarray, table: np.ndarray,
              low: np.ndarray, high: np.ndarray, done: int, start: int,
              end: int) -> tuple[bool, int]:
    """Whether the V3 frame at [start, end) has a good CRC, and the window bytes whose prefix
    register is now computed (they are computed as CRCs need them)."""
    a = start + 2 - base  # VER ..
    b = end - 2 - base  # .. DATA
    if done < b:
        register = as_int(registers[done])
        while done < b:
            register = (register >> 8) ^ table[(register ^ as_int(buf[done])) & 0xFF]
            done += 1
            registers[done] = register
    crc = (as_int(registers[b]) ^ shift(as_int(registers[a]) ^ 0xFFFF, b - a, low, high)
           ^ 0xFFFF)
    return crc == (as_int(buf[b]) << 8 | as_int(buf[b + 1])), done


@njit(cache=True)
def _v3_tail(buf: np.ndarray, base: int, n: int, j: int, final: bool) -> int:
    """What the FF at `j`, whose header is cut by the end of the bytes, may start."""
    w = j - base
    last = n - base
    for k in range(1, 8):
        if w + k >= last:
            if final and k > 1:
                return REFUSED  # the stream ended inside a header
            return NOT_HEADER if final else UNDECIDED  # a lone FF at the end is garbage
        value = buf[w + k]
        if (k == 1 and value != 0xFF) or ((k == 2 or k == 4 or k == 5) and value != 0):
            return NOT_HEADER
    return UNDECIDED  # not reached: a whole header is not a tail


@njit(cache=True)
def _v3_note_head(state: np.ndarray, heads: np.ndarray, j: int, end: int, reason: int,
                  detail: int, arg: int) -> int:
    """The candidate at `j` starts an item (the gap's first, or the first after the span of the
    last head); returns the offset from which the next head may be noted."""
    count = state[S_HEADS]
    heads[count, H_POS] = j
    heads[count, H_END] = end
    heads[count, H_REASON] = reason
    heads[count, H_DETAIL] = detail
    heads[count, H_ARG] = arg
    heads[count, H_ARG2] = 0
    state[S_HEADS] = count + 1
    return end if count + 1 < heads.shape[0] else NEVER


@njit(cache=True)
def _v3_next_head(state: np.ndarray, heads: np.ndarray) -> int:
    count = state[S_HEADS]
    if count >= heads.shape[0]:
        return NEVER
    return heads[count - 1, H_END] if count else -NEVER


@njit(cache=True)
def _v3_decide(heads: np.ndarray, i: int, packet: int, buf: np.ndarray, base: int, n: int,
               registers: np.ndarray, table: np.ndarray, state: np.ndarray, low: np.ndarray,
               high: np.ndarray) -> None:
    """The reason of head `i`: "a valid frame starts inside it" when the packet that ends the
    gap starts in its span (or it is itself valid but lost to a frame inside it), else its own
    fault (CRC, or the stream ended inside it). Which packet ends the gap does not depend on
    chunking, so neither does the reason."""
    if heads[i, H_REASON] >= 0:
        return
    pos = heads[i, H_POS]
    end = heads[i, H_END]
    heads[i, H_ARG] = end - pos - 10
    if 0 <= packet < end - STX_SHARED:
        heads[i, H_REASON] = TRUNCATED
        heads[i, H_DETAIL] = D_INSIDE
    elif end <= n:
        good, done = _crc_good(buf, base, registers, table, low, high, state[S_REGISTERS],
                               pos, end)
        state[S_REGISTERS] = done
        heads[i, H_REASON] = TRUNCATED if good else BAD_CHECKSUM
        heads[i, H_DETAIL] = D_INSIDE if good else D_CRC
    else:
        heads[i, H_REASON] = TRUNCATED
        heads[i, H_DETAIL] = D_END_FRAME
        heads[i, H_ARG2] = n - pos


@njit(cache=True)
def _v3_release(state: np.ndarray, heads: np.ndarray, events: np.ndarray, count: int,
                upto: int, packet: int, frame: int, front: int, final: bool, buf: np.ndarray,
                base: int, n: int, registers: np.ndarray, table: np.ndarray, low: np.ndarray,
                high: np.ndarray) -> int:
    """Releases [cursor, upto) item by item: garbage, and each head's span with its reason.

    A head's reason is fixed when its first byte goes: with the packet that ends the gap, at the
    end of the stream, or before either only once no frame can start in its span any more (the
    scan is past it, no unknown candidate and no provisional frame lies in it); else the release
    stops at the head."""
    cursor = state[S_CURSOR]
    at = state[S_AT]
    heads_noted = state[S_HEADS]
    absorbing = heads.shape[0] - 1
    scanned = state[S_SCAN]
    while cursor < upto:
        if at >= heads_noted:
            count = event(events, count, EV_RELEASE, cursor, upto, GARBAGE, D_NONE, 0, 0, 0)
            cursor = upto
            break
        pos = heads[at, H_POS]
        if cursor < pos:
            stop = min(upto, pos)
            count = event(events, count, EV_RELEASE, cursor, stop, GARBAGE, D_NONE, 0, 0, 0)
            cursor = stop
            continue
        end = heads[at, H_END]
        if heads[at, H_REASON] < 0:
            inside = end - STX_SHARED
            if packet < 0 and not final and (scanned < inside or 0 <= front < inside
                                              or 0 <= frame < inside):
                break
            _v3_decide(heads, at, packet, buf, base, n, registers, table, state, low, high)
        item_end = end if at < absorbing else upto
        stop = min(upto, item_end)
        if stop > cursor:
            flags = NEW_ITEM if state[S_OPENED] < at else 0
            if at < absorbing and stop >= item_end:
                flags |= ITEM_DONE
            state[S_OPENED] = at
            count = event(events, count, EV_RELEASE, cursor, stop, heads[at, H_REASON],
                           heads[at, H_DETAIL], heads[at, H_ARG], heads[at, H_ARG2], flags)
            cursor = stop
        if at < absorbing and cursor >= item_end:
            at += 1
    state[S_CURSOR] = cursor
    state[S_AT] = at
    return count


@njit(cache=True)
def _take_frame(state: np.ndarray, j: int, end: int, positions: np.ndarray,
                alive: np.ndarray, mask: int) -> None:
    """`j` is the provisional frame now: the candidates before it lose (it starts inside them)."""
    head = state[S_HEAD]
    tail = state[S_TAIL]
    while head < tail and positions[head & mask] <= j:
        slot = head & mask
        if alive[slot]:
            alive[slot] = 0
            state[S_ALIVE] -= 1
        head += 1
    state[S_HEAD] = head
    state[S_FRAME] = j
    state[S_FRAME_END] = end


@njit(cache=True, inline="always")
def _first_alive(state: np.ndarray, positions: np.ndarray, alive: np.ndarray,
                 mask: int) -> int:
    """The offset of the first unknown candidate still alive, or -1."""
    head = state[S_HEAD]
    tail = state[S_TAIL]
    while head < tail and not alive[head & mask]:
        head += 1
    state[S_HEAD] = head
    return positions[head & mask] if head < tail else -1


@njit(cache=True, inline="always")
def _register_unknown(state: np.ndarray, j: int, end: int, positions: np.ndarray,
                      ends: np.ndarray, alive: np.ndarray, chain: np.ndarray,
                      buckets: np.ndarray, mask: int) -> None:
    """An unknown candidate: kept until its last byte comes (a bucket per end offset)."""
    tail = state[S_TAIL]
    if tail > state[S_HEAD] and positions[(tail - 1) & mask] >= j:
        return  # seen again after a frame's STX bytes: registered once
    _first_alive(state, positions, alive, mask)  # drop dead ones at the head
    slot = tail & mask
    positions[slot] = j
    ends[slot] = end
    alive[slot] = 1
    bucket = end & (buckets.shape[0] - 1)
    chain[slot] = buckets[bucket]
    buckets[bucket] = tail
    state[S_TAIL] = tail + 1
    state[S_ALIVE] += 1
    state[S_PENDING] += 1


@njit(cache=True)
def _resolve(buf: np.ndarray, base: int, n: int, registers: np.ndarray, state: np.ndarray,
             positions: np.ndarray, ends: np.ndarray, alive: np.ndarray, chain: np.ndarray,
             buckets: np.ndarray, table: np.ndarray, low: np.ndarray, high: np.ndarray,
             done: int, found: np.ndarray, found_ends: np.ndarray) -> tuple[int, int]:
    """Resolves the unknown candidates whose last byte has now come; the valid ones go to
    `found` (offset) and `found_ends`. Returns (how many are valid, registers done)."""
    mask = positions.shape[0] - 1
    ring_mask = buckets.shape[0] - 1
    valid = 0
    e = state[S_RESOLVED]
    bucket = e & ring_mask
    stop = min(n, e + ring_mask + 1)
    pending = state[S_PENDING]
    alive_count = state[S_ALIVE]
    while e < stop and pending > 0:
        e += 1
        bucket = (bucket + 1) & ring_mask
        seq = buckets[bucket]
        if seq < 0:
            continue
        buckets[bucket] = -1
        while seq >= 0:
            pending -= 1
            slot = seq & mask
            following = chain[slot]
            if alive[slot] and ends[slot] == e:
                alive[slot] = 0
                alive_count -= 1
                j = positions[slot]
                good, done = _crc_good(buf, base, registers, table, low, high, done, j, e)
                if good:
                    found[valid] = j
                    found_ends[valid] = e
                    valid += 1
            seq = following
    state[S_PENDING] = pending
    state[S_ALIVE] = alive_count
    return valid, done


@njit(cache=True)
def scan_v3(buf: np.ndarray, base: int, n: int, registers: np.ndarray, state: np.ndarray,
            heads: np.ndarray, positions: np.ndarray, ends: np.ndarray, alive: np.ndarray,
            chain: np.ndarray, buckets: np.ndarray, events: np.ndarray, max_length: int,
            final: bool, table: np.ndarray, low: np.ndarray, high: np.ndarray) -> int:
    """Scans the window buf[0 : n - base] (stream offsets base..n); returns the events written."""
    mask = positions.shape[0] - 1  # sizes are powers of two
    buckets.shape[0] - 1
    count = 0
    state[S_MORE] = 0
    done = state[S_REGISTERS]

    # Unknown candidates whose last byte has now come: valid or refused.
    found = np.empty(mask + 1, dtype=np.int64)
    found_ends = np.empty(mask + 1, dtype=np.int64)
    valid, done = _resolve(buf, base, n, registers, state, positions, ends, alive, chain,
                           buckets, table, low, high, done, found, found_ends)
    state[S_RESOLVED] = max(state[S_RESOLVED], n)
    if valid:
        # In stream order: a valid one starting inside the provisional frame's span takes over.
        order = np.argsort(found[:valid])
        frame = state[S_FRAME]
        frame_end = state[S_FRAME_END]
        for i in order:
            j = found[i]
            if frame >= 0 and j >= frame_end - STX_SHARED:
                break  # after it: found again by the scan, in the next gap
            if j > frame:
                frame = j
                frame_end = found_ends[i]
        if frame >= 0 and frame != state[S_FRAME]:
            _take_frame(state, frame, frame_end, positions, alive, mask)
    if final:  # what is still unknown never became whole
        while _first_alive(state, positions, alive, mask) >= 0:
            alive[state[S_HEAD] & mask] = 0
        state[S_ALIVE] = 0

    last = n - base
    next_head = _v3_next_head(state, heads)
    while True:
        if count + 2 * heads.shape[0] + 3 > events.shape[0]:
            state[S_MORE] = 1
            state[S_REGISTERS] = done
            return count
        frame = state[S_FRAME]
        # a frame that starts in the last two bytes of the provisional one shares its STX with
        # them: it does not take over, it comes next
        limit = state[S_FRAME_END] - STX_SHARED if frame >= 0 else n
        j = state[S_SCAN]
        undecided = False
        while j < limit:
            w = j - base
            if buf[w] != 0xFF:
                j += 1
                continue
            span_end = -1
            length = 0
            if w + 7 < last:
                if buf[w + 1] != 0xFF or buf[w + 2] != 0 or buf[w + 4] != 0 or buf[w + 5] != 0:
                    j += 1
                    continue
                length = (as_int(buf[w + 6]) << 8) | as_int(buf[w + 7])
                if length > max_length:
                    kind = REFUSED
                else:
                    span_end = j + 10 + length
                    if span_end > n:
                        kind = REFUSED if final else UNKNOWN
                    else:
                        good, done = _crc_good(buf, base, registers, table, low, high, done, j,
                                               span_end)
                        kind = VALID if good else REFUSED
            else:
                kind = _v3_tail(buf, base, n, j, final)
                if kind == NOT_HEADER:
                    j += 1
                    continue
                if kind == UNDECIDED:
                    undecided = True
                    break
            if j >= next_head:
                if span_end >= 0:
                    next_head = _v3_note_head(state, heads, j, span_end, -1, D_NONE, 0)
                elif w + 7 < last:  # LEN over the maximum: the header is the item's span
                    next_head = _v3_note_head(state, heads, j, j + 8, OVERSIZED, D_LEN, length)
                else:  # the stream ended inside the header
                    next_head = _v3_note_head(state, heads, j, n, TRUNCATED, D_END_HEADER, 0)
            if kind == UNKNOWN:
                _register_unknown(state, j, span_end, positions, ends, alive, chain, buckets,
                                  mask)
            elif kind == VALID:  # the provisional frame now: look inside its span
                _take_frame(state, j, span_end, positions, alive, mask)
                frame = j
                limit = span_end - STX_SHARED
            j += 1
        state[S_SCAN] = j
        state[S_REGISTERS] = done
        front = _first_alive(state, positions, alive, mask)
        if frame < 0:
            # Nothing valid yet: release what no open candidate can still claim.
            upto = j if front < 0 else min(j, front)
            return _v3_release(state, heads, events, count, upto, -1, -1, front, final, buf,
                               base, n, registers, table, low, high)
        frame_end = state[S_FRAME_END]
        if 0 <= front < frame_end - STX_SHARED or (undecided and n != frame_end):
            # held back (a candidate in its span may still win); what lies before it goes
            return _v3_release(state, heads, events, count, frame, -1, frame, front, final,
                               buf, base, n, registers, table, low, high)
        count = _v3_release(state, heads, events, count, frame, frame, frame, front, final,
                            buf, base, n, registers, table, low, high)
        done = state[S_REGISTERS]
        count = event(events, count, EV_PACKET, frame, frame_end, 0, 0, 0, 0, 0)
        state[S_CURSOR] = frame_end
        state[S_SCAN] = frame_end - STX_SHARED
        state[S_FRAME] = -1
        state[S_HEADS] = 0
        state[S_AT] = 0
        state[S_OPENED] = -1
        next_head = -NEVER


