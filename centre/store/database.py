"""One connection to the centre's database, SQLite or PostgreSQL, behind the same small API.

* `open_database(url)`: a path (or `sqlite:PATH`) opens SQLite in WAL mode with
  `synchronous=FULL`; `postgresql://…` opens PostgreSQL through psycopg 3.
* `db.transaction()` is a context manager giving a `Transaction`: SQLite takes the write lock
  at once (`BEGIN IMMEDIATE`), so two writers queue instead of failing halfway; PostgreSQL runs
  at READ COMMITTED, uniqueness rules catching the races. Leaving the block commits; an
  exception rolls back. `db.transaction(snapshot=True)` reads one consistent snapshot and writes
  nothing, without holding writers up (SQLite: a deferred read in WAL; PostgreSQL: REPEATABLE
  READ, READ ONLY): for long reads such as a full status list.
* SQL is written once with `?` placeholders; for PostgreSQL they become `%s`. Only the DDL
  differs between the two (see `centre.store.migrations`).
* sqlite3 and psycopg errors never leave this module: a broken uniqueness rule is a
  `ConflictError`, anything else a `StoreError`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors

from centre.errors import ConflictError, StoreError

Params = Sequence[Any]
Row = tuple[Any, ...]

#: How long a SQLite writer waits for another's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0

#: Times an opener tries to switch a new file to WAL while another opener holds it.
_WAL_ATTEMPTS = 100


class Dialect(Enum):
    """The database engine behind a connection."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


_DB_TIME_LENGTH = len("2026-11-02T01:30:00.000000Z")


def to_db_time(value: dt.datetime) -> str:
    """An aware datetime as stored: UTC, ISO 8601, microseconds, fixed width (sorts as text)."""
    if value.tzinfo is None:
        raise StoreError("naive datetime given to the store")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(text: str) -> dt.datetime:
    """A stored time as an aware UTC datetime."""
    try:
        # fromisoformat reads the stored form ("…Z" included) some 40 times faster than strptime
        value = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"stored time {text!r} is not the store's format") from exc
    if value.utcoffset() != dt.timedelta(0) or len(text) != _DB_TIME_LENGTH:
        raise StoreError(f"stored time {text!r} is not the store's format")
    return value


def optional_time(text: str | None) -> dt.datetime | None:
    return None if text is None else from_db_time(text)


