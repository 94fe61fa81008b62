"""Crypto per operation, 3DES family vs SM4 family: diversification, session key, MAC1, MAC2, TAC.

Keys that live long (master keys, a card's DPK/DTK) keep their cipher object as the lane would;
a session key is new for every purchase, so MAC1 and MAC2 pay its key schedule each time. The
baseline is one raw block encryption with a ready cipher context: the floor of any operation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from keys import (
    Algorithm,
    PurchaseTerms,
    SecretKey,
    diversify,
    ecb_encrypt,
    mac1,
    mac2,
    purchase_session_key,
    tac,
)

MASTER = SecretKey(bytes(range(16)))
DPK = SecretKey(bytes(range(16, 32)))
DTK = SecretKey(bytes(range(32, 48)))
FACTOR = bytes.fromhex("1901230211225128")
ICC_RANDOM = bytes.fromhex("a1b2c3d4")
TERMS = PurchaseTerms(2_227, 0x09, bytes.fromhex("01370004727f"), dt.datetime(2023, 11, 15, 6, 13))
SESSION_MATERIAL = {Algorithm.TDES: bytes(range(8)), Algorithm.SM4: bytes(range(16))}

Operation = Callable[[Algorithm], Callable[[], object]]

OPERATIONS: dict[str, Operation] = {
    "diversify": lambda alg: lambda: diversify(alg, MASTER, FACTOR),
    "session key": lambda alg: lambda: purchase_session_key(alg, DPK, ICC_RANDOM, 63, 35),
    # A fresh SecretKey: the session key is new for every purchase (its key schedule included).
    "MAC1": lambda alg: lambda: mac1(alg, SecretKey(SESSION_MATERIAL[alg]), TERMS),
    "MAC2": lambda alg: lambda: mac2(alg, SecretKey(SESSION_MATERIAL[alg]), TERMS.amount),
    "TAC": lambda alg: lambda: tac(alg, DTK, TERMS, 35),
    "one block (baseline)": lambda alg: lambda: ecb_encrypt(
        alg, DPK, bytes(8 if alg is Algorithm.TDES else 16)),
}


@pytest.mark.parametrize("algorithm", list(Algorithm), ids=lambda a: a.name)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_crypto(benchmark, operation: str, algorithm: Algorithm) -> None:  # type: ignore[no-untyped-def]
    run = OPERATIONS[operation](algorithm)
    first = run()
    assert first == run()  # deterministic: same inputs, same key or MAC
    benchmark.group = f"crypto {operation}"
    benchmark.extra_info.update(kind="crypto", operation=operation, impl=algorithm.name)
    benchmark(run)
