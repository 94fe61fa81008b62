"""The window of bytes a `protocols.stream.StreamDecoder` scans, and the state and event arrays of
its compiled scanner (`protocols.stream_v3`, `protocols.stream_bcc`); imported when a decoder
first needs to scan, so importing `protocols` loads neither numpy nor numba."""

from __future__ import annotations

import numpy as np

from protocols import stream_bcc, stream_scan, stream_v3
from protocols.envelope import ETX, V3_OVERHEAD, EnvelopeKind

__all__ = ["ScanWindow"]


class ScanWindow:
    """The compiled scanner's window, state and event arrays for one decoder."""

    EVENTS = 256

    def __init__(self, envelope: EnvelopeKind, max_length: int, base: int) -> None:
        self.scan = scan = stream_scan
        self.scan_v3 = stream_v3.scan_v3
        self.scan_bcc = stream_bcc.scan_bcc
        self.v3 = envelope is EnvelopeKind.V3
        self.max_length = max_length
        self.buf = np.zeros(8192, dtype=np.uint8)
        self.count = 0  # bytes in the window
        self.base = base  # stream offset of buf[0]
        self.state = np.zeros(scan.STATE_SIZE, dtype=np.int64)
        state = self.state
        for slot in (scan.S_CURSOR, scan.S_SCAN, scan.S_RESOLVED):
            state[slot] = base
        for slot in (scan.S_OPENED, scan.S_FRAME):
            state[slot] = -1
        self.events = np.zeros((self.EVENTS, scan.EV_COLUMNS), dtype=np.int64)
        if self.v3:
            longest = min(max_length, 0xFFFF) + V3_OVERHEAD
            # unknown candidates are at least 6 bytes apart; sizes are powers of two (masks)
            records = 1 << (longest // 6 + 8).bit_length()
            self.registers = np.zeros(self.buf.shape[0] + 1, dtype=np.uint16)
            self.heads = np.zeros((scan.ITEMS_PER_GAP, scan.HEAD_COLUMNS), dtype=np.int64)
            self.positions = np.zeros(records, dtype=np.int64)
            self.ends = np.zeros(records, dtype=np.int64)
            self.alive = np.zeros(records, dtype=np.uint8)
            self.chain = np.zeros(records, dtype=np.int64)
            self.buckets = np.full(1 << (longest + 1).bit_length(), -1, dtype=np.int64)

    @property
    def settled(self) -> bool:
        """Every byte was released or emitted and no frame is open (a V3 window may keep the
        last packet's CRC bytes: the STX of a good frame after them cannot start there)."""
        state, scan = self.state, self.scan
        end = self.base + self.count
        if self.v3:
            return (state[scan.S_FRAME] < 0 and state[scan.S_ALIVE] == 0
                    and state[scan.S_CURSOR] == end and state[scan.S_SCAN] >= end - 2)
        return self.idle

    @property
    def idle(self) -> bool:
        """Nothing is pending: every byte was released or emitted, no frame is open; a whole
        frame may skip the scan (what it would find is that frame)."""
        state, scan = self.state, self.scan
        end = self.base + self.count
        if self.v3:
            # after a packet its CRC bytes are kept: a frame may share them as its STX
            return (state[scan.S_FRAME] < 0 and state[scan.S_PENDING] == 0
                    and state[scan.S_CURSOR] == end and state[scan.S_SCAN] >= end - 2
                    and (self.count == 0 or self.buf[self.count - 1] != ETX))
        # legacy: only the last packet's ETX is kept (it may start the next STX)
        return (state[scan.S_FRAME] < 0 and state[scan.S_CURSOR] == end
                and state[scan.S_SCAN] >= end - 1 and self.count <= 1)

    def skip(self, chunk: bytes) -> None:
        """Account for `chunk`, taken whole as one packet by the caller while idle."""
        state, scan = self.state, self.scan
        state[scan.S_HEADS] = 0
        if self.v3:
            self.base += self.count + len(chunk)
            self.count = 0
            for slot in (scan.S_CURSOR, scan.S_SCAN, scan.S_RESOLVED):
                state[slot] = self.base
            state[scan.S_REGISTERS] = 0
            state[scan.S_AT] = 0
            state[scan.S_OPENED] = -1
            return
        # keep the packet's ETX: the scan goes on there (it may start the next STX)
        end = self.base + self.count + len(chunk)
        self.buf[0] = ETX
        self.count = 1
        self.base = end - 1
        state[scan.S_CURSOR] = end
        state[scan.S_SCAN] = end - 1

    def append(self, chunk: bytes) -> None:
        size = len(chunk)
        if self.count + size > self.buf.shape[0]:
            self.compact(force=True)
            if self.count + size > self.buf.shape[0]:
                self._grow(self.count + size)
        self.buf[self.count : self.count + size] = np.frombuffer(chunk, dtype=np.uint8)
        self.count += size

    def _grow(self, need: int) -> None:
        capacity = max(2 * self.buf.shape[0], need)
        buf = np.zeros(capacity, dtype=np.uint8)
        buf[: self.count] = self.buf[: self.count]
        self.buf = buf
        if self.v3:
            registers = np.zeros(capacity + 1, dtype=np.uint16)
            registers[: self.count + 1] = self.registers[: self.count + 1]
            self.registers = registers

    def compact(self, force: bool = False) -> None:
        """Drops the bytes nothing needs any more, when that moves no more than it frees."""
        state, scan = self.state, self.scan
        keep = int(min(state[scan.S_CURSOR], state[scan.S_SCAN]))
        if state[scan.S_FRAME] >= 0:
            keep = min(keep, int(state[scan.S_FRAME]))
        drop = keep - self.base
        if drop <= 0 or (not force and drop < self.count - drop):
            return
        rest = self.count - drop
        self.buf[:rest] = self.buf[drop : self.count]
        if self.v3:
            # prefix registers are computed when a CRC needs them; any start value will do
            done = int(state[scan.S_REGISTERS])
            if done >= drop:
                self.registers[: done - drop + 1] = self.registers[drop : done + 1]
                state[scan.S_REGISTERS] = done - drop
            else:
                self.registers[0] = 0
                state[scan.S_REGISTERS] = 0
        self.count = rest
        self.base = keep

    def run(self, final: bool) -> list[list[int]]:
        """Scans what the window holds; returns the events (kind, start, end, reason, ...)."""
        scan = self.scan
        found: list[list[int]] = []
        while True:
            if self.v3:
                count = self.scan_v3(
                    self.buf, self.base, self.base + self.count, self.registers, self.state,
                    self.heads, self.positions, self.ends, self.alive, self.chain, self.buckets,
                    self.events, self.max_length, final, scan.TABLE, scan.SHIFT_LOW,
                    scan.SHIFT_HIGH)
            else:
                count = self.scan_bcc(self.buf, self.base, self.base + self.count, self.state,
                                      self.events, self.max_length, final)
            found += self.events[:count].tolist()
            if not self.state[scan.S_MORE]:
                return found

    def bytes(self, start: int, end: int) -> bytes:
        return self.buf[start - self.base : end - self.base].tobytes()
