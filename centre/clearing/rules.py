"""The rules of clearing, as functions of values (sans-IO): how a record that arrives again
relates to the one kept, what a card's other transactions say about a new one, whether the
card was listed for the lane, whether the upload was late, how an UNRESOLVED record is settled
from the card's later transactions, and which ledger entry a booked record makes.

Only trusted records are evidence about a card: booked ones (their TAC verified, or settled
from such records). A record held for a finding, a refusal or an UNRESOLVED record proves
nothing about the card's purse.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from centre.clearing.values import ClearedRecord, ClearingState, Finding, FindingKind, Settled
from centre.ledger import entries
from centre.ledger.entries import Entry
from lane_engine.core.outcomes import Outcome

#: Our decision: a lane uploads a transaction within 3 days; later it is a LATE_UPLOAD finding,
#: and the card's later transactions settle an UNRESOLVED one only once that window has closed
#: on them (every record that could fall between has arrived by then).
UPLOAD_WINDOW = dt.timedelta(days=3)
#: Our decision: a card the centre personalises starts at CTC 0 (its first purchase uses 0).
FIRST_CTC = 0


class Repeat(Enum):
    """How a record under a key already cleared relates to the one kept."""

    #: the same message again (MQTT redelivery, or the same record from a journal file)
    REDELIVERY = "redelivery"
    #: the lane's definite record of a debit it had left UNRESOLVED
    SETTLEMENT = "settlement"
    #: the UNRESOLVED record of a debit whose settlement is already kept
    STALE = "stale"
    #: the same record in another outbox entry of the lane
    DUPLICATE_UPLOAD = "duplicate_upload"
    #: another record under the same key
    CONFLICT = "conflict"


def lane_outcome(kept: ClearedRecord) -> str:
    """The outcome the lane's own record says (the kept record may be settled otherwise)."""
    return str(json.loads(kept.record).get("outcome", ""))


def compare(kept: ClearedRecord, seq: int | None, text: str, outcome: Outcome) -> Repeat:
    """How an arriving record (`seq`, its JSON `text`, its outcome) relates to `kept`."""
    kept_unresolved = lane_outcome(kept) == Outcome.UNRESOLVED.value
    new_unresolved = outcome is Outcome.UNRESOLVED
    if kept_unresolved and not new_unresolved:
        return Repeat.SETTLEMENT
    if new_unresolved and not kept_unresolved:
        return Repeat.STALE
    if text == kept.record:
        if seq is None or kept.seq is None or seq == kept.seq:
            return Repeat.REDELIVERY
        return Repeat.DUPLICATE_UPLOAD
    return Repeat.CONFLICT


def trusted(records: Sequence[ClearedRecord], key: str) -> list[ClearedRecord]:
    """The card's records that are evidence (booked on their own proof, with a CTC), other
    than `key`'s; a record settled from the card's CTCs is an inference, not evidence."""
    return [r for r in records if r.state is ClearingState.BOOKED and r.ctc is not None
            and r.settled_how is not Settled.CTC_GAP and r.idempotency_key != key]


def ctc_findings(key: str, ctc: int, amount: int, at: dt.datetime,
                 card_records: Sequence[ClearedRecord]) -> list[Finding]:
    """CTC_REPEATED when another trusted transaction of the card used this CTC, CTC_BACKWARDS
    when the CTCs and the times of the card's transactions run in opposite directions."""
    found: list[Finding] = []
    for other in trusted(card_records, key):
        assert other.ctc is not None
        if other.ctc == ctc:
            how = "the same amount" if other.amount == amount else "another amount"
            found.append(Finding(
                FindingKind.CTC_REPEATED,
                f"CTC {ctc} was used by {other.idempotency_key} ({other.amount} fen at "
                f"{other.transaction_time.isoformat()}), with {how} ({amount} fen)",
                other_key=other.idempotency_key))
            break
    for other in trusted(card_records, key):
        assert other.ctc is not None
        if (other.ctc < ctc and other.transaction_time > at) \
                or (other.ctc > ctc and other.transaction_time < at):
            found.append(Finding(
                FindingKind.CTC_BACKWARDS,
                f"CTC {ctc} at {at.isoformat()} against CTC {other.ctc} at "
                f"{other.transaction_time.isoformat()} ({other.idempotency_key})",
                other_key=other.idempotency_key))
            break
    return found


