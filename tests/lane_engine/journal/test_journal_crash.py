"""SIGKILL a process writing the journal at each step of a transaction, then reopen and check
that nothing committed was lost, nothing uncommitted appeared and nothing was duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from journal_records import debited

from lane_engine.core.outcomes import Outcome
from lane_engine.journal import EntryState, SqliteJournal

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[3]
COUNT = 40
STOP_AT = 23


def run_and_kill(path: Path, step: str, stop_at: int) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(CHILD.parent)])}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(COUNT), step, str(stop_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    try:
        for line in child.stdout:
            if line.strip() == f"at {step} {stop_at}":
                break
        else:
            errors = child.stderr.read() if child.stderr else ""
            pytest.fail(f"child ended before {step} {stop_at}: {errors}")
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL


def check_sound(journal: SqliteJournal) -> None:
    assert journal.integrity_check() == ["ok"]
    entries = list(journal.entries())
    ids = Counter(e.record.transaction_id for e in entries)
    assert all(n == 1 for n in ids.values())
    keys = Counter(e.record.idempotency_key for e in entries if e.state is EntryState.CLOSED)
    assert all(n == 1 for n in keys.values())
    published = Counter(e.record.transaction_id for e in journal.outbox_batch(10 * COUNT))
    closed = {e.record.transaction_id for e in entries if e.state is EntryState.CLOSED}
    assert set(published) == closed and all(n == 1 for n in published.values())


# step -> (is the stopped transaction's intent committed?, is its close committed?)
STEPS = {
    "before-intent": (False, False),
    "after-intent": (True, False),
    "mid-close": (True, False),
    "after-close": (True, True),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_kill_at_each_step(tmp_path: Path, step: str) -> None:
    path = tmp_path / "journal.sqlite3"
    run_and_kill(path, step, STOP_AT)
    intent_committed, close_committed = STEPS[step]
    with SqliteJournal(path) as journal:
        check_sound(journal)
        closed = [e.record for e in journal.entries() if e.state is EntryState.CLOSED]
        expected_closed = STOP_AT if close_committed else STOP_AT - 1
        assert closed == [debited(n) for n in range(1, expected_closed + 1)]
        stopped_id = f"L01-{STOP_AT:06d}"
        open_ids = [r.transaction_id for r in journal.open_intents()]
        assert open_ids == ([stopped_id] if intent_committed and not close_committed else [])
        assert journal.get(f"L01-{STOP_AT + 1:06d}") is None


@pytest.mark.parametrize("step", sorted(STEPS))
def test_recovery_after_a_kill_settles_once(tmp_path: Path, step: str) -> None:
    path = tmp_path / "journal.sqlite3"
    run_and_kill(path, step, STOP_AT)
    with SqliteJournal(path) as journal:
        for record in journal.open_intents():
            n = int(record.transaction_id.split("-")[1])
            assert not journal.close(debited(n, recovered=True)).duplicate
        # The RSU retransmits every B5 it ever sent, and recovery runs a second time.
        with journal.batch():
            for n in range(1, STOP_AT + 1):
                journal.close(debited(n))
    with SqliteJournal(path) as journal:
        check_sound(journal)
        assert journal.open_intents() == []
        debits = [e for e in journal.entries() if e.record.outcome is Outcome.DEBITED]
        assert sorted(e.record.transaction_id for e in debits) == [
            f"L01-{n:06d}" for n in range(1, STOP_AT + 1)
        ]


def test_the_child_runs_to_the_end_without_a_kill(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(CHILD.parent)])}
    done = subprocess.run(
        [sys.executable, str(CHILD), str(path), str(COUNT), "none", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.endswith("done\n"), done.stderr
    with SqliteJournal(path) as journal:
        check_sound(journal)
        assert len(journal.outbox_batch(10 * COUNT)) == COUNT
