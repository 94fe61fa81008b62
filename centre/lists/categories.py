"""The national status-list categories (rules.md §4) and how each is written in the lane's list
files and messages (`lane_engine.core.blacklist.Reason`), in one table each.

A list number is 20 digits: a card's is its card number (network 4 + application serial 16);
an OBU's is its issuer network (the contract serial's first 4 digits) followed by its 16-digit
contract serial (our decision, so that OBU lists use the lane's card-list file formats as
they are).
"""

from __future__ import annotations

from enum import IntEnum

from lane_engine.core.blacklist import Reason


class CardCategory(IntEnum):
    """Why a card is on the card status list (the national codes)."""

    #: reported lost (挂失)
    LOST = 1
    #: suspended without the card (无卡挂起)
    SUSPENDED = 2
    #: cancelled without the card (无卡注销)
    CANCELLED = 3
    #: the account is overdrawn (账户透支): an A card's bill unpaid past its due date
    OVERDRAWN = 4
    #: on a partner institution's list
    PARTNER_LISTED = 5
    #: the vehicle class written in the card no longer matches the vehicle
    CLASS_MISMATCH = 6


class ObuCategory(IntEnum):
    """Why an OBU is on the OBU status list (the national codes)."""

    #: reported lost
    LOST = 1
    #: suspended
    SUSPENDED = 2
    #: cancelled without the OBU
    CANCELLED = 3
    #: the vehicle class written in the OBU no longer matches the vehicle
    CLASS_MISMATCH = 4


#: The lane's reason code for each card category.
CARD_REASONS: dict[CardCategory, Reason] = {
    CardCategory.LOST: Reason.LOST,
    CardCategory.SUSPENDED: Reason.SUSPENDED,
    CardCategory.CANCELLED: Reason.CANCELLED,
    CardCategory.OVERDRAWN: Reason.OVERDRAWN,
    CardCategory.PARTNER_LISTED: Reason.PARTNER_LISTED,
    CardCategory.CLASS_MISMATCH: Reason.CLASS_MISMATCH,
}
#: The lane's reason code for each OBU category.
OBU_REASONS: dict[ObuCategory, Reason] = {
    ObuCategory.LOST: Reason.LOST,
    ObuCategory.SUSPENDED: Reason.SUSPENDED,
    ObuCategory.CANCELLED: Reason.CANCELLED,
    ObuCategory.CLASS_MISMATCH: Reason.CLASS_MISMATCH,
}
#: Which category wins when several apply to one card (a lost A card with an unpaid bill is
#: listed lost; once found and unlocked it is listed overdrawn again).
CARD_PRIORITY = (CardCategory.LOST, CardCategory.CANCELLED, CardCategory.OVERDRAWN,
                 CardCategory.SUSPENDED, CardCategory.PARTNER_LISTED, CardCategory.CLASS_MISMATCH)
OBU_PRIORITY = (ObuCategory.LOST, ObuCategory.CANCELLED, ObuCategory.SUSPENDED,
                ObuCategory.CLASS_MISMATCH)


def obu_list_number(contract_serial: str) -> str:
    """The 20-digit number of an OBU in lists: issuer network + contract serial."""
    return contract_serial[:4] + contract_serial


def reason_of(list_name: str, category: int) -> Reason:
    """The lane's reason code for a stored category of list `list_name`."""
    if list_name == "card":
        return CARD_REASONS[CardCategory(category)]
    return OBU_REASONS[ObuCategory(category)]


def category_name(list_name: str, category: int) -> str:
    enum = CardCategory if list_name == "card" else ObuCategory
    return enum(category).name.lower() if category else "none"
