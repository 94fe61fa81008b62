"""Opening and migrating the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from centre.errors import StoreError
from centre.store import migrations
from centre.store.database import open_database
from centre.store.loads import NewLoad
from centre.store.migrations import LATEST, migrate
from centre.store.store import Store
from tests.centre.store.helpers import CARD, OUTLET, T0, b_card, opened, with_vehicle


def test_a_new_database_gets_every_migration_and_an_open_one_none(store_url: str) -> None:
    database = open_database(store_url)
    try:
        assert migrate(database, T0) == list(range(1, LATEST + 1))
        assert migrate(database, T0) == []
    finally:
        database.close()
    with opened(store_url) as store, store.transaction() as tx:
        assert tx.sql.value("SELECT MAX(version) FROM schema_migrations") == LATEST


def test_a_database_of_a_newer_centre_is_refused_untouched(store_url: str) -> None:
    with opened(store_url) as store, store.transaction() as tx:
        tx.sql.execute("INSERT INTO schema_migrations (version, name, applied_at)"
                       " VALUES (?, 'from the future', 'x')", (LATEST + 1,))
    with pytest.raises(StoreError, match=f"schema version {LATEST + 1} is newer"):
        opened(store_url)


def test_a_foreign_database_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE records (id INTEGER)")
    with pytest.raises(StoreError, match="not an etc-centre database: records"):
        opened(str(path))
    with sqlite3.connect(path) as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert tables == {"records"}


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not sqlite at all, just some words for the header" * 20)
    with pytest.raises(StoreError, match="not a database"):
        opened(str(path))


def test_a_database_that_was_never_initialised_is_refused_when_not_migrating(
        tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="run `etc-centre init`"):
        Store.open(str(tmp_path / "new.sqlite3"), T0, migrate_schema=False)


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    database = open_database(str(tmp_path / "c.sqlite3"))
    try:
        with database.transaction() as tx:
            assert tx.value("PRAGMA journal_mode") == "wal"
            assert tx.value("PRAGMA synchronous") == 2  # FULL
            assert tx.value("PRAGMA foreign_keys") == 1
    finally:
        database.close()


def test_an_unreachable_postgres_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        Store.open("postgresql://etc:secret@127.0.0.1:1/centre?connect_timeout=2", T0)
    assert "secret" not in str(caught.value) and "cannot connect" in str(caught.value)


def test_a_failing_block_writes_nothing(store_url: str) -> None:
    with opened(store_url) as store:
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.registry.add_outlet(OUTLET)
            raise RuntimeError("operator pressed cancel")
        with store.transaction() as tx:
            assert tx.registry.outlets() == []


def test_an_older_database_is_migrated_with_its_rows_kept(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
    monkeypatch.setattr(migrations, "LATEST", 2)
    with opened(store_url) as store:
        customer, vehicle = with_vehicle(store)
        with store.transaction() as tx:
            tx.devices.add_card(b_card(CARD, customer, vehicle))
            tx.sql.execute(
                "INSERT INTO loads (request_id, attempt, card_number, outlet_id, terminal_number,"
                " amount, balance_before, online_serial, transaction_time, funding, opened_at,"
                " status) VALUES ('r-1', 1, ?, ?, '370101000001', 500, 0, 0, 'x', 'cash:cash',"
                " 'x', 'credited')", (CARD, OUTLET.outlet_id))
    monkeypatch.undo()
    database = open_database(store_url)
    try:
        assert migrate(database, T0) == [3]
    finally:
        database.close()
    with opened(store_url) as store, store.transaction() as tx:
        row = tx.sql.one("SELECT operation, fingerprint, operator FROM loads")
        assert row == ("top_up", "", "")
        assert NewLoad.__dataclass_fields__["operation"].default == "top_up"
