"""The one module that opens the journal's SQLite database: pragmas, schema check, transactions,
and translation of every sqlite3 exception into `JournalError`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from lane_engine.errors import JournalError
from lane_engine.journal.api import Scope
from lane_engine.journal.schema import APPLICATION_ID, MIGRATIONS, SCHEMA, SCHEMA_VERSION

__all__ = [
    "CACHE_KIB",
    "MEMORY",
    "REFUSED",
    "Database",
    "Row",
]

MEMORY = ":memory:"

#: Page cache of a connection, KiB.
CACHE_KIB = 32 * 1024

#: What `Database.change` returns when a key constraint refused the statement.
REFUSED = -1
_KEY_CONFLICTS = frozenset({sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE})

Row = tuple[Any, ...]

#: (application_id, user_version, number of schema objects) in one statement: one snapshot.
_FOUND = (
    "SELECT (SELECT application_id FROM pragma_application_id),"
    " (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)"
)

#: Times an opener tries to switch a file to WAL while another connection holds it busy.
_WAL_ATTEMPTS = 100


class Database:
    """A connection to one journal file (or ":memory:").

    Writes happen inside `transaction()`; nested calls join the outermost one, which is the
    group commit: one COMMIT (one fsync of the WAL) for everything inside it. A lock lets
    several threads (e.g. an executor off the event loop) share it: a transaction holds the
    connection until it ends, so no thread sees or joins another's uncommitted writes.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = str(path)
        self._depth = 0
        self._lock = threading.RLock()
        self._transaction = Scope(self._begin, self._end)
        if self.path != MEMORY and not create and not Path(self.path).is_file():
            raise JournalError(f"no journal at {self.path} (file not found)")
        try:
            if self.path != MEMORY and create:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: we issue BEGIN/COMMIT ourselves so nothing commits behind our back.
            self._conn = sqlite3.connect(
                _address(self.path, create), isolation_level=None, check_same_thread=False, uri=True
            )
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc
        try:
            self._conn.execute("PRAGMA busy_timeout = 5000")
            # Before the pragmas: switching an empty or foreign file to WAL would write into it.
            self._identify(create=create)
            self._configure()
            self._settle_schema(create=create)
        except JournalError:
            self._conn.close()
            raise
        except sqlite3.Error as exc:
            self._conn.close()
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc

    def _configure(self) -> None:
        if self.path != MEMORY:
            self._use_wal()
        # FULL: every COMMIT is on disk before it returns, so an intent is durable before C6.
        self._conn.execute("PRAGMA synchronous = FULL")
        # The id, card and debit indexes are written at scattered places; a cache that holds
        # them spares a read for each write once the journal outgrows the default 2 MiB.
        self._conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    def _use_wal(self) -> None:
        """Switch the file to WAL. SQLite takes the lock for that switch without waiting (no busy
        handler), so an opener racing another on a new file waits for it and tries again."""
        for _ in range(_WAL_ATTEMPTS):
            try:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
                # An exclusive lock waits (busy_timeout) until every other connection lets go.
                self._conn.execute("BEGIN EXCLUSIVE")
                self._conn.execute("ROLLBACK")
                continue
            if str(mode).lower() != "wal":
                raise JournalError(f"journal {self.path} cannot use WAL (got {mode})")
            return
        raise JournalError(f"journal {self.path} stayed busy: cannot switch it to WAL")

    def _found(self) -> tuple[int, int, bool]:
        """(application_id, user_version, is an empty database) of the file, read in one
        statement so that they come from one snapshot even while another opener commits."""
        app_id, version, objects = self._conn.execute(_FOUND).fetchone()
        return int(app_id), int(version), app_id == version == objects == 0

    def _identify(self, *, create: bool) -> None:
        """Refuse, reading only, a file that is not a lane journal this engine can open; an
        empty database is accepted only when `create` allows making it a journal."""
        app_id, version, empty = self._found()
        if empty:
            if not create:
                raise JournalError(
                    f"no journal at {self.path}: an empty file is not a lane journal"
                )
            return
        if app_id != APPLICATION_ID:
            raise JournalError(f"{self.path} is an SQLite database but not a lane journal")
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"journal {self.path} has schema version {version}, newer than this lane engine "
                f"understands ({SCHEMA_VERSION}); upgrade the lane engine"
            )

    def _settle_schema(self, *, create: bool) -> None:
        """Create the tables of a new journal, or migrate an older one, unless they are current."""
        if self._found()[:2] == (APPLICATION_ID, SCHEMA_VERSION):
            return  # the common case needs no write lock, so readers never wait for writers
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            # Decide again under the write lock: another process may have created or migrated
            # the journal since we looked, and no other opener can be halfway through it now.
            self._identify(create=create)
            _, version, empty = self._found()
            if empty:
                self._create()
            elif version < SCHEMA_VERSION:
                self._migrate(version)
            self._conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _create(self) -> None:
        """The tables of a new journal (inside the caller's transaction)."""
        for statement in SCHEMA:
            self._conn.execute(statement)
        self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _migrate(self, version: int) -> None:
        """Bring a journal at `version` up to `SCHEMA_VERSION` (inside the caller's transaction)."""
        while version < SCHEMA_VERSION:
            if version not in MIGRATIONS:
                raise JournalError(
                    f"journal {self.path} has schema version {version} and no migration to "
                    f"{SCHEMA_VERSION} exists"
                )
            for statement in MIGRATIONS[version]:
                self._conn.execute(statement)
            version += 1
        self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together (durably) or not at all; nests by joining."""
        return self._transaction

    def _begin(self) -> None:
        self._lock.acquire()
        if self._depth:
            self._depth += 1
            return
        try:
            self._run("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        self._depth = 1

    def _end(self, failed: bool) -> None:
        try:
            self._depth -= 1
            if self._depth:
                return
            if failed:
                self._rollback()
                return
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise JournalError(f"journal commit failed: {exc}") from exc
        finally:
            self._lock.release()

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the original error is the one worth reporting

    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise JournalError(f"journal query failed: {exc}") from exc

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """All rows of a query."""
        try:
            with self._lock:
                return self._run(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"journal query failed: {exc}") from exc

    def row(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        try:
            with self._lock:
                found: Row | None = self._run(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise JournalError(f"journal query failed: {exc}") from exc
        return found

    def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement (inside `transaction()`); return the last inserted rowid."""
        with self._lock:
            if not self._depth:
                raise JournalError("journal write outside a transaction")
            return self._run(sql, params).lastrowid or 0

    def change(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one writing statement and return the number of rows it changed, or `REFUSED` when
        a PRIMARY KEY or UNIQUE constraint refused it (nothing of it is kept). Inside
        `transaction()` it joins it; outside, the statement commits (durably) on its own."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).rowcount
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorcode in _KEY_CONFLICTS:
                    return REFUSED
                raise JournalError(f"journal write refused: {exc}") from exc
            except sqlite3.Error as exc:
                raise JournalError(f"journal query failed: {exc}") from exc

    def change_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one writing statement once per parameter row (inside `transaction()` or alone);
        return the number of rows changed in all."""
        with self._lock:
            try:
                return self._conn.executemany(sql, rows).rowcount
            except sqlite3.Error as exc:
                raise JournalError(f"journal query failed: {exc}") from exc

    def integrity_check(self) -> list[str]:
        """SQLite's integrity check: ["ok"] for a sound file."""
        return [str(r[0]) for r in self.rows("PRAGMA integrity_check")]

    def close(self) -> None:
        """Close the connection (a no-op the second time)."""
        try:
            self._conn.close()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot close journal: {exc}") from exc


def _address(path: str, create: bool) -> str:
    """The URI sqlite3 opens: without `create`, mode=rw, so that SQLite never makes the file."""
    if path == MEMORY:
        return path
    uri = Path(path).absolute().as_uri()
    return f"{uri}?mode=rw" if not create else f"{uri}?mode=rwc"
