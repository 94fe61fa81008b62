"""The one module that opens a served world's SQLite file (`DIR/world.sqlite3`).

WAL and `synchronous=FULL`: every write is one transaction, on disk before the call returns, so
what the server has written before it sends a frame survives a SIGKILL. Every sqlite3 exception
becomes a `WorldError` naming the file.

Tables: `meta` (what made the world: scenario text, seed, overrides, population digest, fed
arrivals), `obus` and `cards` (each with its first state; cards with their current purse and
0019), `card_log` (every committed purchase, with TAC and MAC2), `psam_serials` (per terminal
number, the first serial not yet reserved) and `sessions` (each `serve` run on the world).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rsu_sim.errors import WorldError
from rsu_sim.model.card import CardTransaction

WORLD_FILE = "world.sqlite3"
#: PRAGMA application_id of a world file: "RSUW".
APPLICATION_ID = 0x52535557
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE obus (
    vehicle_id INTEGER PRIMARY KEY, obu_id INTEGER NOT NULL UNIQUE,
    contract_serial TEXT NOT NULL, system_info TEXT NOT NULL, vehicle_info TEXT NOT NULL,
    card_number TEXT);
CREATE TABLE cards (
    card_number TEXT PRIMARY KEY, vehicle_id INTEGER NOT NULL, issuer_info TEXT NOT NULL,
    card_type INTEGER NOT NULL, key_version INTEGER NOT NULL, algorithm INTEGER NOT NULL,
    initial_balance INTEGER NOT NULL, initial_ctc INTEGER NOT NULL, initial_record TEXT NOT NULL,
    balance INTEGER NOT NULL, ctc INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE card_log (
    card_number TEXT NOT NULL, ctc INTEGER NOT NULL, amount INTEGER NOT NULL,
    trans_type INTEGER NOT NULL, terminal_number TEXT NOT NULL,
    terminal_trans_serial INTEGER NOT NULL, transaction_time TEXT NOT NULL, tac TEXT NOT NULL,
    mac2 TEXT NOT NULL, balance_after INTEGER NOT NULL, record TEXT NOT NULL,
    session INTEGER NOT NULL, PRIMARY KEY (card_number, ctc));
CREATE TABLE psam_serials (terminal_number TEXT PRIMARY KEY, reserved_until INTEGER NOT NULL);
CREATE TABLE sessions (
    session INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, summary TEXT);
"""


@dataclass(frozen=True, slots=True)
class ObuRow:
    """An OBU as the world keeps it (its files do not change during a run)."""

    vehicle_id: int
    obu_id: int
    contract_serial: str
    system_info: bytes
    vehicle_info: bytes
    card_number: str | None


@dataclass(frozen=True, slots=True)
class CardRow:
    """A card: what it was issued with and where its purse and 0019 stand now."""

    card_number: str
    vehicle_id: int
    issuer_info: bytes
    card_type: int
    key_version: int
    algorithm: int  # keys.Algorithm value, -1 for a card without keys
    initial_balance: int
    initial_ctc: int
    initial_record: bytes
    balance: int
    ctc: int
    record: bytes


