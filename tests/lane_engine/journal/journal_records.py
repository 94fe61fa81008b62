"""Transaction records for journal tests (also imported by the crash-test child script)."""

from __future__ import annotations

import dataclasses
from typing import Any

from lane_engine.core.outcomes import Outcome, ReasonCode, TransactionRecord

PSAM = "370100000001"


def intent(n: int, **changes: Any) -> TransactionRecord:
    """The intent (outcome UNRESOLVED) of exit transaction number `n`, before B5: no CTC yet."""
    record = TransactionRecord(
        transaction_id=f"L01-{n:06d}",
        lane_network="3701",
        lane_station=101,
        lane_number=1,
        mode="exit",
        outcome=Outcome.UNRESOLVED,
        reason=ReasonCode.OK,
        obu_id=0x10000000 + n,
        obu_serial=f"37010000{n:08d}",
        card_number=f"3701230000{n % 97:010d}",
        card_type=0x16,
        plate="鲁A12345",
        vehicle_class=1,
        entry_network="3701",
        entry_station=205,
        entry_time=1_714_550_000,
        fee=4500,
        discounted_fee=4275,
        amount_debited=0,
        cash_fee=0,
        balance_before=100_000,
        balance_after=100_000,
        ctc=-1,
        psam_terminal_number=PSAM,
        terminal_trans_serial=-1,
        tac="",
        alg_flag=0,
        key_version=1,
        transaction_time="2024-05-01T08:00:00+08:00",
        policy_version="p1",
        fee_table_version="f1",
    )
    return dataclasses.replace(record, **changes)


def debited(n: int, **changes: Any) -> TransactionRecord:
    """The B5 close of transaction `n`: debited, with CTC, terminal serial and TAC."""
    base = intent(n)
    fields: dict[str, Any] = {
        "outcome": Outcome.DEBITED,
        "amount_debited": base.discounted_fee,
        "balance_after": base.balance_before - base.discounted_fee,
        "ctc": 100 + n,
        "terminal_trans_serial": 5000 + n,
        "tac": f"{n:08X}",
    }
    fields.update(changes)
    return dataclasses.replace(base, **fields)


def refusal(n: int, reason: ReasonCode = ReasonCode.BLACKLISTED) -> TransactionRecord:
    """A refused vehicle (no intent, no purchase)."""
    return intent(n, outcome=Outcome.REFUSED, reason=reason, transaction_id=f"L01-R{n:05d}")
