"""B-card purse rules: what a top-up may be (seed art. 21, 26; `card.md` §3.1a)."""

from __future__ import annotations

#: Our decision (card.md §3.1a): a B card holds at most 10,000 yuan unless the centre says less.
DEFAULT_PURSE_LIMIT = 1_000_000


def top_up_problem(amount: int, balance: int, purse_limit: int) -> str | None:
    """Why a top-up of `amount` onto a purse holding `balance` is refused, or None when it may go.

    `balance` is the card's own (from INITIALIZE FOR LOAD) or the ledger's, whichever is known.
    """
    if amount <= 0:
        return f"amount {amount} fen is not positive"
    if balance + amount > purse_limit:
        return (f"balance {balance} + {amount} fen would pass the purse limit of "
                f"{purse_limit} fen")
    return None
