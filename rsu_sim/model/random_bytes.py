"""Random bytes for the devices (ICC randoms, rndRSU), drawn from a numpy Generator in blocks."""

from __future__ import annotations

import numpy as np

#: 32-bit words drawn from the Generator at a time (our decision: 16 KiB of bytes).
BLOCK_WORDS = 4096


class BufferedRandomBytes:
    """Call with a length: the same bytes, call for call, as `rng.bytes(length)`, but the words
    are drawn `BLOCK_WORDS` at a time (one `Generator.bytes` call costs ~10 µs).

    `Generator.bytes(n)` draws ceil(n / 4) (at least one) little-endian uint32 words and drops
    the tail of the last one; drawing the words in blocks gives the same word stream. Only
    equal while nothing else draws from `rng`: give this object a Generator of its own.
    """

    __slots__ = ("_block_words", "_buffer", "_offset", "_rng")

    def __init__(self, rng: np.random.Generator, block_words: int = BLOCK_WORDS) -> None:
        self._rng = rng
        self._block_words = max(1, block_words)
        self._buffer = b""
        self._offset = 0

    def __call__(self, length: int) -> bytes:
        if length < 0:
            raise ValueError("length must be non-negative")
        # Generator.bytes(0) still draws a word (C division in its word count): so do we.
        needed = 4 * max(1, (length + 3) // 4)
        end = self._offset + needed
        if end > len(self._buffer):
            words = max(self._block_words, needed // 4)
            fresh = self._rng.integers(0, 2**32, size=words, dtype=np.uint32).astype("<u4")
            self._buffer = self._buffer[self._offset :] + fresh.tobytes()
            self._offset = 0
            end = needed
        start, self._offset = self._offset, end
        return self._buffer[start : start + length]
