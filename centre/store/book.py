"""The ledger as stored: entries and their postings, balances derived from the postings.

* `tx.book.post(entry, at, request_id=None) -> entry_id`: one balanced `centre.ledger.Entry`
  (its balance was checked when it was made); the postings go in with it, all or nothing.
* `balance(account) -> int`: the account's balance in its normal side (a purse: what the
  holder has; a credit account: what the holder owes), summed from every posting.
* `balances(kind) -> {account: balance}`: every account of a kind that has postings.
* `entry(entry_id) -> StoredEntry`, `postings_of(account) -> [AccountLine]`,
  `entries_between(start, end)`: to read the ledger back.
* `unbalanced() -> [entry_id]`: entries whose stored postings do not sum to zero (a check:
  empty on any database this code wrote; 账账相符).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from centre.ledger.accounts import Account, AccountKind
from centre.ledger.entries import Entry, EntryKind, Posting
from centre.store.database import Transaction, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as the ledger holds it."""

    entry_id: int
    at: dt.datetime
    request_id: str | None
    entry: Entry


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One posting on an account, with its entry's id, kind and time."""

    entry_id: int
    kind: EntryKind
    at: dt.datetime
    amount: int  # signed, + debit


class Book:
    """The ledger inside one transaction."""

    def __init__(self, tx: Transaction, clock: dt.datetime) -> None:
        self._tx = tx
        self._recorded_at = to_db_time(clock)

    def post(self, entry: Entry, at: dt.datetime, request_id: str | None = None) -> int:
        entry_id = int(self._tx.value(
            "INSERT INTO entries (kind, at, request_id, memo, recorded_at) VALUES (?, ?, ?, ?, ?)"
            " RETURNING entry_id",
            (entry.kind.value, to_db_time(at), request_id, entry.memo, self._recorded_at)))
        self._tx.execute_many(
            "INSERT INTO postings (entry_id, account, amount) VALUES (?, ?, ?)",
            [(entry_id, str(p.account), p.amount) for p in entry.postings])
        return entry_id

    def balance(self, account: Account) -> int:
        total = self._tx.value("SELECT COALESCE(SUM(amount), 0) FROM postings WHERE account = ?",
                               (str(account),))
        return account.normal_balance(int(total))

    def balances(self, kind: AccountKind) -> dict[Account, int]:
        rows = self._tx.all("SELECT account, SUM(amount) FROM postings WHERE account LIKE ?"
                            " GROUP BY account ORDER BY account", (f"{kind.value}:%",))
        out = {}
        for name, total in rows:
            account = Account.parse(name)
            out[account] = account.normal_balance(int(total))
        return out

    def entry(self, entry_id: int) -> StoredEntry | None:
        row = self._tx.one("SELECT kind, at, request_id, memo FROM entries WHERE entry_id = ?",
                           (entry_id,))
        if row is None:
            return None
        postings = self._tx.all("SELECT account, amount FROM postings WHERE entry_id = ?"
                                " ORDER BY account", (entry_id,))
        entry = Entry(EntryKind(row[0]),
                      tuple(Posting(Account.parse(a), int(v)) for a, v in postings), row[3])
        return StoredEntry(entry_id, from_db_time(row[1]), row[2], entry)

    def postings_of(self, account: Account) -> list[AccountLine]:
        rows = self._tx.all(
            "SELECT e.entry_id, e.kind, e.at, p.amount FROM postings p JOIN entries e"
            " ON e.entry_id = p.entry_id WHERE p.account = ? ORDER BY e.at, e.entry_id",
            (str(account),))
        return [AccountLine(r[0], EntryKind(r[1]), from_db_time(r[2]), int(r[3])) for r in rows]

    def entries_between(self, start: dt.datetime, end: dt.datetime) -> list[StoredEntry]:
        """Entries at or after `start` and before `end`, in time order."""
        ids = self._tx.all("SELECT entry_id FROM entries WHERE at >= ? AND at < ?"
                           " ORDER BY at, entry_id", (to_db_time(start), to_db_time(end)))
        found = [self.entry(int(row[0])) for row in ids]
        return [e for e in found if e is not None]

    def unbalanced(self) -> list[int]:
        rows = self._tx.all("SELECT entry_id FROM postings GROUP BY entry_id"
                            " HAVING SUM(amount) <> 0 ORDER BY entry_id")
        return [int(row[0]) for row in rows]
