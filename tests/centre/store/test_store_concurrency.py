"""Several writers at once (outlets sharing one centre): uniqueness holds, nothing is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from centre.errors import ConflictError
from centre.store.migrations import LATEST
from centre.store.store import Store, StoreTransaction
from tests.centre.store.helpers import b_card, opened, with_vehicle


def _race(url: str, writers: list[Callable[[StoreTransaction], None]]) -> list[str]:
    """Run each writer in its own thread and connection, all starting together."""
    barrier = threading.Barrier(len(writers), timeout=30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(write: Callable[[StoreTransaction], None]) -> None:
        try:
            store = opened(url)
        except BaseException:
            barrier.abort()
            raise
        try:
            barrier.wait()
            try:
                with store.transaction() as tx:
                    write(tx)
                    time.sleep(0.05)  # hold the transaction open so the writers overlap
                outcome = "ok"
            except ConflictError:
                outcome = "conflict"
        finally:
            store.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_outlets_issuing_a_card_to_one_vehicle_at_once_get_one_card(store_url: str) -> None:
    with opened(store_url) as store:
        customer, vehicle = with_vehicle(store)
    numbers = ["37012616000000000001", "37012616000000000002"]
    outcomes = _race(store_url, [
        lambda tx, n=n: tx.devices.add_card(b_card(n, customer, vehicle))  # type: ignore[misc]
        for n in numbers])
    assert outcomes == ["conflict", "ok"]
    with Store.open(store_url) as store, store.transaction() as tx:
        assert len(tx.devices.cards_of_vehicle(vehicle)) == 1


def test_counters_taken_by_many_writers_never_repeat(store_url: str) -> None:
    taken: list[int] = []

    def take(tx: StoreTransaction) -> None:
        taken.extend(tx.devices.next_number("card") for _ in range(20))

    assert _race(store_url, [take] * 4) == ["ok"] * 4
    assert sorted(taken) == list(range(1, 81))


def _open_at_once(url: str, openers: int) -> list[BaseException]:
    """Open the store at `url` from `openers` threads released together; what they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(openers, timeout=30)

    def open_it() -> None:
        try:
            barrier.wait()
            opened(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_several_outlets_opening_a_new_database_at_once_all_get_the_schema(
        store_url: str) -> None:
    assert _open_at_once(store_url, 4) == []
    with opened(store_url) as store, store.transaction() as tx:
        assert tx.sql.value("SELECT COUNT(*) FROM schema_migrations") == LATEST


def test_openers_racing_on_new_sqlite_files_never_find_them_locked(tmp_path: Path) -> None:
    """The switch to WAL takes its lock without waiting: a racing opener must wait and retry
    (before it did, about one round in twenty saw "database is locked")."""
    errors = [error for round_ in range(60)
              for error in _open_at_once(str(tmp_path / f"centre-{round_}.sqlite3"), 6)]
    assert errors == []
