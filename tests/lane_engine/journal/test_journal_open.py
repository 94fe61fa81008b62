"""Opening the journal: two processes creating the same new journal at once, `create=False` on a
missing or empty file, and a reader opening the journal while another process writes."""

from __future__ import annotations

import multiprocessing
import sqlite3
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest
from journal_records import debited, intent, refusal

from lane_engine.errors import JournalError
from lane_engine.journal import SqliteJournal
from lane_engine.journal.schema import APPLICATION_ID, SCHEMA_VERSION

#: New journals the two openers race on, one after the other.
RACES = 40
#: Closes the writer process commits while the reader opens the journal again and again.
WRITES = 150

# Spawn, not fork: the children start from a clean interpreter whatever threads pytest runs.
SPAWN = multiprocessing.get_context("spawn")


def open_each_at_once(worker: int, paths: list[Path], barrier: Barrier, errors: Any) -> None:
    """Child: open each new journal together with the other child and journal one intent."""
    for n, path in enumerate(paths):
        barrier.wait(timeout=60)
        try:
            with SqliteJournal(path) as journal:
                journal.open_intent(intent(worker * 1000 + n))
        except Exception as exc:  # reported to the parent, which fails the test with it
            errors.put(f"worker {worker}, {path.parent.name}: {exc!r}")
    errors.put(None)


def close_many(path: str, started: Event, holding: Event, seen: Event) -> None:
    """Child: close `WRITES` transactions on an existing journal, each committed on its own, then
    one more inside a batch, holding the write lock until the parent has read the journal."""
    with SqliteJournal(path, create=False) as journal:
        for n in range(WRITES):
            journal.close(debited(n))
            started.set()
        with journal.batch():
            journal.close(debited(WRITES))
            holding.set()
            seen.wait(timeout=60)


def schema_of(path: Path) -> tuple[int, int, list[tuple[str, str]]]:
    """(application_id, user_version, sorted (type, name) of every schema object) of a file."""
    conn = sqlite3.connect(path)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        objects = conn.execute("SELECT type, name FROM sqlite_master ORDER BY type, name")
        return app_id, version, objects.fetchall()
    finally:
        conn.close()


def test_two_processes_creating_the_same_journal_both_carry_on(tmp_path: Path) -> None:
    reference = tmp_path / "reference.sqlite3"
    SqliteJournal(reference).close_journal()
    paths = [tmp_path / f"race-{n:02d}" / "journal.sqlite3" for n in range(RACES)]
    barrier = SPAWN.Barrier(2)
    errors = SPAWN.Queue()
    workers = [
        SPAWN.Process(target=open_each_at_once, args=(w, paths, barrier, errors))
        for w in (1, 2)
    ]
    for worker in workers:
        worker.start()
    reported: list[str] = []
    finished = 0
    while finished < len(workers):
        message = errors.get(timeout=120)
        if message is None:
            finished += 1
        else:
            reported.append(message)
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert reported == []
    for n, path in enumerate(paths):
        assert schema_of(path) == schema_of(reference)
        with SqliteJournal(path, create=False) as journal:
            opened = {r.transaction_id for r in journal.open_intents()}
            assert opened == {intent(1000 + n).transaction_id, intent(2000 + n).transaction_id}


def test_create_false_refuses_a_missing_path_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "journal.sqlite3"
    with pytest.raises(JournalError, match="no journal at") as refused:
        SqliteJournal(missing, create=False)
    assert str(missing) in str(refused.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("create", [False, True])
def test_an_empty_file_is_refused_and_left_empty(tmp_path: Path, create: bool) -> None:
    # `lane-engine run` (create=True) took an empty file for a new journal while the journal
    # commands refused it; a new journal is made only where no file is, so both refuse it.
    empty = tmp_path / "journal.sqlite3"
    empty.touch()
    with pytest.raises(JournalError, match="an empty file is not a lane journal"):
        SqliteJournal(empty, create=create)
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.sqlite3"]
    # Removed, its place gets a new journal, made whole beside it and linked in.
    empty.unlink()
    with SqliteJournal(empty) as journal:
        journal.record_refusal(refusal(1))
    assert schema_of(empty)[:2] == (APPLICATION_ID, SCHEMA_VERSION)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))
                  ) == ["journal.sqlite3"]


def _overwrite_a_page(path: Path) -> None:
    """One page of the journal (its last) overwritten, as a bad disk block would."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")  # everything in the main file
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    pages = len(data) // page
    data[page * (pages - 1) : page * pages] = b"\x5a" * page
    path.write_bytes(bytes(data))


def test_a_damaged_journal_is_refused_by_every_opener_with_one_message(tmp_path: Path) -> None:
    # On main `journal open-intents` printed "0 open intent(s)" and exited 0 on such a file
    # while `list`, `stats` and `run` said "malformed".
    path = tmp_path / "journal.sqlite3"
    with SqliteJournal(path) as journal:
        for n in range(40):
            journal.open_intent(intent(n))
    _overwrite_a_page(path)
    messages = set()
    for create in (False, True):
        with pytest.raises(JournalError) as refused:
            SqliteJournal(path, create=create)
        messages.add(str(refused.value))
    [message] = messages
    assert message.startswith(f"journal {path} is damaged (")
    assert message.endswith(f"`lane-engine journal --journal {path} check` lists what is wrong")
    assert "\n" not in message
    with SqliteJournal(path, create=False, check=False) as journal:
        assert journal.integrity_check() != ["ok"]


def test_create_false_refuses_an_empty_sqlite_database_and_leaves_it_unchanged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 0")
    conn.execute("VACUUM")  # writes the header page: a database with no tables
    conn.close()
    before = path.read_bytes()
    with pytest.raises(JournalError, match="not a lane journal"):
        SqliteJournal(path, create=False)
    assert path.read_bytes() == before


def test_a_reader_opens_the_journal_while_a_writer_process_writes(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    SqliteJournal(path).close_journal()
    started, holding, seen = SPAWN.Event(), SPAWN.Event(), SPAWN.Event()
    writer = SPAWN.Process(target=close_many, args=(str(path), started, holding, seen))
    writer.start()
    try:
        assert started.wait(timeout=60)
        counts = [0]
        while not holding.is_set() and writer.is_alive():
            with SqliteJournal(path, create=False) as reader:
                counts.append(len(list(reader.entries())))
                assert reader.integrity_check() == ["ok"]
            assert counts[-1] >= counts[-2]
        assert holding.wait(timeout=60)
        # The writer holds the write lock of an uncommitted batch: opening needs no write lock,
        # and the reader sees every commit before the batch and nothing of it.
        with SqliteJournal(path, create=False) as reader:
            assert len(list(reader.entries())) == WRITES
            assert reader.get(debited(WRITES).transaction_id) is None
        seen.set()
    finally:
        seen.set()
        writer.join(timeout=60)
    assert writer.exitcode == 0
    with SqliteJournal(path, create=False) as reader:
        assert len(list(reader.entries())) == WRITES + 1
