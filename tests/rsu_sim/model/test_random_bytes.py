"""Buffered device randomness gives the bytes `Generator.bytes` would, call for call."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rsu_sim.model.random_bytes import BufferedRandomBytes


@given(st.integers(0, 2**32), st.integers(1, 8), st.lists(st.integers(0, 40), max_size=30))
@settings(max_examples=50)
def test_same_bytes_as_generator_bytes(seed: int, block_words: int, lengths: list[int]) -> None:
    plain = np.random.default_rng(seed)
    buffered = BufferedRandomBytes(np.random.default_rng(seed), block_words=block_words)
    for length in lengths:
        got = buffered(length)
        assert len(got) == length
        assert got == plain.bytes(length)
