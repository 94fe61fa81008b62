"""Price many trips at once (clearing, reports, benchmarks): fee, ETC fee and cash fee per trip.

Three implementations of the same pricing: `price_trips` (numba, the one to use),
`price_trips_numpy` and `price_trips_python` (kept for the benchmarks to compare against). All
three agree exactly with `lane_engine.core.policy.discounted_fee` and `cash_fee`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from lane_engine.core.policy import (
    BASIS_POINTS,
    FEN_PER_YUAN,
    Policy,
    Rounding,
    cash_fee,
    discounted_fee,
    divide_rounded,
)
from lane_engine.fees.table import FeeTable

#: The policy's own rounding function, compiled: one definition of rounding for both worlds.
_divide_rounded = njit(cache=True)(divide_rounded)


class PricedTrips(NamedTuple):
    """Per trip, in fen (int64): the undiscounted fee, the ETC fee and the cash fee."""

    fee: np.ndarray
    etc_fee: np.ndarray
    cash_fee: np.ndarray


@njit(cache=True)
def _price(fees, exits, entries, classes, rate_bp, etc_mode, cash_mode, out_fee, out_etc, out_cash):  # type: ignore[no-untyped-def]
    for trip in range(exits.shape[0]):
        fee = int(fees[exits[trip], entries[trip], classes[trip]])  # int64 in numba
        out_fee[trip] = fee
        out_etc[trip] = _divide_rounded(fee * rate_bp, BASIS_POINTS, etc_mode)
        out_cash[trip] = _divide_rounded(fee, FEN_PER_YUAN, cash_mode) * FEN_PER_YUAN


def _trip_indices(
    table: FeeTable, exits: np.ndarray, entries: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = tuple(np.ascontiguousarray(a, dtype=np.int64) for a in (exits, entries, classes))
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
        raise ValueError("exit, entry and class indices must be 1-D arrays of one length")
    for array, bound, what in zip(
        arrays, table.fees.shape, ("exit", "entry", "class"), strict=True
    ):
        if array.size and (array.min() < 0 or array.max() >= bound):
            raise ValueError(f"{what} index out of range 0..{bound - 1}")
    return arrays  # type: ignore[return-value]


def price_trips(
    table: FeeTable, exits: np.ndarray, entries: np.ndarray, classes: np.ndarray, policy: Policy
) -> PricedTrips:
    """Price trips given as table indices (exit, entry, class), compiled with numba."""
    exits, entries, classes = _trip_indices(table, exits, entries, classes)
    out = PricedTrips(*(np.empty(exits.shape[0], dtype=np.int64) for _ in range(3)))
    _price(
        table.fees,
        exits,
        entries,
        classes,
        policy.etc_rate_bp,
        int(policy.etc_rounding),
        int(policy.cash_rounding),
        *out,
    )
    return out


def _divide_rounded_numpy(numerator: np.ndarray, denominator: int, mode: int) -> np.ndarray:
    """`divide_rounded` over arrays."""
    quotient, remainder = np.divmod(numerator, denominator)
    if mode == Rounding.HALF_UP:
        return quotient + (2 * remainder >= denominator)
    if mode == Rounding.UP:
        return quotient + (remainder > 0)
    return quotient


def price_trips_numpy(
    table: FeeTable, exits: np.ndarray, entries: np.ndarray, classes: np.ndarray, policy: Policy
) -> PricedTrips:
    """The same pricing in vectorised numpy (for comparison)."""
    exits, entries, classes = _trip_indices(table, exits, entries, classes)
    fee = table.fees[exits, entries, classes].astype(np.int64)
    etc = _divide_rounded_numpy(fee * policy.etc_rate_bp, BASIS_POINTS, int(policy.etc_rounding))
    cash = _divide_rounded_numpy(fee, FEN_PER_YUAN, int(policy.cash_rounding)) * FEN_PER_YUAN
    return PricedTrips(fee, etc, cash)


def price_trips_python(
    table: FeeTable, exits: np.ndarray, entries: np.ndarray, classes: np.ndarray, policy: Policy
) -> PricedTrips:
    """The same pricing one trip at a time with the scalar policy functions (for comparison)."""
    exits, entries, classes = _trip_indices(table, exits, entries, classes)
    fees = [
        int(table.fees[x, e, c])
        for x, e, c in zip(exits.tolist(), entries.tolist(), classes.tolist(), strict=True)
    ]
    return PricedTrips(
        np.array(fees, dtype=np.int64),
        np.array([discounted_fee(f, policy) for f in fees], dtype=np.int64),
        np.array([cash_fee(f, policy) for f in fees], dtype=np.int64),
    )
