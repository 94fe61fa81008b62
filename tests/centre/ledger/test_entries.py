"""Balanced entries and the chart of accounts."""

from __future__ import annotations

import pytest

from centre.errors import LedgerError
from centre.ledger import accounts, entries
from centre.ledger.accounts import Account, AccountKind
from centre.ledger.entries import Entry, EntryKind, Posting, trial_balance

CARD = "37011901230211225128"
OTHER = "37011901230211225129"


def test_a_top_up_moves_money_from_the_outlet_into_the_purse() -> None:
    entry = entries.top_up(CARD, "370101", 5_000)
    assert entry.kind is EntryKind.TOP_UP
    assert entry.amount == 5_000
    assert entry.amount_on(accounts.outlet_cash("370101")) == 5_000
    assert entry.amount_on(accounts.purse(CARD)) == -5_000
    # In their normal sides both went up: the outlet holds 50 yuan, the holder has 50 yuan.
    assert accounts.outlet_cash("370101").normal_balance(5_000) == 5_000
    assert accounts.purse(CARD).normal_balance(-5_000) == 5_000


@pytest.mark.parametrize(("stored_value", "source"), [(True, AccountKind.PURSE),
                                                     (False, AccountKind.CREDIT)])
def test_a_lane_debit_is_owed_to_the_plaza(stored_value: bool, source: AccountKind) -> None:
    entry = entries.lane_debit(CARD, stored_value, "3701", 120, 1_189)
    assert {p.account: p.amount for p in entry.postings} == {
        Account(source, CARD): 1_189, accounts.toll("3701", 120): -1_189}


def test_every_constructor_balances_and_names_its_kind() -> None:
    made = [
        entries.top_up(CARD, "o1", 1), entries.lane_debit(CARD, True, "3701", 1, 2),
        entries.lane_cash("3701", 1, 3, 300), entries.refund_paid(CARD, "o1", 4),
        entries.balance_moved(CARD, OTHER, 5), entries.bill_paid(CARD, 6),
        entries.arrears_charged(CARD, "o1", 7), entries.arrears_repaid(CARD, "o1", 8),
    ]
    assert {e.kind for e in made} == set(EntryKind)
    assert all(sum(p.amount for p in e.postings) == 0 for e in made)
    assert sum(trial_balance(made).values()) == 0


@pytest.mark.parametrize("amount", [0, -5, 2**32, True, 1.5])
def test_amounts_that_are_not_positive_int_fen_are_refused(amount: object) -> None:
    with pytest.raises(LedgerError):
        entries.top_up(CARD, "o1", amount)  # type: ignore[arg-type]


def test_an_unbalanced_entry_cannot_be_made() -> None:
    with pytest.raises(LedgerError, match="sum to 1"):
        Entry(EntryKind.TOP_UP, (Posting(accounts.outlet_cash("o1"), 101),
                                 Posting(accounts.purse(CARD), -100)))


def test_an_entry_posts_each_account_once_and_needs_two_legs() -> None:
    with pytest.raises(LedgerError, match="twice"):
        Entry(EntryKind.TOP_UP, (Posting(accounts.purse(CARD), 100),
                                 Posting(accounts.purse(CARD), -100)))
    with pytest.raises(LedgerError, match="two postings"):
        Entry(EntryKind.TOP_UP, (Posting(accounts.purse(CARD), 0),))
    with pytest.raises(LedgerError, match="to itself"):
        entries.balance_moved(CARD, CARD, 10)


def test_account_names_round_trip_and_bad_names_are_refused() -> None:
    for account in (accounts.purse(CARD), accounts.toll("3701", 120),
                    accounts.lane_cash("3701", 120, 3), accounts.outlet_arrears("370101")):
        assert Account.parse(str(account)) == account
    for bad in ("purse", "wallet:1", "purse:", "purse: 1", "purse:a:b"):
        with pytest.raises(LedgerError):
            Account.parse(bad)
