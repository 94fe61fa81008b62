"""The crash campaign, short: ten SIGKILLs of the lane process, the served world and the broker
(each at least once), then the audit: every card debit journaled once, nothing lost or doubled,
every journaled record delivered to the station (`make chaos` runs the long one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.campaign import KILLABLE, run_chaos
from tests.support.broker import find_mosquitto

pytestmark = pytest.mark.skipif(find_mosquitto() is None,
                                reason="Debian's mosquitto is not installed")


async def test_ten_kills_leave_every_debit_journaled_once_and_every_record_delivered(
        tmp_path: Path) -> None:
    result = await run_chaos(tmp_path, kills=10, seed=7, seconds=120, speed=10, quiet=True)
    print(result.summary())
    assert sum(result.kills.values()) == 10
    assert all(result.kills[name] >= 1 for name in KILLABLE), result.kills
    assert result.card_debits > 0 and result.records_journaled >= result.card_debits
    assert (result.lost, result.doubled, result.other_problems) == (0, 0, []), result.summary()
    assert result.journaled_once == result.card_debits
    assert result.records_delivered == result.records_journaled, result.summary()
    assert result.clean