class Transaction:
    """Statements inside one database transaction."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self.dialect = database.dialect

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; the number of rows it changed."""
        return self._database._run(sql, params, fetch=False)[1]

    def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        """Run one statement for each parameter row."""
        self._database._run_many(sql, rows)

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        return self._database._run(sql, params, fetch=True)[0]

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def value(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else row[0]


class Database:
    """A connection and its dialect; use `transaction()` for every read and write."""

    def __init__(self, dialect: Dialect, connection: Any, where: str) -> None:
        self.dialect = dialect
        self._connection = connection
        self.where = where
        self._in_transaction = False

    def __repr__(self) -> str:
        return f"Database({self.dialect.value}, {self.where})"

    @contextmanager
    def transaction(self, *, snapshot: bool = False) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        if self._in_transaction:
            raise StoreError("transactions do not nest")
        self._begin(snapshot)
        self._in_transaction = True
        try:
            yield Transaction(self)
        except BaseException:
            self._in_transaction = False
            self._rollback()
            raise
        self._in_transaction = False
        self._commit()

    def close(self) -> None:
        try:
            self._connection.close()
        except (sqlite3.Error, psycopg.Error) as exc:
            raise StoreError(f"{self.where}: cannot close: {exc}") from exc

    # ------------------------------------------------------------ the engines

    def _sql(self, sql: str) -> str:
        if self.dialect is Dialect.POSTGRESQL:
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    def _begin(self, snapshot: bool) -> None:
        try:
            if self.dialect is Dialect.SQLITE:
                self._connection.execute("BEGIN" if snapshot else "BEGIN IMMEDIATE")
            elif snapshot:
                self._connection.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        except (sqlite3.Error, psycopg.Error) as exc:
            raise StoreError(f"{self.where}: cannot begin a transaction: {exc}") from exc

    def _commit(self) -> None:
        try:
            self._connection.commit()
        except (sqlite3.Error, psycopg.Error) as exc:
            raise _translated(self.where, exc) from exc

    def _rollback(self) -> None:
        try:
            self._connection.rollback()
        except (sqlite3.Error, psycopg.Error) as exc:
            raise StoreError(f"{self.where}: cannot roll back: {exc}") from exc

    def _run(self, sql: str, params: Params, *, fetch: bool) -> tuple[list[Row], int]:
        if not self._in_transaction:
            raise StoreError("statement outside a transaction")
        try:
            cursor = self._connection.execute(self._sql(sql), tuple(params))
            rows = [tuple(row) for row in cursor.fetchall()] if fetch else []
            return rows, cursor.rowcount
        except (sqlite3.Error, psycopg.Error) as exc:
            raise _translated(self.where, exc) from exc

    def _run_many(self, sql: str, rows: Sequence[Params]) -> None:
        if not self._in_transaction:
            raise StoreError("statement outside a transaction")
        try:
            if self.dialect is Dialect.SQLITE:
                self._connection.executemany(sql, rows)
            else:
                with self._connection.cursor() as cursor:
                    cursor.executemany(self._sql(sql), rows)
        except (sqlite3.Error, psycopg.Error) as exc:
            raise _translated(self.where, exc) from exc


def _translated(where: str, exc: Exception) -> StoreError:
    if isinstance(exc, sqlite3.IntegrityError | psycopg.errors.IntegrityError):
        return ConflictError(f"{where}: {exc}".strip())
    return StoreError(f"{where}: {exc}".strip())


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_database(url: str, *, create: bool = True) -> Database:
    """A connection to the database at `url` (see the module docstring for the forms); without
    `create`, a SQLite file that does not exist is refused instead of made."""
    if is_postgres_url(url):
        return _open_postgres(url)
    path = Path(url.removeprefix("sqlite:"))
    return _open_sqlite(path, create)


def _open_sqlite(path: Path, create: bool) -> Database:
    where = str(path)
    if not create and not path.is_file():
        raise StoreError(f"{where}: no centre store here (run `etc-centre init` first)")
    try:
        connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S,
                                     isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"{where}: cannot open: {exc}") from exc
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        mode = _switch_to_wal(connection)
        if mode != "wal":
            raise StoreError(f"{where}: cannot switch to WAL (journal mode {mode})")
        connection.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise StoreError(f"{where}: not a database the centre can use: {exc}") from exc
    # isolation_level=None: no implicit BEGIN; `Database` issues BEGIN IMMEDIATE itself, and
    # commit()/rollback() end it.
    return Database(Dialect.SQLITE, connection, where)


def _switch_to_wal(connection: sqlite3.Connection) -> str:
    """Switch the file to WAL and return the journal mode it is in.

    SQLite takes the lock for that switch without calling the busy handler, so an opener racing
    another on a new file gets "database is locked" at once; it waits for the other's lock (an
    exclusive transaction does wait, up to the busy timeout) and tries again.
    """
    for _ in range(_WAL_ATTEMPTS):
        try:
            return str(connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            connection.execute("BEGIN EXCLUSIVE")
            connection.execute("ROLLBACK")
    raise sqlite3.OperationalError("stayed busy: cannot switch to WAL")


def _open_postgres(url: str) -> Database:
    where = _redacted(url)
    try:
        connection = psycopg.connect(url, autocommit=False)
    except psycopg.Error as exc:
        raise StoreError(f"{where}: cannot connect: {str(exc).strip()}") from exc
    return Database(Dialect.POSTGRESQL, connection, where)


def _redacted(url: str) -> str:
    """The URL without a password, for messages."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"
