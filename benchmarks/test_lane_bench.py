"""Lane core: CPU per transaction, exit (B2 → C1, B4 → C6, B5 → C1) and entry, with no journal,
the in-memory journal (`MemoryJournal`), the SQLite engine in memory (`SqliteJournal(":memory:")`)
and the durable journal (WAL, synchronous=FULL), journal writes executed; and 32 lanes in lock
step with group commit, durable vs both in-memory journals.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.lane_driver import Plaza, SingleLane, check_exchange
from benchmarks.measure import CpuClock, per_item
from lane_engine.journal import MEMORY, Journal, MemoryJournal, SqliteJournal
from protocols.frames import LaneMode

#: "memory": MemoryJournal (the in-memory journal of the targets); "sqlite-memory": the SQLite
#: engine without the disk; "durable": SQLite on a file, WAL, synchronous=FULL.
JOURNALS = ("none", "memory", "sqlite-memory", "durable")
#: Vehicles per timed round, and rounds, by journal: durable commits cost an fsync each.
ROUND = {"none": 200, "memory": 200, "sqlite-memory": 200, "durable": 40}
ROUNDS = {"none": 15, "memory": 15, "sqlite-memory": 15, "durable": 5}
PLAZA_LANES = 32
PLAZA_ROUNDS = 10  # vehicles per lane per timed round


def _journal(kind: str, directory: Path) -> Journal | None:
    if kind == "none":
        return None
    if kind == "memory":
        return MemoryJournal()
    return SqliteJournal(MEMORY if kind == "sqlite-memory" else directory / "journal.db")


@pytest.mark.parametrize("journal_kind", JOURNALS)
@pytest.mark.parametrize("mode", [LaneMode.EXIT, LaneMode.ENTRY], ids=["exit", "entry"])
def test_transaction(benchmark, tmp_path: Path, mode: LaneMode, journal_kind: str) -> None:  # type: ignore[no-untyped-def]
    check_exchange(mode)
    journal = _journal(journal_kind, tmp_path)
    driver = SingleLane(mode, journal)
    size = ROUND[journal_kind]
    cpu = CpuClock()
    benchmark.pedantic(cpu.wrap(driver.serve), setup=lambda: ((driver.source.take(size),), {}),
                       rounds=ROUNDS[journal_kind], warmup_rounds=1)
    if journal is not None:
        served = size * (ROUNDS[journal_kind] + 1)
        assert sum(journal.counts().values()) == served
        journal.close_journal()
    benchmark.group = f"lane core {mode.name.lower()} transaction"
    benchmark.extra_info.update(kind="lane transaction", mode=mode.name.lower(),
                                impl=f"journal {journal_kind}")
    per_item(benchmark, size, cpu)
    decisions = sorted(driver.decision_s[size:])  # the warm-up round left out
    benchmark.extra_info["decision_us_p50"] = decisions[len(decisions) // 2] * 1e6
    benchmark.extra_info["decision_us_p99"] = decisions[int(len(decisions) * 0.99)] * 1e6
    benchmark.extra_info["decision_us_samples"] = [round(d * 1e6, 1) for d in decisions]


@pytest.mark.parametrize("journal_kind", ["memory", "sqlite-memory", "durable"])
def test_group_commit_32_lanes(benchmark, tmp_path: Path, journal_kind: str) -> None:  # type: ignore[no-untyped-def]
    journal = _journal(journal_kind, tmp_path)
    assert journal is not None
    plaza = Plaza(PLAZA_LANES, journal)
    size = PLAZA_LANES * PLAZA_ROUNDS
    cpu = CpuClock()
    benchmark.pedantic(cpu.wrap(plaza.serve), setup=lambda: ((plaza.source.take(size),), {}),
                       rounds=5, warmup_rounds=1)
    assert sum(journal.counts().values()) == size * 6
    assert plaza.commits == 2 * PLAZA_ROUNDS * 6  # one commit for the C6 step, one for the B5
    journal.close_journal()
    benchmark.group = "lane core 32 lanes group commit"
    benchmark.extra_info.update(kind="group commit", impl=f"journal {journal_kind}",
                                lanes=PLAZA_LANES,
                                transactions_per_s=size / benchmark.stats.stats.median)
    per_item(benchmark, size, cpu)