@dataclass(frozen=True, slots=True)
class CardChange:
    """A card's purse and 0019 after a purchase."""

    card_number: str
    balance: int
    ctc: int
    record: bytes


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One `serve` run on the world; `ended_at` None: it never stopped cleanly (killed)."""

    session: int
    started_at: str
    ended_at: str | None


class WorldStore:
    """A connection to one world file; create it with `create`, reopen it with `open`."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    # ------------------------------------------------------------ opening

    @classmethod
    def create(cls, path: Path, meta: dict[str, str]) -> WorldStore:
        """A new world file at `path` (refused if one is there), holding `meta`."""
        if path.exists():
            raise WorldError(f"{path}: a world is already there")
        store = cls(path, _connect(path, create=True))
        store._configure()
        with store._write():
            store._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            store._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    store._conn.execute(statement)
            store._conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        return store

    @classmethod
    def open(cls, path: Path) -> WorldStore:
        """The world file at `path`; refused when it is missing or not a world of this version."""
        if not path.is_file():
            raise WorldError(f"{path}: no world here (file not found)")
        store = cls(path, _connect(path, create=False))
        found = store._one("SELECT (SELECT application_id FROM pragma_application_id),"
                           " (SELECT user_version FROM pragma_user_version)")
        if found != (APPLICATION_ID, SCHEMA_VERSION):
            store.close()
            raise WorldError(f"{path}: not a served world of format {SCHEMA_VERSION} "
                             f"(application id {found[0]:#x}, version {found[1]})")
        store._configure()
        return store

    def _configure(self) -> None:
        # After the identity check: switching a foreign file to WAL would write into it.
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a COMMIT is on disk before it returns, so a card is durable before its B5.
            self._conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            self.close()
            raise WorldError(f"{self.path}: cannot open: {exc}") from exc

    def close(self) -> None:
        """Close the connection (everything was committed when written)."""
        self._conn.close()

    # ------------------------------------------------------------ writing

    def _write(self) -> _Transaction:
        return _Transaction(self)

    def set_meta(self, values: dict[str, str]) -> None:
        """Replace meta values."""
        with self._write():
            self._conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                   sorted(values.items()))

    def populate(self, obus: Iterable[ObuRow], cards: Iterable[CardRow]) -> None:
        """Write every OBU and card of a new world, in one transaction."""
        with self._write():
            self._conn.executemany(
                "INSERT INTO obus VALUES (?, ?, ?, ?, ?, ?)",
                ((o.vehicle_id, o.obu_id, o.contract_serial, o.system_info.hex(),
                  o.vehicle_info.hex(), o.card_number) for o in obus))
            self._conn.executemany(
                "INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((c.card_number, c.vehicle_id, c.issuer_info.hex(), c.card_type, c.key_version,
                  c.algorithm, c.initial_balance, c.initial_ctc, c.initial_record.hex(),
                  c.balance, c.ctc, c.record.hex()) for c in cards))

    def save(self, states: Iterable[CardChange],
             purchases: Iterable[tuple[str, CardTransaction]], session: int,
             meta: dict[str, str] | None = None) -> None:
        """Write cards' new states, their new log entries and meta values in one transaction.
        A log entry already kept (same card and CTC) is refused: a card never commits one CTC
        twice, so a second one is a bug worth stopping for."""
        with self._write():
            self._conn.executemany(
                "UPDATE cards SET balance = ?, ctc = ?, record = ? WHERE card_number = ?",
                ((s.balance, s.ctc, s.record.hex(), s.card_number) for s in states))
            self._conn.executemany(
                "INSERT INTO card_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((card, t.ctc, t.amount, t.trans_type, t.terminal_number.hex(),
                  t.terminal_trans_serial, t.transaction_time.isoformat(), t.tac.hex(),
                  t.mac2.hex(), t.balance_after, t.record.hex(), session)
                 for card, t in purchases))
            if meta:
                self._conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                       sorted(meta.items()))

    def reserve_serials(self, terminal_number: bytes, until: int) -> None:
        """Record that the PSAM `terminal_number` has reserved every serial below `until`."""
        with self._write():
            self._conn.execute("INSERT OR REPLACE INTO psam_serials VALUES (?, ?)",
                               (terminal_number.hex(), until))

    def start_session(self, at: dt.datetime) -> int:
        """A new `serve` run on this world; its number."""
        with self._write():
            cursor = self._conn.execute("INSERT INTO sessions (started_at) VALUES (?)",
                                        (at.isoformat(timespec="seconds"),))
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid)

    def end_session(self, session: int, at: dt.datetime, summary: str) -> None:
        """The run `session` stopped cleanly."""
        with self._write():
            self._conn.execute("UPDATE sessions SET ended_at = ?, summary = ? WHERE session = ?",
                               (at.isoformat(timespec="seconds"), summary, session))

    # ------------------------------------------------------------ reading

    def meta(self) -> dict[str, str]:
        """Every meta value."""
        return dict(self._all("SELECT key, value FROM meta"))

    def reserved_serial(self, terminal_number: bytes) -> int | None:
        """The first serial the PSAM has not reserved, None when it never reserved any."""
        row = self._all("SELECT reserved_until FROM psam_serials WHERE terminal_number = ?",
                        (terminal_number.hex(),))
        return int(row[0][0]) if row else None

    def reserved_serials(self) -> dict[str, int]:
        """Every PSAM's first serial not reserved, by terminal number (hex)."""
        return {t: int(n) for t, n in self._all("SELECT * FROM psam_serials")}

    def obus(self) -> Iterator[ObuRow]:
        """Every OBU, by vehicle id."""
        for row in self._all("SELECT * FROM obus ORDER BY vehicle_id"):
            yield ObuRow(row[0], row[1], row[2], bytes.fromhex(row[3]), bytes.fromhex(row[4]),
                         row[5])

    def cards(self) -> Iterator[CardRow]:
        """Every card, by vehicle id."""
        for row in self._all("SELECT * FROM cards ORDER BY vehicle_id"):
            yield CardRow(row[0], row[1], bytes.fromhex(row[2]), row[3], row[4], row[5], row[6],
                          row[7], bytes.fromhex(row[8]), row[9], row[10], bytes.fromhex(row[11]))

    def card_logs(self) -> dict[str, list[CardTransaction]]:
        """Every card's committed purchases in CTC order, by card number."""
        logs: dict[str, list[CardTransaction]] = {}
        for row in self._all("SELECT * FROM card_log ORDER BY card_number, ctc"):
            logs.setdefault(row[0], []).append(CardTransaction(
                row[1], row[2], row[3], bytes.fromhex(row[4]), row[5],
                dt.datetime.fromisoformat(row[6]), bytes.fromhex(row[7]), bytes.fromhex(row[8]),
                row[9], bytes.fromhex(row[10])))
        return logs

    def sessions(self) -> list[SessionRow]:
        """Every `serve` run on the world, oldest first."""
        return [SessionRow(*row[:3]) for row in
                self._all("SELECT * FROM sessions ORDER BY session")]

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        rows = self._all(sql, args)
        return tuple(rows[0])

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise WorldError(f"{self.path}: cannot read: {exc}") from exc


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error, sqlite3 errors made WorldErrors."""

    def __init__(self, store: WorldStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        try:
            self._store._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise WorldError(f"{self._store.path}: cannot write: {exc}") from exc

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        conn = self._store._conn
        if exc is None:
            try:
                conn.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise WorldError(f"{self._store.path}: cannot write: {exc}") from exc


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        mode = "rwc" if create else "rw"
        conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
    except (sqlite3.Error, OSError) as exc:
        raise WorldError(f"{path}: cannot open: {exc}") from exc
    return conn


__all__ = [
    "APPLICATION_ID",
    "WORLD_FILE",
    "CardChange",
    "CardRow",
    "ObuRow",
    "SessionRow",
    "WorldStore",
]
