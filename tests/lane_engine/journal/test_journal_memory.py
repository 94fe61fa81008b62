"""MemoryJournal against SqliteJournal: the same operations give the same answers and leave the
same journal (entries, open intents, outbox, counts), batches and rollbacks included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from journal_records import debited, intent, refusal

from lane_engine.core.outcomes import Outcome
from lane_engine.errors import JournalError
from lane_engine.journal import EntryState, Journal, JournalFilter, MemoryJournal, SqliteJournal


class SetClock:
    """A clock the test sets before each operation, so both journals read the same times."""

    def __init__(self) -> None:
        self.now = 1_714_521_600.0

    def __call__(self) -> float:
        return self.now


def tid(n: int) -> str:
    return intent(n).transaction_id


def twin_id(n: int) -> str:
    return f"L01-9{n:05d}"


Operation = Callable[[Journal], Any]
numbers = st.integers(min_value=1, max_value=4)
closing = st.sampled_from([Outcome.DEBITED, Outcome.NOT_DEBITED, Outcome.UNRESOLVED])

single_operations: st.SearchStrategy[tuple[str, Operation]] = st.one_of(
    numbers.map(lambda n: (f"intent {n}", lambda j: j.open_intent(intent(n)))),
    numbers.map(lambda n: (f"other intent {n}", lambda j: j.open_intent(intent(n, plate="x")))),
    numbers.map(
        lambda n: (
            f"twin intent {n}",
            lambda j: j.open_intent(intent(n, transaction_id=twin_id(n))),
        )
    ),
    numbers.map(
        lambda n: (
            f"update {n}",
            lambda j: j.update_intent(tid(n), ctc=100 + n, terminal_trans_serial=5000 + n),
        )
    ),
    st.tuples(numbers, closing).map(
        lambda a: (f"close {a}", lambda j: j.close(debited(a[0], outcome=a[1])))
    ),
    numbers.map(
        lambda n: (f"twin close {n}", lambda j: j.close(debited(n, transaction_id=twin_id(n))))
    ),
    numbers.map(lambda n: (f"refusal {n}", lambda j: j.record_refusal(refusal(n)))),
    st.tuples(numbers, closing).map(
        lambda a: (f"resolve {a}", lambda j: j.resolve(tid(a[0]), a[1]))
    ),
    numbers.map(lambda n: (f"clear {n}", lambda j: j.mark_unresolved_for_clearing(tid(n)))),
    st.integers(min_value=0, max_value=12).map(
        lambda s: (f"publish up to {s}", lambda j: j.mark_published(s))
    ),
    st.lists(st.integers(min_value=1, max_value=12), max_size=3).map(
        lambda s: (f"publish {s}", lambda j: j.mark_published(s))
    ),
)


def run(journal: Journal, clock: SetClock, operation: Operation) -> object:
    clock.now += 1.0
    try:
        return operation(journal)
    except JournalError:
        return "refused"


def run_batch(journal: Journal, clock: SetClock, inner: list[Operation], fail: bool) -> object:
    try:
        with journal.batch():
            results = [run(journal, clock, operation) for operation in inner]
            if fail:
                raise RuntimeError("lane failed mid-batch")
    except RuntimeError:
        return "rolled back"
    return results


def state(journal: Journal) -> object:
    return (
        list(journal.entries()),
        list(journal.entries(JournalFilter(newest_first=True, limit=3))),
        journal.open_intents(),
        journal.outbox_batch(100),
        journal.pending_count(),
        journal.counts(),
        [journal.get(i) for n in range(1, 5) for i in (tid(n), twin_id(n))],
    )


steps = st.lists(
    st.one_of(
        single_operations.map(lambda op: ("one", [op], False)),
        st.tuples(st.lists(single_operations, min_size=1, max_size=4), st.booleans()).map(
            lambda b: ("batch", b[0], b[1])
        ),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60)
@given(steps)
def test_memory_journal_behaves_as_sqlite_journal(
    plan: list[tuple[str, list[tuple[str, Operation]], bool]],
) -> None:
    sqlite_clock, memory_clock = SetClock(), SetClock()
    with SqliteJournal(clock=sqlite_clock) as sqlite, MemoryJournal(clock=memory_clock) as memory:
        for kind, named, fail in plan:
            operations = [operation for _, operation in named]
            if kind == "one":
                expected = run(sqlite, sqlite_clock, operations[0])
                got = run(memory, memory_clock, operations[0])
            else:
                expected = run_batch(sqlite, sqlite_clock, operations, fail)
                got = run_batch(memory, memory_clock, operations, fail)
            assert got == expected, [name for name, _ in named]
            assert state(memory) == state(sqlite)


def test_a_rolled_back_batch_restores_outbox_order_and_numbers() -> None:
    journal = MemoryJournal()
    for n in (1, 2, 3):
        journal.close(debited(n))
    with pytest.raises(RuntimeError), journal.batch():
        journal.mark_published(2)
        journal.close(debited(4))
        raise RuntimeError("lane failed mid-batch")
    assert [e.seq for e in journal.outbox_batch(10)] == [1, 2, 3]
    assert journal.close(debited(4)).outbox_seq == 4
    assert journal.get(tid(4)) is not None and journal.pending_count() == 4


def test_nested_batches_join_the_outermost() -> None:
    journal = MemoryJournal()
    with pytest.raises(RuntimeError), journal.batch():
        with journal.batch():
            journal.open_intent(intent(1))
        raise RuntimeError("outer batch failed after the inner one ended")
    assert journal.get(tid(1)) is None
    with journal.batch(), journal.batch():
        journal.open_intent(intent(1))
    entry = journal.get(tid(1))
    assert entry is not None and entry.state is EntryState.OPEN
