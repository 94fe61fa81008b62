"""Price many trips at once (clearing, reports, benchmarks): fee, ETC fee and cash fee per trip.

Three implementations of the same pricing: `price_trips` (numba, the one to use),
`price_trips_numpy` and `price_trips_python` (kept for the benchmarks to compare against). All
three agree exactly with `lane_engine.core.policy.discounted_fee` and `cash_fee`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from lane_engine.core.policy import (
    BASIS_POINTS,
    FEN_PER_YUAN,
    Policy,
    Rounding,
    cash_fee,
    discounted_fee,
    divide_rounded,
)
from lane_engine.fees.parallel import PARALLEL_KERNEL_LOCK
from lane_engine.fees.table import FeeTable

__all__ = [
    "PricedTrips",
    "price_trips",
    "price_trips_numpy",
    "price_trips_python",
]

#: The policy's own rounding function, compiled: one definition of rounding for both worlds.
_divide_rounded = njit(cache=True)(divide_rounded)


class PricedTrips(NamedTuple):
    """Per trip, in fen (int64): the undiscounted fee, the ETC fee and the cash fee."""

    fee: np.ndarray
    etc_fee: np.ndarray
    cash_fee: np.ndarray


#: Trips per parallel chunk: the chunk's inputs and outputs (192 KiB) stay in L2 between its loops.
_CHUNK = 4096
#: How many trips ahead the gather loop asks for its fee's cache line.
_PREFETCH_DISTANCE = 32


@intrinsic
def _prefetch(typingctx, array, index):  # type: ignore[no-untyped-def]
    """Ask the CPU to bring array[index] (1-D array) into cache; never faults, returns nothing."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        address = cgutils.get_item_pointer(
            context, builder, array_type, view, [args[1]], wraparound=False
        )
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        # read, no temporal locality (a fee is read once), data cache
        flags = [ir.Constant(i32, 0), ir.Constant(i32, 0), ir.Constant(i32, 1)]
        builder.call(prefetch, [builder.bitcast(address, byte_pointer), *flags])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(cache=True)
def _cell(shape, exits, entries, classes, trip):  # type: ignore[no-untyped-def]
    """Flat index of the trip's fee in a table of `shape`, or -1 when an index is out of range."""
    n_exits, n_entries, n_classes = shape
    x, e, c = exits[trip], entries[trip], classes[trip]
    if 0 <= x < n_exits and 0 <= e < n_entries and 0 <= c < n_classes:
        return (x * n_entries + e) * n_classes + c
    return -1


@njit(cache=True, parallel=True)
def _price_chunks(  # type: ignore[no-untyped-def]
    fees, exits, entries, classes, rate_bp, etc_mode, cash_mode, out_fee, out_etc, out_cash
):
    """Price every trip into the outputs; returns how many trips had an index out of range."""
    n_trips = exits.shape[0]
    shape = fees.shape
    flat = fees.reshape(fees.size)
    out_of_range = 0
    for chunk in prange((n_trips + _CHUNK - 1) // _CHUNK):
        start = chunk * _CHUNK
        stop = min(start + _CHUNK, n_trips)
        # Gathers first, apart from the divisions, with the fee of a later trip prefetched: on a
        # table larger than the caches many misses are then in flight at once (2-4 times faster).
        for trip in range(start, stop):
            ahead = trip + _PREFETCH_DISTANCE
            if ahead < stop:
                cell = _cell(shape, exits, entries, classes, ahead)
                if cell >= 0:
                    _prefetch(flat, cell)  # type: ignore[call-arg]  # typingctx is numba's
            cell = _cell(shape, exits, entries, classes, trip)
            if cell >= 0:
                out_fee[trip] = flat[cell]
            else:
                out_fee[trip] = 0
                out_of_range += 1
        for trip in range(start, stop):
            fee = out_fee[trip]
            out_etc[trip] = _divide_rounded(fee * rate_bp, BASIS_POINTS, etc_mode)
            out_cash[trip] = _divide_rounded(fee, FEN_PER_YUAN, cash_mode) * FEN_PER_YUAN
    return out_of_range


def _trip_arrays(
    exits: np.ndarray, entries: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = tuple(np.ascontiguousarray(a, dtype=np.int64) for a in (exits, entries, classes))
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
        raise ValueError("exit, entry and class indices must be 1-D arrays of one length")
    return arrays  # type: ignore[return-value]


def _check_bounds(table: FeeTable, arrays: tuple[np.ndarray, ...]) -> None:
    for array, bound, what in zip(
        arrays, table.fees.shape, ("exit", "entry", "class"), strict=True
    ):
        if array.size and (array.min() < 0 or array.max() >= bound):
            raise ValueError(f"{what} index out of range 0..{bound - 1}")


def _trip_indices(
    table: FeeTable, exits: np.ndarray, entries: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arrays = _trip_arrays(exits, entries, classes)
    _check_bounds(table, arrays)
    return arrays


def price_trips(
    table: FeeTable, exits: np.ndarray, entries: np.ndarray, classes: np.ndarray, policy: Policy
) -> PricedTrips:
    """Price trips given as table indices (exit, entry, class), compiled with numba."""
    arrays = _trip_arrays(exits, entries, classes)
    out = PricedTrips(*(np.empty(arrays[0].shape[0], dtype=np.int64) for _ in range(3)))
    # The kernel checks the indices as it reads them; the numpy passes only name the bad axis.
    with PARALLEL_KERNEL_LOCK:
        out_of_range = _price_chunks(
            table.fees,
            *arrays,
            policy.etc_rate_bp,
            int(policy.etc_rounding),
            int(policy.cash_rounding),
            *out,
        )
    if out_of_range:
        _check_bounds(table, arrays)
        raise ValueError(f"{out_of_range} trips have an index out of range")
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
