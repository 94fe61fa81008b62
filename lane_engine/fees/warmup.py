"""Load (or compile) the fees package's numba code at start-up, never inside a transaction."""

from __future__ import annotations

import numpy as np

from lane_engine.core.policy import Policy
from lane_engine.fees.batch import price_trips
from lane_engine.fees.builder import build_fee_table
from lane_engine.fees.synthetic import synthetic_network

__all__ = [
    "warm_up",
]


def warm_up() -> None:
    """Build a tiny table and price a few trips: loads (or compiles) the builder's and the parallel
    batch kernel from numba's cache and starts numba's worker threads, so no later call waits."""
    table = build_fee_table(synthetic_network(4, 0), version="warm-up", built_at="")
    trips = np.zeros(2, dtype=np.int64)
    price_trips(table, trips, trips, trips, Policy(version="warm-up"))
