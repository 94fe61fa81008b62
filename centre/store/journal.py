"""The operations journal: every service request done, by the outlet's request id.

* `tx.journal.find(request_id) -> DoneRequest | None`: a retried request is answered from here.
* `tx.journal.record(DoneRequest)`: written in the same transaction as the operation's effects,
  so a request is either done and journaled or neither. The request id is the primary key: two
  outlets racing with the same id make the second a `ConflictError`.
* `tx.journal.between(start, end)`, `tx.journal.of_subject(subject)`: for reports.

`fingerprint` is a digest of what was asked: the same id with a different question is refused
by the service, never answered with the first one's result. A refused request is not journaled
(nothing is written on refusal).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from centre.store.database import Row, Transaction, from_db_time, optional_time, to_db_time

_COLUMNS = ("request_id, operation, fingerprint, outlet_id, operator, at, applied_at,"
            " recorded_at, subject, result, deadline, breached")


@dataclass(frozen=True, slots=True)
class DoneRequest:
    """A service request as journaled."""

    request_id: str
    operation: str
    fingerprint: str
    outlet_id: str
    operator: str
    at: dt.datetime
    applied_at: dt.datetime
    recorded_at: dt.datetime  # the wall clock when it was written
    subject: str  # what it was about, e.g. "card:3701…", "customer:12"
    result: dict[str, Any]  # the answer given (JSON-able)
    deadline: dt.datetime | None = None  # the service's time limit, where it has one
    breached: bool = False


def _request(row: Row) -> DoneRequest:
    return DoneRequest(row[0], row[1], row[2], row[3], row[4], from_db_time(row[5]),
                       from_db_time(row[6]), from_db_time(row[7]), row[8], json.loads(row[9]),
                       optional_time(row[10]), bool(row[11]))


class Journal:
    """The requests journal inside one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    def find(self, request_id: str) -> DoneRequest | None:
        row = self._tx.one(f"SELECT {_COLUMNS} FROM requests WHERE request_id = ?",
                           (request_id,))
        return None if row is None else _request(row)

    def record(self, done: DoneRequest) -> None:
        self._tx.execute(
            f"INSERT INTO requests ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (done.request_id, done.operation, done.fingerprint, done.outlet_id, done.operator,
             to_db_time(done.at), to_db_time(done.applied_at), to_db_time(done.recorded_at),
             done.subject, json.dumps(done.result, sort_keys=True, ensure_ascii=False),
             None if done.deadline is None else to_db_time(done.deadline), int(done.breached)))

    def between(self, start: dt.datetime, end: dt.datetime) -> list[DoneRequest]:
        """Requests done at or after `start` and before `end`, in time order."""
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM requests WHERE at >= ? AND at < ?"
                            " ORDER BY at, request_id", (to_db_time(start), to_db_time(end)))
        return [_request(row) for row in rows]

    def of_subject(self, subject: str) -> list[DoneRequest]:
        rows = self._tx.all(f"SELECT {_COLUMNS} FROM requests WHERE subject = ?"
                            " ORDER BY at, request_id", (subject,))
        return [_request(row) for row in rows]
