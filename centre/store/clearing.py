"""Clearing's tables: every lane record by idempotency key, the findings, rejected messages.

* `tx.clearing.record(key) -> ClearedRecord | None`, `add(record)`, `replace(record)` (the
  latest record of a key: a settlement, or a record held then booked).
* `of_card(card) -> [ClearedRecord]` in CTC order; `unresolved_of(card)`, `with_unresolved(cards)`.
* `between(start, end)`: records whose transaction time is in [start, end), by time.
* `add_finding(record, Finding, found_at) -> bool` (False: that finding was already made for
  that record), `findings_between(start, end)`, `findings()`.
* `reject(source, origin, received_at, reason, payload)`: a message that is not a record,
  kept so that acknowledging it loses nothing.
* `counts() -> {state: n}`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from centre.clearing.values import (
    ClearedRecord,
    ClearingState,
    Finding,
    FindingKind,
    Settled,
    Source,
    StoredFinding,
)
from centre.store.database import Row, Transaction, from_db_time, to_db_time

_COLUMNS = ("idempotency_key, transaction_id, seq, source, network, station, lane, card_number,"
            " card_kind, outcome, ctc, amount, cash_fee, balance_before, balance_after,"
            " transaction_time, received_at, state, settled_how, tac_verified, entry_id,"
            " evidence_key, record")
_PLACES = ", ".join("?" * len(_COLUMNS.split(",")))
_FINDING_COLUMNS = ("finding_id, idempotency_key, kind, card_number, network, station, lane,"
                    " transaction_id, amount, expected, other_key, transaction_time, found_at,"
                    " detail")


def _values(r: ClearedRecord) -> tuple[object, ...]:
    return (r.idempotency_key, r.transaction_id, r.seq, r.source.value, r.network, r.station,
            r.lane, r.card_number, r.card_kind, r.outcome, r.ctc, r.amount, r.cash_fee,
            r.balance_before, r.balance_after, to_db_time(r.transaction_time),
            to_db_time(r.received_at), r.state.value,
            None if r.settled_how is None else r.settled_how.value, int(r.tac_verified),
            r.entry_id, r.evidence_key, r.record)


def _record(row: Row) -> ClearedRecord:
    return ClearedRecord(
        row[0], row[1], row[2], Source(row[3]), row[4], int(row[5]), int(row[6]), row[7],
        row[8], row[9], row[10], int(row[11]), int(row[12]), int(row[13]), int(row[14]),
        from_db_time(row[15]), from_db_time(row[16]), ClearingState(row[17]),
        None if row[18] is None else Settled(row[18]), bool(row[19]), row[20], row[21], row[22])


def _finding(row: Row) -> StoredFinding:
    return StoredFinding(int(row[0]), row[1], FindingKind(row[2]), row[3], row[4], int(row[5]),
                         int(row[6]), row[7], int(row[8]), row[9], row[10],
                         from_db_time(row[11]), from_db_time(row[12]), row[13])


class Clearing:
    """Clearing's tables inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def record(self, key: str) -> ClearedRecord | None:
        row = self._tx.one(f"SELECT {_COLUMNS} FROM clearing_records WHERE idempotency_key = ?",
                           (key,))
        return None if row is None else _record(row)

    def add(self, record: ClearedRecord) -> None:
        """A new key (a second add of one key is a `ConflictError`: another process won)."""
        self._tx.execute(f"INSERT INTO clearing_records ({_COLUMNS}) VALUES ({_PLACES})",
                         _values(record))

    def replace(self, record: ClearedRecord) -> None:
        names = [name.strip() for name in _COLUMNS.split(",")][1:]
        assignments = ", ".join(f"{name} = ?" for name in names)
        self._tx.execute(f"UPDATE clearing_records SET {assignments} WHERE idempotency_key = ?",
                         (*_values(record)[1:], record.idempotency_key))

    def of_card(self, card_number: str) -> list[ClearedRecord]:
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM clearing_records WHERE card_number = ?"
                            " ORDER BY ctc, transaction_time, idempotency_key", (card_number,))
        return [_record(row) for row in rows]

    def unresolved_of(self, card_number: str) -> list[ClearedRecord]:
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM clearing_records WHERE card_number = ?"
                            " AND state = ? ORDER BY ctc, idempotency_key",
                            (card_number, ClearingState.UNRESOLVED.value))
        return [_record(row) for row in rows]

    def with_unresolved(self, cards: Sequence[str]) -> list[str]:
        """Those of `cards` that have an UNRESOLVED record, in order."""
        found: set[str] = set()
        listed = list(cards)
        for index in range(0, len(listed), 500):
            chunk = listed[index:index + 500]
            rows = self._tx.all(
                f"SELECT DISTINCT card_number FROM clearing_records WHERE state = ?"
                f" AND card_number IN ({', '.join('?' * len(chunk))})",
                (ClearingState.UNRESOLVED.value, *chunk))
            found.update(row[0] for row in rows)
        return [card for card in listed if card in found]

    def between(self, start: dt.datetime, end: dt.datetime) -> list[ClearedRecord]:
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM clearing_records WHERE transaction_time >= ?"
                            " AND transaction_time < ? ORDER BY transaction_time, idempotency_key",
                            (to_db_time(start), to_db_time(end)))
        return [_record(row) for row in rows]

    def until(self, end: dt.datetime) -> list[ClearedRecord]:
        """Every record whose transaction time is before `end`, by time."""
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM clearing_records WHERE transaction_time < ?"
                            " ORDER BY transaction_time, idempotency_key", (to_db_time(end),))
        return [_record(row) for row in rows]

    def add_finding(self, record: ClearedRecord, finding: Finding, found_at: dt.datetime) -> bool:
        changed = self._tx.execute(
            f"INSERT INTO clearing_findings ({_FINDING_COLUMNS.split(', ', 1)[1]}, booked)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (idempotency_key, kind) DO NOTHING",
            (record.idempotency_key, finding.kind.value, record.card_number, record.network,
             record.station, record.lane, record.transaction_id, record.amount, finding.expected,
             finding.other_key, to_db_time(record.transaction_time), to_db_time(found_at),
             finding.detail, int(finding.kind.booked)))
        return changed == 1

    def findings_between(self, start: dt.datetime, end: dt.datetime) -> list[StoredFinding]:
        rows = self._tx.all(f"SELECT {_FINDING_COLUMNS} FROM clearing_findings"
                            " WHERE transaction_time >= ? AND transaction_time < ?"
                            " ORDER BY transaction_time, finding_id",
                            (to_db_time(start), to_db_time(end)))
        return [_finding(row) for row in rows]

    def findings(self) -> list[StoredFinding]:
        rows = self._tx.all(f"SELECT {_FINDING_COLUMNS} FROM clearing_findings"
                            " ORDER BY transaction_time, finding_id")
        return [_finding(row) for row in rows]

    def reject(self, source: Source, origin: str, received_at: dt.datetime, reason: str,
               payload: str) -> None:
        self._tx.execute("INSERT INTO clearing_rejects (source, origin, received_at, reason,"
                         " payload) VALUES (?, ?, ?, ?, ?)",
                         (source.value, origin, to_db_time(received_at), reason, payload))

    def rejects(self) -> list[tuple[str, str, dt.datetime, str]]:
        """(source, origin, received at, reason) of every rejected message."""
        rows = self._tx.all("SELECT source, origin, received_at, reason FROM clearing_rejects"
                            " ORDER BY reject_id")
        return [(r[0], r[1], from_db_time(r[2]), r[3]) for r in rows]

    def counts(self) -> dict[ClearingState, int]:
        rows = self._tx.all("SELECT state, COUNT(*) FROM clearing_records GROUP BY state")
        return {ClearingState(state): int(n) for state, n in rows}
