"""What clearing keeps and reports, as values: a lane record as cleared, where it stands, and a
finding (a record that disagrees with the rules, with its reason). Sans-IO."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum


class ClearingState(Enum):
    """Where a cleared lane record stands."""

    #: the money it moved is in the ledger (or it moved none and its TAC verified)
    BOOKED = "booked"
    #: nothing was charged (refused, not debited, entry written): kept as evidence
    NO_MONEY = "no_money"
    #: a finding keeps it out of the ledger until a person settles it
    HELD = "held"
    #: the lane could not tell whether the card committed: waiting to be settled
    UNRESOLVED = "unresolved"


class Settled(Enum):
    """How an UNRESOLVED record was settled."""

    #: the lane's own later record of the same debit (recovery read the card's log)
    LANE = "lane"
    #: the card's next transaction: its CTC and balance show whether the purchase committed
    CTC_GAP = "ctc_gap"


class Source(Enum):
    """How a record reached clearing."""

    #: an MQTT transaction message `{"idempotency_key", "seq", "record"}`
    MQTT = "mqtt"
    #: a line of a lane journal exported as JSON Lines (an offline lane's upload)
    JOURNAL = "journal"


class FindingKind(Enum):
    """Why a record disagrees with the rules; `booked` says whether its money still went into
    the ledger (the card's TAC proves it moved) or the record is held."""

    #: the TAC does not verify under the issuer's keys (or no key is known for the card)
    TAC_INVALID = "tac_invalid"
    #: the card's CTC runs backwards against its other transactions' times
    CTC_BACKWARDS = "ctc_backwards"
    #: the card's CTC was already used by another transaction with another amount
    CTC_REPEATED = "ctc_repeated"
    #: the card was on the status list version the lane already had, and was debited
    LISTED_CARD_DEBITED = "listed_card_debited"
    #: the amount differs from the fee table and the policy for that trip
    AMOUNT_MISMATCH = "amount_mismatch"
    #: the lane uploaded one transaction a second time (another outbox entry or key)
    DUPLICATE_UPLOAD = "duplicate_upload"
    #: a record under a key already cleared says something else than the first
    CONFLICTING_RECORD = "conflicting_record"
    #: the record reached the centre after the upload window
    LATE_UPLOAD = "late_upload"
    #: the card is not one this centre issued
    UNKNOWN_CARD = "unknown_card"

    @property
    def booked(self) -> bool:
        """True when a record with this finding is booked all the same."""
        return self in _BOOKED_ANYWAY


_BOOKED_ANYWAY = frozenset({
    FindingKind.LISTED_CARD_DEBITED, FindingKind.AMOUNT_MISMATCH, FindingKind.DUPLICATE_UPLOAD,
    FindingKind.LATE_UPLOAD,
})


@dataclass(frozen=True, slots=True)
class Finding:
    """One disagreement: its kind, one line saying why, and the figures that disagree."""

    kind: FindingKind
    detail: str
    expected: int | None = None  # fen the centre expected, when it has a figure
    other_key: str | None = None  # the record it disagrees with


@dataclass(frozen=True, slots=True)
class ClearedRecord:
    """A lane record as clearing keeps it, one per idempotency key (the latest by `seq`)."""

    idempotency_key: str
    transaction_id: str
    seq: int | None  # the lane's outbox number; None from a journal file
    source: Source
    network: str
    station: int
    lane: int
    card_number: str
    card_kind: str | None  # "A" or "B" as the centre issued it; None: not a card of ours
    outcome: str  # the lane's outcome (lane_engine Outcome value), or as settled
    ctc: int | None
    amount: int  # fen taken from the card
    cash_fee: int  # fen due in cash at the lane
    balance_before: int
    balance_after: int
    transaction_time: dt.datetime
    received_at: dt.datetime
    state: ClearingState
    settled_how: Settled | None
    tac_verified: bool
    entry_id: int | None  # the ledger entry that booked it
    evidence_key: str | None  # the record whose CTC settled this one
    record: str  # the record's JSON as received (or as settled)

    @property
    def plaza(self) -> str:
        return f"{self.network}/{self.station}"


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding as stored, with the record it is about."""

    finding_id: int
    idempotency_key: str
    kind: FindingKind
    card_number: str
    network: str
    station: int
    lane: int
    transaction_id: str
    amount: int
    expected: int | None
    other_key: str | None
    transaction_time: dt.datetime
    found_at: dt.datetime
    detail: str

    @property
    def booked(self) -> bool:
        return self.kind.booked
