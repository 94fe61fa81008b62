"""Values every room of the centre uses: the request an outlet makes, card and device kinds and
states, payment methods, and the centre's clock zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from protocols.records import CardType

#: The centre's business clock (China Standard Time, no daylight saving): working days, due
#: dates and the dates printed on cards are taken in this zone.
CENTRE_ZONE = dt.timezone(dt.timedelta(hours=8), "CST")
#: Fen in a yuan.
FEN_PER_YUAN = 100


class CardKind(Enum):
    """Which purse rules a card follows (seed art. 5, 20, 21)."""

    #: A card, credit (记账卡): lane debits are billed to the bound account
    A = "A"
    #: B card, stored value (储值卡): topped up at outlets, refunded on cancellation
    B = "B"

    @property
    def card_type(self) -> CardType:
        """The 0015 card type byte of this kind."""
        return CardType.CREDIT if self is CardKind.A else CardType.STORED_VALUE


class CardStatus(Enum):
    """Where a card stands at the centre."""

    #: issued and usable
    ACTIVE = "active"
    #: reported lost (挂失): on the status list until unlocked or cancelled
    LOST = "lost"
    #: cancelled (注销); a B card's balance is refunded 30 days later
    CANCELLED = "cancelled"
    #: replaced by a new card (坏卡更换); its balance moved to the new card
    REPLACED = "replaced"


class ObuStatus(Enum):
    """Where an OBU stands at the centre."""

    #: issued and usable
    ACTIVE = "active"
    #: reported lost: on the OBU status list until unlocked or cancelled
    LOST = "lost"
    #: cancelled
    CANCELLED = "cancelled"


class PaymentMethod(Enum):
    """How a customer paid at the outlet; a B card's refund goes back the same way."""

    #: cash at the counter
    CASH = "cash"
    #: bank card at the counter
    BANK_CARD = "bank_card"
    #: bank transfer
    TRANSFER = "transfer"
    #: WeChat Pay
    WECHAT = "wechat"
    #: Alipay
    ALIPAY = "alipay"


@dataclass(frozen=True, slots=True)
class Request:
    """One operation an outlet asks of the centre.

    `request_id` is the outlet's own id for the request: the same id again is the same request
    (answered as the first time, never done twice). `at` is when the outlet did it; `applied_at`
    when the customer applied (for the time limits; defaults to `at`).
    """

    request_id: str
    outlet: str
    operator: str
    at: dt.datetime
    applied_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("request time must be timezone-aware")
        if self.applied_at is not None and self.applied_at.tzinfo is None:
            raise ValueError("application time must be timezone-aware")

    @property
    def application_time(self) -> dt.datetime:
        """When the customer applied (the time limit counts from here)."""
        return self.at if self.applied_at is None else self.applied_at


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, for people reading the output."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // FEN_PER_YUAN}.{abs(fen) % FEN_PER_YUAN:02d}"


def shown(when: dt.datetime) -> str:
    """A time as the centre shows it: its zone, to the second (e.g. 2026-11-02T09:30:05+08:00)."""
    return when.astimezone(CENTRE_ZONE).isoformat(timespec="seconds")
