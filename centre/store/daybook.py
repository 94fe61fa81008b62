"""What reconciliation reads for one day, as sums and last balances (read only).

Times are [start, end); "by" a time means before it. Cards are given in chunks so that the
queries stay within the engines' parameter limits.

* `active_cards(start, end)`: cards with a booked lane record, a credited load, a refund paid
  or a purse or credit posting in the day.
* `purse_balances(cards, end)`, `credit_debits(cards, end)`: the ledger's side by `end`.
* `last_card_records(cards, end)`, `last_loads(cards, end)`: the card's own latest word by
  `end` (a booked lane record's balance after, a credited load's balance after).
* `refunds_paid(cards, end)`: (card, paid at, amount) of refunds paid by `end`.
* `booked_debits(cards, end)`: each A card's booked lane debits by `end`; `bills_in(start,
  end)`: each bill of the day with the cleared debits it bills.
* `loads_in(start, end)`, `refunds_in(start, end)`, `records_in(start, end)`: the day's
  operations as their own tables hold them; `entries_in(start, end)`: the day's ledger entries
  with their postings; `evidence_of(entry_ids)`: what refers to each entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from centre.reconcile.values import CardWord, DayEntry
from centre.store.database import Row, Transaction, from_db_time, to_db_time

_CHUNK = 500


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for index in range(0, len(items), _CHUNK):
        yield items[index:index + _CHUNK]


def _marks(items: Sequence[object]) -> str:
    return ", ".join("?" * len(items))


class Daybook:
    """Reconciliation's reads inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def active_cards(self, start: dt.datetime, end: dt.datetime) -> list[str]:
        window = (to_db_time(start), to_db_time(end))
        rows = self._tx.all(
            "SELECT card_number FROM clearing_records WHERE state = 'booked'"
            " AND transaction_time >= ? AND transaction_time < ?"
            " UNION SELECT card_number FROM loads WHERE status = 'credited'"
            " AND transaction_time >= ? AND transaction_time < ?"
            " UNION SELECT card_number FROM refunds WHERE status = 'paid'"
            " AND paid_at >= ? AND paid_at < ?"
            " UNION SELECT SUBSTR(p.account, INSTR(p.account, ':') + 1) FROM postings p"
            " JOIN entries e ON e.entry_id = p.entry_id WHERE e.at >= ? AND e.at < ?"
            " AND (p.account LIKE 'purse:%' OR p.account LIKE 'credit:%')",
            (*window, *window, *window, *window))
        return sorted({row[0] for row in rows})

    def purse_balances(self, cards: Sequence[str], end: dt.datetime) -> dict[str, int]:
        return self._account_sums("purse", cards, end, negate=True)

    def credit_debits(self, cards: Sequence[str], end: dt.datetime) -> dict[str, int]:
        return self._account_sums("credit", cards, end, kind="lane_debit")

    def _account_sums(self, prefix: str, cards: Sequence[str], end: dt.datetime, *,
                      negate: bool = False, kind: str | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in _chunks(cards):
            names = [f"{prefix}:{card}" for card in chunk]
            extra, params = ("", []) if kind is None else (" AND e.kind = ?", [kind])
            rows = self._tx.all(
                f"SELECT p.account, SUM(p.amount) FROM postings p JOIN entries e"
                f" ON e.entry_id = p.entry_id WHERE p.account IN ({_marks(names)})"
                f" AND e.at < ?{extra} GROUP BY p.account",
                (*names, to_db_time(end), *params))
            for account, total in rows:
                out[account.split(":", 1)[1]] = -int(total) if negate else int(total)
        return out

    def last_card_records(self, cards: Sequence[str], end: dt.datetime) -> dict[str, CardWord]:
        out: dict[str, CardWord] = {}
        for chunk in _chunks(cards):
            rows = self._tx.all(
                "SELECT card_number, transaction_time, balance_after, idempotency_key FROM ("
                " SELECT card_number, transaction_time, balance_after, idempotency_key,"
                " ROW_NUMBER() OVER (PARTITION BY card_number ORDER BY transaction_time DESC,"
                " ctc DESC) AS place FROM clearing_records WHERE state = 'booked'"
                f" AND card_number IN ({_marks(chunk)}) AND transaction_time < ?) latest"
                " WHERE place = 1", (*chunk, to_db_time(end)))
            for card, at, balance, key in rows:
                out[card] = CardWord(card, from_db_time(at), int(balance), f"record {key}")
        return out

    def last_loads(self, cards: Sequence[str], end: dt.datetime) -> dict[str, CardWord]:
        out: dict[str, CardWord] = {}
        for chunk in _chunks(cards):
            rows = self._tx.all(
                "SELECT card_number, transaction_time, balance_before + amount, load_id FROM ("
                " SELECT card_number, transaction_time, balance_before, amount, load_id,"
                " ROW_NUMBER() OVER (PARTITION BY card_number ORDER BY transaction_time DESC,"
                " online_serial DESC) AS place FROM loads WHERE status = 'credited'"
                f" AND card_number IN ({_marks(chunk)}) AND transaction_time < ?) latest"
                " WHERE place = 1", (*chunk, to_db_time(end)))
            for card, at, balance, load_id in rows:
                out[card] = CardWord(card, from_db_time(at), int(balance), f"load {load_id}")
        return out

    def refunds_paid(self, cards: Sequence[str], end: dt.datetime
                     ) -> list[tuple[str, dt.datetime, int]]:
        out = []
        for chunk in _chunks(cards):
            rows = self._tx.all(
                f"SELECT card_number, paid_at, paid_amount FROM refunds WHERE status = 'paid'"
                f" AND card_number IN ({_marks(chunk)}) AND paid_at < ?",
                (*chunk, to_db_time(end)))
            out += [(card, from_db_time(at), int(amount or 0)) for card, at, amount in rows]
        return out

    def booked_debits(self, cards: Sequence[str], end: dt.datetime) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in _chunks(cards):
            rows = self._tx.all(
                "SELECT card_number, SUM(amount) FROM clearing_records WHERE state = 'booked'"
                f" AND card_number IN ({_marks(chunk)}) AND transaction_time < ?"
                " GROUP BY card_number", (*chunk, to_db_time(end)))
            out.update({card: int(total) for card, total in rows})
        return out

    def loads_in(self, start: dt.datetime, end: dt.datetime) -> list[Row]:
        """(load id, card, outlet, amount, funding, entry id) of the loads credited."""
        return self._tx.all(
            "SELECT load_id, card_number, outlet_id, amount, funding, entry_id FROM loads"
            " WHERE status = 'credited' AND transaction_time >= ? AND transaction_time < ?"
            " ORDER BY load_id", (to_db_time(start), to_db_time(end)))

    def refunds_in(self, start: dt.datetime, end: dt.datetime) -> list[Row]:
        """(card, outlet, paid amount, to card, entry id) of the refunds paid."""
        return self._tx.all(
            "SELECT card_number, outlet_id, paid_amount, to_card, entry_id FROM refunds"
            " WHERE status = 'paid' AND paid_at >= ? AND paid_at < ? ORDER BY card_number",
            (to_db_time(start), to_db_time(end)))

    def records_in(self, start: dt.datetime, end: dt.datetime) -> list[Row]:
        """(key, network, station, lane, card, card kind, outcome, amount, cash fee, state,
        tac verified, settled how, entry id) of the day's lane records."""
        return self._tx.all(
            "SELECT idempotency_key, network, station, lane, card_number, card_kind, outcome,"
            " amount, cash_fee, state, tac_verified, settled_how, entry_id FROM clearing_records"
            " WHERE transaction_time >= ? AND transaction_time < ?"
            " ORDER BY transaction_time, idempotency_key", (to_db_time(start), to_db_time(end)))

    def bills_in(self, start: dt.datetime, end: dt.datetime) -> list[tuple[int, str, int, int]]:
        """(bill id, card, amount billed, sum of the cleared debits it bills) of the day's
        bills."""
        rows = self._tx.all(
            "SELECT b.bill_id, b.card_number, b.amount, COALESCE(SUM(d.amount), 0) FROM bills b"
            " LEFT JOIN cleared_debits d ON d.bill_id = b.bill_id WHERE b.issued_at >= ?"
            " AND b.issued_at < ? GROUP BY b.bill_id, b.card_number, b.amount"
            " ORDER BY b.bill_id", (to_db_time(start), to_db_time(end)))
        return [(int(r[0]), r[1], int(r[2]), int(r[3])) for r in rows]

    def entries_in(self, start: dt.datetime, end: dt.datetime) -> list[DayEntry]:
        rows = self._tx.all(
            "SELECT e.entry_id, e.kind, e.at, e.request_id, p.account, p.amount FROM entries e"
            " JOIN postings p ON p.entry_id = e.entry_id WHERE e.at >= ? AND e.at < ?"
            " ORDER BY e.entry_id, p.account", (to_db_time(start), to_db_time(end)))
        grouped: dict[int, tuple[str, str, str | None, list[tuple[str, int]]]] = {}
        for entry_id, kind, at, request_id, account, amount in rows:
            held = grouped.setdefault(int(entry_id), (kind, at, request_id, []))
            held[3].append((account, int(amount)))
        return [DayEntry(entry_id, kind, from_db_time(at), request_id, tuple(postings))
                for entry_id, (kind, at, request_id, postings) in grouped.items()]

    def evidence_of(self, entry_ids: Sequence[int]) -> dict[int, list[str]]:
        """For each entry, what refers to it: `record <key>`, `load <id>`, `refund <card>`,
        `bill <id>`."""
        out: dict[int, list[str]] = {}
        ids = list(entry_ids)
        for index in range(0, len(ids), _CHUNK):
            chunk = ids[index:index + _CHUNK]
            marks = _marks(chunk)
            for table, label, column in (("clearing_records", "record", "idempotency_key"),
                                         ("loads", "load", "load_id"),
                                         ("refunds", "refund", "card_number"),
                                         ("bills", "bill", "bill_id")):
                rows = self._tx.all(f"SELECT entry_id, {column} FROM {table}"
                                    f" WHERE entry_id IN ({marks})", tuple(chunk))
                for entry_id, name in rows:
                    out.setdefault(int(entry_id), []).append(f"{label} {name}")
        return out

    def unbalanced(self) -> list[int]:
        rows = self._tx.all("SELECT entry_id FROM postings GROUP BY entry_id"
                            " HAVING SUM(amount) <> 0 ORDER BY entry_id")
        return [int(row[0]) for row in rows]
