"""The one lock every numba parallel kernel of `fees` runs under.

numba's workqueue threading layer (the fallback when neither TBB nor OpenMP is present) aborts the
process when two threads launch parallel code at once, so fee-table builds and batch pricing take
turns. Both are memory-bound, so the lock costs nothing measurable.
"""

from __future__ import annotations

import threading

__all__ = [
    "PARALLEL_KERNEL_LOCK",
]

PARALLEL_KERNEL_LOCK = threading.Lock()
