"""The centre's parameters as the service and the lists use them (read from the configuration
file by `centre.config`; defaults here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from centre.ledger.bills import DEFAULT_PAYMENT_TERM
from centre.ledger.limits import WorkingCalendar
from centre.ledger.purse import DEFAULT_PURSE_LIMIT

#: Our decision: the balance figure personalisation writes into an A card (the lane debits an
#: A card whatever it shows; the card still needs a figure its INITIALIZE accepts): 1 M yuan.
A_CARD_BALANCE_FIGURE = 100_000_000
#: Status lists: an incremental list every 5 minutes (as in the field), a full list hourly.
DEFAULT_DELTA_INTERVAL_S = 300.0
DEFAULT_FULL_INTERVAL_S = 3600.0


@dataclass(frozen=True, slots=True)
class IssuerSettings:
    """Who issues the cards: what personalisation writes into 0015 and the OBU."""

    network: str = "3701"  # 4 digits
    issuer_code: str = "37010001"  # 8 hex digits, 0015 bytes 4-7 (the level-1 factor)
    province: str = "山东"  # 2 characters, 4 bytes of GBK, 0015 bytes 0-3
    key_version: int = 1
    card_version: int = 0x10
    validity_years: int = 10

    @property
    def issuer_identifier(self) -> bytes:
        """0015 bytes 0-7 and the OBU's contract provider: GBK province name + code."""
        return self.province.encode("gbk") + bytes.fromhex(self.issuer_code)


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """The rules' parameters."""

    issuer: IssuerSettings = field(default_factory=IssuerSettings)
    purse_limit: int = DEFAULT_PURSE_LIMIT  # fen
    a_card_balance: int = A_CARD_BALANCE_FIGURE  # fen
    bill_term: dt.timedelta = DEFAULT_PAYMENT_TERM
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
