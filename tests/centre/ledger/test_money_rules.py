"""Purse limits and A-card bills."""

from __future__ import annotations

import datetime as dt

from centre.ledger.bills import BillTerms, is_overdue
from centre.ledger.purse import DEFAULT_PURSE_LIMIT, top_up_problem


def test_a_top_up_must_be_positive_and_stay_within_the_purse_limit() -> None:
    assert top_up_problem(10_000, 0, DEFAULT_PURSE_LIMIT) is None
    assert top_up_problem(DEFAULT_PURSE_LIMIT, 0, DEFAULT_PURSE_LIMIT) is None
    assert "not positive" in (top_up_problem(0, 0, DEFAULT_PURSE_LIMIT) or "")
    assert "not positive" in (top_up_problem(-1, 0, DEFAULT_PURSE_LIMIT) or "")
    problem = top_up_problem(2, DEFAULT_PURSE_LIMIT - 1, DEFAULT_PURSE_LIMIT)
    assert problem is not None and "purse limit of 1000000 fen" in problem


def test_a_bill_falls_due_after_its_term_and_only_an_unpaid_one_is_overdue() -> None:
    issued = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    terms = BillTerms(issued)
    assert terms.due_at == issued + dt.timedelta(days=15)
    assert not is_overdue(terms.due_at, False, terms.due_at)
    assert is_overdue(terms.due_at, False, terms.due_at + dt.timedelta(seconds=1))
    assert not is_overdue(terms.due_at, True, terms.due_at + dt.timedelta(days=9))
