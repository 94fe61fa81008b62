"""What a lane transaction can come to: reason codes, outcomes and the transaction record.

These values are shared by the core (which decides), the journal (which keeps them) and the
publisher (which sends them to the station).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

from protocols.frozen import fast_init

__all__ = [
    "Outcome",
    "ReasonCode",
    "TransactionRecord",
]


class ReasonCode(IntEnum):
    """Why a transaction ended as it did (`rules.md` §3). Stored in records and events."""

    #: nothing to report: the transaction went through
    OK = 0
    #: exit: the card holds no open entry (0019 all zero or already exited)
    NO_ENTRY = 1
    #: exit: the entry is older than the policy's stale-entry limit
    STALE_ENTRY = 2
    #: exit: the entry station is not in the fee table
    UNKNOWN_ENTRY_STATION = 3
    #: the card's class and the OBU's class disagree (charged at the higher, flagged)
    CLASS_MISMATCH = 4
    #: the card is past its expiry date
    CARD_EXPIRED = 5
    #: the card's start date is in the future
    CARD_NOT_YET_VALID = 6
    #: the OBU is past its expiry date
    OBU_EXPIRED = 7
    #: the OBU was removed from the windscreen
    OBU_TAMPERED = 8
    #: the OBU holds no card
    OBU_NO_CARD = 9
    #: the card (or the RSU reading it) reported an error
    CARD_ERROR = 10
    #: the card is on the blacklist
    BLACKLISTED = 11
    #: the plate in 0015 does not match the OBU's vehicle file
    PLATE_MISMATCH = 12
    #: B card balance below the discounted fee (exit) or the entry minimum (entry)
    INSUFFICIENT_BALANCE = 13
    #: the same OBU was seen again within the re-read window after a completed transaction
    REREAD_WITHIN_WINDOW = 14
    #: the OBU is locked
    OBU_LOCKED = 15
    #: the purchase failed on the air link or in the card and nothing was debited
    PURCHASE_FAILED = 16
    #: the RSU lost the OBU before the purchase could start
    RADIO_LOST = 17
    #: the card is of a type this lane does not trade with
    UNSUPPORTED_CARD = 18
    #: exit: leaving by the entry station within the U-turn grace time, fee 0 (policy case)
    UTURN = 19
    #: the RSU could not read or decrypt the OBU's vehicle file (B4 05h/06h or a zero-filled part)
    VEHICLE_INFO_UNREADABLE = 20
    #: the PSAM failed (B5 06h: MAC1 not computed); nothing was debited
    PSAM_ERROR = 21
    #: the card refused the debit: MAC1 invalid (B5 22h)
    CARD_MAC_INVALID = 22
    #: the card's application is locked (B5 23h)
    CARD_LOCKED = 23
    #: the purchase outcome is unknown (no B5, or B8 never answered): left for clearing
    RESULT_UNKNOWN = 24
    #: flag: the TAC did not verify against the audit keys
    TAC_INVALID = 25
    #: the RSU reported an OBU error (B2 ErrorCode other than 00h and the 80h heartbeat)
    OBU_READ_FAILED = 26
    #: flag on a CASH_REQUIRED record: the 0-fen purchase that closes a short card's trip
    #: failed, so the card holds no purchase (and the record no TAC); the cash is due all the same
    TRIP_NOT_CLOSED = 27


class Outcome(Enum):
    """How a transaction closed."""

    #: entry lane: the entry record was written (0-fen purchase with a TAC)
    ENTRY_WRITTEN = "entry_written"
    #: exit lane: the card was debited (TAC received)
    DEBITED = "debited"
    #: exit lane: B card short; cash fee due; the trip closed with a 0-fen purchase (unless
    #: the record is flagged TRIP_NOT_CLOSED)
    CASH_REQUIRED = "cash_required"
    #: the lane refused the vehicle; nothing was written to the card
    REFUSED = "refused"
    #: a purchase was attempted and the card was not debited
    NOT_DEBITED = "not_debited"
    #: a purchase may have been committed and could not be confirmed: left for clearing
    UNRESOLVED = "unresolved"


@fast_init
@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """One transaction, as journaled and published.

    Before C6 is sent the core emits the record with outcome UNRESOLVED (the journal's intent
    row); when B5/B8 or recovery settles it, the record with the same `transaction_id` closes it.
    """

    transaction_id: str  # unique per lane transaction, assigned by the core
    lane_network: str
    lane_station: int
    lane_number: int
    mode: str  # "entry" | "exit"
    outcome: Outcome
    reason: ReasonCode
    obu_id: int
    obu_serial: str
    card_number: str
    card_type: int
    plate: str
    vehicle_class: int
    entry_network: str
    entry_station: int
    entry_time: int  # UNIX seconds of the entry, 0 where none
    fee: int  # undiscounted fee, fen
    discounted_fee: int  # what the policy charges an ETC card, fen
    amount_debited: int  # fen actually taken from the card
    cash_fee: int  # fen due in cash (rounded to the yuan), 0 unless CASH_REQUIRED
    balance_before: int
    balance_after: int
    ctc: int  # the card's offline serial used by the purchase, -1 where none
    psam_terminal_number: str  # hex, "" where none
    terminal_trans_serial: int  # -1 where none
    tac: str  # hex, "" where none
    alg_flag: int
    key_version: int
    transaction_time: str  # ISO-8601 wall-clock time of the purchase (lane local time)
    policy_version: str
    fee_table_version: str
    recovered: bool = False  # completed by C8/B8 or by start-up recovery
    #: non-fatal observations besides `reason` (e.g. CLASS_MISMATCH, TAC_INVALID)
    flags: tuple[ReasonCode, ...] = ()
    #: None: no audit key configured; True/False: the TAC verified or did not
    tac_verified: bool | None = None
    blacklist_version: int = -1
    #: free text for the operator: the RSU error code, the blacklist reason, ...
    detail: str = ""
    #: hex of the card's 4-byte issuer code (0015 bytes 4-7): with the card number, what clearing
    #: needs to derive the card's TAC key
    card_issuer_code: str = ""

    @property
    def card_committed(self) -> bool:
        """Whether the record says the card committed a purchase (the debit or 0-fen write that
        a TAC proves): an entry written, a debit, or a cash trip closed on the card."""
        if self.outcome is Outcome.CASH_REQUIRED:
            return ReasonCode.TRIP_NOT_CLOSED not in self.flags
        return self.outcome is Outcome.DEBITED or self.outcome is Outcome.ENTRY_WRITTEN

    @property
    def idempotency_key(self) -> str:
        """(card number, CTC, PSAM terminal number, terminal trans serial) for a purchase: the same
        debit always gives the same key, so consumers can de-duplicate. A transaction that never
        reached the card is keyed by its transaction id."""
        if self.ctc < 0 or self.terminal_trans_serial < 0:
            return self.transaction_id
        return (
            f"{self.card_number}:{self.ctc}:{self.psam_terminal_number}:"
            f"{self.terminal_trans_serial}"
        )
