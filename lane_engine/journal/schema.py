"""The journal's tables and its schema version (kept in SQLite's `user_version` pragma)."""

from __future__ import annotations

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
]

#: SQLite `application_id` marking a file as a lane journal ("LJNL"), so that a foreign database
#: is refused instead of being written into.
APPLICATION_ID = 0x4C4A4E4C

#: Version of the tables below; bump it and add a migration when they change.
SCHEMA_VERSION = 2

# One row per transaction. `record` is the latest TransactionRecord as JSON, kept whole so that
# fields the core adds later are stored without a schema change; the other columns are copies of
# key fields for indexing. A debit is unique by its idempotency key among closed rows; an
# intent may carry the transaction id as its key until the CTC is known.
# state: 'open' (intent committed, not settled), 'closed', 'duplicate' (a second transaction id
# for a debit already closed under `duplicate_of`).
# The outbox lists the closed records in commit order for the publisher. Its `record` is NULL
# where the transaction's row holds that record for good (a final outcome: no second copy to
# write); a record that may still be superseded (`may_supersede`) is copied.
# Closing an intent changes neither its card number nor its id, so that it leaves the card and
# id indexes alone: their pages are scattered (one per lane or card), and every page a commit
# touches is written to the WAL whole.
_TABLES = """
CREATE TABLE transactions (
    transaction_id  TEXT PRIMARY KEY,
    state           TEXT NOT NULL CHECK (state IN ('open', 'closed', 'duplicate')),
    outcome         TEXT NOT NULL,
    reason          INTEGER NOT NULL,
    card_number     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    duplicate_of    TEXT,
    opened_at       REAL NOT NULL,
    recorded_at     REAL NOT NULL,
    record          TEXT NOT NULL
);
CREATE UNIQUE INDEX transactions_one_debit ON transactions (idempotency_key)
    WHERE state = 'closed';
CREATE INDEX transactions_by_time ON transactions (recorded_at);
CREATE INDEX transactions_by_card ON transactions (card_number);
CREATE INDEX transactions_by_outcome ON transactions (outcome, reason);
CREATE INDEX transactions_open ON transactions (opened_at) WHERE state = 'open';

CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id TEXT NOT NULL,
    record         TEXT,
    published      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published = 0;
"""

#: Statements creating the tables of a new journal, run one by one in one transaction (so that
#: the opener decides to create them under the same write lock it creates them in).
SCHEMA: tuple[str, ...] = tuple(s.strip() for s in _TABLES.split(";") if s.strip())

#: Statements taking a journal from version v (the key) to v + 1, run in one transaction.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 1 -> 2: the card index without recorded_at, which every close changed; outbox records
    # may be NULL (the table is rebuilt to drop NOT NULL, its entries kept as they are).
    1: (
        "DROP INDEX transactions_by_card",
        "CREATE INDEX transactions_by_card ON transactions (card_number)",
        "DROP INDEX outbox_pending",
        "ALTER TABLE outbox RENAME TO outbox_1",
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " transaction_id TEXT NOT NULL, record TEXT, published INTEGER NOT NULL DEFAULT 0)",
        "INSERT INTO outbox (seq, transaction_id, record, published)"
        " SELECT seq, transaction_id, record, published FROM outbox_1",
        "DROP TABLE outbox_1",
        "CREATE INDEX outbox_pending ON outbox (seq) WHERE published = 0",
    ),
}
