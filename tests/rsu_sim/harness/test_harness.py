"""End-to-end runs in virtual time: every fault of the mixed scenario, tears at each TearPoint,
determinism, and the pieces of the loop (event queue, byte link)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lane_engine.journal import MemoryJournal
from protocols.envelope import V3_HEADER_LENGTH, encode_v3
from protocols.frame_codec import encode_frame
from protocols.frames import HeartbeatAnswer
from protocols.stream import Rejected, StreamDecoder
from rsu_sim.harness import JournalMode, SimulationOptions, run_to_directory
from rsu_sim.harness.events import EventQueue
from rsu_sim.harness.journal_sink import GroupCommitJournal
from rsu_sim.harness.link import ByteLink, corrupt
from rsu_sim.harness.run import Simulation
from rsu_sim.harness.summary import COMPLETED
from rsu_sim.model.rsu_faults import TearPoint
from rsu_sim.model.scenario import clean_scenario, mixed_scenario
from rsu_sim.results.audit import audit
from rsu_sim.results.files import final_cards, load_run
from tests.rsu_sim.harness.conftest import MIXED_VEHICLES, FinishedRun


def test_mixed_run_with_every_fault_audits_clean(mixed_run: FinishedRun) -> None:
    report = audit(mixed_run.files.journal, mixed_run.files.cards, mixed_run.files.key_set)
    assert report.clean, report.render()
    assert report.counts["journal TACs verified"] > MIXED_VEHICLES // 2


def test_mixed_run_shows_every_kind_of_fault(mixed_run: FinishedRun) -> None:
    s = mixed_run.result.summary
    assert s.passes == MIXED_VEHICLES
    assert s.link["rsu_restarts"] >= 1
    assert s.link["rsu_to_lane_corrupted"] + s.link["lane_to_rsu_corrupted"] >= 1
    assert s.link["rsu_to_lane_rejected"] + s.link["lane_to_rsu_rejected"] >= 1
    assert s.recoveries_started >= 1 and s.unresolved >= 1
    for reason in ("BLACKLISTED", "OBU_TAMPERED", "OBU_EXPIRED", "CARD_EXPIRED",
                   "PLATE_MISMATCH", "OBU_NO_CARD", "STALE_ENTRY", "NO_ENTRY"):
        assert s.refused.get(reason, 0) >= 1, reason
    assert s.completed["cash_required"] >= 1 and s.cash_due_fen > 0
    assert s.revenue_fen > 0


def test_summary_adds_up(mixed_run: FinishedRun) -> None:
    s = mixed_run.result.summary
    total = (sum(s.completed.values()) + sum(s.refused.values()) + sum(s.not_debited.values())
             + s.unresolved)
    assert total == s.transactions
    journal_revenue = sum(e.record.amount_debited for e in mixed_run.files.journal
                          if e.record.outcome.value == "debited" and e.state.value == "closed")
    assert journal_revenue == s.revenue_fen
    times = s.transaction_ms
    assert 0 < times["p50"] <= times["p90"] <= times["p99"] <= times["max"]
    assert {o.value for o in COMPLETED} == set(s.completed)


def test_outputs_are_written(mixed_run: FinishedRun) -> None:
    directory = mixed_run.directory
    for name in ("journal.sqlite3", "keys.toml", "cards.jsonl", "summary.json", "scenario.json"):
        assert (directory / name).is_file(), name
    assert (directory / "keys.toml").stat().st_mode & 0o777 == 0o600
    touched = {c.card_number for c in mixed_run.files.cards if c.log}
    assert touched and all(c.balance <= c.initial_balance for c in mixed_run.files.cards)


def _summary(tmp: Path, seed: int, mode: JournalMode) -> dict[str, object]:
    scenario = replace(mixed_scenario(), seed=seed)
    result = run_to_directory(scenario, tmp, SimulationOptions(vehicles=300), mode)
    return result.summary.deterministic()


def test_same_seed_same_summary(tmp_path: Path) -> None:
    first = _summary(tmp_path / "a", 5, JournalMode.MEMORY)
    assert _summary(tmp_path / "b", 5, JournalMode.FILE) == first
    assert _summary(tmp_path / "c", 6, JournalMode.MEMORY) != first


@pytest.mark.parametrize("leave_zone", [False, True], ids=["link-break", "leaves-zone"])
@pytest.mark.parametrize("tear", list(TearPoint), ids=lambda t: t.value)
def test_tears_at_each_point_audit_clean(tmp_path: Path, tear: TearPoint,
                                         leave_zone: bool) -> None:
    options = SimulationOptions(vehicles=40, force_tear=tear, force_leave_zone=leave_zone)
    result = run_to_directory(clean_scenario(), tmp_path, options, JournalMode.MEMORY)
    files = load_run(tmp_path)
    report = audit(files.journal, files.cards, files.key_set)
    assert report.clean, report.render()
    s = result.summary
    if tear is TearPoint.DEBIT_RESPONSE:
        # The card committed and the RSU did not hear it: the lane must ask with C8.
        assert s.recoveries_started > 0
        committed_unresolved = report.counts["unresolved, committed: left for clearing"]
        assert s.recovered_by_c8 + committed_unresolved > 0
    if tear is TearPoint.B5_TO_LANE:
        assert s.unresolved > 0 or s.settled_on_later_pass > 0


def test_rsu_restarts_keep_each_lane_and_one_unresolved_book(tmp_path: Path) -> None:
    base = mixed_scenario(3)
    scenario = replace(base, faults=replace(base.faults, rsu_restart=0.05, zone_exit_early=0.1))
    memory = MemoryJournal()
    sink = GroupCommitJournal(memory)
    simulation = Simulation(scenario, sink, SimulationOptions(vehicles=800))
    lanes = {lane_id: pair.lane for lane_id, pair in simulation.pairs.items()}
    result = simulation.run()
    sink.finish()
    s = result.summary
    assert s.link["rsu_restarts"] >= 10
    assert all(pair.lane is lanes[lane_id] for lane_id, pair in simulation.pairs.items())
    # Doubts left by a dropped connection (or a tear) are settled when the card comes back.
    assert s.settled_on_later_pass >= 1
    entries = list(memory.entries())
    ids = [e.record.transaction_id for e in entries]
    assert len(ids) == len(set(ids))  # numbering goes on across reconnections
    report = audit(entries, final_cards(result.fleet, result.population), result.key_set)
    assert report.clean, report.render()


def test_event_queue_runs_in_time_then_schedule_order() -> None:
    queue = EventQueue(10.0)
    seen: list[tuple[str, float]] = []
    queue.at(12.0, lambda t: seen.append(("b", t)))
    queue.at(11.0, lambda t: seen.append(("a", t)))
    queue.at(12.0, lambda t: seen.append(("c", t)))
    queue.at(5.0, lambda t: seen.append(("late", t)))  # never before now
    queue.run(11.5)
    assert seen == [("late", 10.0), ("a", 11.0)]
    queue.run(20.0)
    assert seen[2:] == [("b", 12.0), ("c", 12.0)] and queue.now == 20.0


def test_corruption_flips_one_byte_after_the_header_and_costs_that_frame() -> None:
    raw = encode_v3(0x10, encode_frame(HeartbeatAnswer(0)))
    rng = np.random.default_rng(1)
    for _ in range(50):
        bad = corrupt(raw, rng)
        diff = [i for i, (a, b) in enumerate(zip(raw, bad, strict=True)) if a != b]
        assert len(diff) == 1 and diff[0] >= V3_HEADER_LENGTH
        items = StreamDecoder().feed(bad + raw)
        assert isinstance(items[0], Rejected) and items[-1].data == raw[8:-2]  # type: ignore[union-attr]


def test_byte_link_delivers_after_latency_and_drops_corrupted_frames() -> None:
    queue = EventQueue()
    got: list[tuple[object, int, float]] = []
    link = ByteLink(queue.at, lambda f, s, t: got.append((f, s, t)), 0.001, 0.0,
                    np.random.default_rng(0))
    link.send(HeartbeatAnswer(0), 0x20, 1.0)
    queue.run(2.0)
    assert got == [(HeartbeatAnswer(0), 0x20, 1.001)]
    always = ByteLink(queue.at, lambda f, s, t: got.append((f, s, t)), 0.001, 1.0,
                      np.random.default_rng(0))
    always.send(HeartbeatAnswer(0), 0x30, 3.0)
    queue.run(4.0)
    assert len(got) == 1 and always.stats.corrupted == 1 and always.stats.rejected >= 1


def test_a_run_leaves_no_reference_cycles_behind() -> None:
    # The run pauses the garbage collector: it must not make garbage only a collection frees.
    import gc

    journal = GroupCommitJournal(MemoryJournal())
    simulation = Simulation(mixed_scenario(), journal, SimulationOptions(vehicles=600))
    gc.collect()
    simulation.run()
    assert gc.isenabled()
    assert gc.collect() == 0
