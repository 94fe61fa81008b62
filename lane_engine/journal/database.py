"""The one module that opens the journal's SQLite database: pragmas, schema check, transactions,
and translation of every sqlite3 exception into `JournalError`.

Every opener (the lane process, every `lane-engine journal` command, `status`, the simulator's
audit) opens a journal the same way: a missing file becomes a new journal, made whole beside
it and linked into place, so a journal file is never empty; an empty file is refused as no
lane journal; an existing journal passes SQLite's `quick_check` before anything reads it, and
a damaged one is refused everywhere with the same message (`damaged`), which points to
`lane-engine journal check` (the full `integrity_check`)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
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
    "damaged",
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
#: SQLite's result codes for a file whose pages are not what they should be.
_DAMAGE = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def damaged(path: str, detail: str) -> JournalError:
    """The one message every opener and reader gives for a damaged journal."""
    return JournalError(f"journal {path} is damaged ({detail}); nothing was read from it: "
                        f"`lane-engine journal --journal {path} check` lists what is wrong")


def _error(path: str, what: str, exc: sqlite3.Error) -> JournalError:
    """`what` failed with `exc`: the damage message when SQLite found the file damaged."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in _DAMAGE:
        return damaged(path, str(exc))
    return JournalError(f"{what}: {exc}")


class Database:
    """A connection to one journal file (or ":memory:").

    Writes happen inside `transaction()`; nested calls join the outermost one, which is the
    group commit: one COMMIT (one fsync of the WAL) for everything inside it. A lock lets
    several threads (e.g. an executor off the event loop) share it: a transaction holds the
    connection until it ends, so no thread sees or joins another's uncommitted writes.
    """

    def __init__(self, path: str | Path, *, create: bool = True, check: bool = True) -> None:
        self.path = str(path)
        self._depth = 0
        self._lock = threading.RLock()
        self._transaction = Scope(self._begin, self._end)
        if self.path != MEMORY:
            file = Path(self.path)
            if not file.is_file():
                if not create:
                    raise JournalError(f"no journal at {self.path} (file not found)")
                self._make_new()
            elif file.stat().st_size == 0:
                raise JournalError(f"no journal at {self.path}: an empty file is not a lane "
                                   "journal (remove it, and a new journal is made there)")
        try:
            # Autocommit mode: we issue BEGIN/COMMIT ourselves so nothing commits behind our back.
            self._conn = sqlite3.connect(
                _address(self.path), isolation_level=None, check_same_thread=False, uri=True
            )
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open journal {self.path}: {exc}") from exc
        try:
            self._conn.execute("PRAGMA busy_timeout = 5000")
            # Before the pragmas: switching an empty or foreign file to WAL would write into it.
            self._identify(create=create)
            if check and self.path != MEMORY:
                self._quick_check()
            self._configure()
            self._settle_schema(create=create)
        except JournalError:
            self._conn.close()
            raise
        except sqlite3.Error as exc:
            self._conn.close()
            raise _error(self.path, f"cannot open journal {self.path}", exc) from exc

    def _make_new(self) -> None:
        """A new journal at the missing path: made whole in a file beside it (schema, ids), then
        linked into place, so the path never names an empty or half-made journal; an opener
        that races this one and links first wins, and this one opens that journal."""
        target = Path(self.path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".new")
            os.close(descriptor)
        except OSError as exc:
            raise JournalError(f"cannot make journal {self.path}: {exc.strerror or exc}") from exc
        try:
            connection = sqlite3.connect(temporary, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                for statement in SCHEMA:
                    connection.execute(statement)
                connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                connection.execute("COMMIT")
            finally:
                connection.close()
            with open(temporary, "rb") as made:
                os.fsync(made.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, target)  # never replaces: a journal already there stays
            folder = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot make journal {self.path}: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def _quick_check(self) -> None:
        """SQLite's quick check of every page, before anything is read or written."""
        rows = [str(row[0]) for row in self._conn.execute("PRAGMA quick_check(5)")]
        if rows != ["ok"]:
            lines = [line.strip() for row in rows for line in row.splitlines()]
            raise damaged(self.path, "; ".join(line for line in lines
                                               if line and not line.startswith("***")))

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
                raise _error(self.path, "journal commit failed", exc) from exc
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
            raise _error(self.path, "journal query failed", exc) from exc

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """All rows of a query."""
        try:
            with self._lock:
                return self._run(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _error(self.path, "journal query failed", exc) from exc

    def row(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        try:
            with self._lock:
                found: Row | None = self._run(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise _error(self.path, "journal query failed", exc) from exc
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
                raise _error(self.path, "journal write refused", exc) from exc
            except sqlite3.Error as exc:
                raise _error(self.path, "journal query failed", exc) from exc

    def change_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one writing statement once per parameter row (inside `transaction()` or alone);
        return the number of rows changed in all."""
        with self._lock:
            try:
                return self._conn.executemany(sql, rows).rowcount
            except sqlite3.Error as exc:
                raise _error(self.path, "journal query failed", exc) from exc

    def integrity_check(self) -> list[str]:
        """SQLite's integrity check: ["ok"] for a sound file, else one line per problem (a file
        too damaged for the check to run gives the reason it stopped)."""
        try:
            with self._lock:
                rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.Error as exc:
            return [f"the integrity check could not run: {exc}"]
        return [line.strip() for row in rows for line in str(row[0]).splitlines()
                if line.strip() and not line.startswith("***")]

    def close(self) -> None:
        """Close the connection (a no-op the second time)."""
        try:
            self._conn.close()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot close journal: {exc}") from exc


def _address(path: str) -> str:
    """The URI sqlite3 opens: mode=rw, so that SQLite never makes the file (`_make_new` does)."""
    if path == MEMORY:
        return path
    return f"{Path(path).absolute().as_uri()}?mode=rw"
