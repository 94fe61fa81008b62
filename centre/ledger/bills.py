"""A-card bills (seed art. 28): cleared lane debits are billed to the bound account; a bill not
paid by its due date puts the card on the status list as overdrawn and is charged to the outlet
that issued the card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Our decision: a bill is due 15 days after it is issued (configurable per centre).
DEFAULT_PAYMENT_TERM = dt.timedelta(days=15)


@dataclass(frozen=True, slots=True)
class BillTerms:
    """When a bill issued at `issued_at` falls due."""

    issued_at: dt.datetime
    payment_term: dt.timedelta = DEFAULT_PAYMENT_TERM

    @property
    def due_at(self) -> dt.datetime:
        return self.issued_at + self.payment_term


def is_overdue(due_at: dt.datetime, paid: bool, now: dt.datetime) -> bool:
    """An unpaid bill past its due date."""
    return not paid and now > due_at
