"""Batch pricing (numba, numpy, pure Python) agrees with the scalar policy functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lane_engine.core.policy import Policy, Rounding, cash_fee, discounted_fee
from lane_engine.fees.batch import price_trips, price_trips_numpy, price_trips_python
from lane_engine.fees.table import FeeTable

N_STATIONS = 2
STATIONS = tuple(("3701", n) for n in range(1, N_STATIONS + 1))


def _table(fees: np.ndarray) -> FeeTable:
    return FeeTable("t", "h", "", STATIONS, fees.reshape(N_STATIONS, N_STATIONS, 16))


policies = st.builds(
    Policy,
    version=st.just("t"),
    etc_rate_bp=st.integers(min_value=1, max_value=10_000),
    etc_rounding=st.sampled_from(Rounding),
    cash_rounding=st.sampled_from(Rounding),
)
# Fees near multiples of 10 and 100 reach the exact half-fen and half-yuan cases.
fee_values = st.one_of(
    st.integers(min_value=0, max_value=2**32 - 2),
    st.integers(min_value=0, max_value=10_000).map(lambda n: n * 10),
    st.integers(min_value=0, max_value=10_000).map(lambda n: n * 100 + 50),
)


@settings(max_examples=40, deadline=None)
@given(
    fees=st.lists(fee_values, min_size=N_STATIONS**2 * 16, max_size=N_STATIONS**2 * 16),
    policy=policies,
    data=st.data(),
)
def test_batch_pricers_match_the_scalar_functions(
    fees: list[int], policy: Policy, data: st.DataObject
) -> None:
    table = _table(np.array(fees, dtype=np.uint32))
    n_trips = data.draw(st.integers(min_value=0, max_value=30))
    index = st.integers(min_value=0, max_value=N_STATIONS - 1)
    exits = np.array(data.draw(st.lists(index, min_size=n_trips, max_size=n_trips)))
    entries = np.array(data.draw(st.lists(index, min_size=n_trips, max_size=n_trips)))
    classes = np.array(data.draw(st.lists(st.integers(0, 15), min_size=n_trips, max_size=n_trips)))
    expected_fee = [
        int(table.fees[x, e, c]) for x, e, c in zip(exits, entries, classes, strict=True)
    ]
    for pricer in (price_trips, price_trips_numpy, price_trips_python):
        priced = pricer(table, exits, entries, classes, policy)
        assert priced.fee.tolist() == expected_fee
        assert priced.etc_fee.tolist() == [discounted_fee(f, policy) for f in expected_fee]
        assert priced.cash_fee.tolist() == [cash_fee(f, policy) for f in expected_fee]


def test_batch_prices_the_half_cases_by_the_policy_modes() -> None:
    fees = np.zeros(N_STATIONS * N_STATIONS * 16, dtype=np.uint32)
    fees[:2] = (10, 1250)  # 10 fen -> 9.5 fen at 95 %; 1250 fen = 12.50 yuan
    policy = Policy(version="t", etc_rounding=Rounding.HALF_UP)
    priced = price_trips(_table(fees), np.zeros(2), np.zeros(2), np.arange(2), policy)
    assert priced.etc_fee.tolist() == [10, 1188]  # 1187.5 rounds half up
    assert priced.cash_fee.tolist() == [0, 1300]


def test_out_of_range_indices_are_refused() -> None:
    table = _table(np.zeros(N_STATIONS * N_STATIONS * 16, dtype=np.uint32))
    with pytest.raises(ValueError, match="entry"):
        price_trips(table, np.zeros(1), np.array([N_STATIONS]), np.zeros(1), Policy(version="t"))
    with pytest.raises(ValueError, match="length"):
        price_trips(table, np.zeros(2), np.zeros(1), np.zeros(1), Policy(version="t"))


def test_batches_of_many_chunks_agree_across_the_three_pricers() -> None:
    rng = np.random.default_rng(11)
    fees = rng.integers(0, 2**32 - 1, N_STATIONS * N_STATIONS * 16, dtype=np.uint32)
    fees[:16] = rng.integers(0, 40, 16) * 25  # exact halves of the fen and of the yuan
    table = _table(fees)
    n_trips = 20_011  # several parallel chunks and a short last one
    exits, entries = (rng.integers(0, N_STATIONS, n_trips) for _ in range(2))
    classes = rng.integers(0, 16, n_trips)
    for etc_mode, cash_mode in ((Rounding.DOWN, Rounding.HALF_UP), (Rounding.UP, Rounding.UP)):
        policy = Policy("t", etc_rate_bp=9_537, etc_rounding=etc_mode, cash_rounding=cash_mode)
        expected = price_trips_python(table, exits, entries, classes, policy)
        for pricer in (price_trips, price_trips_numpy):
            priced = pricer(table, exits, entries, classes, policy)
            for got, want in zip(priced, expected, strict=True):
                assert np.array_equal(got, want)


def test_indices_of_any_integer_type_and_stride_price_the_same() -> None:
    rng = np.random.default_rng(5)
    table = _table(rng.integers(0, 100_000, N_STATIONS * N_STATIONS * 16, dtype=np.uint32))
    exits, entries = (rng.integers(0, N_STATIONS, 200) for _ in range(2))
    classes = rng.integers(0, 16, 200)
    policy = Policy("t")
    expected = price_trips(table, exits, entries, classes, policy)
    x, e, c = (np.repeat(a, 2).astype(np.int32)[::2] for a in (exits, entries, classes))
    assert not x.flags.c_contiguous
    for got, want in zip(price_trips(table, x, e, c, policy), expected, strict=True):
        assert np.array_equal(got, want)


@pytest.mark.parametrize(("axis", "bad"), [("exit", -1), ("entry", N_STATIONS), ("class", 16)])
def test_a_bad_index_anywhere_in_a_large_batch_is_refused(axis: str, bad: int) -> None:
    table = _table(np.zeros(N_STATIONS * N_STATIONS * 16, dtype=np.uint32))
    trips = {name: np.zeros(10_000, dtype=np.int64) for name in ("exit", "entry", "class")}
    trips[axis][7_777] = bad  # negative indices must not wrap around as numpy's would
    with pytest.raises(ValueError, match=axis):
        price_trips(table, trips["exit"], trips["entry"], trips["class"], Policy(version="t"))
