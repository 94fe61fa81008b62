"""A progress bar on stderr (stdlib only): redrawn at most ten times a second, only on a TTY."""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Our decision: the bar is redrawn at most this often, s.
REDRAW_INTERVAL_S = 0.1
_WIDTH = 30


class ProgressBar:
    """Call with (done, total); `finish()` ends the line. Silent when disabled."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = self._stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < REDRAW_INTERVAL_S and done < total:
            return
        self._last = now
        share = done / total if total else 1.0
        filled = int(share * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self._stream.write(f"\r[{bar}] {done:,}/{total:,} vehicles ({share:.0%})")
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the bar's line."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
