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
