"""Records: the fast `amend` agrees with dataclasses.replace; ids are per lane and counted."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lane_engine.core.config import LaneConfig
from lane_engine.core.ledger import RecordStamp, TransactionIds, amend
from lane_engine.core.outcomes import Outcome, ReasonCode
from protocols.frames import LaneMode

CONFIG = LaneConfig("3701", 120, 2, LaneMode.EXIT)


@given(fee=st.integers(0, 10**7), detail=st.text(max_size=5), ok=st.booleans())
def test_amend_equals_replace(fee: int, detail: str, ok: bool) -> None:
    stamp = RecordStamp(CONFIG)
    stamp.stamp(policy_version="p1", blacklist_version=4)
    record = stamp.record("id", Outcome.REFUSED, ReasonCode.OK, 7, "obu", "t", balance_before=9)
    assert (record.balance_after, record.policy_version, record.blacklist_version) == (9, "p1", 4)
    changes = {"fee": fee, "detail": detail, "tac_verified": ok}
    assert amend(record, **changes) == dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def test_amend_refuses_unknown_fields() -> None:
    record = RecordStamp(CONFIG).record("id", Outcome.REFUSED, ReasonCode.OK, 7, "obu", "t")
    with pytest.raises(TypeError, match="nope"):
        amend(record, nope=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.fee = 3  # type: ignore[misc]


def test_ids_count_from_first() -> None:
    ids = TransactionIds(CONFIG, first=9)
    assert ids.next(1_700_000_000.7) == "3701-00120-002-00000010-1700000000"
    assert ids.last == 10
