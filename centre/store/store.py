"""`Store`: opens (and migrates) the database and hands out transactions with every area's API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from centre.errors import StoreError
from centre.store.book import Book
from centre.store.clearing import Clearing
from centre.store.database import Database, Dialect, Transaction, open_database
from centre.store.daybook import Daybook
from centre.store.devices import Devices
from centre.store.journal import Journal
from centre.store.lists import Lists
from centre.store.loads import Loads
from centre.store.migrations import LATEST, migrate, schema_version
from centre.store.money import Money
from centre.store.registry import Registry

Clock = Callable[[], dt.datetime]


def wall_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class StoreTransaction:
    """One database transaction with the API of every area of the store."""

    def __init__(self, tx: Transaction, clock: Clock) -> None:
        self.sql = tx
        self.registry = Registry(tx)
        self.devices = Devices(tx)
        self.journal = Journal(tx)
        self.book = Book(tx, clock())
        self.loads = Loads(tx)
        self.money = Money(tx)
        self.lists = Lists(tx)
        self.clearing = Clearing(tx)
        self.daybook = Daybook(tx)


class Store:
    """The centre's database. `Store.open(url, now)` migrates it to the latest schema."""

    def __init__(self, database: Database, clock: Clock = wall_clock) -> None:
        self._database = database
        self._clock = clock

    @classmethod
    def open(cls, url: str, now: dt.datetime | None = None, *, clock: Clock = wall_clock,
             migrate_schema: bool = True) -> Store:
        """Open the database at `url`; with `migrate_schema` bring it to the latest schema (a
        newer or foreign database is refused: `StoreError`), else only check it is current."""
        database = open_database(url, create=migrate_schema)
        try:
            if migrate_schema:
                migrate(database, now or clock())
            else:
                with database.transaction() as tx:
                    version = schema_version(tx)
                if version != LATEST:
                    raise StoreError(f"{database.where}: schema version {version}, this etc-centre"
                                     f" needs {LATEST}: run `etc-centre init`")
        except BaseException:
            database.close()
            raise
        return cls(database, clock)

    @property
    def dialect(self) -> Dialect:
        return self._database.dialect

    @property
    def where(self) -> str:
        return self._database.where

    @contextmanager
    def transaction(self, *, snapshot: bool = False) -> Iterator[StoreTransaction]:
        """One transaction (see `centre.store.database`; `snapshot`: a consistent read that
        does not hold writers up)."""
        with self._database.transaction(snapshot=snapshot) as tx:
            yield StoreTransaction(tx, self._clock)

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