def listed_finding(category: int, lane_version: int) -> Finding | None:
    """LISTED_CARD_DEBITED when the card was on the list version the lane had (category > 0)."""
    if category <= 0:
        return None
    return Finding(FindingKind.LISTED_CARD_DEBITED,
                   f"the card was on card list version {lane_version} (category {category}), "
                   "which the lane had, and was debited")


def late_finding(at: dt.datetime, received_at: dt.datetime,
                 window: dt.timedelta = UPLOAD_WINDOW) -> Finding | None:
    """LATE_UPLOAD when the record reached the centre more than `window` after its time."""
    age = received_at - at
    if age <= window:
        return None
    days = age.total_seconds() / 86400
    return Finding(FindingKind.LATE_UPLOAD,
                   f"received {days:.1f} days after the transaction, past the "
                   f"{window.days}-day upload window")


@dataclass(frozen=True, slots=True)
class GapVerdict:
    """What the card's later transactions say about an UNRESOLVED purchase."""

    committed: bool
    ctc: int | None  # the CTC the purchase used, when the record knew it
    evidence_key: str  # the transaction that shows it
    detail: str


def purse_after(stored_value: bool, balance: int, amount: int) -> int:
    """A card's purse figure after a debit (an A card's figure stops at 0, the issuer's
    convention the emulated cards and the lanes follow)."""
    return balance - amount if stored_value else max(balance - amount, 0)


def gap_verdict(pending: ClearedRecord, intended: int, stored_value: bool,
                card_records: Sequence[ClearedRecord],
                loads: Sequence[tuple[dt.datetime, int]], now: dt.datetime,
                window: dt.timedelta = UPLOAD_WINDOW) -> GapVerdict | None:
    """Settle an UNRESOLVED purchase from the card's trusted transaction just after it, once the
    upload window has closed on that one; None while they do not tell.

    Both the card's counters must agree. Its CTC: with the purchase's CTC known (an error B5
    gave it), the next transaction using that CTC means not committed and using the next one
    means committed; without it, the CTCs just before and after count the purchases in between
    (none: not committed; one: this one). And its purse: the next transaction's balance before
    is the purchase's balance before, less the purchase if committed, plus the loads between.
    Anything else (a record of the card still on its way) waits.
    """
    others = sorted(trusted(card_records, pending.idempotency_key),
                    key=lambda r: (r.transaction_time, r.ctc or 0))
    at = pending.transaction_time
    after = [r for r in others if r.transaction_time > at]
    if not after or after[0].transaction_time + window > now:
        return None
    following = after[0]
    assert following.ctc is not None
    loaded = sum(amount for when, amount in loads if at < when < following.transaction_time)
    kept = pending.balance_before + loaded
    spent = purse_after(stored_value, pending.balance_before, intended) + loaded
    if pending.ctc is not None:
        if following.ctc == pending.ctc:
            committed = False
        elif following.ctc == pending.ctc + 1:
            committed = True
        else:
            return None
    else:
        before = [r for r in others if r.transaction_time < at]
        previous_ctc = before[-1].ctc if before else FIRST_CTC - 1
        assert previous_ctc is not None
        gap = following.ctc - previous_ctc - 1
        if gap not in (0, 1):
            return None
        committed = gap == 1
    if following.balance_before != (spent if committed else kept):
        return None
    said = "committed" if committed else "did not commit"
    return GapVerdict(committed, pending.ctc, following.idempotency_key,
                      f"the card's next transaction (CTC {following.ctc}, balance before "
                      f"{following.balance_before}) shows the purchase {said}")


def entry_for(record: ClearedRecord, stored_value: bool) -> Entry | None:
    """The ledger entry of a booked record: a debit from the purse (B card) or onto the card's
    account (A card), owed to the plaza; cash at the lane; nothing for 0 fen."""
    memo = record.idempotency_key
    if record.amount > 0:
        return entries.lane_debit(record.card_number, stored_value, record.network,
                                  record.station, record.amount, memo)
    if record.cash_fee > 0 and record.outcome == Outcome.CASH_REQUIRED.value:
        return entries.lane_cash(record.network, record.station, record.lane, record.cash_fee,
                                 memo)
    return None
